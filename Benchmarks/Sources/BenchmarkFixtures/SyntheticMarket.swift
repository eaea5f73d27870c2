// The synthetic 200-asset market of the tier-L fixture: schedule, as-of prices, a factor-model covariance, and
// (for the historical suite) a price history drawn from the same factor model.

import Foundation
import LinearAlgebra
import RiskModel

/// A universe of `n` assets: schedule, as-of prices and a daily covariance of simple returns from a factor model.
public struct SyntheticMarket: Sendable {
    /// Assets 0–2 play the stablecoins (settlement and usual debt), 3–4 the majors also borrowed.
    public static let stables = [(asset: 0, weight: 0.5), (asset: 1, weight: 0.3), (asset: 2, weight: 0.2)]
    public static let volatileDebt = [(asset: 3, weight: 0.6), (asset: 4, weight: 0.4)]

    public let schedule: CollateralSchedule
    public let prices: [Double]
    public let volatilities: [Double]
    public let covariance: Matrix
    /// n × 4 factor loadings L of the correlation LLᵀ + Ψ (column 0: market, 1–3: sectors).
    public let loadings: Matrix

    public var assetCount: Int { prices.count }

    /// Σ = D_σ (L Lᵀ + Ψ) D_σ: a correlation from one market factor (loadings 0.45–0.85) and three sector
    /// factors (0.10–0.40, asset j in sector j mod 3), idiosyncratic Ψ = 1 − diag(L Lᵀ) ≥ 0.05, so Σ is
    /// positive definite with a unit diagonal; daily vols σ_j log-uniform in 1–6 %, majors (low index) calmer.
    public init(assets n: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let factors = 4
        var loadings = Matrix(rows: n, columns: factors)
        var vols = [Double](repeating: 0, count: n)
        var prices = [Double](repeating: 1, count: n)
        var terms: [AssetTerms] = []
        for j in 0 ..< n {
            loadings[j, 0] = rng.uniform(0.45, 0.85)
            loadings[j, 1 + j % 3] = rng.uniform(0.10, 0.40)
            let systematic = loadings[j, 0] * loadings[j, 0] + loadings[j, 1 + j % 3] * loadings[j, 1 + j % 3]
            if systematic > 0.95 {
                let shrink = (0.95 / systematic).squareRoot()
                loadings[j, 0] *= shrink
                loadings[j, 1 + j % 3] *= shrink
            }
            let rank = Double(j) / Double(max(n - 1, 1))
            vols[j] = exp(log(0.01) + (log(0.06) - log(0.01)) * min(1, 0.5 * rank + 0.5 * rng.uniform()))
            let isStable = j < SyntheticMarket.stables.count
            prices[j] = isStable ? 1 : rng.logUniform(0.05, 60_000)
            let scheduleHaircut = isStable ? 0.02 : min(0.9, 0.05 + 4 * vols[j])
            // Stables trade without limit; the rest from $1M (thin tail) to $20B a day, majors deeper.
            let adv: Double? = isStable ? nil : exp(log(2e10) - rank * (log(2e10) - log(1e6)) + rng.uniform(-1, 1))
            terms.append(AssetTerms(ticker: String(format: "A%03d", j), scheduleHaircut: scheduleHaircut,
                                    averageDailyVolumeUSD: adv))
        }
        var sigma = Matrix(rows: n, columns: n)
        for i in 0 ..< n {
            for j in 0 ..< n {
                var correlation = 1.0
                if i != j {
                    correlation = 0
                    for f in 0 ..< factors { correlation += loadings[i, f] * loadings[j, f] }
                }
                sigma[i, j] = vols[i] * correlation * vols[j]
            }
        }
        schedule = CollateralSchedule(assets: terms)
        self.prices = prices
        volatilities = vols
        covariance = sigma
        self.loadings = loadings
    }

    /// `returns + 1` daily closes of every asset whose log returns come from the same factor model as Σ:
    /// r_{t,j} = σ_j·(Σ_f L_{j,f}·f_{t,f} + √Ψ_j·ε_{t,j}), f and ε independent standard normals (mean zero, no fat
    /// tails). The last row is the as-of prices, earlier rows are walked back from it, so
    /// `MarketDataPreparation.prepare` with `window = returns` gives these returns (up to rounding) and as-of
    /// prices equal to `prices`. Dates are consecutive ISO days ending on `asOf` (UTC); no gaps, no missing prices.
    public func priceHistory(returns w: Int, seed: UInt64, asOf: String = "2026-11-26") -> PriceHistory {
        let n = assetCount, factors = loadings.columns
        var rng = SplitMix64(seed: seed)
        var logReturns = [Double](repeating: 0, count: w * n)
        var f = [Double](repeating: 0, count: factors)
        for t in 0 ..< w {
            for k in 0 ..< factors { f[k] = rng.normal() }
            for j in 0 ..< n {
                var x = 0.0, systematic = 0.0
                for k in 0 ..< factors {
                    x += loadings[j, k] * f[k]
                    systematic += loadings[j, k] * loadings[j, k]
                }
                x += max(0, 1 - systematic).squareRoot() * rng.normal()
                logReturns[t * n + j] = volatilities[j] * x
            }
        }
        var closes = [Double](repeating: 0, count: (w + 1) * n)
        for j in 0 ..< n { closes[w * n + j] = prices[j] }
        for t in stride(from: w - 1, through: 0, by: -1) {
            for j in 0 ..< n { closes[t * n + j] = closes[(t + 1) * n + j] / exp(logReturns[t * n + j]) }
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        guard let end = formatter.date(from: asOf) else { preconditionFailure("asOf must be an ISO date: \(asOf)") }
        let dates = (0 ... w).map { formatter.string(from: end.addingTimeInterval(Double($0 - w) * 86_400)) }
        return PriceHistory(dates: dates, assetCount: n, prices: closes)
    }
}
