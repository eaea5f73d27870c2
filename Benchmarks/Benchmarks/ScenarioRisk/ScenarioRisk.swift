// Historical and Monte Carlo VaR/ES over the tier-L retail book (`RetailFixture.tierL`, shared with the other
// suites): every account's losses over 365 historical returns or 10,000 simulated paths, their tail statistics and
// (Monte Carlo) the liquidation probability. All inputs are built in `setup`, outside the measured region, from
// fixed seeds. See ../../README.md for how to read the numbers.

import Benchmark
import BenchmarkFixtures
import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel

// MARK: - Suite

let benchmarks: @Sendable () -> Void = {
    for workers in [2, 1] { Suite.historicalVaR(workers: workers) }
    for workers in [2, 1] { Suite.monteCarloVaR(workers: workers) }
    Suite.monteCarloVaR(workers: 2, distribution: .studentT)
    Suite.monteCarloVaR(workers: 2, kernel: .dense)
}

enum Suite {
    static let tierL = "accounts=100k/assets=200"

    /// Historical VaR/ES: G = exp(R) − 1 over the 365-day window, then every account's losses, k-th largest and
    /// tail mean (×√h), and the book's. Kernel choice automatic (all sparse on this book).
    static func historicalVaR(workers: Int) {
        Benchmark("historicalVaR/\(tierL)/returns=\(HistoricalInputs.returns)/workers=\(workers)",
                  configuration: .scenarioRun(Metric.accountsPerSecond)) {
            (benchmark: Benchmark, inputs: HistoricalInputs) in
            let base = inputs.base
            var risk: ScenarioRisk?
            let elapsed = ContinuousClock().measure {
                risk = HistoricalRiskCalculator.compute(book: base.fixture.book, assessment: base.assessment,
                                                        window: inputs.window, config: base.fixture.config,
                                                        workers: workers)
            }
            benchmark.measurement(Metric.accountsPerSecond, Int(Double(base.accounts) / elapsed.seconds))
            blackHole(risk!.bookValueAtRisk)
        } setup: {
            HistoricalInputs.tierL
        }
    }

    /// Monte Carlo VaR/ES and liquidation probability: the S joint draws x = F·z (F the Cholesky factor of Σ,
    /// computed in setup), G = exp(√h·x) − 1, then every account's losses and buffer paths, tail statistics and
    /// breach counts, and the book's VaR/ES. `kernel: .dense` forces every block through one dgemm.
    static func monteCarloVaR(workers: Int, distribution: MonteCarloDistribution = .normal,
                              kernel: ScenarioLossCalculator.Kernel = .automatic) {
        var name = "monteCarloVaR/\(tierL)/paths=\(MonteCarloInputs.paths)"
        if distribution == .studentT { name += "/student_t" }
        let dense = kernel == .dense
        if dense { name += "/kernel=dense" }
        let configuration: Benchmark.Configuration = dense
            ? .denseMonteCarloRun(Metric.accountsPerSecond, Metric.blockMFLOPs)
            : .scenarioRun(Metric.accountsPerSecond)
        Benchmark("\(name)/workers=\(workers)", configuration: configuration) {
            (benchmark: Benchmark, inputs: MonteCarloInputs) in
            let base = inputs.base
            var config = inputs.config
            config.monteCarloDistribution = distribution
            var risk: ScenarioRisk?
            let elapsed = ContinuousClock().measure {
                risk = MonteCarloRiskCalculator.compute(book: base.fixture.book, assessment: base.assessment,
                                                        factor: inputs.factor, config: config, workers: workers,
                                                        kernel: kernel)
            }
            benchmark.measurement(Metric.accountsPerSecond, Int(Double(base.accounts) / elapsed.seconds))
            if dense {
                // The loss phase alone: the wall time minus the generation of the draws.
                let lossSeconds = elapsed.seconds - risk!.scenarioSeconds
                benchmark.measurement(Metric.blockMFLOPs, Int(risk!.matrixFlops / lossSeconds / 1e6))
            }
            blackHole(risk!.bookValueAtRisk)
        } setup: {
            MonteCarloInputs.tierL
        }
    }
}

// MARK: - Metrics and configurations

enum Metric {
    /// Accounts processed per second of wall time (scenario moves + losses + tail statistics).
    static let accountsPerSecond = BenchmarkMetric.custom("accounts/s", polarity: .prefersLarger,
                                                          useScalingFactor: false)
    /// `ScenarioRisk.matrixFlops` / wall time of the loss phase (total − `scenarioSeconds`), in MFLOP/s.
    static let blockMFLOPs = BenchmarkMetric.custom("block MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
}

extension Benchmark.Configuration {
    /// Integers printed as they are (no K/M scaling), so that MFLOP/s and accounts/s read directly.
    static func exact(_ metrics: [BenchmarkMetric]) -> [BenchmarkMetric: BenchmarkUnits] {
        Dictionary(uniqueKeysWithValues: metrics.map { ($0, .count) })
    }

    /// One iteration = one pass over the whole 100k-account book (≈ 0.1 s historical, ≈ 1–3 s Monte Carlo).
    static func scenarioRun(_ custom: BenchmarkMetric...) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident] + custom,
            timeUnits: .milliseconds,
            units: exact(custom),
            warmupIterations: 1, maxDuration: .seconds(5), maxIterations: 10)
    }

    /// Forced-dense Monte Carlo: ≈ 740 GFLOP of block products per pass, ≈ 8 s on two cores, so no warm-up (every
    /// pass allocates its buffers afresh anyway) and two measured passes: the suite's one long benchmark.
    static func denseMonteCarloRun(_ custom: BenchmarkMetric...) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident] + custom,
            timeUnits: .milliseconds,
            units: exact(custom),
            warmupIterations: 0, maxDuration: .seconds(10), maxIterations: 2)
    }
}

// MARK: - Inputs

/// The book and today's assessment (haircuts and collateral figures), shared by both methods.
struct ScenarioBase: Sendable {
    let fixture: RetailFixture
    let assessment: CollateralAssessment
    var accounts: Int { fixture.book.accountCount }

    static let tierL = ScenarioBase(fixture: .tierL, assessment: RetailFixture.tierL.assess())
}

/// A 365-return window of synthetic daily closes from the fixture's factor model, through the engine's own
/// `MarketDataPreparation.prepare` (`ReturnWindow` has no public initializer).
struct HistoricalInputs: Sendable {
    static let returns = 365
    static let tierL = HistoricalInputs(base: .tierL, seed: 0x4157_0365)

    let base: ScenarioBase
    let window: ReturnWindow

    init(base: ScenarioBase, seed: UInt64) {
        let fixture = base.fixture
        var config = fixture.config
        config.window = Self.returns
        let history = fixture.market.priceHistory(returns: Self.returns, seed: seed)
        let window: ReturnWindow
        do {
            window = try MarketDataPreparation.prepare(
                prices: history, schedule: fixture.market.schedule,
                holderCounts: fixture.book.holderCounts(assetCount: fixture.market.assetCount), config: config)
        } catch {
            preconditionFailure("synthetic price history rejected: \(error.problems)")
        }
        precondition(window.window == Self.returns && window.warnings.isEmpty && !window.hasMissingReturns,
                     "unexpected return window: \(window.warnings)")
        for (prepared, asOf) in zip(window.latestPrices, fixture.market.prices) {
            precondition(abs(prepared - asOf) <= 1e-9 * asOf, "window as-of price \(prepared) ≠ fixture price \(asOf)")
        }
        self.base = base
        self.window = window
    }
}

/// The Cholesky factor of the fixture's Σ (computed once, as the pipeline does before its Monte Carlo phase) and
/// the configuration: 10,000 paths, seed 42 (RiskConfig defaults).
struct MonteCarloInputs: Sendable {
    static let paths = 10_000
    static let tierL = MonteCarloInputs(base: .tierL)

    let base: ScenarioBase
    let factor: MonteCarloFactor
    let config: RiskConfig

    init(base: ScenarioBase) {
        self.base = base
        var config = base.fixture.config
        config.monteCarloPaths = Self.paths
        self.config = config
        do {
            factor = try MonteCarloRiskCalculator.factor(base.fixture.market.covariance)
        } catch {
            preconditionFailure("no factor of the fixture's covariance: \(error)")
        }
        precondition(factor.kind == .cholesky, "the fixture's Σ should be positive definite")
    }
}
