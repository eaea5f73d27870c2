import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

@Suite struct CovarianceTests {
    func randomReturns(days: Int, assets: Int, seed: UInt64) -> Matrix {
        var rng = TestRandom(seed: seed)
        var r = Matrix(rows: days, columns: assets)
        for t in 0 ..< days { for j in 0 ..< assets { r[t, j] = 0.001 * Double(j) + rng.nextNormal() * 0.02 } }
        return r
    }

    @Test func sampleMatchesNaiveLoops() {
        let r = randomReturns(days: 50, assets: 5, seed: 1)
        let s = CovarianceEstimator.sample(r)
        for i in 0 ..< 5 {
            for j in 0 ..< 5 {
                var mi = 0.0, mj = 0.0
                for t in 0 ..< 50 { mi += r[t, i]; mj += r[t, j] }
                mi /= 50; mj /= 50
                var c = 0.0
                for t in 0 ..< 50 { c += (r[t, i] - mi) * (r[t, j] - mj) }
                #expect(relativeError(s[i, j], c / 49) < 1e-12)
            }
        }
        #expect(s.asymmetry == 0)
    }

    @Test func ewmaMatchesNaiveWeightsWithMostRecentLast() {
        let r = randomReturns(days: 40, assets: 4, seed: 2)
        let lambda = 0.94
        let s = CovarianceEstimator.ewma(r, lambda: lambda)
        var weightSum = 0.0
        for i in 0 ..< 4 {
            for j in 0 ..< 4 {
                var c = 0.0
                for k in 0 ..< 40 {   // k = 0 is the most recent return, the last row
                    let w = (1 - lambda) * pow(lambda, Double(k)) / (1 - pow(lambda, 40))
                    c += w * r[39 - k, i] * r[39 - k, j]
                    if i == 0 && j == 0 { weightSum += w }
                }
                #expect(relativeError(s[i, j], c) < 1e-12)
            }
        }
        #expect(abs(weightSum - 1) < 1e-14)
    }

    /// Hand-worked: demeaned X = [[0, .01], [.02, −.02], [−.02, .01]] gives S = XᵀX/3 = [[1/3750, −1/5000], [−1/5000, 1/5000]],
    /// μ = tr S / 2 = 7/30000, δ = ‖S − μI‖²/2 = 37/9·10⁻⁸, β = Σ_t ‖x_t x_tᵀ − S‖² / (3²·2) = 49/27·10⁻⁸,
    /// shrinkage = β/δ = 49/111 and Σ = (62/111)·S + (49/111)·μ·I.
    @Test func ledoitWolfHandWorkedTwoAssetCase() {
        let r = Matrix([[0.01, 0.02], [0.03, -0.01], [-0.01, 0.02]])   // X plus column means (0.01, 0.01)
        let (s, shrinkage) = CovarianceEstimator.ledoitWolf(r)
        #expect(relativeError(shrinkage, 49.0 / 111) < 1e-12)
        #expect(relativeError(s[0, 0], 839.0 / 3_330_000) < 1e-12)
        #expect(relativeError(s[0, 1], -31.0 / 277_500) < 1e-12)
        #expect(relativeError(s[1, 1], 143.0 / 666_000) < 1e-12)
    }

    /// Against the Ledoit–Wolf (2004) formula written out per observation (π̂ as Σ_t ‖x_t x_tᵀ − S‖²), not through
    /// the fourth-moment matrix products the estimator uses.
    @Test func ledoitWolfMatchesTheObservationWiseFormula() {
        let days = 60, n = 6
        let r = randomReturns(days: days, assets: n, seed: 3)
        let (s, shrinkage) = CovarianceEstimator.ledoitWolf(r)
        var x = r
        for j in 0 ..< n {
            var m = 0.0
            for t in 0 ..< days { m += r[t, j] }
            for t in 0 ..< days { x[t, j] -= m / Double(days) }
        }
        var emp = Matrix(rows: n, columns: n)
        for i in 0 ..< n { for j in 0 ..< n { for t in 0 ..< days { emp[i, j] += x[t, i] * x[t, j] / Double(days) } } }
        let mu = (0 ..< n).map { emp[$0, $0] }.reduce(0, +) / Double(n)
        var delta = 0.0
        for i in 0 ..< n { for j in 0 ..< n { delta += pow(emp[i, j] - (i == j ? mu : 0), 2) } }
        delta /= Double(n)
        var beta = 0.0
        for t in 0 ..< days { for i in 0 ..< n { for j in 0 ..< n { beta += pow(x[t, i] * x[t, j] - emp[i, j], 2) } } }
        beta /= Double(days * days * n)
        let expected = min(beta, delta) / delta
        #expect(relativeError(shrinkage, expected) < 1e-10)
        for i in 0 ..< n {
            for j in 0 ..< n {
                let want = (1 - expected) * emp[i, j] + (i == j ? expected * mu : 0)
                #expect(relativeError(s[i, j], want) < 1e-10)
            }
        }
    }

    @Test func forwardFillFillsGapsOfAtMostThreeDays() {
        let nan = Double.nan
        var series = [nan, 1, nan, nan, nan, 2, nan, nan, nan, nan, 3, nan]
        MarketDataPreparation.forwardFill(&series)
        let expected = [nan, 1, 1, 1, 1, 2, nan, nan, nan, nan, 3, 3]
        #expect(zip(series, expected).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 })
    }

    func history(_ columns: [[Double]]) -> PriceHistory {
        let rows = columns[0].count
        var flat: [Double] = []
        for t in 0 ..< rows { for c in columns { flat.append(c[t]) } }
        let dates = (0 ..< rows).map { String(format: "2024-01-%02d", $0 + 1) }
        return PriceHistory(dates: dates, assetCount: columns.count, prices: flat)
    }

    @Test func shortHistoryOfAHeldAssetIsAnErrorNamingItsHolders() {
        let nan = Double.nan
        let prices = history([[1, 1.1, 1.2, 1.1, 1.0, 1.05], [nan, nan, nan, nan, 2, 2.1]])
        var config = RiskConfig()
        config.window = 4
        #expect {
            _ = try MarketDataPreparation.prepare(prices: prices, schedule: schedule(2), holderCounts: [1, 3], config: config)
        } throws: { error in
            let problems = (error as? MarketDataErrors)?.problems ?? []
            return problems == [MarketDataProblem(line: 3, message: "asset A1 has 3 missing prices in the latest 5 price rows (first on 2024-01-02), held by 3 accounts; fill the gaps, lower window, or set allow_short_history=true")]
        }
    }

    @Test func shortHistoryAllowedGivesPairwisePositiveSemidefiniteEstimate() throws {
        let nan = Double.nan
        var rng = TestRandom(seed: 8)
        let days = 40
        var a: [Double] = [100], b: [Double] = [50], c: [Double] = [10]
        for _ in 1 ..< days {
            let m = rng.nextNormal() * 0.02
            a.append(a.last! * exp(m + rng.nextNormal() * 0.01))
            b.append(b.last! * exp(-m + rng.nextNormal() * 0.01))
            c.append(c.last! * exp(m * 0.5 + rng.nextNormal() * 0.03))
        }
        for t in 0 ..< 20 { c[t] = nan }     // listed late
        var config = RiskConfig()
        config.window = 30
        config.allowShortHistory = true
        config.covariance = .sample
        let window = try MarketDataPreparation.prepare(prices: history([a, b, c]), schedule: schedule(3),
                                                       holderCounts: [1, 1, 1], config: config)
        #expect(window.shortHistory == [false, false, true])
        let estimate = try CovarianceEstimator.estimate(window, config: config)
        let eigen = try LAPACK.symmetricEigen(estimate.matrix)
        #expect(eigen.values.allSatisfy { $0 >= -1e-18 })
        // Complete pairs equal the plain sample estimate of those two columns.
        var ab = Matrix(rows: 30, columns: 2)
        for t in 0 ..< 30 { ab[t, 0] = window.returns[t, 0]; ab[t, 1] = window.returns[t, 1] }
        let plain = CovarianceEstimator.sample(ab)
        #expect(relativeError(estimate.matrix[0, 1], plain[0, 1]) < 1e-9)
        // The late asset's variance uses its 19 available returns.
        let cr = (11 ..< 30).map { window.returns[$0, 2] }
        let mean = cr.reduce(0, +) / 19
        let variance = cr.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 18
        #expect(relativeError(estimate.matrix[2, 2], variance) < 1e-9)
    }

    @Test func assetWithoutHoldersAndHistoryIsDroppedWithAWarning() throws {
        let nan = Double.nan
        let prices = history([[1, 1.1, 1.2, 1.1, 1.0, 1.05], [nan, nan, nan, nan, nan, 2.1]])
        var config = RiskConfig()
        config.window = 4
        let window = try MarketDataPreparation.prepare(prices: prices, schedule: schedule(2), holderCounts: [1, 0], config: config)
        #expect(window.inUniverse == [true, false])
        #expect(window.warnings.count == 1)
        let estimate = try CovarianceEstimator.estimate(window, config: config)
        #expect(estimate.matrix[1, 1] == 0 && estimate.matrix[0, 1] == 0)
        #expect(estimate.matrix[0, 0] > 0)
    }

    @Test func tooFewRowsForTheWindowIsAnError() {
        let prices = history([[1, 2, 3]])
        #expect(throws: MarketDataErrors.self) {
            _ = try MarketDataPreparation.prepare(prices: prices, schedule: schedule(1), holderCounts: [1], config: RiskConfig())
        }
    }
}
