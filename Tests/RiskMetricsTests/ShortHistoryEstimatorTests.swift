import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

/// The pairwise-complete estimators of METHODOLOGY "Covariance" step 5 (`allow_short_history` with assets listed
/// late) for `ledoit_wolf` and `ewma`, through `CovarianceEstimator.estimate`, against the formulas written out here
/// as plain loops over the test's own price arrays (returns ln(P_t/P_{t−1}) recomputed here, not read from the engine's
/// window). Four assets of different volatilities (1 %, 2 %, 4 %, 3 % a day), two of them listed late at different
/// dates, so the pairs have 40, 27 and 24 common days.
@Suite struct ShortHistoryEstimatorTests {
    static let window = 40
    static let rows = 46

    /// Prices per asset (column), oldest first; NaN before an asset's listing.
    static func prices(seed: UInt64) -> [[Double]] {
        var rng = TestRandom(seed: seed)
        let vols = [0.01, 0.02, 0.04, 0.03]
        let loadings = [0.5, -0.8, 1.0, 0.3]
        var columns = vols.indices.map { _ in [100.0] }
        for _ in 1 ..< rows {
            let market = rng.nextNormal()
            for j in vols.indices {
                let move = vols[j] * (0.6 * loadings[j] * market + 0.8 * rng.nextNormal())
                columns[j].append(columns[j].last! * exp(move))
            }
        }
        for t in 0 ..< 18 { columns[2][t] = .nan }   // listed on row 18
        for t in 0 ..< 21 { columns[3][t] = .nan }   // listed on row 21
        return columns
    }

    static func history(_ columns: [[Double]]) -> PriceHistory {
        var flat: [Double] = []
        for t in 0 ..< rows { for c in columns { flat.append(c[t]) } }
        return PriceHistory(dates: (0 ..< rows).map { String(format: "2024-02-%02d", $0 + 1) }, assetCount: columns.count,
                            prices: flat)
    }

    /// r[t][j] over the last W + 1 rows, NaN where either price is missing.
    static func returns(_ columns: [[Double]]) -> [[Double]] {
        let first = rows - (window + 1)
        return (0 ..< window).map { t in
            columns.map { c in
                let p0 = c[first + t], p1 = c[first + t + 1]
                return p0.isNaN || p1.isNaN ? .nan : log(p1 / p0)
            }
        }
    }

    static func commonDays(_ r: [[Double]], _ i: Int, _ j: Int) -> [Int] {
        (0 ..< r.count).filter { !r[$0][i].isNaN && !r[$0][j].isNaN }
    }

    func estimate(_ method: CovarianceMethod, lambda: Double = 0.94, seed: UInt64) throws
        -> (CovarianceEstimate, [[Double]]) {
        let columns = Self.prices(seed: seed)
        var config = RiskConfig()
        config.window = Self.window
        config.allowShortHistory = true
        config.covariance = method
        config.ewmaLambda = lambda
        let schedule = CollateralSchedule(assets: (0 ..< 4).map { AssetTerms(ticker: "S\($0)", scheduleHaircut: 0.1) })
        let window = try MarketDataPreparation.prepare(prices: Self.history(columns), schedule: schedule,
                                                       holderCounts: [1, 1, 1, 1], config: config)
        #expect(window.shortHistory == [false, false, true, true])
        return (try CovarianceEstimator.estimate(window, config: config), Self.returns(columns))
    }

    /// `ledoit_wolf`, pairwise: s_ij = Σ_{t∈T_ij}(r_ti − m_i)(r_tj − m_j)/n_ij with the pair's own means,
    /// π_ij = Σ_{t∈T_ij}((r_ti − m_i)(r_tj − m_j) − s_ij)²/n_ij², μ = tr S/p, δ = ‖S − μI‖²_F/p,
    /// β = min(Σπ/p, δ), s = β/δ, Σ = (1 − s)S + s·μ·I — shrunk towards μ·I (the diagonal moves towards the mean
    /// variance; a target of diag(S) would leave it unchanged).
    @Test func ledoitWolfPairwiseMatchesThePlainLoopFormula() throws {
        let (est, r) = try estimate(.ledoitWolf, seed: 181)
        let p = 4
        var s = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var pi = s
        var counts = Set<Int>()
        for i in 0 ..< p {
            for j in 0 ..< p {
                let days = Self.commonDays(r, i, j)
                counts.insert(days.count)
                let n = Double(days.count)
                let mi = days.map { r[$0][i] }.reduce(0, +) / n, mj = days.map { r[$0][j] }.reduce(0, +) / n
                var acc = 0.0
                for t in days { acc += (r[t][i] - mi) * (r[t][j] - mj) }
                s[i][j] = acc / n
                var b = 0.0
                for t in days { b += pow((r[t][i] - mi) * (r[t][j] - mj) - s[i][j], 2) }
                pi[i][j] = b / (n * n)
            }
        }
        #expect(counts == [40, 27, 24])
        let mu = (0 ..< p).map { s[$0][$0] }.reduce(0, +) / Double(p)
        var delta = 0.0, piSum = 0.0
        for i in 0 ..< p {
            for j in 0 ..< p {
                delta += pow(s[i][j] - (i == j ? mu : 0), 2)
                piSum += pi[i][j]
            }
        }
        delta /= Double(p)
        let shrinkage = min(piSum / Double(p), delta) / delta
        #expect(shrinkage > 0.02 && shrinkage < 1, "the shrinkage must matter for the test to mean something: \(shrinkage)")
        #expect(est.clippedEigenvalues == 0, "the pairwise estimate of this book is PSD: the repair must leave it as is")
        #expect(relativeError(try #require(est.shrinkage), shrinkage) < 1e-10)
        let scale = (0 ..< p).map { s[$0][$0] }.max()!
        for i in 0 ..< p {
            for j in 0 ..< p {
                let want = (1 - shrinkage) * s[i][j] + (i == j ? shrinkage * mu : 0)
                #expect(abs(est.matrix[i, j] - want) <= 1e-10 * scale, "Σ[\(i),\(j)] \(est.matrix[i, j]) vs \(want)")
            }
        }
        // The diagonal really moves: the 4 % asset's variance is pulled down, the 1 % asset's up.
        #expect(est.matrix[2, 2] < s[2][2] * (1 - 0.01 * shrinkage) && est.matrix[0, 0] > s[0][0] * (1 + 0.01 * shrinkage))
        // σ_i = √Σ_ii.
        for i in 0 ..< p { #expect(relativeError(est.volatilities[i], est.matrix[i, i].squareRoot()) < 1e-15) }
    }

    /// `ewma`, pairwise: zero mean, weights w_t = (1 − λ)λ^(W−1−t)/(1 − λ^W) (t = W − 1 the latest return) kept only
    /// on the pair's common days and renormalised to sum to 1 there.
    @Test(arguments: [0.94, 0.8])
    func ewmaPairwiseMatchesThePlainLoopFormula(lambda: Double) throws {
        let (est, r) = try estimate(.ewma, lambda: lambda, seed: 182)
        #expect(est.shrinkage == nil)
        #expect(est.clippedEigenvalues == 0, "the pairwise estimate of this book is PSD: the repair must leave it as is")
        let w = Self.window
        var want = [[Double]](repeating: [0, 0, 0, 0], count: 4)
        for i in 0 ..< 4 {
            for j in 0 ..< 4 {
                var num = 0.0, den = 0.0
                for t in Self.commonDays(r, i, j) {
                    let k = Double(w - 1 - t)   // k = 0: the latest return
                    let weight = (1 - lambda) * pow(lambda, k) / (1 - pow(lambda, Double(w)))
                    num += weight * r[t][i] * r[t][j]
                    den += weight
                }
                want[i][j] = num / den
            }
        }
        let scale = (0 ..< 4).map { want[$0][$0] }.max()!
        for i in 0 ..< 4 {
            for j in 0 ..< 4 {
                #expect(abs(est.matrix[i, j] - want[i][j]) <= 1e-10 * scale, "Σ[\(i),\(j)] \(est.matrix[i, j]) vs \(want[i][j])")
            }
        }
        // The renormalisation matters: a late asset's variance is not the full-window weighted sum.
        var unnormalised = 0.0
        for t in Self.commonDays(r, 3, 3) {
            unnormalised += (1 - lambda) * pow(lambda, Double(w - 1 - t)) / (1 - pow(lambda, Double(w))) * r[t][3] * r[t][3]
        }
        #expect(relativeError(est.matrix[3, 3], unnormalised) > 1e-6)
    }
}
