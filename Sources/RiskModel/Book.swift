/// The book of accounts, stored compactly in compressed-sparse-row form.
///
/// Account `a` holds the entries `rowStart[a] ..< rowStart[a + 1]` of `assetIndex` / `quantity`.
/// Accounts appear in order of first appearance in positions.csv; an account's holdings appear in
/// order of first appearance of that (account, asset) pair. Lots of the same (account, asset) are summed.
/// Quantity > 0 is collateral held, < 0 is debt owed in that asset (units of the asset).
public struct Book: Sendable {
    public let accountIDs: [String]
    /// CSR offsets, `accountIDs.count + 1` entries, starting at 0.
    public let rowStart: [Int]
    /// Schedule index of each holding's asset.
    public let assetIndex: [Int32]
    /// Net quantity of each holding (units of the asset; negative = debt).
    public let quantity: [Double]

    public init(accountIDs: [String], rowStart: [Int], assetIndex: [Int32], quantity: [Double]) {
        precondition(rowStart.count == accountIDs.count + 1 && rowStart.first == 0, "CSR offsets")
        precondition(assetIndex.count == quantity.count && rowStart.last == quantity.count, "CSR entries")
        self.accountIDs = accountIDs
        self.rowStart = rowStart
        self.assetIndex = assetIndex
        self.quantity = quantity
    }

    public var accountCount: Int { accountIDs.count }
    public var holdingCount: Int { quantity.count }
    @inlinable public func holdings(of account: Int) -> Range<Int> { rowStart[account] ..< rowStart[account + 1] }

    /// Number of accounts holding (or owing) each asset, by schedule index.
    public func holderCounts(assetCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: assetCount)
        for j in assetIndex { counts[Int(j)] += 1 }
        return counts
    }
}

/// Builds a `Book` from position rows, summing lots while keeping first-appearance order.
public struct BookBuilder {
    private let assetCount: Int
    private var accountIDs: [String] = []
    private var accountIndex: [String: Int] = [:]
    /// Entries in first-appearance order of (account, asset).
    private var entryAccount: [Int32] = []
    private var entryAsset: [Int32] = []
    private var entryQuantity: [Double] = []
    /// (account · assetCount + asset) → entry, for summing lots.
    private var entryByKey: [Int: Int] = [:]

    public init(assetCount: Int) { self.assetCount = assetCount }

    public mutating func add(account: String, asset: Int, quantity: Double) {
        let a: Int
        if let existing = accountIndex[account] {
            a = existing
        } else {
            a = accountIDs.count
            accountIndex[account] = a
            accountIDs.append(account)
        }
        let key = a * assetCount + asset
        if let entry = entryByKey[key] {
            entryQuantity[entry] += quantity
        } else {
            entryByKey[key] = entryQuantity.count
            entryAccount.append(Int32(a))
            entryAsset.append(Int32(asset))
            entryQuantity.append(quantity)
        }
    }

    public func build() -> Book {
        Book(accountIDs: accountIDs, entryAccount: entryAccount, entryAsset: entryAsset, entryQuantity: entryQuantity)
    }
}

extension Book {
    /// Groups holdings given in any order by account with a stable counting sort, so each account's holdings
    /// keep their relative order. `entryAccount[e]` indexes `accountIDs`.
    public init(accountIDs: [String], entryAccount: [Int32], entryAsset: [Int32], entryQuantity: [Double]) {
        let accountCount = accountIDs.count
        var rowStart = [Int](repeating: 0, count: accountCount + 1)
        for a in entryAccount { rowStart[Int(a) + 1] += 1 }
        for a in 0 ..< accountCount { rowStart[a + 1] += rowStart[a] }
        var next = rowStart
        var assets = [Int32](repeating: 0, count: entryAsset.count)
        var quantities = [Double](repeating: 0, count: entryAsset.count)
        for e in entryAccount.indices {
            let a = Int(entryAccount[e])
            assets[next[a]] = entryAsset[e]
            quantities[next[a]] = entryQuantity[e]
            next[a] += 1
        }
        self.init(accountIDs: accountIDs, rowStart: rowStart, assetIndex: assets, quantity: quantities)
    }
}
