// Random hypothetical stress scenarios over the synthetic market, for the StressTesting suite.

import Foundation
import LinearAlgebra
import RiskMetrics

extension SyntheticMarket {
    /// `count` hypothetical scenarios ("s0", "s1", …) in the shape of scenarios.csv: per scenario one market move
    /// m ~ N(−5 %, 20 %); asset j ≥ 3 moves δ = β·m + 0.5·σ_j·√5·ε with β uniform in 0.6–1.4 and ε standard normal
    /// (drawn per scenario and asset), clamped to [−60 %, +60 %]; the stablecoins 0–2 are unshocked. Every asset of
    /// the schedule gets a shock (a dense S × n table).
    public func randomStressScenarios(count: Int, seed: UInt64) -> StressScenarios {
        let n = assetCount
        var rng = SplitMix64(seed: seed)
        var shocks = Matrix(rows: count, columns: n)
        for s in 0 ..< count {
            let market = -0.05 + 0.20 * rng.normal()
            for j in SyntheticMarket.stables.count ..< n {
                let beta = rng.uniform(0.6, 1.4)
                let move = beta * market + 0.5 * volatilities[j] * 5.0.squareRoot() * rng.normal()
                shocks[s, j] = min(0.6, max(-0.6, move))
            }
        }
        return StressScenarios(names: (0 ..< count).map { "s\($0)" },
                               sources: Array(repeating: .hypothetical, count: count), shocks: shocks)
    }
}
