import Foundation

/// The standard normal distribution N(0, 1): density φ, distribution function Φ and its
/// inverse Φ⁻¹, all in `Double` and all pure functions (safe to call from any thread).
///
/// Accuracy (measured against 40-digit mpmath references, see `NormalDistributionTests`):
/// - `density` and `cdf` are accurate to a few ulps relative error wherever the result is a
///   normal (not subnormal) double, including the deep lower tail (Φ(−37) ≈ 5.7e−300).
/// - `quantile` is accurate to about 1e−15 relative (absolute near p = 0.5, where the
///   result is 0) for every p whose tail probability min(p, 1 − p) is at least ~1e−307.
public enum NormalDistribution {
    /// 1/√2 as an unevaluated sum hi + lo (lo is the rounding error of hi).
    private static let invSqrt2Hi = 0.7071067811865476
    private static let invSqrt2Lo = -4.833646656726457e-17
    /// 1/√(2π) as an unevaluated sum hi + lo.
    private static let invSqrt2PiHi = 0.3989422804014327
    private static let invSqrt2PiLo = -2.49232720227773e-17
    /// 2/√π, the derivative scale of erfc.
    private static let twoOverSqrtPi = 1.1283791670955126

    /// φ(x) = exp(−x²/2)/√(2π), the standard normal density.
    ///
    /// x² is formed exactly as hi + lo with a fused multiply-add, and the rounding error lo is
    /// applied as the first-order factor (1 − lo/2). Without it the rounding of x² alone costs
    /// up to |x²/2|·2⁻⁵³ relative error (≈ 8e−14 at |x| = 37). The result is accurate to a
    /// few ulps relative; it is 0 for |x| beyond ≈ 38.6, where φ underflows, and NaN for NaN.
    public static func density(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        let hi = x * x
        // exp(-745.2) already underflows to 0; also keeps hi finite below.
        if hi > 1491 { return 0 }
        let lo = (-hi).addingProduct(x, x)  // x·x − hi, exact
        let e = exp(-0.5 * hi) * (1 - 0.5 * lo)  // 0.5·hi is exact: hi is a normal double here
        return (e * invSqrt2PiLo).addingProduct(e, invSqrt2PiHi)
    }

    /// Φ(x), the standard normal distribution function, as Φ(x) = ½·erfc(−x/√2).
    ///
    /// The argument −x/√2 cannot be formed exactly in `Double`, and erfc amplifies an argument
    /// error δ into a relative error of about 2z·δ (z = −x/√2), i.e. ≈ 1e−13 relative at
    /// x = −37 if ignored. So the argument is kept as z + dz (dz from a fused multiply-add and
    /// the low part of 1/√2) and the first-order correction erfc(z + dz) ≈ erfc(z) −
    /// (2/√π)·exp(−z²)·dz is applied in the lower tail. The result is then as accurate as the
    /// platform's `erfc` (a few ulps relative in glibc) across the whole range, including deep
    /// tails, until Φ becomes subnormal (x < ≈ −37.5) and finally 0 (x < ≈ −38.5).
    /// Φ(+∞) = 1, Φ(−∞) = 0, Φ(NaN) = NaN.
    public static func cdf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x.isInfinite { return x > 0 ? 1 : 0 }
        let z = -x * invSqrt2Hi
        var c = erfc(z)
        if z > 0.5 {
            // dz = (−x/√2) − z to first order: the rounding error of the product plus −x·lo.
            let dz = (-z).addingProduct(-x, invSqrt2Hi) + (-x) * invSqrt2Lo
            c -= twoOverSqrtPi * exp(-z * z) * dz
        }
        return 0.5 * c
    }

    /// Φ⁻¹(p), the standard normal quantile, accurate to about 1e−15 relative.
    ///
    /// Algorithm: Wichura's AS241 (PPND16, Applied Statistics 37 (1988) 477–484; rational
    /// approximations good to about 1 part in 10¹⁶) evaluated on the lower tail probability
    /// r = min(p, 1 − p) (1 − p is exact for p > ½), followed by one Halley step on
    /// Φ(x) = r using `cdf` and `density`. Working on the lower tail makes the result exactly
    /// antisymmetric, quantile(1 − q) = −quantile(q) whenever 1 − q is representable, and keeps
    /// relative accuracy for p close to 1 (e.g. p = 1 − 1e−10). The refinement step is skipped
    /// in the extreme tail where φ(x) is subnormal (r below ≈ 1e−307); there the result is the
    /// AS241 value itself.
    ///
    /// - Returns: −∞ for p ≤ 0, +∞ for p ≥ 1, NaN for NaN.
    public static func quantile(_ p: Double) -> Double {
        if p.isNaN { return .nan }
        if p <= 0 { return -.infinity }
        if p >= 1 { return .infinity }
        let upper = p > 0.5
        let r = upper ? 1 - p : p  // exact for p in (0.5, 1) (Sterbenz)
        var x = ppnd16LowerHalf(r)
        let f = density(x)
        if f >= Double.leastNormalMagnitude {
            // Halley step for g(x) = Φ(x) − r, with g' = φ, g'' = −x·φ:
            // x ← x − t / (1 + x·t/2), t = g/g'.
            let t = (cdf(x) - r) / f
            x -= t / (1 + 0.5 * x * t)
        }
        return upper ? -x : x
    }

    /// AS241 PPND16 for 0 < r ≤ ½ (so the result is ≤ 0).
    private static func ppnd16LowerHalf(_ r: Double) -> Double {
        let q = r - 0.5  // exact; q ∈ [−0.5, 0]
        if abs(q) <= 0.425 {
            let s = 0.180625 - q * q
            let num = (((((((2.5090809287301226727e+3 * s + 3.3430575583588128105e+4) * s
                + 6.7265770927008700853e+4) * s + 4.5921953931549871457e+4) * s
                + 1.3731693765509461125e+4) * s + 1.9715909503065514427e+3) * s
                + 1.3314166789178437745e+2) * s + 3.3871328727963666080)
            let den = (((((((5.2264952788528545610e+3 * s + 2.8729085735721942674e+4) * s
                + 3.9307895800092710610e+4) * s + 2.1213794301586595867e+4) * s
                + 5.3941960214247511077e+3) * s + 6.8718700749205790830e+2) * s
                + 4.2313330701600911252e+1) * s + 1.0)
            return q * num / den
        }
        var s = (-log(r)).squareRoot()
        let value: Double
        if s <= 5 {
            s -= 1.6
            let num = (((((((7.74545014278341407640e-4 * s + 2.27238449892691845833e-2) * s
                + 2.41780725177450611770e-1) * s + 1.27045825245236838258) * s
                + 3.64784832476320460504) * s + 5.76949722146069140550) * s
                + 4.63033784615654529590) * s + 1.42343711074968357734)
            let den = (((((((1.05075007164441684324e-9 * s + 5.47593808499534494600e-4) * s
                + 1.51986665636164571966e-2) * s + 1.48103976427480074590e-1) * s
                + 6.89767334985100004550e-1) * s + 1.67638483018380384940) * s
                + 2.05319162663775882187) * s + 1.0)
            value = num / den
        } else {
            s -= 5
            let num = (((((((2.01033439929228813265e-7 * s + 2.71155556874348757815e-5) * s
                + 1.24266094738807843860e-3) * s + 2.65321895265761230930e-2) * s
                + 2.96560571828504891230e-1) * s + 1.78482653991729133580) * s
                + 5.46378491116411436990) * s + 6.65790464350110377720)
            let den = (((((((2.04426310338993978564e-15 * s + 1.42151175831644588870e-7) * s
                + 1.84631831751005468180e-5) * s + 7.86869131145613259100e-4) * s
                + 1.48753612908506148525e-2) * s + 1.36929880922735805310e-1) * s
                + 5.99832206555887937690e-1) * s + 1.0)
            value = num / den
        }
        return -value
    }
}
