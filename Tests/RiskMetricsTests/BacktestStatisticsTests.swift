import Foundation
import LinearAlgebra
import RiskMetrics
import Testing

/// The coverage tests of SPEC §3.7 against the plain textbook formulas (written out here term by term, in the
/// −2·[ln L(p) − ln L(x̂)] form the SPEC states, not the engine's log1p form) and against the published non-rejection
/// regions of Kupiec's test.
@Suite struct BacktestStatisticsTests {
    /// x·ln(y) with 0·ln 0 = 0.
    private func xlogy(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x * log(y) }

    /// SPEC §3.7 verbatim: LR_pof = −2·[(B−x)·ln(1−p) + x·ln p − (B−x)·ln(1−x̂) − x·ln x̂].
    private func plainKupiec(_ x: Int, _ days: Int, _ p: Double) -> Double {
        let b = Double(days), xd = Double(x), rate = xd / b
        return -2 * (xlogy(b - xd, 1 - p) + xlogy(xd, p) - xlogy(b - xd, 1 - rate) - xlogy(xd, rate))
    }

    /// SPEC §3.7 verbatim, terms of a π with a zero denominator dropped.
    private func plainIndependence(_ n00: Int, _ n01: Int, _ n10: Int, _ n11: Int) -> Double {
        let a = Double(n00), b = Double(n01), c = Double(n10), d = Double(n11)
        let pi = (b + d) / (a + b + c + d)
        var sum = xlogy(a + c, 1 - pi) + xlogy(b + d, pi)
        if a + b > 0 {
            let pi0 = b / (a + b)
            sum -= xlogy(a, 1 - pi0) + xlogy(b, pi0)
        }
        if c + d > 0 {
            let pi1 = d / (c + d)
            sum -= xlogy(c, 1 - pi1) + xlogy(d, pi1)
        }
        return -2 * sum
    }

    /// P(X ≤ x), X ~ Binomial(n, p), by plain summation of C(n, j)·p^j·(1 − p)^(n − j) with the coefficient from
    /// lgamma (independent of the engine's recurrence; ample for comparisons with 0.95 and 0.9999).
    private func plainBinomialCDF(_ x: Int, _ n: Int, _ p: Double) -> Double {
        var sum = 0.0
        for j in 0 ... x {
            let logCoefficient = lgamma(Double(n + 1)) - lgamma(Double(j + 1)) - lgamma(Double(n - j + 1))
            sum += exp(logCoefficient + Double(j) * log(p) + Double(n - j) * log(1 - p))
        }
        return sum
    }

    private func relative(_ x: Double, _ y: Double) -> Double {
        let scale = max(abs(x), abs(y))
        return scale == 0 ? 0 : abs(x - y) / scale
    }

    /// x = 4 exceptions in 250 days at α = 99 %: LR_pof = 2·[4·ln(0.016/0.01) + 246·ln(0.984/0.99)] ≈ 0.769,
    /// p-value = P(χ²₁ > LR) = erfc(√(LR/2)) ≈ 0.38 (no rejection). Expected values from the plain formula.
    @Test func kupiecFourExceptionsInAYear() {
        let p = 1 - 0.99
        let (lr, pValue) = BacktestStatistics.kupiec(exceptions: 4, days: 250, probability: p)
        let plain = plainKupiec(4, 250, p)
        #expect(relative(lr, plain) < 1e-12)
        #expect(abs(lr - 0.7692) < 1e-3)
        #expect(relative(pValue, erfc((plain / 2).squareRoot())) < 1e-12)
        #expect(pValue > 0.38 && pValue < 0.39)
        // Every x against the plain formula, and the corner cases x = 0 (LR = −2B·ln(1 − p)) and x = B.
        for x in 0 ... 250 {
            let value = BacktestStatistics.kupiec(exceptions: x, days: 250, probability: p).lr
            #expect(abs(value - plainKupiec(x, 250, p)) <= 1e-12 * max(1, value), "x = \(x)")
        }
        #expect(relative(BacktestStatistics.kupiec(exceptions: 0, days: 250, probability: p).lr,
                         -2 * 250 * log1p(-p)) < 1e-14)
        #expect(relative(BacktestStatistics.kupiec(exceptions: 250, days: 250, probability: p).lr, -2 * 250 * log(p)) < 1e-14)
    }

    /// x̂ = p exactly (x = 5 of B = 500 at p = 0.01): LR = 0, p-value 1; one exception more gives a small positive LR
    /// with full relative accuracy (the plain form loses about 4 digits there to cancellation, hence 1e-9).
    @Test func kupiecAtTheExpectedRate() {
        let (lr, pValue) = BacktestStatistics.kupiec(exceptions: 5, days: 500, probability: 0.01)
        #expect(lr < 1e-15 && pValue > 1 - 1e-7)
        let next = BacktestStatistics.kupiec(exceptions: 6, days: 500, probability: 0.01).lr
        #expect(relative(next, plainKupiec(6, 500, 0.01)) < 1e-9)
    }

    /// The 95 % non-rejection regions of Kupiec's test as published in Jorion, "Value at Risk" (McGraw-Hill; the table
    /// "Model backtesting, 95 % nonrejection test confidence regions", after Kupiec 1995): for p = 0.01, T = 510 days
    /// 1 < N < 11 and T = 1,000 days 4 < N < 17; for p = 0.05, T = 255 days 6 < N < 21; and for p = 0.01, T = 255 the
    /// upper limit N < 7. Not rejected at 5 % ⇔ p-value ≥ 0.05.
    @Test func kupiecPublishedNonRejectionRegions() {
        func accepted(_ x: Int, _ days: Int, _ p: Double) -> Bool {
            BacktestStatistics.kupiec(exceptions: x, days: days, probability: p).pValue >= 0.05
        }
        let regions: [(days: Int, p: Double, low: Int, high: Int)] = [(510, 0.01, 1, 11), (1000, 0.01, 4, 17), (255, 0.05, 6, 21)]
        for region in regions {
            for x in 0 ... region.high + 5 {
                #expect(accepted(x, region.days, region.p) == (x > region.low && x < region.high),
                        "T = \(region.days), p = \(region.p), N = \(x)")
            }
        }
        #expect(accepted(6, 255, 0.01) && !accepted(7, 255, 0.01))
    }

    /// Hand-built sequence 0 1 1 1 0 0 0 0 1 0: pairs 01 11 11 10 00 00 00 01 10 give n00 = 3, n01 = 2, n10 = 2,
    /// n11 = 2; π₀ = 2/5, π₁ = 1/2, π = 4/9;
    /// LR_ind = −2·[5·ln(5/9) + 4·ln(4/9) − 3·ln(3/5) − 2·ln(2/5) − 2·ln(1/2) − 2·ln(1/2)].
    /// With x = 4 in B = 10 at p = 0.1: LR_cc = LR_pof + LR_ind, p-value exp(−LR_cc/2).
    @Test func christoffersenHandBuiltSequence() {
        let sequence = [false, true, true, true, false, false, false, false, true, false]
        let counts = ExceptionTransitions(sequence)
        #expect(counts == ExceptionTransitions(n00: 3, n01: 2, n10: 2, n11: 2))
        let byHand = -2 * (5 * log(5.0 / 9) + 4 * log(4.0 / 9) - 3 * log(3.0 / 5) - 2 * log(2.0 / 5) - 2 * log(0.5) - 2 * log(0.5))
        let result = BacktestStatistics.christoffersen(exceptions: sequence, probability: 0.1)
        #expect(relative(result.lrInd, byHand) < 1e-12)
        #expect(relative(result.lrInd, plainIndependence(3, 2, 2, 2)) < 1e-12)
        let pof = plainKupiec(4, 10, 0.1)
        #expect(relative(result.lrCC, pof + byHand) < 1e-12)
        #expect(relative(result.pValueCC, exp(-(pof + byHand) / 2)) < 1e-12)
    }

    /// π₀ = π₁ = π gives LR_ind = 0; no exception at all (π = 0) and no exception before the last day (π₁ undefined)
    /// drop the 0·ln 0 and empty-denominator terms.
    @Test func christoffersenDegenerateCounts() {
        // 0 1 1 0 0 0 1 0 0 0: n00 = 4, n01 = 2, n10 = 2, n11 = 1, π₀ = π₁ = π = 1/3.
        let balanced = [false, true, true, false, false, false, true, false, false, false]
        #expect(BacktestStatistics.christoffersen(exceptions: balanced, probability: 0.1).lrInd < 1e-14)
        #expect(BacktestStatistics.independence(ExceptionTransitions(n00: 249)) == 0)
        let lastOnly = ExceptionTransitions(n00: 248, n01: 1)
        #expect(BacktestStatistics.independence(lastOnly) == 0)
        let allExceptions = ExceptionTransitions(n11: 19)
        #expect(BacktestStatistics.independence(allExceptions) == 0)
        // Clustered exceptions: 5 pairs of consecutive days in 250.
        let clustered = ExceptionTransitions(n00: 239, n01: 5, n10: 5, n11: 5)
        let value = BacktestStatistics.independence(clustered)
        #expect(relative(value, plainIndependence(239, 5, 5, 5)) < 1e-12)
        #expect(value > 20)
    }

    /// Basel (1996), "Supervisory framework for the use of backtesting…": 250 days at 99 %: green 0–4, yellow 5–9,
    /// red 10 or more.
    @Test func baselZonesForAYearAtNinetyNine() {
        let p = 1 - 0.99
        for x in 0 ... 40 {
            let expected: BacktestZone = x <= 4 ? .green : (x <= 9 ? .yellow : .red)
            #expect(BacktestStatistics.zone(exceptions: x, days: 250, probability: p) == expected, "x = \(x)")
        }
    }

    /// Other B and α: the zone boundaries from a plain summation of the binomial terms.
    @Test func zonesForOtherDaysAndConfidence() {
        for (days, confidence) in [(500, 0.975), (100, 0.95), (1000, 0.99), (20, 0.9)] {
            let p = 1 - confidence
            for x in 0 ... min(days, 80) {
                let cdf = plainBinomialCDF(x, days, p)
                let expected: BacktestZone = cdf < 0.95 ? .green : (cdf < 0.9999 ? .yellow : .red)
                #expect(BacktestStatistics.zone(exceptions: x, days: days, probability: p) == expected,
                        "B = \(days), α = \(confidence), x = \(x)")
                #expect(abs(Tails.binomialCDF(x, trials: days, probability: p) - cdf) < 1e-11)
            }
        }
    }

    /// The outcome bundles the same numbers as the individual functions.
    @Test func outcomeMatchesTheParts() {
        let sequence = (0 ..< 250).map { $0 % 37 == 5 || $0 % 37 == 6 }
        let x = sequence.filter { $0 }.count
        let p = 0.01
        let outcome = BacktestStatistics.outcome(exceptions: x, days: 250, transitions: ExceptionTransitions(sequence),
                                                 probability: p)
        let kupiec = BacktestStatistics.kupiec(exceptions: x, days: 250, probability: p)
        let christoffersen = BacktestStatistics.christoffersen(exceptions: sequence, probability: p)
        #expect(outcome.exceptions == 14 && outcome.lrPOF == kupiec.lr && outcome.pofPValue == kupiec.pValue)
        #expect(outcome.lrInd == christoffersen.lrInd && outcome.lrCC == christoffersen.lrCC)
        #expect(outcome.ccPValue == christoffersen.pValueCC)
        #expect(outcome.zone == .red)
    }
}
