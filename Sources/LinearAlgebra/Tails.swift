import Foundation

/// Tail probabilities of the test statistics of VaR backtesting: the χ² survival functions with one and two degrees
/// of freedom (Kupiec's and Christoffersen's likelihood ratios) and the binomial distribution function (the Basel
/// traffic light). Pure functions, safe from any thread.
///
/// The χ² tails are survival functions evaluated directly, never 1 − F in floating point: a p-value of 1e-40 comes
/// out as 1e-40, not as 0.
public enum Tails {
    /// P(χ²₁ > x) = erfc(√(x/2)).
    ///
    /// χ²₁ is the square of a standard normal Z, so P(χ²₁ > x) = P(|Z| > √x) = 2Φ(−√x) = erfc(√x/√2) = erfc(√(x/2)).
    /// x/2 is exact and √ is correctly rounded, so the argument z carries at most half an ulp of relative error;
    /// erfc turns an argument error δz into a relative error of about 2z·δz = 2z²·(δz/z), i.e. at most
    /// z²·2⁻⁵³ ≤ 8e-14 wherever the result is above 1e-300 (z² < 690), plus the few ulps of glibc's erfc.
    /// Returns 1 for x ≤ 0, 0 for x = +∞, NaN for NaN.
    public static func chiSquared1Survival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return erfc((0.5 * x).squareRoot())
    }

    /// P(χ²₂ > x) = exp(−x/2) (χ²₂ is the exponential distribution with mean 2). Accurate to the ulps of `exp`
    /// times |x/2| ≤ 690 where the result is above 1e-300, i.e. ≤ 8e-14 relative. 1 for x ≤ 0, NaN for NaN.
    public static func chiSquared2Survival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x <= 0 { return 1 }
        return exp(-0.5 * x)
    }

    /// P(X ≤ x) for X ~ Binomial(trials, p): 0 for x < 0, 1 for x ≥ trials.
    ///
    /// - Precondition: trials ≥ 0 and 0 < p < 1.
    public static func binomialCDF(_ x: Int, trials: Int, probability p: Double) -> Double {
        precondition(trials >= 0, "binomialCDF: trials must be non-negative")
        if x < 0 { return 0 }
        if x >= trials { return 1 }
        return binomialCDFs(trials: trials, probability: p, upTo: x)[x]
    }

    /// P(X ≤ x) for x = 0 … `upTo` (default: every x up to `trials`), X ~ Binomial(trials, p), in one pass.
    ///
    /// **How.** The terms f(x) = C(n, x)·pˣ·(1 − p)ⁿ⁻ˣ are summed from x = 0 upwards, each from the previous one by
    /// the exact ratio f(x)/f(x − 1) = (n − x + 1)/x · p/(1 − p), starting from f(0) = (1 − p)ⁿ = exp(n·log1p(−p)).
    /// No factorial, no lgamma: lgamma(n + 1) is a number of size n·ln n whose rounding alone (ulp·n·ln n, 1e-12
    /// absolute at n ≈ 1,000) becomes the relative error of every term, while the ratio is formed from small
    /// integers (exact) and p/(1 − p). Every term is positive, so the partial sums lose nothing to cancellation.
    ///
    /// **Accuracy.** f(0) carries the rounding of n·log1p(−p), |n·ln(1 − p)|·2⁻⁵³ relative (≈ 3e-16 for n = 250,
    /// p = 0.01); each step of the recurrence adds at most about five half-ulps (the ratio of the integers, the
    /// product with p/(1 − p) and that ratio's own two roundings, the product with the previous term), and each
    /// partial sum one more relative to itself, so P(X ≤ x) is accurate to about (|n·ln(1 − p)| + 6x + 4)·2⁻⁵³
    /// relative: below 2e-13 for every x at n = 250, and 1e-12 only beyond |n·ln(1 − p)| + 6x ≈ 9,000, far past
    /// any backtest. When (1 − p)ⁿ underflows (n·|ln(1 − p)| > 700, a
    /// mean count of several hundred), the terms are carried scaled by exp(−n·ln(1 − p)) and by powers of two
    /// (exact), and each result is formed as exp(n·ln(1 − p) + e·ln 2 + ln(sum)), with the same error bound. Results
    /// below the smallest normal double come out as 0 or subnormal; the results are clamped into [0, 1].
    ///
    /// - Precondition: trials ≥ 0, 0 < p < 1, 0 ≤ upTo ≤ trials.
    public static func binomialCDFs(trials n: Int, probability p: Double, upTo last: Int? = nil) -> [Double] {
        precondition(n >= 0, "binomialCDFs: trials must be non-negative")
        precondition(p > 0 && p < 1, "binomialCDFs: probability must be in (0, 1)")
        let upper = last ?? n
        precondition(upper >= 0 && upper <= n, "binomialCDFs: upTo must be in 0 ... trials")
        let logFirst = Double(n) * log1p(-p)        // ln f(0)
        let odds = p / (1 - p)
        let first = exp(logFirst)
        let scaled = !(first >= Double.leastNormalMagnitude)   // f(0) underflows: carry the terms scaled
        let ln2 = 0.6931471805599453
        var term = scaled ? 1.0 : first
        var sum = 0.0
        var binaryExponent = 0                    // scaled: the true value is sum·2^binaryExponent·exp(logFirst)
        var out = [Double](repeating: 0, count: upper + 1)
        for x in 0 ... upper {
            if x > 0 { term *= Double(n - x + 1) / Double(x) * odds }
            sum += term
            if scaled {
                if sum > 0x1p600 {
                    sum *= 0x1p-600
                    term *= 0x1p-600
                    binaryExponent += 600
                }
                out[x] = exp(logFirst + Double(binaryExponent) * ln2 + log(sum))
            } else {
                out[x] = sum
            }
            out[x] = min(max(out[x], 0), 1)
        }
        if upper == n { out[n] = 1 }
        return out
    }
}
