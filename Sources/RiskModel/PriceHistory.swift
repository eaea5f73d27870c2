/// The daily price table of `prices.csv`, restricted to and ordered like the collateral schedule.
///
/// Stored row-major: `prices[row * assetCount + asset]`, USD per unit; a missing price is `nil`-free
/// `Double.nan`. Rows are calendar days in strictly ascending order; the last row is the as-of date.
public struct PriceHistory: Sendable {
    /// ISO dates (`yyyy-mm-dd`), one per row.
    public let dates: [String]
    /// Number of assets per row (the schedule's size).
    public let assetCount: Int
    /// Row-major prices (rows = dates, columns = schedule assets), NaN where missing.
    public let prices: [Double]
    /// 1-based line number in prices.csv of each row, for error messages.
    public let lineNumbers: [Int]

    public init(dates: [String], assetCount: Int, prices: [Double], lineNumbers: [Int]? = nil) {
        precondition(prices.count == dates.count * assetCount, "price table shape")
        self.dates = dates
        self.assetCount = assetCount
        self.prices = prices
        self.lineNumbers = lineNumbers ?? dates.indices.map { $0 + 2 }
    }

    public var rowCount: Int { dates.count }
    public var asOfDate: String { dates.last ?? "" }

    @inlinable public func price(row: Int, asset: Int) -> Double { prices[row * assetCount + asset] }

    /// The as-of (last row) prices, NaN where missing.
    public var latestPrices: [Double] {
        guard rowCount > 0 else { return [] }
        return Array(prices[(rowCount - 1) * assetCount ..< rowCount * assetCount])
    }

    /// Number of rows dated on or before `date` (ISO `yyyy-mm-dd`): 0 when `date` precedes the first row.
    public func rowCount(onOrBefore date: String) -> Int {
        // Dates are strictly ascending ISO strings: the rows ≤ date are a prefix, found by binary search.
        var low = 0, high = dates.count
        while low < high {
            let mid = (low + high) / 2
            if dates[mid] <= date { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The history as if prices.csv ended after its first `rows` rows (0 ≤ rows ≤ rowCount): the same dates,
    /// prices and line numbers, cut there. Its last row is then the as-of date.
    public func prefix(rows: Int) -> PriceHistory {
        precondition(rows >= 0 && rows <= rowCount, "prefix of \(rows) rows out of \(rowCount)")
        guard rows < rowCount else { return self }
        return PriceHistory(dates: Array(dates[..<rows]), assetCount: assetCount,
                            prices: Array(prices[..<(rows * assetCount)]), lineNumbers: Array(lineNumbers[..<rows]))
    }

    /// Row index of an ISO date, if present.
    public func row(of date: String) -> Int? {
        // Dates are strictly ascending ISO strings, so lexicographic binary search is exact.
        var low = 0, high = dates.count - 1
        while low <= high {
            let mid = (low + high) / 2
            if dates[mid] == date { return mid }
            if dates[mid] < date { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }
}
