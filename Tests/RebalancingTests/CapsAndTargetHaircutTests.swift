import Foundation
import LinearAlgebra
import Testing
import RiskMetrics
import RiskModel
@testable import Rebalancing

/// SPEC §3.6 bounds and the reported target HCV, on hand-built markets whose optimum is known in closed form:
/// uncorrelated assets, no debt (min variance anchors at 0, the coverage row is slack), cost aversion 0 and no
/// trading cost — so the solution minimises Σ σ_i²y_i² under Σy = 1 and the bounds, and every asset cheaper in
/// variance than the one being sold ends at its upper bound.
@Suite struct CapsAndTargetHaircutTests {
    static func relativeError(_ x: Double, _ y: Double) -> Double {
        let scale = max(abs(x), abs(y))
        return scale == 0 ? 0 : abs(x - y) / scale
    }

    /// Daily σ 4 % (A), 1 % (B), 2 % (E) eligible; 0.5 % (N) not eligible; stablecoin S (σ 0, not eligible) for debt
    /// and settlement. max_weight: A 1, B 0.3, E 0.2, N 1.
    static func market(haircutModel: HaircutModel = .schedule, adv: [Double?] = [nil, nil, nil, nil, nil]) -> Market {
        var config = RiskConfig()
        config.haircutModel = haircutModel
        config.rebalance = .all
        config.costAversion = 0
        let terms = [
            AssetTerms(ticker: "S", scheduleHaircut: 0.02, eligible: false, averageDailyVolumeUSD: adv[0], costBps: 0),
            AssetTerms(ticker: "A", scheduleHaircut: 0.01, maxWeight: 1, averageDailyVolumeUSD: adv[1], costBps: 0),
            AssetTerms(ticker: "B", scheduleHaircut: 0.01, maxWeight: 0.3, averageDailyVolumeUSD: adv[2], costBps: 0),
            AssetTerms(ticker: "E", scheduleHaircut: 0.01, maxWeight: 0.2, averageDailyVolumeUSD: adv[3], costBps: 0),
            AssetTerms(ticker: "N", scheduleHaircut: 0.01, eligible: false, maxWeight: 1, averageDailyVolumeUSD: adv[4],
                       costBps: 0),
        ]
        let vols = [0, 0.04, 0.01, 0.02, 0.005]
        var cov = Matrix(rows: 5, columns: 5)
        for i in 0 ..< 5 { cov[i, i] = vols[i] * vols[i] }
        return Market(schedule: CollateralSchedule(assets: terms), prices: [1, 2, 4, 5, 8], covariance: cov,
                      config: config, inUniverse: [true, true, true, true, true], settlement: 0)
    }

    /// Target USD per asset index of account `a` (0 for assets without a row).
    static func targets(_ result: RebalancingResult, _ a: Int) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for r in result.targetRows(of: a) { out[Int(result.rows.asset[r]), default: 0] += result.rows.targetUSD[r] }
        return out
    }

    /// An account holding only A (1,000 USD) with B (max_weight 0.3) and E (0.2) available: both are bought up to
    /// max_weight·C — B 300, E 200 — and A keeps 500. Without the cap min variance would put 16/21 of C in B.
    /// A second account holds B above its cap (600 of 1,000 USD): its bound is max(max_weight·C, c) = c, so B stays
    /// at 600, E goes to 200 and A keeps 200.
    @Test func unheldAssetsAreBoughtUpToMaxWeightTimesCollateral() {
        let market = Self.market()
        var builder = BookBuilder(assetCount: 5)
        builder.add(account: "onlyA", asset: 1, quantity: 500)                  // 1,000 USD of A
        builder.add(account: "bigB", asset: 1, quantity: 200)                   // 400 USD of A
        builder.add(account: "bigB", asset: 2, quantity: 150)                   // 600 USD of B
        let result = market.run(builder.build())
        #expect(result.status == [.rebalanced, .rebalanced])
        let C = 1000.0
        let first = Self.targets(result, 0)
        #expect(abs(first[2, default: 0] - 0.3 * C) <= 1e-9 * C, "B: \(first[2, default: 0])")
        #expect(abs(first[3, default: 0] - 0.2 * C) <= 1e-9 * C, "E: \(first[3, default: 0])")
        #expect(abs(first[1, default: 0] - 0.5 * C) <= 1e-9 * C, "A: \(first[1, default: 0])")
        #expect(first[4] == nil && first[0] == nil, "N (not eligible) and S (not eligible) are never bought")
        // target_var_param = z·√h·√(Σ x_i²σ_i²) for independent assets: z·√(500²·0.04² + 300²·0.01² + 200²·0.02²).
        let z = 2.3263478740408408   // Φ⁻¹(0.99), mpmath
        let variance: Double = 500 * 500 * 0.0016 + 300 * 300 * 0.0001 + 200 * 200 * 0.0004
        #expect(Self.relativeError(result.targetVaR[0], z * variance.squareRoot()) < 1e-8)
        #expect(abs(result.turnover[0] - 1000) <= 1e-9 * C)
        let second = Self.targets(result, 1)
        #expect(abs(second[2, default: 0] - 600) <= 1e-9 * C, "B held above its cap: \(second[2, default: 0])")
        #expect(abs(second[3, default: 0] - 200) <= 1e-9 * C, "E: \(second[3, default: 0])")
        #expect(abs(second[1, default: 0] - 200) <= 1e-9 * C, "A: \(second[1, default: 0])")
    }

    /// A held asset that is not eligible (N, σ 0.5 %: the lowest variance, max_weight 1) may only be sold: the
    /// optimiser would pile into it, but its bound is today's value. Account "heldN": 600 A + 400 N → N stays 400,
    /// B 300 (cap), A 300. Account "noN" (1,000 A) never buys N.
    @Test func heldNonEligibleAssetsAreSellOnly() {
        var market = Self.market()
        market.schedule = CollateralSchedule(assets: market.schedule.assets.enumerated().map { j, terms in
            var t = terms
            if j == 3 { t.eligible = false }   // E out of the way: the answer is then A 300, B 300, N 400
            return t
        })
        var builder = BookBuilder(assetCount: 5)
        builder.add(account: "heldN", asset: 1, quantity: 300)   // 600 USD of A
        builder.add(account: "heldN", asset: 4, quantity: 50)    // 400 USD of N
        builder.add(account: "noN", asset: 1, quantity: 500)     // 1,000 USD of A
        let result = market.run(builder.build())
        #expect(result.status == [.rebalanced, .rebalanced])
        let C = 1000.0
        let held = Self.targets(result, 0)
        #expect(abs(held[4, default: 0] - 400) <= 1e-9 * C, "N must not grow beyond today's 400: \(held[4, default: 0])")
        #expect(abs(held[2, default: 0] - 300) <= 1e-9 * C, "B: \(held[2, default: 0])")
        #expect(abs(held[1, default: 0] - 300) <= 1e-9 * C, "A: \(held[1, default: 0])")
        let none = Self.targets(result, 1)
        #expect(none[4] == nil, "N is not eligible: never bought")
        #expect(abs(none[2, default: 0] - 300) <= 1e-9 * C && abs(none[1, default: 0] - 700) <= 1e-9 * C)
    }

    /// The haircut of §3.3 written out here: T = max(T₀, c/(participation·adv)), h = max(h_sched, 1 − e^(−zσ√T)).
    static func haircut(scheduled: Double, sigma: Double, adv: Double?, usd: Double, config: RiskConfig) -> Double {
        let z = 2.3263478740408408   // Φ⁻¹(0.99), mpmath
        var days = config.liquidationDays
        if let adv { days = max(days, usd / (config.participation * adv)) }
        return max(scheduled, 1 - exp(-z * sigma * days.squareRoot()))
    }

    /// `target_hcv_usd` = Σ(1 − h′_i)x_i − cost with h′ re-evaluated at the new holdings (volatility haircuts): B is
    /// thin (ADV 1,000 USD, 10 % participation: 100 USD a day), bought to 300 USD — T = 3 days, not T₀ — and A
    /// (ADV 2,000) is sold from 1,000 USD (T = 5 days) to 500 (T = 2.5). Debt 200 USD of S: target ratio = HCV′/200.
    @Test func targetHCVUsesHaircutsAtTheNewHoldings() {
        let market = Self.market(haircutModel: .volatility, adv: [nil, 2000, 1000, nil, nil])
        var builder = BookBuilder(assetCount: 5)
        builder.add(account: "x", asset: 1, quantity: 500)     // 1,000 USD of A
        builder.add(account: "x", asset: 0, quantity: -200)    // 200 USD of S owed
        let book = builder.build()
        let result = market.run(book)
        #expect(result.status == [.rebalanced])
        let x = Self.targets(result, 0)
        let C = 1000.0
        #expect(abs(x[1, default: 0] - 500) <= 1e-9 * C && abs(x[2, default: 0] - 300) <= 1e-9 * C
            && abs(x[3, default: 0] - 200) <= 1e-9 * C, "targets \(x)")
        let config = market.config
        let hA = Self.haircut(scheduled: 0.01, sigma: 0.04, adv: 2000, usd: 500, config: config)
        let hB = Self.haircut(scheduled: 0.01, sigma: 0.01, adv: 1000, usd: 300, config: config)
        let hE = Self.haircut(scheduled: 0.01, sigma: 0.02, adv: nil, usd: 200, config: config)
        // The haircuts at the new holdings differ from today's / the marginal ones (the point of the test).
        #expect(hB > Self.haircut(scheduled: 0.01, sigma: 0.01, adv: 1000, usd: 0, config: config) + 1e-3)
        #expect(hA < Self.haircut(scheduled: 0.01, sigma: 0.04, adv: 2000, usd: 1000, config: config) - 1e-3)
        let hcv = (1 - hA) * 500 + (1 - hB) * 300 + (1 - hE) * 200   // no trading cost
        #expect(Self.relativeError(result.targetHCV[0], hcv) < 1e-9, "\(result.targetHCV[0]) vs \(hcv)")
        #expect(Self.relativeError(result.targetRatio[0], hcv / 200) < 1e-9)
        #expect(result.cost[0] == 0)
    }
}
