import Foundation
import LinearAlgebra
import RiskModel

/// A problem found while preparing market data, located at a line of prices.csv when one applies.
public struct MarketDataProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of prices.csv, or nil for the file as a whole.
    public let line: Int?
    public let message: String
    public init(line: Int?, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { line.map { "\($0): \(message)" } ?? message }
}

/// The latest `window` daily log returns of every schedule asset, after the METHODOLOGY "Covariance" forward fill.
public struct ReturnWindow: Sendable {
    /// W × n log returns, oldest first; NaN where a return is missing (only with short history allowed).
    public let returns: Matrix
    /// As-of prices after forward fill (USD per unit), NaN for dropped assets without one.
    public let latestPrices: [Double]
    /// Assets in the risk universe (false: dropped — no holder and incomplete history).
    public let inUniverse: [Bool]
    /// Assets estimated from incomplete history (pairwise-complete), only with `allow_short_history`.
    public let shortHistory: [Bool]
    public let warnings: [String]

    public var window: Int { returns.rows }
    public var hasMissingReturns: Bool { shortHistory.contains(true) }
}

public enum MarketDataPreparation {
    /// Longest run of consecutive missing prices that is forward-filled (METHODOLOGY "Covariance").
    public static let maximumFilledGap = 3

    /// Forward-fills one asset's series across gaps of at most `maximumFilledGap` days from its last earlier
    /// price (a gap at the very end counts too; a gap before the first price is never filled).
    public static func forwardFill(_ series: inout [Double]) {
        var lastPrice = Double.nan
        var runStart = -1
        for t in 0 ... series.count {
            if t < series.count && series[t].isNaN {
                if runStart < 0 { runStart = t }
                continue
            }
            if runStart >= 0 {
                let run = t - runStart
                if run <= maximumFilledGap && !lastPrice.isNaN {
                    for u in runStart ..< t { series[u] = lastPrice }
                }
                runStart = -1
            }
            if t < series.count { lastPrice = series[t] }
        }
    }

    /// Builds the return window. Throws every problem at once: a held asset with missing prices in the window
    /// (unless `allowShortHistory`), a held asset without an as-of price, or too few price rows.
    public static func prepare(prices: PriceHistory, schedule: CollateralSchedule, holderCounts: [Int],
                               config: RiskConfig) throws(MarketDataErrors) -> ReturnWindow {
        let n = schedule.count
        let w = config.window
        let rowCount = prices.rowCount
        guard rowCount >= w + 1 else {
            throw MarketDataErrors(problems: [MarketDataProblem(
                line: nil,
                message: "has \(rowCount) price rows but window=\(w) needs \(w + 1) (the latest \(w) returns); "
                    + "supply more history or lower window")])
        }
        let first = rowCount - (w + 1)
        var returns = Matrix(rows: w, columns: n)
        var latest = [Double](repeating: .nan, count: n)
        var inUniverse = [Bool](repeating: true, count: n)
        var short = [Bool](repeating: false, count: n)
        var problems: [MarketDataProblem] = []
        var warnings: [String] = []
        var series = [Double](repeating: 0, count: rowCount)
        for j in 0 ..< n {
            for t in 0 ..< rowCount { series[t] = prices.prices[t * n + j] }
            forwardFill(&series)
            latest[j] = series[rowCount - 1]
            var missing = 0
            var firstMissingRow = -1
            for t in first ..< rowCount where series[t].isNaN {
                missing += 1
                if firstMissingRow < 0 { firstMissingRow = t }
            }
            for t in 0 ..< w {
                let p0 = series[first + t], p1 = series[first + t + 1]
                returns.elements[t * n + j] = (p0.isNaN || p1.isNaN) ? .nan : log(p1 / p0)
            }
            guard missing > 0 else { continue }
            let ticker = schedule[j].ticker
            let holders = holderCounts[j]
            if holders == 0 {
                inUniverse[j] = false
                for t in 0 ..< w { returns.elements[t * n + j] = 0 }
                warnings.append("asset \(ticker) has \(missing) missing prices in the latest \(w + 1) price rows and no account holds it: dropped from the universe")
                continue
            }
            let accounts = holders == 1 ? "1 account" : "\(holders) accounts"
            if series[rowCount - 1].isNaN {
                problems.append(MarketDataProblem(
                    line: prices.lineNumbers[rowCount - 1],
                    message: "asset \(ticker) has no price on the as-of date \(prices.asOfDate) (after filling gaps of up to \(maximumFilledGap) days), held by \(accounts)"))
            } else if !config.allowShortHistory {
                problems.append(MarketDataProblem(
                    line: prices.lineNumbers[firstMissingRow],
                    message: "asset \(ticker) has \(missing) missing prices in the latest \(w + 1) price rows (first on \(prices.dates[firstMissingRow])), held by \(accounts); "
                        + "fill the gaps, lower window, or set allow_short_history=true"))
            } else {
                short[j] = true
                warnings.append("asset \(ticker) has \(missing) missing prices in the window (held by \(accounts)): covariance estimated from pairwise-complete returns")
            }
        }
        if !problems.isEmpty { throw MarketDataErrors(problems: problems) }
        return ReturnWindow(returns: returns, latestPrices: latest, inUniverse: inUniverse, shortHistory: short,
                            warnings: warnings)
    }
}

/// Every market-data problem found in one pass.
public struct MarketDataErrors: Error, Sendable {
    public let problems: [MarketDataProblem]
}
