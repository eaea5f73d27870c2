import Foundation
import LinearAlgebra
import RiskModel

/// One VaR method's backtest figures per account, in the order of the book given (METHODOLOGY "VaR backtesting"). An account is not
/// backtested — exceptions −1, p-values NaN, zone "" — when it is invalid, when its forecast is 0 on every backtest
/// day (no market risk), when a forecast or loss is not finite, or when the whole backtest is skipped.
public struct BacktestMethodFigures: Sendable {
    /// x, the number of exception days; −1 when not backtested.
    public var exceptions: [Int]
    /// Kupiec's proportion-of-failures p-value, P(χ²₁ > LR_pof).
    public var pofPValue: [Double]
    /// Christoffersen's conditional-coverage p-value, P(χ²₂ > LR_pof + LR_ind).
    public var ccPValue: [Double]
    /// `green`, `yellow` or `red` (Basel traffic light); "" when not backtested.
    public var zone: [String]

    public init(exceptions: [Int], pofPValue: [Double], ccPValue: [Double], zone: [String]) {
        self.exceptions = exceptions
        self.pofPValue = pofPValue
        self.ccPValue = ccPValue
        self.zone = zone
    }

    /// Every account not backtested.
    public init(empty accounts: Int) {
        self.init(exceptions: [Int](repeating: -1, count: accounts),
                  pofPValue: [Double](repeating: .nan, count: accounts),
                  ccPValue: [Double](repeating: .nan, count: accounts), zone: [String](repeating: "", count: accounts))
    }

    /// Whether account `a` was backtested.
    public func isBacktested(_ a: Int) -> Bool { exceptions[a] >= 0 }
}

/// Per backtest day, the number of accounts with an exception (exact integer sums, the same for any worker count and
/// for any split of the book into shards summed afterwards).
public struct BacktestDailyExceptions: Sendable, Equatable {
    public var parametric: [Int]
    public var historical: [Int]

    public init(parametric: [Int], historical: [Int]) {
        self.parametric = parametric
        self.historical = historical
    }
}

/// The per-account backtest of a book (METHODOLOGY "VaR backtesting").
public struct BacktestResult: Sendable {
    /// B, the backtest days used; 0 when skipped (every figure empty).
    public var days: Int
    /// The B backtest dates, oldest first.
    public var dates: [String]
    public var parametric: BacktestMethodFigures
    public var historical: BacktestMethodFigures
    public var dailyExceptions: BacktestDailyExceptions
    /// The market's warnings (B shortened, backtest skipped), repeated here for convenience.
    public var warnings: [String]
    /// Blocks whose projections ran as one dgemm each, and blocks of per-account gathers (diagnostics).
    public var denseBlocks: Int
    public var sparseBlocks: Int

    public init(days: Int, dates: [String], parametric: BacktestMethodFigures, historical: BacktestMethodFigures,
                dailyExceptions: BacktestDailyExceptions, warnings: [String], denseBlocks: Int = 0, sparseBlocks: Int = 0) {
        self.days = days
        self.dates = dates
        self.parametric = parametric
        self.historical = historical
        self.dailyExceptions = dailyExceptions
        self.warnings = warnings
        self.denseBlocks = denseBlocks
        self.sparseBlocks = sparseBlocks
    }
}

/// The backtest of the book as one portfolio (all valid accounts' exposures summed per asset): the daily series and
/// the same statistics as an account's.
public struct BookBacktest: Sendable {
    /// B (0: skipped, every array empty and both outcomes nil).
    public var days: Int
    public var dates: [String]
    /// L_t = −Σ_i E_i·(exp(r_{t,i}) − 1) of the book's exposures E on each backtest day (USD).
    public var losses: [Double]
    /// The 1-day parametric and historical VaR forecasts of each backtest day (USD).
    public var varParametric: [Double]
    public var varHistorical: [Double]
    /// The statistics per method; nil when not backtested (no market risk, or skipped).
    public var parametric: BacktestOutcome?
    public var historical: BacktestOutcome?

    public init(days: Int, dates: [String], losses: [Double], varParametric: [Double], varHistorical: [Double],
                parametric: BacktestOutcome?, historical: BacktestOutcome?) {
        self.days = days
        self.dates = dates
        self.losses = losses
        self.varParametric = varParametric
        self.varHistorical = varHistorical
        self.parametric = parametric
        self.historical = historical
    }
}

/// Per-account VaR backtesting (METHODOLOGY "VaR backtesting"): each account's parametric and historical 1-day VaR forecasts over the
/// last B days, each from the W returns before it, against its realized full-revaluation loss.
///
/// **Cost.** Per account, the projections y_d = Σ_i e_i·r_{d,i} and L_d = −Σ_i e_i·G_{d,i} over the W + B days
/// (2·k·(W + B) multiply-adds for k holdings, the same sparse row combination as historical VaR, or one dgemm per
/// block for books of wide accounts), then O(W + B) for both methods' forecasts (`BacktestSeries`): sliding window
/// sums for the parametric estimators, an incremental top-k for the historical quantile. No accounts × days matrix:
/// accounts go in fixed blocks of `BlockPlan.parametricAccounts`, each worker with its own buffers.
///
/// **Determinism.** Blocks and the dense/sparse choice depend only on the book, each block is computed whole by one
/// worker, and the daily exception counts are integer sums: results are identical for any `workers`.
public enum Backtester {
    /// Accounts per block (fixed, so results never depend on the thread count; a shard's blocks are the whole run's).
    public static let blockSize = BlockPlan.parametricAccounts

    /// Every account's backtest. `exposure` is e = q·p per holding (CSR order of `book`), `invalid` flags accounts
    /// left out (their figures stay empty). `confidence` is α; the horizon is always one day.
    public static func run(book: Book, exposure: [Double], invalid: [Bool], market: BacktestMarket, confidence: Double,
                           workers: Int, kernel: BlockKernel = .automatic) -> BacktestResult {
        precondition(exposure.count == book.holdingCount && invalid.count == book.accountCount,
                     "backtest: one exposure per holding and one flag per account")
        let accounts = book.accountCount
        var parametric = BacktestMethodFigures(empty: accounts)
        var historical = BacktestMethodFigures(empty: accounts)
        guard !market.isSkipped else {
            return BacktestResult(days: 0, dates: [], parametric: parametric, historical: historical,
                                  dailyExceptions: BacktestDailyExceptions(parametric: [], historical: []),
                                  warnings: market.warnings)
        }
        let n = market.assetCount
        precondition(book.assetIndex.allSatisfy { Int($0) < n }, "backtest: book references assets beyond the market")
        let context = BacktestContext(market: market, confidence: confidence)
        let days = market.days
        let blockCount = (accounts + blockSize - 1) / blockSize
        var zoneP = [Int8](repeating: -1, count: accounts), zoneH = zoneP
        var blockCounts = [Int32](repeating: 0, count: blockCount * 2 * days)
        var denseFlags = [Bool](repeating: false, count: blockCount)
        let job = BacktestJob(book: book, exposure: exposure, invalid: invalid, inUniverse: market.inUniverse,
                              context: context, kernel: kernel)
        BLASThreads.with(1) {
            parametric.exceptions.withSharedOutput { exceptionsP in
            parametric.pofPValue.withSharedOutput { pofP in
            parametric.ccPValue.withSharedOutput { ccP in
            historical.exceptions.withSharedOutput { exceptionsH in
            historical.pofPValue.withSharedOutput { pofH in
            historical.ccPValue.withSharedOutput { ccH in
            zoneP.withSharedOutput { zoneOutP in
            zoneH.withSharedOutput { zoneOutH in
            blockCounts.withSharedOutput { countsOut in
            denseFlags.withSharedOutput { denseOut in
            market.returns.elements.withUnsafeBufferPointer { r in
            market.moves.elements.withUnsafeBufferPointer { g in
                let returnsView = ReadOnlyBuffer(r), movesView = ReadOnlyBuffer(g)
                let outputs = BacktestOutputs(
                    parametric: MethodOutputs(exceptions: exceptionsP, pofPValue: pofP, ccPValue: ccP, zone: zoneOutP),
                    historical: MethodOutputs(exceptions: exceptionsH, pofPValue: pofH, ccPValue: ccH, zone: zoneOutH))
                Parallel.forEachBlock(blockCount: blockCount, workers: workers,
                                      makeWorkspace: { BacktestWorkspace(context: context, assets: n) }) { block, workspace in
                    let range = block * blockSize ..< min((block + 1) * blockSize, accounts)
                    workspace.clearCounts()
                    let dense = job.useDense(range)
                    denseOut[block] = dense
                    if dense {
                        workspace.denseBlock(job, accounts: range, returns: returnsView.buffer, moves: movesView.buffer,
                                             outputs)
                    } else {
                        workspace.sparseBlock(job, accounts: range, returns: returnsView.buffer,
                                              moves: movesView.buffer, outputs)
                    }
                    let base = block * 2 * days
                    for i in 0 ..< 2 * days { countsOut[base + i] = workspace.counts[i] }
                }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
            }
        }
        nameZones(zoneP, into: &parametric)
        nameZones(zoneH, into: &historical)
        let denseBlocks = denseFlags.filter { $0 }.count
        return BacktestResult(days: days, dates: market.dates, parametric: parametric, historical: historical,
                              dailyExceptions: dailyExceptions(blockCounts: blockCounts, days: days),
                              warnings: market.warnings, denseBlocks: denseBlocks, sparseBlocks: blockCount - denseBlocks)
    }

    /// The accounts with an exception on each day, per method: the blocks' counts (per block, `days` parametric then
    /// `days` historical) added in block order.
    static func dailyExceptions(blockCounts: [Int32], days: Int) -> BacktestDailyExceptions {
        var daily = BacktestDailyExceptions(parametric: [Int](repeating: 0, count: days),
                                            historical: [Int](repeating: 0, count: days))
        for block in 0 ..< (days > 0 ? blockCounts.count / (2 * days) : 0) {
            let base = block * 2 * days
            for b in 0 ..< days {
                daily.parametric[b] += Int(blockCounts[base + b])
                daily.historical[b] += Int(blockCounts[base + days + b])
            }
        }
        return daily
    }

    /// Zone names from the workers' zone codes (−1: not backtested, else the codes of `MethodOutputs.write`).
    static func nameZones(_ codes: [Int8], into figures: inout BacktestMethodFigures) {
        let names = [BacktestZone.green, .yellow, .red].map(\.rawValue)
        for a in codes.indices where codes[a] >= 0 { figures.zone[a] = names[Int(codes[a])] }
    }

    /// `run` with the exposures and invalid flags of a collateral assessment.
    public static func run(book: Book, assessment: CollateralAssessment, market: BacktestMarket, confidence: Double,
                           workers: Int, kernel: BlockKernel = .automatic) -> BacktestResult {
        run(book: book, exposure: assessment.exposure, invalid: assessment.invalid, market: market,
            confidence: confidence, workers: workers, kernel: kernel)
    }

    /// The book's exposure per asset (n): every valid account's exposures summed in book order (deterministic), the
    /// vector `ParametricRiskCalculator.bookRisk` uses.
    public static func bookExposures(book: Book, exposure: [Double], invalid: [Bool], assetCount n: Int) -> [Double] {
        var total = [Double](repeating: 0, count: n)
        for a in 0 ..< book.accountCount where !invalid[a] {
            for k in book.holdings(of: a) { total[Int(book.assetIndex[k])] += exposure[k] }
        }
        return total
    }

    /// The backtest of one portfolio with exposures E per asset (the book as one portfolio, or any account):
    /// its daily losses and VaR forecasts and both methods' statistics.
    public static func book(exposuresByAsset: [Double], market: BacktestMarket, confidence: Double) -> BookBacktest {
        guard !market.isSkipped else {
            return BookBacktest(days: 0, dates: [], losses: [], varParametric: [], varHistorical: [], parametric: nil,
                                historical: nil)
        }
        let n = market.assetCount
        precondition(exposuresByAsset.count == n, "book backtest: one exposure per schedule asset")
        let context = BacktestContext(market: market, confidence: confidence)
        let w = market.window, days = market.days, d = market.returnDays
        var offsets: [Int] = [], returnCoefficients: [Double] = [], lossCoefficients: [Double] = []
        var ee = 0.0
        for j in 0 ..< n where exposuresByAsset[j] != 0 {
            offsets.append(j * d)
            returnCoefficients.append(exposuresByAsset[j])
            lossCoefficients.append(-exposuresByAsset[j])
            if market.inUniverse[j] { ee += exposuresByAsset[j] * exposuresByAsset[j] }
        }
        var y = [Double](repeating: 0, count: d), losses = y
        market.returns.elements.withUnsafeBufferPointer { r in
            market.moves.elements.withUnsafeBufferPointer { g in
                offsets.withUnsafeBufferPointer { o in
                    returnCoefficients.withUnsafeBufferPointer { c in
                        y.withUnsafeMutableBufferPointer { RowCombination.combine(r, count: d, offsets: o, coefficients: c, into: $0) }
                    }
                    lossCoefficients.withUnsafeBufferPointer { c in
                        losses.withUnsafeMutableBufferPointer { RowCombination.combine(g, count: d, offsets: o, coefficients: c, into: $0) }
                    }
                }
            }
        }
        let buffers = BacktestSeriesBuffers(days: days, tail: context.tail)
        let (p, h) = y.withUnsafeBufferPointer { yb in
            losses.withUnsafeBufferPointer { lb in
                BacktestSeries.forecasts(y: yb, losses: lb, exposureSquares: ee, context: context, buffers: buffers)
                return (BacktestSeries.evaluate(losses: lb, forecasts: buffers.parametric, window: w, counts: nil),
                        BacktestSeries.evaluate(losses: lb, forecasts: buffers.historical, window: w, counts: nil))
            }
        }
        func outcome(_ e: MethodEvaluation) -> BacktestOutcome? {
            e.backtested ? context.tables.outcome(exceptions: e.exceptions, transitions: e.transitions) : nil
        }
        return BookBacktest(days: days, dates: market.dates, losses: Array(losses[w ..< d]),
                            varParametric: Array(buffers.parametric), varHistorical: Array(buffers.historical),
                            parametric: outcome(p), historical: outcome(h))
    }
}

// MARK: - Block work

/// What every block reads, shared read-only by the workers.
struct BacktestJob: Sendable {
    let book: Book
    let exposure: [Double]
    let invalid: [Bool]
    let inUniverse: [Bool]
    let context: BacktestContext
    let kernel: BlockKernel

    /// Dense when the block's (valid accounts × n) product, discounted by dgemm's speed-up over the row-combination
    /// loop (`ScenarioLossCalculator.denseEfficiency`), costs less than the accounts' own holdings per day.
    func useDense(_ accounts: Range<Int>) -> Bool {
        let n = inUniverse.count
        guard n > 0 else { return false }
        var rows = 0.0, sparseWork = 0.0
        for a in accounts where !invalid[a] {
            rows += 1
            sparseWork += Double(book.holdings(of: a).count)
        }
        return kernel.choosesDense(denseOperations: rows * Double(n), sparseOperations: sparseWork,
                                   denseEfficiency: ScenarioLossCalculator.denseEfficiency)
    }

    /// eᵀe over the account's holdings of universe assets.
    @inline(__always) func exposureSquares(_ a: Int) -> Double {
        var ee = 0.0
        for k in book.holdings(of: a) where inUniverse[Int(book.assetIndex[k])] { ee += exposure[k] * exposure[k] }
        return ee
    }
}

struct MethodOutputs: Sendable {
    let exceptions: SharedOutput<Int>
    let pofPValue: SharedOutput<Double>
    let ccPValue: SharedOutput<Double>
    /// `BacktestZone.allCases` index, −1 when not backtested.
    let zone: SharedOutput<Int8>

    @inline(__always) func write(_ a: Int, _ e: MethodEvaluation, tables: BacktestTables) {
        guard e.backtested else { return }
        let outcome = tables.outcome(exceptions: e.exceptions, transitions: e.transitions)
        exceptions[a] = e.exceptions
        pofPValue[a] = outcome.pofPValue
        ccPValue[a] = outcome.ccPValue
        switch outcome.zone {
        case .green: zone[a] = 0
        case .yellow: zone[a] = 1
        case .red: zone[a] = 2
        }
    }
}

struct BacktestOutputs: Sendable {
    let parametric: MethodOutputs
    let historical: MethodOutputs
}

/// One worker's buffers: the current account's projections (W + B each), its forecasts, the block's daily exception
/// counts (parametric then historical, B each), the gather lists, and the dense block buffers (allocated at the
/// first dense block).
struct BacktestWorkspace {
    let context: BacktestContext
    let assets: Int
    let returnDays: Int
    var y: [Double]
    var losses: [Double]
    var counts: [Int32]
    var offsets: [Int]
    var returnCoefficients: [Double]
    var lossCoefficients: [Double]
    var denseInput: [Double] = []
    var denseReturns: [Double] = []
    var denseLosses: [Double] = []
    let series: BacktestSeriesBuffers

    init(context: BacktestContext, assets: Int) {
        self.context = context
        self.assets = assets
        returnDays = context.window + context.days
        y = [Double](repeating: 0, count: returnDays)
        losses = y
        counts = [Int32](repeating: 0, count: 2 * context.days)
        offsets = [Int](repeating: 0, count: assets)
        returnCoefficients = [Double](repeating: 0, count: assets)
        lossCoefficients = returnCoefficients
        series = BacktestSeriesBuffers(days: context.days, tail: context.tail)
    }

    mutating func clearCounts() {
        for i in counts.indices { counts[i] = 0 }
    }

    /// Forecasts and exceptions of one account from its projections; figures and daily counts written.
    @inline(__always)
    mutating func finish(_ a: Int, y: UnsafeBufferPointer<Double>, losses: UnsafeBufferPointer<Double>, ee: Double,
                         _ job: BacktestJob, _ outputs: BacktestOutputs) {
        let c = context, days = c.days
        BacktestSeries.forecasts(y: y, losses: losses, exposureSquares: ee, context: c, buffers: series)
        let (p, h) = counts.withUnsafeMutableBufferPointer { all in
            (BacktestSeries.evaluate(losses: losses, forecasts: series.parametric, window: c.window,
                                     counts: UnsafeMutableBufferPointer(rebasing: all[0 ..< days])),
             BacktestSeries.evaluate(losses: losses, forecasts: series.historical, window: c.window,
                                     counts: UnsafeMutableBufferPointer(rebasing: all[days ..< 2 * days])))
        }
        outputs.parametric.write(a, p, tables: c.tables)
        outputs.historical.write(a, h, tables: c.tables)
    }

    /// Sparse: each account combines its own rows of R and G (`RowCombination.combine`, as historical VaR does).
    mutating func sparseBlock(_ job: BacktestJob, accounts: Range<Int>, returns: UnsafeBufferPointer<Double>,
                              moves: UnsafeBufferPointer<Double>, _ outputs: BacktestOutputs) {
        let d = returnDays
        var y = self.y, losses = self.losses     // moved out for the duration of the block (no copy: unique)
        self.y = []
        self.losses = []
        defer {
            self.y = y
            self.losses = losses
        }
        for a in accounts where !job.invalid[a] {
            var count = 0
            for k in job.book.holdings(of: a) {
                let e = job.exposure[k]
                guard e != 0 else { continue }
                offsets[count] = Int(job.book.assetIndex[k]) * d
                returnCoefficients[count] = e
                lossCoefficients[count] = -e
                count += 1
            }
            offsets.withUnsafeBufferPointer { o in
                let rows = UnsafeBufferPointer(rebasing: o[0 ..< count])
                returnCoefficients.withUnsafeBufferPointer { c in
                    y.withUnsafeMutableBufferPointer {
                        RowCombination.combine(returns, count: d, offsets: rows,
                                               coefficients: UnsafeBufferPointer(rebasing: c[0 ..< count]), into: $0)
                    }
                }
                lossCoefficients.withUnsafeBufferPointer { c in
                    losses.withUnsafeMutableBufferPointer {
                        RowCombination.combine(moves, count: d, offsets: rows,
                                               coefficients: UnsafeBufferPointer(rebasing: c[0 ..< count]), into: $0)
                    }
                }
            }
            let ee = job.exposureSquares(a)
            y.withUnsafeBufferPointer { yb in
                losses.withUnsafeBufferPointer { lb in finish(a, y: yb, losses: lb, ee: ee, job, outputs) }
            }
        }
    }

    /// Dense: the block's exposures scattered into (accounts × n) rows, times R and times −G (two dgemms), then
    /// each account's forecasts from its rows of the products.
    mutating func denseBlock(_ job: BacktestJob, accounts: Range<Int>, returns: UnsafeBufferPointer<Double>,
                             moves: UnsafeBufferPointer<Double>, _ outputs: BacktestOutputs) {
        let n = assets, d = returnDays
        let capacity = Backtester.blockSize
        if denseInput.isEmpty {
            denseInput = [Double](repeating: 0, count: capacity * n)
            denseReturns = [Double](repeating: 0, count: capacity * d)
            denseLosses = [Double](repeating: 0, count: capacity * d)
        }
        let rows = accounts.count
        for a in accounts where !job.invalid[a] {
            let r = a - accounts.lowerBound
            for k in job.book.holdings(of: a) { denseInput[r * n + Int(job.book.assetIndex[k])] = job.exposure[k] }
        }
        denseInput.withUnsafeBufferPointer { x in
            denseReturns.withUnsafeMutableBufferPointer { gemm(m: rows, n: d, k: n, a: x, b: returns, c: $0) }
            denseLosses.withUnsafeMutableBufferPointer { gemm(m: rows, n: d, k: n, alpha: -1, a: x, b: moves, c: $0) }
        }
        let yAll = denseReturns, lossAll = denseLosses   // moved out for the duration of the block (no copy: unique)
        denseReturns = []
        denseLosses = []
        defer {
            denseReturns = yAll
            denseLosses = lossAll
        }
        for a in accounts where !job.invalid[a] {
            let r = a - accounts.lowerBound
            let ee = job.exposureSquares(a)
            yAll.withUnsafeBufferPointer { yb in
                lossAll.withUnsafeBufferPointer { lb in
                    finish(a, y: UnsafeBufferPointer(rebasing: yb[r * d ..< (r + 1) * d]),
                           losses: UnsafeBufferPointer(rebasing: lb[r * d ..< (r + 1) * d]), ee: ee, job, outputs)
                }
            }
        }
        for a in accounts where !job.invalid[a] {
            let r = a - accounts.lowerBound
            for k in job.book.holdings(of: a) { denseInput[r * n + Int(job.book.assetIndex[k])] = 0 }
        }
    }
}
