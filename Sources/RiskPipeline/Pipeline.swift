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

    public init(bookDirectory: URL, configFile: URL? = nil, overrides: [String] = [], threads: Int = ProcessStatistics.availableCores) {
        self.bookDirectory = bookDirectory
        self.configFile = configFile
        self.overrides = overrides
        self.threads = max(1, threads)
    }
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
    public let covariance: CovarianceEstimate
    public let scale: NormalRiskScale
    public let assessment: CollateralAssessment
    public let parametric: ParametricRisk
    /// Full-revaluation VaR/ES over the return window (SPEC §3.2).
    public let historical: ScenarioRisk
    /// Monte Carlo VaR/ES and liquidation probability, and the factor of Σ that drew the paths.
    public let monteCarlo: ScenarioRisk
    public let monteCarloFactor: MonteCarloFactor
    /// Stress scenarios (scenarios.csv, then the replays) and their results (SPEC §3.5).
    public let stressScenarios: StressScenarios
    public let stress: StressResult
    /// Optimized target collateral for the accounts in scope (SPEC §3.6).
    public let rebalancing: RebalancingResult
    public var timings: PhaseTimings
    public let threads: Int
    public let warnings: [String]

    public var book: Book { input.book }
    public var schedule: CollateralSchedule { input.schedule }
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
        do {
            let window = try prepareMarketData(loaded)
            return ([], loaded.warnings + window.warnings)
        } catch {
            return (error.issues, loaded.warnings)
        }
    }

    /// The nightly run: load → covariance → haircuts and ratios → parametric → historical → Monte Carlo → stress →
    /// rebalancing.
    public static func run(_ options: RunOptions, progress: any RunProgress = SilentProgress()) throws(PipelineError) -> RunResult {
        var timings = PhaseTimings()
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
        progress.begin(.haircuts, detail: "\(config.haircutModel.rawValue) haircuts, ratios, status")
        let haircuts = HaircutCalculator(schedule: loaded.schedule, volatilities: covariance.volatilities, z: scale.z,
                                         config: config)
        // BookLoader guarantees the settlement asset is in the schedule.
        let settlement = loaded.schedule.index(of: config.settlementAsset) ?? 0
        let assessment = timings.measure(.haircuts) {
            CollateralAssessment.assess(book: loaded.book, prices: window.latestPrices, haircuts: haircuts,
                                        settlementAsset: settlement, config: config)
        }

        progress.begin(.parametric, detail: "\(loaded.book.accountCount) accounts on \(threads) threads")
        let parametric = timings.measure(.parametric) {
            ParametricRiskCalculator.compute(book: loaded.book, assessment: assessment, covariance: covariance.matrix,
                                             tickers: loaded.schedule.tickers, scale: scale, config: config,
                                             workers: threads)
        }
        progress.begin(.historical, detail: "\(loaded.book.accountCount) accounts × \(window.window) returns")
        let historical = timings.measure(.historical) {
            HistoricalRiskCalculator.compute(book: loaded.book, assessment: assessment, window: window, config: config,
                                             workers: threads)
        }
        progress.begin(.monteCarlo, detail: "\(loaded.book.accountCount) accounts × \(config.monteCarloPaths) paths (\(config.monteCarloDistribution.rawValue))")
        let monteCarlo: (risk: ScenarioRisk, factor: MonteCarloFactor)
        do {
            monteCarlo = try timings.measure(.monteCarlo) { () throws(LinearAlgebraError) -> (ScenarioRisk, MonteCarloFactor) in
                try MonteCarloRiskCalculator.compute(book: loaded.book, assessment: assessment,
                                                     covariance: covariance.matrix, config: config, workers: threads)
            }
        } catch {
            throw .computation("Monte Carlo factor of the covariance: \(error)")
        }
        progress.begin(.stress, detail: "scenarios.csv and \(config.historicalScenarios.count) replays")
        let stressScenarios = timings.measure(.stress) {
            StressScenarioBuilder.build(scenarios: loaded.scenarios, prices: loaded.prices,
                                        replays: config.historicalScenarios, tickers: loaded.schedule.tickers)
        }
        let stress = timings.measure(.stress) {
            StressTester.run(book: loaded.book, assessment: assessment, scenarios: stressScenarios, haircuts: haircuts,
                             config: config, workers: threads)
        }
        progress.begin(.rebalance, detail: "rebalance=\(config.rebalance.rawValue), objective=\(config.objective.rawValue)")
        let rebalancing = timings.measure(.rebalance) {
            RebalancingEngine.run(book: loaded.book, assessment: assessment, covariance: covariance.matrix,
                                  haircuts: haircuts, schedule: loaded.schedule, prices: window.latestPrices,
                                  settlementAsset: settlement, inUniverse: window.inUniverse, scale: scale,
                                  config: config, workers: threads)
        }
        var warnings = loaded.warnings + window.warnings + covariance.warnings + stressScenarios.warnings
        if let failed = rebalancing.counts[.failed], failed > 0 {
            warnings.append("rebalancing failed for \(failed) of \(rebalancing.inScope) accounts in scope (see rebalance_reason in accounts.csv)")
        }
        let invalid = assessment.invalid.indices.filter { assessment.invalid[$0] }
        for a in invalid.prefix(20) {
            warnings.append("account \(loaded.book.accountIDs[a]): exposure is not finite (quantity × price overflows); "
                + "its figures are left empty and it is excluded from book totals")
        }
        if invalid.count > 20 { warnings.append("... and \(invalid.count - 20) more accounts with non-finite exposure") }
        if !window.inUniverse[settlement] {
            warnings.append("settlement asset \(config.settlementAsset) is outside the risk universe: its haircut is the schedule haircut")
        }
        return RunResult(input: loaded, config: config, asOfDate: loaded.prices.asOfDate, prices: window.latestPrices,
                         covariance: covariance, scale: scale, assessment: assessment, parametric: parametric,
                         historical: historical, monteCarlo: monteCarlo.risk, monteCarloFactor: monteCarlo.factor,
                         stressScenarios: stressScenarios, stress: stress, rebalancing: rebalancing,
                         timings: timings, threads: threads, warnings: warnings)
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
