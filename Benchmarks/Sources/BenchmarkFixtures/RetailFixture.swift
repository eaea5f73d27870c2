// The synthetic tier-L retail book every suite measures: built once per process (`RetailFixture.tierL`), from
// fixed SplitMix64 seeds, so every run and every suite sees the same 100,000 accounts.

import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel

/// A retail book like SPEC tier L (`ballast generate --profile retail`): 1–15 collateral holdings drawn with a
/// Zipf preference for popular assets, 85 % of accounts with 1–3 debts (mostly stablecoins), lognormal holding
/// sizes around $1,500, and debt sized so that about 81 % are ok, 11 % in margin call and 8 % liquidatable.
public struct RetailFixture: Sendable {
    public let market: SyntheticMarket
    public let book: Book
    public let config: RiskConfig
    public let scale: NormalRiskScale

    /// Built once per process on first use (Swift globals and statics initialise lazily and thread-safely).
    public static let tierL = RetailFixture(accounts: 100_000, assets: 200, seed: 0xBA11_A57)

    public init(accounts: Int, assets n: Int, seed: UInt64) {
        market = SyntheticMarket(assets: n, seed: seed)
        config = RiskConfig()
        scale = NormalRiskScale(confidence: config.confidence, horizonDays: config.horizonDays)
        let haircuts = HaircutCalculator(schedule: market.schedule, volatilities: market.volatilities, z: scale.z,
                                         config: config)
        var rng = SplitMix64(seed: seed ^ 0x5EED_B00C)
        var cumulative: [Double] = []  // Zipf (s = 1) over asset index = popularity rank
        var total = 0.0
        for j in 0 ..< n {
            total += 1 / Double(j + 1)
            cumulative.append(total)
        }
        var builder = BookBuilder(assetCount: n)
        var taken = [Int](repeating: -1, count: n)  // account that last took the asset
        var debts: [Int] = []
        var held: [Int] = []
        for a in 0 ..< accounts {
            let id = "acct-\(a)"
            debts.removeAll(keepingCapacity: true)
            held.removeAll(keepingCapacity: true)
            if rng.uniform() < 0.85 {
                let u = rng.uniform()
                let count = u < 0.6 ? 1 : (u < 0.9 ? 2 : 3)
                for _ in 0 ..< count {
                    let list = rng.uniform() < 0.8 ? SyntheticMarket.stables : SyntheticMarket.volatileDebt
                    let j = Self.pick(list, &rng)
                    if taken[j] != a {
                        taken[j] = a
                        debts.append(j)
                    }
                }
            }
            let u = rng.uniform()
            let holdings = min(15, 1 + Int(15 * u * u.squareRoot()))
            while held.count < holdings {
                let x = rng.uniform() * total
                var lo = 0, hi = n - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
                }
                if taken[lo] != a {
                    taken[lo] = a
                    held.append(lo)
                }
            }
            let mu = log(1_500.0) + 1.4 * rng.normal()
            var hcv = 0.0
            for j in held {
                let value = min(5e6, max(50, exp(mu + rng.normal())))
                hcv += value * (1 - haircuts.haircut(asset: j, collateralUSD: value))
                builder.add(account: id, asset: j, quantity: value / market.prices[j])
            }
            guard !debts.isEmpty else { continue }
            let roll = rng.uniform()
            let targetRatio = roll < 0.81 ? rng.logUniform(1.15, 3.0)
                : roll < 0.92 ? rng.uniform(1.02, 1.09) : rng.uniform(0.60, 0.98)
            let debt = hcv / targetRatio
            let weights = debts.map { _ in 0.2 + rng.uniform() }
            let weightSum = weights.reduce(0, +)
            for (j, w) in zip(debts, weights) {
                builder.add(account: id, asset: j, quantity: -debt * w / weightSum / market.prices[j])
            }
        }
        book = builder.build()
    }

    static func pick(_ list: [(asset: Int, weight: Double)], _ rng: inout SplitMix64) -> Int {
        var u = rng.uniform() * list.reduce(0) { $0 + $1.weight }
        for entry in list {
            u -= entry.weight
            if u < 0 { return entry.asset }
        }
        return list[list.count - 1].asset
    }

    /// The volatility-haircut calculator of the fixture's market and configuration.
    public var haircuts: HaircutCalculator {
        HaircutCalculator(schedule: market.schedule, volatilities: market.volatilities, z: scale.z, config: config)
    }

    /// Volatility haircuts and the collateral figures of every account (settlement asset 0).
    public func assess() -> CollateralAssessment {
        CollateralAssessment.assess(book: book, prices: market.prices, haircuts: haircuts, settlementAsset: 0,
                                    config: config)
    }
}
