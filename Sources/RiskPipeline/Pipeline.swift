import Foundation
import LinearAlgebra
import RiskInput
import RiskMetrics
import RiskModel
import Rebalancing

/// What one run needs from the caller.
public struct RunOptions: Sendable {
    public var bookDirectory: URL
    public var configFile: URL?
    /// Raw `KEY=VALUE` overrides, applied in order after the config file.
    public var overrides: [String]
    /// Worker threads for per-account batches (≥ 1).
    public var threads: Int
    /// Compute only this shard's accounts (`ballast run --shard I/N`); nil: the whole book.
    public var shard: ShardSpec?

    public init(bookDirectory: URL, configFile: URL? = nil, overrides: [String] = [], threads: Int = ProcessStatistics.availableCores,
                shard: ShardSpec? = nil) {
        self.bookDirectory = bookDirectory
        self.configFile = configFile
        self.overrides = overrides
        self.threads = max(1, threads)
        self.shard = shard
    }
}

/// Shard `index` of `count` (0-based): the accounts of the canonical units u with u mod count = index
/// (`AccountOrder`).
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init?(index: Int, count: Int) {
        guard Limits.shardCount.contains(count) && index >= 0 && index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
}

/// Why a run stopped. `.input` is the user's to fix (exit 2); `.computation` is the engine's failure (exit 1).
public enum PipelineError: Error, CustomStringConvertible {
    case input([InputIssue])
    case computation(String)

    public var description: String {
        switch self {
        case .input(let issues): return issues.map(\.description).joined(separator: "\n")
        case .computation(let message): return "run failed: \(message)"
        }
    }
}

/// Everything a run computed; the report writers read it and compute nothing.
public struct RunResult: Sendable {
    public let input: LoadedBook
    public let config: RiskConfig
    public let asOfDate: String
    /// As-of prices after forward fill, USD per unit, schedule order.
    public let prices: [Double]
    /// Whether each asset (schedule order) is in the risk universe; outside it its rows of Σ are zero.
    public let inUniverse: [Bool]
    public let covariance: CovarianceEstimate
    public let scale: NormalRiskScale
    public let assessment: CollateralAssessment
    public let parametric: ParametricRisk
    /// Full-revaluation VaR/ES over the return window (METHODOLOGY "Parametric VaR and ES").
    public let historical: ScenarioRisk
    /// Monte Carlo VaR/ES and liquidation probability, and the factor of Σ that drew the paths.
    public let monteCarlo: ScenarioRisk
    public let monteCarloFactor: MonteCarloFactor
    /// Stress scenarios (scenarios.csv, then the replays) and their results (METHODOLOGY "Stress tests").
    public let stressScenarios: StressScenarios
    public let stress: StressResult
    /// Optimized target collateral for the accounts in scope (METHODOLOGY "Rebalancing").
    public let rebalancing: RebalancingResult
    public var timings: PhaseTimings
    public let threads: Int
    public var warnings: [String]
    /// The accounts computed, in canonical order (`AccountOrder`): the whole book, or one shard's part. Every
    /// per-account and per-holding array above follows this book.
    public let book: Book
    /// Where each computed account (each index of the arrays above) comes from: its positions.csv row and canonical
    /// position, and the computed accounts in positions.csv order (the order of the report's rows).
    public let accounts: ComputedAccounts
    /// The shard this run computed, nil for the whole book.
    public let shard: ShardSpec?
    /// Per-account figures beyond the fixed columns of accounts.csv, each declared by its column (same account order).
    public var accountFigures = AccountFigures()
    /// The VaR backtest's daily series, the book's statistics and the zone counts (METHODOLOGY "VaR backtesting").
    public var backtest = BacktestReport.skipped
    /// Liquidation cascades under the stress scenarios, without and with the recommended rebalancing (METHODOLOGY "Liquidation cascades under stress").
    public var cascade = CascadeReport.skipped
    /// What changed since the previous stored run of the same book (`RunChanges.compare`); nil without one.
    public var changes: RunChanges? = nil
    /// Book-level aggregates of the arrays above (totals, per-asset sums, tallies): what the writers format.
    public let bookFigures: BookFigures

    public var schedule: CollateralSchedule { input.schedule }
}

/// What every run, every shard and every merge derives from the inputs alone, identically.
public struct MarketContext: Sendable {
    public let loaded: LoadedBook
    public let window: ReturnWindow
    public let covariance: CovarianceEstimate
    public let scale: NormalRiskScale
    public let haircuts: HaircutCalculator
    public let settlement: Int
    /// The whole book's accounts in canonical order (canonical position → positions.csv row).
    public let canonicalOrder: CanonicalOrder
    public let stressScenarios: StressScenarios
    /// The returns and per-day estimator scalars of the VaR backtest (METHODOLOGY "VaR backtesting").
    public let backtestMarket: BacktestMarket
    public var config: RiskConfig { loaded.config }
}

public enum RiskPipeline {
    /// Loads and checks a book without computing risk: every problem, one issue each, and the warnings.
    public static func validate(_ options: RunOptions) -> (issues: [InputIssue], warnings: [String]) {
        let loaded: LoadedBook
        do {
            loaded = try BookLoader.load(directory: options.bookDirectory, configFile: options.configFile,
                                         overrides: options.overrides)
        } catch {
            return (error.issues, error.warnings)
        }
        if let issue = RunBudget(loaded: loaded, workers: options.threads).check() { return ([issue], loaded.warnings) }
        do {
            let window = try prepareMarketData(loaded)
            return ([], loaded.warnings + window.warnings)
        } catch {
            return (error.issues, loaded.warnings)
        }
    }

    /// The nightly run: load → covariance → haircuts and ratios → parametric → historical → Monte Carlo → stress →
    /// rebalancing, over the whole book or one shard of it (`options.shard`).
    public static func run(_ options: RunOptions, progress: any RunProgress = SilentProgress()) throws(PipelineError) -> RunResult {
        var timings = PhaseTimings()
        let threads = options.threads
        let market = try prepare(options, timings: &timings, progress: progress)
        let loaded = market.loaded, config = market.config
        let accountCount = loaded.book.accountCount
        let accounts = options.shard.map {
            ComputedAccounts(positions: AccountOrder.positions(accountCount: accountCount, shard: $0.index, of: $0.count),
                             of: market.canonicalOrder)
        } ?? ComputedAccounts(wholeBook: market.canonicalOrder)
        let book = timings.measure(.load) { loaded.book.subset(accounts.fileRows) }
        let scale = market.scale, haircuts = market.haircuts, covariance = market.covariance, window = market.window

        progress.begin(.haircuts, detail: "\(config.haircutModel.rawValue) haircuts, ratios, status")
        let assessment = timings.measure(.haircuts) {
            CollateralAssessment.assess(book: book, prices: window.latestPrices, haircuts: haircuts,
                                        settlementAsset: market.settlement, config: config)
        }
        progress.begin(.parametric, detail: "\(book.accountCount) accounts on \(threads) threads")
        let parametric = timings.measure(.parametric) {
            ParametricRiskCalculator.compute(book: book, assessment: assessment, covariance: covariance.matrix,
                                             tickers: loaded.schedule.tickers, scale: scale, config: config,
                                             workers: threads)
        }
        progress.begin(.historical, detail: "\(book.accountCount) accounts × \(window.window) returns")
        let historical = timings.measure(.historical) {
            HistoricalRiskCalculator.compute(book: book, assessment: assessment, window: window, config: config,
                                             workers: threads)
        }
        progress.begin(.monteCarlo, detail: "\(book.accountCount) accounts × \(config.monteCarloPaths) paths (\(config.monteCarloDistribution.rawValue))")
        let monteCarlo: (risk: ScenarioRisk, factor: MonteCarloFactor)
        do {
            monteCarlo = try timings.measure(.monteCarlo) { () throws(LinearAlgebraError) -> (ScenarioRisk, MonteCarloFactor) in
                try MonteCarloRiskCalculator.compute(book: book, assessment: assessment,
                                                     covariance: covariance.matrix, config: config, workers: threads)
            }
        } catch {
            throw .computation("Monte Carlo factor of the covariance: \(error)")
        }
        let backtestMarket = market.backtestMarket
        progress.begin(.backtest, detail: "\(backtestMarket.days) days × \(book.accountCount) accounts (parametric, historical)")
        let backtest = timings.measure(.backtest) {
            Backtester.run(book: book, assessment: assessment, market: backtestMarket, confidence: config.confidence,
                           workers: threads)
        }
        progress.begin(.stress, detail: "scenarios.csv and \(config.historicalScenarios.count) replays")
        let stress = timings.measure(.stress) {
            StressTester.run(book: book, assessment: assessment, scenarios: market.stressScenarios, haircuts: haircuts,
                             config: config, workers: threads)
        }
        progress.begin(.rebalance, detail: "rebalance=\(config.rebalance.rawValue), objective=\(config.objective.rawValue)")
        let rebalancing = timings.measure(.rebalance) {
            RebalancingEngine.run(book: book, assessment: assessment, covariance: covariance.matrix,
                                  haircuts: haircuts, schedule: loaded.schedule, prices: window.latestPrices,
                                  settlementAsset: market.settlement, inUniverse: window.inUniverse, scale: scale,
                                  config: config, workers: threads)
        }
        var result = RunResult(market: market, assessment: assessment, parametric: parametric, historical: historical,
                               monteCarlo: monteCarlo.risk, monteCarloFactor: monteCarlo.factor, stress: stress,
                               rebalancing: rebalancing, book: book, accounts: accounts, shard: options.shard,
                               timings: timings, threads: threads)
        BacktestColumns.add(backtest, to: &result.accountFigures)
        if options.shard == nil {
            // The book's backtest needs the whole book: a shard leaves it to the merge.
            let figures = result.accountFigures
            result.backtest = timings.measure(.backtest) {
                BacktestReport.wholeBook(book: book, assessment: assessment, market: backtestMarket, config: config,
                                         dailyExceptions: backtest.dailyExceptions, figures: figures)
            }
            result.timings = timings
            result.addCascade(market: market, progress: progress)
        } else {
            result.backtest.dailyExceptions = backtest.dailyExceptions
        }
        return result
    }

    /// Load, market data, covariance, haircut model, stress scenarios and the canonical account order: everything
    /// that does not depend on which accounts are computed. The market data always see the whole book (which
    /// assets are held decides the risk universe), so every shard and a merge derive the same market.
    public static func prepare(_ options: RunOptions, timings: inout PhaseTimings,
                               progress: any RunProgress = SilentProgress()) throws(PipelineError) -> MarketContext {
        let threads = options.threads
        progress.begin(.load, detail: options.bookDirectory.relativePath)
        let loaded: LoadedBook
        do {
            loaded = try timings.measure(.load) { () throws(InputErrors) -> LoadedBook in
                try BookLoader.load(directory: options.bookDirectory, configFile: options.configFile,
                                    overrides: options.overrides)
            }
        } catch {
            throw .input(error.issues)
        }
        let config = loaded.config
        if let issue = RunBudget(loaded: loaded, workers: threads).check() { throw .input([issue]) }
        let canonicalOrder = timings.measure(.load) { AccountOrder.canonical(loaded.book) }

        progress.begin(.covariance, detail: "\(config.covariance.rawValue), \(config.window) returns of \(loaded.schedule.count) assets; "
            + "book of \(loaded.book.accountCount) accounts, \(loaded.book.holdingCount) holdings")
        let window: ReturnWindow
        let covariance: CovarianceEstimate
        do {
            window = try timings.measure(.covariance) { () throws(InputErrors) -> ReturnWindow in try prepareMarketData(loaded) }
        } catch {
            throw .input(error.issues)
        }
        do {
            covariance = try timings.measure(.covariance) { () throws(LinearAlgebraError) -> CovarianceEstimate in
                try BLASThreads.with(threads) { () throws(LinearAlgebraError) -> CovarianceEstimate in
                    try CovarianceEstimator.estimate(window, config: config)
                }
            }
        } catch {
            throw .computation("covariance estimate: \(error)")
        }
        let scale = NormalRiskScale(confidence: config.confidence, horizonDays: config.horizonDays)
        let haircuts = HaircutCalculator(schedule: loaded.schedule, volatilities: covariance.volatilities, z: scale.z,
                                         config: config)
        // BookLoader guarantees the settlement asset is in the schedule.
        let settlement = loaded.schedule.index(of: config.settlementAsset) ?? 0
        let stressScenarios = timings.measure(.stress) {
            StressScenarioBuilder.build(scenarios: loaded.scenarios, prices: loaded.prices,
                                        replays: config.historicalScenarios, tickers: loaded.schedule.tickers)
        }
        let backtestMarket = timings.measure(.backtest) {
            Backtester.prepare(prices: loaded.prices, window: window, config: config,
                                   backtestDays: config.backtestDays, tickers: loaded.schedule.tickers, workers: threads)
        }
        return MarketContext(loaded: loaded, window: window, covariance: covariance, scale: scale, haircuts: haircuts,
                             settlement: settlement, canonicalOrder: canonicalOrder, stressScenarios: stressScenarios,
                             backtestMarket: backtestMarket)
    }

    /// The warnings of a run over `book` (the whole book, or a shard's accounts).
    static func warnings(market: MarketContext, assessment: CollateralAssessment, rebalancing: RebalancingResult,
                         book: Book, accounts: ComputedAccounts, figures: [(name: String, values: [Double])]) -> [String] {
        var warnings = market.loaded.warnings + market.window.warnings + market.covariance.warnings
            + market.stressScenarios.warnings + market.backtestMarket.warnings
        if let failed = rebalancing.counts[.failed], failed > 0 {
            warnings.append("rebalancing failed for \(failed) of \(rebalancing.inScope) accounts in scope (see rebalance_reason in accounts.csv)")
        }
        let invalid = accounts.inFileOrder.filter { assessment.invalid[$0] }
        for a in invalid.prefix(20) {
            warnings.append("account \(book.accountIDs[a]): collateral or debt above 1e30 USD or not finite (quantity × price); "
                + "its figures are left empty and it is excluded from book totals")
        }
        if invalid.count > 20 { warnings.append("... and \(invalid.count - 20) more accounts with collateral or debt out of range") }
        warnings += nonFiniteFigureWarnings(book: book, inFileOrder: accounts.inFileOrder, assessment: assessment,
                                            figures: figures)
        if !market.window.inUniverse[market.settlement] {
            warnings.append("settlement asset \(market.config.settlementAsset) is outside the risk universe: its haircut is the schedule haircut")
        }
        return warnings
    }

    /// One warning per figure that came out non-finite for accounts whose inputs are in range: the inputs are finite
    /// but too large for the computation (an extreme price jump, say), and the report must not show an empty column
    /// without saying why.
    static func nonFiniteFigureWarnings(book: Book, inFileOrder: [Int], assessment: CollateralAssessment,
                                        figures: [(name: String, values: [Double])]) -> [String] {
        figures.compactMap { figure in
            let bad = inFileOrder.filter { !assessment.invalid[$0] && !figure.values[$0].isFinite }
            guard let first = bad.first else { return nil }
            return "\(figure.name) is not finite for \(bad.count) account\(bad.count == 1 ? "" : "s") "
                + "(first: \(book.accountIDs[first])): the inputs are too large for the computation; check the price "
                + "jumps and quantities of the assets they hold"
        }
    }

    /// The return window, with market-data problems turned into prices.csv issues.
    static func prepareMarketData(_ loaded: LoadedBook) throws(InputErrors) -> ReturnWindow {
        do {
            return try MarketDataPreparation.prepare(
                prices: loaded.prices, schedule: loaded.schedule,
                holderCounts: loaded.book.holderCounts(assetCount: loaded.schedule.count), config: loaded.config)
        } catch {
            let file = loaded.directory.appendingPathComponent("prices.csv").relativePath
            throw InputErrors(issues: error.problems.map { InputIssue(file: file, line: $0.line, message: $0.message) })
        }
    }
}

extension Error {
    /// The input issues an error carries (a single generic issue for anything unexpected).
    var issues: [InputIssue] {
        if let errors = self as? InputErrors { return errors.issues }
        return [InputIssue(file: "ballast", line: nil, message: "\(self)")]
    }
}

extension RunResult {
    /// Runs the liquidation cascades of the whole book (a run or a merge: the cascade couples every account) and
    /// adds their warnings; times them as the `cascade` phase.
    public mutating func addCascade(market: MarketContext, progress: any RunProgress = SilentProgress()) {
        if market.config.cascade == .on {
            progress.begin(.cascade, detail: "\(market.stressScenarios.count) scenarios, up to \(market.config.cascadeMaxRounds) rounds")
        }
        let (book, assessment, stress, rebalancing, threads) = (book, assessment, stress, rebalancing, threads)
        cascade = timings.measure(.cascade) {
            CascadeReport.wholeBook(book: book, assessment: assessment, stress: stress, rebalancing: rebalancing,
                                    market: market, workers: threads, progress: progress)
        }
        warnings += cascade.warnings
    }

    /// A run's result over `book` (the computed `accounts`, in canonical order).
    public init(market: MarketContext, assessment: CollateralAssessment, parametric: ParametricRisk, historical: ScenarioRisk,
         monteCarlo: ScenarioRisk, monteCarloFactor: MonteCarloFactor, stress: StressResult,
         rebalancing: RebalancingResult, book: Book, accounts: ComputedAccounts, shard: ShardSpec?,
         timings: PhaseTimings, threads: Int) {
        self.init(input: market.loaded, config: market.config, asOfDate: market.loaded.prices.asOfDate,
                  prices: market.window.latestPrices, inUniverse: market.window.inUniverse, covariance: market.covariance, scale: market.scale,
                  assessment: assessment, parametric: parametric, historical: historical, monteCarlo: monteCarlo,
                  monteCarloFactor: monteCarloFactor, stressScenarios: market.stressScenarios, stress: stress,
                  rebalancing: rebalancing, timings: timings, threads: threads,
                  warnings: RiskPipeline.warnings(market: market, assessment: assessment, rebalancing: rebalancing,
                                                  book: book, accounts: accounts,
                                                  figures: [("var_param", parametric.valueAtRisk),
                                                            ("es_param", parametric.expectedShortfall),
                                                            ("var_hist", historical.valueAtRisk),
                                                            ("es_hist", historical.expectedShortfall),
                                                            ("var_mc", monteCarlo.valueAtRisk),
                                                            ("es_mc", monteCarlo.expectedShortfall),
                                                            ("hcv_usd", assessment.hcv),
                                                            ("topup_usd", assessment.topup),
                                                            ("excess_usd", assessment.excess)]),
                  book: book, accounts: accounts, shard: shard,
                  bookFigures: BookFigures(book: book, assessment: assessment, parametric: parametric, stress: stress,
                                           rebalancing: rebalancing, config: market.config,
                                           tickers: market.loaded.schedule.tickers, fileRows: accounts.fileRows))
    }
}
