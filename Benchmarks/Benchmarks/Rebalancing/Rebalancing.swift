// Rebalancing (SPEC §3.6): the per-account QP solve time over full universes of 10–500 assets, and the whole tier-L
// retail book (`RetailFixture.tierL`, shared with the other suites) with rebalance=all. All inputs are built in
// `setup`, outside the measured region, from fixed seeds. See ../../README.md for how to read the numbers.

import Benchmark
import BenchmarkFixtures
import Foundation
import LinearAlgebra
import Rebalancing
import RiskMetrics
import RiskModel

// MARK: - Suite

let benchmarks: @Sendable () -> Void = {
    for n in [10, 30, 100, 500] { Suite.universe(assets: n) }
    Suite.tierL(workers: 2)
}

enum Suite {
    /// `RebalancingEngine.run` with `fullUniverse: true` on one worker: every account's QP spans all n assets
    /// (no working set), so the time per account is the solve time of an n-asset problem.
    static func universe(assets n: Int) {
        let accounts = RebalanceInputs.accountCount(assets: n)
        Benchmark("rebalance/universe=\(n)/accounts=\(accounts)",
                  configuration: .rebalanceRun(Metric.microsecondsPerAccount, long: n >= 500)) {
            (benchmark: Benchmark, inputs: RebalanceInputs) in
            var result: RebalancingResult?
            let elapsed = ContinuousClock().measure {
                result = inputs.run(workers: 1, fullUniverse: true)
            }
            benchmark.measurement(Metric.microsecondsPerAccount,
                                  Int((elapsed.seconds * 1e6 / Double(accounts)).rounded()))
            blackHole(result!.totalTurnover)
        } setup: {
            RebalanceInputs.universe(assets: n)
        }
    }

    /// The whole tier-L book with rebalance=all (every account, working-set QPs as in production).
    static func tierL(workers: Int) {
        Benchmark("rebalance/all/accounts=\(RebalanceInputs.tierLName)/assets=200/workers=\(workers)",
                  configuration: .rebalanceRun(Metric.accountsPerSecond, long: true)) {
            (benchmark: Benchmark, inputs: RebalanceInputs) in
            var result: RebalancingResult?
            let elapsed = ContinuousClock().measure {
                result = inputs.run(workers: workers, fullUniverse: false)
            }
            benchmark.measurement(Metric.accountsPerSecond, Int(Double(inputs.book.accountCount) / elapsed.seconds))
            blackHole(result!.totalTurnover)
        } setup: {
            RebalanceInputs.tierL
        }
    }
}

// MARK: - Metrics and configurations

enum Metric {
    /// Wall time of `RebalancingEngine.run` / accounts in scope.
    static let microsecondsPerAccount = BenchmarkMetric.custom("µs/account", polarity: .prefersSmaller,
                                                               useScalingFactor: false)
    /// Accounts in scope / wall time of `RebalancingEngine.run`.
    static let accountsPerSecond = BenchmarkMetric.custom("accounts/s", polarity: .prefersLarger,
                                                          useScalingFactor: false)
}

extension Benchmark.Configuration {
    /// Few iterations: one iteration is a whole batch (≈ 0.1 s to several seconds); no warm-up for the long ones.
    static func rebalanceRun(_ custom: BenchmarkMetric, long: Bool) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident, custom],
            timeUnits: .milliseconds,
            warmupIterations: long ? 0 : 1, maxDuration: .seconds(long ? 30 : 5), maxIterations: long ? 2 : 5)
    }
}

// MARK: - Inputs

/// A book with its market, assessment and haircuts, and a configuration with rebalance=all.
struct RebalanceInputs: Sendable {
    /// Accounts of the tier-L book, for the benchmark name (the whole book is measured; see `tierL`).
    static let tierLAccounts = 100_000
    static var tierLName: String { tierLAccounts % 1000 == 0 ? "\(tierLAccounts / 1000)k" : "\(tierLAccounts)" }

    static func accountCount(assets n: Int) -> Int { n <= 100 ? 200 : 20 }

    let book: Book
    let assessment: CollateralAssessment
    let covariance: Matrix
    let haircuts: HaircutCalculator
    let schedule: CollateralSchedule
    let prices: [Double]
    let scale: NormalRiskScale
    let config: RiskConfig
    let inUniverse: [Bool]

    init(book: Book, market: SyntheticMarket, config base: RiskConfig) {
        var config = base
        config.rebalance = .all
        self.config = config
        scale = NormalRiskScale(confidence: config.confidence, horizonDays: config.horizonDays)
        haircuts = HaircutCalculator(schedule: market.schedule, volatilities: market.volatilities, z: scale.z,
                                     config: config)
        assessment = CollateralAssessment.assess(book: book, prices: market.prices, haircuts: haircuts,
                                                 settlementAsset: 0, config: config)
        self.book = book
        covariance = market.covariance
        schedule = market.schedule
        prices = market.prices
        inUniverse = [Bool](repeating: true, count: market.assetCount)
    }

    func run(workers: Int, fullUniverse: Bool) -> RebalancingResult {
        RebalancingEngine.run(book: book, assessment: assessment, covariance: covariance, haircuts: haircuts,
                              schedule: schedule, prices: prices, settlementAsset: 0, inUniverse: inUniverse,
                              scale: scale, config: config, workers: workers, fullUniverse: fullUniverse)
    }

    /// The whole tier-L retail book (`RetailFixture.tierL`, 100,000 accounts; one pass ≈ 7 s at 2 workers).
    static let tierL: RebalanceInputs = {
        let fixture = RetailFixture.tierL
        return RebalanceInputs(book: fixture.book, market: fixture.market, config: fixture.config)
    }()

    /// A `SyntheticMarket` of n assets and `accountCount(assets: n)` accounts, each holding 2–min(15, n − 1)
    /// collateral assets drawn uniformly from assets 1 … n − 1 (lognormal sizes around $5,000), with stablecoin
    /// debt (asset 0) sized for a collateral ratio of 1.02–1.09: every account breaches the margin-call ratio.
    static func universe(assets n: Int) -> RebalanceInputs {
        let market = SyntheticMarket(assets: n, seed: 0x4EBA_1A00 &+ UInt64(n))
        let config = RiskConfig()
        let scale = NormalRiskScale(confidence: config.confidence, horizonDays: config.horizonDays)
        let haircuts = HaircutCalculator(schedule: market.schedule, volatilities: market.volatilities, z: scale.z,
                                         config: config)
        var rng = SplitMix64(seed: 0xACC7 ^ UInt64(n))
        var builder = BookBuilder(assetCount: n)
        let maxHoldings = min(15, n - 1)
        for a in 0 ..< accountCount(assets: n) {
            let id = "acct-\(a)"
            let holdings = 2 + rng.index(maxHoldings - 1)
            var held = Set<Int>()
            while held.count < holdings { held.insert(1 + rng.index(n - 1)) }
            let mu = log(5_000.0) + rng.normal()
            var hcv = 0.0
            for j in held.sorted() {
                let value = min(5e6, max(50, exp(mu + rng.normal())))
                hcv += value * (1 - haircuts.haircut(asset: j, collateralUSD: value))
                builder.add(account: id, asset: j, quantity: value / market.prices[j])
            }
            let debt = hcv / rng.uniform(1.02, 1.09)
            builder.add(account: id, asset: 0, quantity: -debt / market.prices[0])
        }
        return RebalanceInputs(book: builder.build(), market: market, config: config)
    }
}
