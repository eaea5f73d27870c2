import Foundation
import LinearAlgebra
import RiskModel

/// The market data of a VaR backtest (METHODOLOGY "VaR backtesting"), built once per run from the price history and shared read-only by
/// every block of accounts: the W + B daily returns of every schedule asset, their full-revaluation moves, and the
/// per-day scalars of the covariance estimator.
///
/// Day indices: return d = 0 … W + B − 1 (oldest first) is the log return into price row
/// `rowCount − (W + B) + d`. Backtest day b = 0 … B − 1 is return W + b; its forecasts use returns b … b + W − 1 and
/// its realized loss uses return W + b. Its date is `dates[b]`, the date of that return's price row.
public struct BacktestMarket: Sendable {
    /// Fewest backtest days worth running: with fewer, the backtest is skipped.
    public static let minimumDays = 20

    /// B, the backtest days actually used (0: skipped).
    public let days: Int
    /// W, the estimation window of every forecast (`window`).
    public let window: Int
    /// The B backtest dates, oldest first (empty when skipped).
    public let dates: [String]
    public let covariance: CovarianceMethod
    public let ewmaLambda: Double
    /// Schedule assets in the risk universe (`ReturnWindow.inUniverse`).
    public let inUniverse: [Bool]
    /// n × (W + B), asset-major: row j holds asset j's daily log returns r_{d,j}, oldest first; 0 outside the
    /// universe. Empty (0 × 0) when skipped.
    public let returns: Matrix
    /// n × (W + B), asset-major: exp(r) − 1 (evaluated as `expm1`), the relative price moves of full revaluation.
    public let moves: Matrix
    /// Ledoit–Wolf only: the shrinkage intensity s_b and target μ_b = tr(S)/p of day b's window (B each), exactly as
    /// `CovarianceEstimator.ledoitWolf` computes them on returns b … b + W − 1 of the universe's assets; empty for the
    /// other estimators.
    public let shrinkage: [Double]
    public let shrinkageTarget: [Double]
    /// Why B is smaller than asked, or why the backtest is skipped.
    public let warnings: [String]

    public var isSkipped: Bool { days == 0 }
    /// W + B.
    public var returnDays: Int { window + days }
    public var assetCount: Int { inUniverse.count }

    public init(days: Int, window: Int, dates: [String], covariance: CovarianceMethod, ewmaLambda: Double,
                inUniverse: [Bool], returns: Matrix, moves: Matrix, shrinkage: [Double], shrinkageTarget: [Double],
                warnings: [String]) {
        precondition(dates.count == days, "BacktestMarket: one date per backtest day")
        precondition(days == 0 || (returns.rows == inUniverse.count && returns.columns == window + days
                                   && moves.rows == returns.rows && moves.columns == returns.columns),
                     "BacktestMarket: returns and moves are n × (W + B)")
        precondition(covariance != .ledoitWolf || days == 0 || (shrinkage.count == days && shrinkageTarget.count == days),
                     "BacktestMarket: one Ledoit–Wolf shrinkage per day")
        self.days = days
        self.window = window
        self.dates = dates
        self.covariance = covariance
        self.ewmaLambda = ewmaLambda
        self.inUniverse = inUniverse
        self.returns = returns
        self.moves = moves
        self.shrinkage = shrinkage
        self.shrinkageTarget = shrinkageTarget
        self.warnings = warnings
    }

    /// A market with no backtest (B = 0).
    static func skipped(window: Int, config: RiskConfig, inUniverse: [Bool], warnings: [String]) -> BacktestMarket {
        BacktestMarket(days: 0, window: window, dates: [], covariance: config.covariance, ewmaLambda: config.ewmaLambda,
                       inUniverse: inUniverse, returns: Matrix(rows: 0, columns: 0), moves: Matrix(rows: 0, columns: 0),
                       shrinkage: [], shrinkageTarget: [], warnings: warnings)
    }
}

extension Backtester {
    /// Builds the backtest's market data (METHODOLOGY "VaR backtesting").
    ///
    /// Prices are forward-filled exactly as for the return window (`MarketDataPreparation.forwardFill`, gaps of up
    /// to 3 days, over the whole series) and r = ln(P_t/P_{t−1}), the same expression, so the last W returns here
    /// are bit-identical to `window.returns`. The universe is `window.inUniverse` (assets outside it have zero
    /// returns). B is `backtestDays` when every universe asset has W + B consecutive complete returns ending at the
    /// as-of date; otherwise B shrinks to what there is, with a warning (a missing return accepted by
    /// `allow_short_history` breaks the run like any other), and below `BacktestMarket.minimumDays` the backtest
    /// is skipped with a warning. `backtestDays` = 0 skips it silently.
    ///
    /// Ledoit–Wolf: the shrinkage and target of each of the B windows are computed here, one `dsyrk` of the
    /// window's demeaned W × p returns per day, days spread over `workers` (OpenBLAS single-threaded inside).
    ///
    /// - Parameter tickers: schedule tickers, to name the asset that limits the history in the warning (optional).
    public static func prepare(prices: PriceHistory, window: ReturnWindow, config: RiskConfig, backtestDays: Int,
                               tickers: [String] = [], workers: Int = 1) -> BacktestMarket {
        let n = prices.assetCount
        let w = config.window
        let rowCount = prices.rowCount
        let universe = window.inUniverse
        precondition(universe.count == n, "prepare: the return window and the price history differ in assets")
        guard backtestDays > 0 else { return .skipped(window: w, config: config, inUniverse: universe, warnings: []) }

        // Forward-filled series of the universe's assets, and how many consecutive complete returns each has up to
        // the as-of date.
        var available = max(rowCount - 1, 0)
        var limiting: Int? = nil
        var series = [Double](repeating: 0, count: rowCount)
        func fill(_ j: Int) {
            for t in 0 ..< rowCount { series[t] = prices.prices[t * n + j] }
            MarketDataPreparation.forwardFill(&series)
        }
        for j in 0 ..< n where universe[j] {
            fill(j)
            var run = 0
            var t = rowCount - 1
            while t >= 1 && !series[t].isNaN && !series[t - 1].isNaN {
                run += 1
                t -= 1
            }
            if run < available {
                available = run
                limiting = j
            }
        }
        let days = min(backtestDays, available - w)
        var warnings: [String] = []
        let limitingName = limiting.flatMap { $0 < tickers.count ? " (limited by \(tickers[$0]))" : nil } ?? ""
        if days < BacktestMarket.minimumDays {
            warnings.append("backtest skipped: backtest_days=\(backtestDays) needs \(w + backtestDays) consecutive complete returns of every asset in the risk universe "
                + "(window=\(w) before each backtest day), there are \(available)\(limitingName), fewer than the \(BacktestMarket.minimumDays) backtest days needed")
            return .skipped(window: w, config: config, inUniverse: universe, warnings: warnings)
        }
        if days < backtestDays {
            warnings.append("backtest shortened to \(days) days (backtest_days=\(backtestDays)): every asset in the risk universe has complete returns only over the latest \(available) days\(limitingName), "
                + "window=\(w) of them before the first backtest day")
        }

        let d = w + days
        let firstRow = rowCount - 1 - d        // price row before the first return
        var returns = Matrix(rows: n, columns: d)
        var moves = Matrix(rows: n, columns: d)
        for j in 0 ..< n where universe[j] {
            fill(j)
            for t in 0 ..< d {
                let r = log(series[firstRow + t + 1] / series[firstRow + t])
                returns.elements[j * d + t] = r
                moves.elements[j * d + t] = expm1(r)
            }
        }
        let dates = Array(prices.dates[(rowCount - days) ..< rowCount])
        var shrinkage: [Double] = [], target: [Double] = []
        if config.covariance == .ledoitWolf {
            (shrinkage, target) = ledoitWolfScalars(returns: returns, inUniverse: universe, window: w, days: days,
                                                    workers: workers)
        }
        return BacktestMarket(days: days, window: w, dates: dates, covariance: config.covariance,
                              ewmaLambda: config.ewmaLambda, inUniverse: universe, returns: returns, moves: moves,
                              shrinkage: shrinkage, shrinkageTarget: target, warnings: warnings)
    }

    /// Per backtest day b, the Ledoit–Wolf shrinkage s and target μ of returns b … b + W − 1 of the universe's p
    /// assets, by the formulas and in the order of operations of `CovarianceEstimator.ledoitWolf`: X = R − r̄,
    /// S = XᵀX/W, μ = tr(S)/p, δ = (‖XᵀX‖²_F/W² − 2μ·tr S + pμ²)/p, β = min((Σ_t‖x_t‖⁴/W − ‖XᵀX‖²_F/W²)/(pW), δ),
    /// s = β/δ (0 when β = 0, and for p ≤ 1). The fourth-moment sum Σ_{ij}((X∘X)ᵀ(X∘X))_{ij} that the estimator
    /// forms with a second `dsyrk` equals Σ_t (Σ_i x_{ti}²)², computed here directly in O(W·p).
    static func ledoitWolfScalars(returns: Matrix, inUniverse: [Bool], window w: Int, days: Int,
                                  workers: Int) -> (shrinkage: [Double], target: [Double]) {
        let active = inUniverse.indices.filter { inUniverse[$0] }
        let p = active.count
        let d = returns.columns
        var shrinkage = [Double](repeating: 0, count: days)
        var target = [Double](repeating: 0, count: days)
        guard p > 0 else { return (shrinkage, target) }
        let nSamples = Double(w)
        BLASThreads.with(1) {
            shrinkage.withSharedOutput { shrinkageOut in
            target.withSharedOutput { targetOut in
            returns.elements.withUnsafeBufferPointer { r in
                let view = ReadOnlyBuffer(r)
                Parallel.forEachBlock(blockCount: days, workers: workers,
                                      makeWorkspace: { (x: Matrix(rows: w, columns: p), xtx: Matrix(rows: p, columns: p)) }) { b, workspace in
                    // X = window − column means, time-major W × p (as the estimator's compact block).
                    for (k, j) in active.enumerated() {
                        var mean = 0.0
                        for t in 0 ..< w { mean += view.buffer[j * d + b + t] }
                        mean /= nSamples
                        for t in 0 ..< w { workspace.x.elements[t * p + k] = view.buffer[j * d + b + t] - mean }
                    }
                    syrk(workspace.x, .transposed, into: &workspace.xtx)
                    var traceS = 0.0
                    for i in 0 ..< p { traceS += workspace.xtx.elements[i * p + i] / nSamples }
                    let mu = traceS / Double(p)
                    targetOut[b] = mu
                    guard p > 1 else {
                        shrinkageOut[b] = 0
                        return
                    }
                    var deltaSum = 0.0
                    for v in workspace.xtx.elements { deltaSum += v * v }
                    deltaSum /= nSamples * nSamples
                    var betaSum = 0.0
                    for t in 0 ..< w {
                        var norm = 0.0
                        for k in 0 ..< p {
                            let v = workspace.x.elements[t * p + k]
                            norm += v * v
                        }
                        betaSum += norm * norm
                    }
                    var beta = 1 / (Double(p) * nSamples) * (betaSum / nSamples - deltaSum)
                    let delta = (deltaSum - 2 * mu * traceS + Double(p) * mu * mu) / Double(p)
                    beta = min(beta, delta)
                    let s = beta == 0 ? 0 : beta / delta
                    // A degenerate window (S = μI exactly) would give 0/0 in the estimator too; no shrinkage then.
                    shrinkageOut[b] = s.isFinite ? s : 0
                }
            }
            }
            }
        }
        return (shrinkage, target)
    }
}
