// Stress testing over the tier-L retail book (`RetailFixture.tierL`, shared with the other suites): every account
// under 200 random hypothetical scenarios — losses, haircuts re-evaluated at the stressed values, status counts,
// shortfall and each account's worst scenario; and the liquidation cascades of 14 scenarios (the default count:
// 10 of scenarios.csv and 4 replays) with their rounds of liquidations and price impact. All inputs are built in `setup`, outside the measured region, from
// fixed seeds. See ../../README.md for how to read the numbers.

import Benchmark
import BenchmarkFixtures
import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel

// MARK: - Suite

let benchmarks: @Sendable () -> Void = {
    for workers in [2, 1] { Suite.stress(workers: workers) }
    Suite.stress(workers: 2, kernel: .dense)
    for workers in [2, 1] { Suite.cascade(workers: workers) }
}

enum Suite {
    static let tierL = "accounts=100k/assets=200"

    /// `StressTester.run`: the scenario tables, then per block of 128 accounts the losses (per-account gathers, or
    /// one dgemm with `kernel: .dense`) and the per-holding pass over C′, D′, HCV′ for every scenario, the status
    /// counts, shortfalls and worst scenarios. The production kernel choice (`.automatic`) runs every block sparse
    /// on this book.
    static func stress(workers: Int, kernel: StressTester.Kernel = .automatic) {
        let kernelPart = kernel == .dense ? "/kernel=dense" : ""
        Benchmark("stress/\(tierL)/scenarios=\(StressInputs.scenarioCount)\(kernelPart)/workers=\(workers)",
                  configuration: .stressRun(Metric.accountScenariosPerSecond)) {
            (benchmark: Benchmark, inputs: StressInputs) in
            var result: StressResult?
            let elapsed = ContinuousClock().measure {
                result = StressTester.run(book: inputs.fixture.book, assessment: inputs.assessment,
                                          scenarios: inputs.scenarios, haircuts: inputs.haircuts,
                                          config: inputs.fixture.config, workers: workers, kernel: kernel)
            }
            let cells = Double(inputs.fixture.book.accountCount) * Double(inputs.scenarios.count)
            benchmark.measurement(Metric.accountScenariosPerSecond, Int(cells / elapsed.seconds))
            blackHole(result!.scenarios[0].totalLossUSD)
        } setup: {
            StressInputs.tierL
        }
    }
}

extension Suite {
    /// `LiquidationCascade.run` on the book as it is, 14 scenarios at the default parameters (φ = 0.5, ℓ = 5 %,
    /// η = 1): rounds until no account is liquidated, each re-valuing only the accounts a price-floor bound cannot
    /// prove safe. Reports account-scenarios per second like the stress benchmark, so the two compare directly.
    static func cascade(workers: Int) {
        Benchmark("cascade/\(tierL)/scenarios=\(CascadeInputs.scenarioCount)/workers=\(workers)",
                  configuration: .stressRun(Metric.accountScenariosPerSecond)) {
            (benchmark: Benchmark, inputs: CascadeInputs) in
            var outcomes: [[CascadeOutcome]] = []
            let elapsed = ContinuousClock().measure {
                outcomes = LiquidationCascade.run(books: [inputs.book], scenarios: inputs.stress.scenarios,
                                                  market: inputs.market, parameters: inputs.parameters, workers: workers)
            }
            let cells = Double(inputs.book.accountCount) * Double(inputs.stress.scenarios.count)
            benchmark.measurement(Metric.accountScenariosPerSecond, Int(cells / elapsed.seconds))
            blackHole(outcomes[0][0].rounds)
        } setup: {
            CascadeInputs.tierL
        }
    }
}

/// The stress inputs with 14 scenarios, and the cascade's book, market and default parameters.
struct CascadeInputs: Sendable {
    static let scenarioCount = 14
    static let tierL = CascadeInputs(stress: StressInputs(fixture: .tierL, seed: 0xCA5CADE, scenarios: scenarioCount))

    let stress: StressInputs
    let book: CascadeBook
    let market: CascadeMarket
    let parameters: CascadeParameters

    init(stress: StressInputs) {
        self.stress = stress
        book = CascadeBook(book: stress.fixture.book, assessment: stress.assessment)
        market = CascadeMarket(haircuts: stress.haircuts)
        parameters = CascadeParameters(config: stress.fixture.config)
    }
}

// MARK: - Metrics and configurations

enum Metric {
    /// Accounts × scenarios / wall time of `StressTester.run` (the table shows it in thousands, "(K)").
    static let accountScenariosPerSecond = BenchmarkMetric.custom("account-scenarios/s", polarity: .prefersLarger,
                                                                  useScalingFactor: false)
}

extension Benchmark.Configuration {
    /// One iteration = the whole book under every scenario (≈ 0.1–0.5 s).
    static func stressRun(_ custom: BenchmarkMetric...) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident] + custom,
            timeUnits: .milliseconds,
            // Printed in thousands: the table switches integers of 8 digits and more to 3-digit scientific notation.
            units: Dictionary(uniqueKeysWithValues: custom.map { ($0, .kilo) }),
            warmupIterations: 1, maxDuration: .seconds(5), maxIterations: 10)
    }
}

// MARK: - Inputs

/// The book, today's assessment and haircut calculator, and 200 random hypothetical scenarios
/// (`SyntheticMarket.randomStressScenarios`: market-driven shocks clamped to ±60 %, stablecoins unshocked).
struct StressInputs: Sendable {
    static let scenarioCount = 200
    static let tierL = StressInputs(fixture: .tierL, seed: 0x57E55)

    let fixture: RetailFixture
    let assessment: CollateralAssessment
    let haircuts: HaircutCalculator
    let scenarios: StressScenarios

    init(fixture: RetailFixture, seed: UInt64, scenarios count: Int = scenarioCount) {
        self.fixture = fixture
        assessment = fixture.assess()
        haircuts = fixture.haircuts
        scenarios = fixture.market.randomStressScenarios(count: count, seed: seed)
    }
}
