// Deterministic random numbers and elementary functions for the book generator.
//
// Everything that influences the bytes of a generated book goes through this file:
// the generator (xoshiro256**, seeded by SplitMix64), the normal / Student-t draws, and
// `DetMath.log` / `DetMath.exp`, which use only IEEE-754 +, −, ×, ÷ (correctly rounded
// everywhere) so that the output does not depend on the platform's libm.

/// SplitMix64 (Steele, Lea & Flood): used to seed xoshiro and to derive stream seeds.
struct SplitMix64 {
    var state: UInt64

    init(state: UInt64) { self.state = state }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }
}

/// A seed derived from a root seed and a path of stream identifiers (order matters).
func deriveSeed(_ parts: UInt64...) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    for part in parts {
        h = SplitMix64.mix(h ^ SplitMix64.mix(part &+ 0x9E37_79B9_7F4A_7C15))
    }
    return h
}

/// xoshiro256** (Blackman & Vigna) with helpers for the distributions the generator needs.
struct Xoshiro {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64
    private var spare: Double = 0
    private var hasSpare = false

    init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s0 = sm.next()
        s1 = sm.next()
        s2 = sm.next()
        s3 = sm.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x &<< k) | (x &>> (64 &- k))
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        let result = Xoshiro.rotl(s1 &* 5, 7) &* 9
        let t = s1 &<< 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Xoshiro.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func uniform() -> Double {
        Double(next() &>> 11) * 0x1.0p-53
    }

    /// Uniform in (0, 1).
    @inline(__always)
    mutating func uniformOpen() -> Double {
        (Double(next() &>> 11) + 0.5) * 0x1.0p-53
    }

    /// Uniform in [a, b).
    @inline(__always)
    mutating func uniform(_ a: Double, _ b: Double) -> Double {
        a + (b - a) * uniform()
    }

    /// Log-uniform in [a, b), a > 0.
    mutating func logUniform(_ a: Double, _ b: Double) -> Double {
        a * DetMath.exp(uniform() * DetMath.log(b / a))
    }

    /// Uniform integer in 0..<n (n ≥ 1), by the multiply-high method.
    @inline(__always)
    mutating func int(below n: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform integer in the closed range.
    @inline(__always)
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    @inline(__always)
    mutating func bernoulli(_ p: Double) -> Bool {
        uniform() < p
    }

    /// Standard normal by Marsaglia's polar method (needs only log and sqrt).
    mutating func normal() -> Double {
        if hasSpare {
            hasSpare = false
            return spare
        }
        while true {
            let u = 2 * uniform() - 1
            let v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * DetMath.log(s) / s).squareRoot()
                spare = v * f
                hasSpare = true
                return u * f
            }
        }
    }

    /// Student t with 4 degrees of freedom, scaled to unit variance (var of t₄ is 2).
    /// χ²₄ = −2·ln(U₁U₂).
    mutating func studentT4() -> Double {
        let z = normal()
        let chi2 = -2 * DetMath.log(uniformOpen() * uniformOpen())
        return z / (chi2 / 4).squareRoot() * 0.70710678118654752
    }
}

/// Natural logarithm and exponential built from correctly rounded IEEE operations only,
/// so that results are identical on every platform (accuracy ≈ 1 ulp, which is plenty).
enum DetMath {
    static let ln2Hi = 6.93147180369123816490e-01  // high bits of ln 2, exact in 32 bits
    static let ln2Lo = 1.90821492927058770002e-10
    static let invLn2 = 1.44269504088896338700e+00
    static let sqrtHalf = 0.70710678118654752440

    /// ln(x) for finite x > 0 (returns −∞ for 0, NaN for negative / NaN input).
    static func log(_ x: Double) -> Double {
        if !(x > 0) { return x == 0 ? -.infinity : .nan }
        if x == .infinity { return x }
        var e = Double(x.exponent)
        var m = x.significand  // [1, 2), exact
        if m > 2 * sqrtHalf {
            m *= 0.5
            e += 1
        }
        // m in (0.707, 1.415]; ln m = 2·atanh(f), f = (m−1)/(m+1), |f| ≤ 0.1716.
        let f = (m - 1) / (m + 1)
        let f2 = f * f
        var p = 1.0 / 25.0
        p = p * f2 + 1.0 / 23.0
        p = p * f2 + 1.0 / 21.0
        p = p * f2 + 1.0 / 19.0
        p = p * f2 + 1.0 / 17.0
        p = p * f2 + 1.0 / 15.0
        p = p * f2 + 1.0 / 13.0
        p = p * f2 + 1.0 / 11.0
        p = p * f2 + 1.0 / 9.0
        p = p * f2 + 1.0 / 7.0
        p = p * f2 + 1.0 / 5.0
        p = p * f2 + 1.0 / 3.0
        // 2f(1 + f2·p) = 2f + 2f·f2·p
        let lnm = 2 * f + 2 * f * (f2 * p)
        return e * ln2Hi + (e * ln2Lo + lnm)
    }

    /// e^x.
    static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x * invLn2).rounded()
        let r = (x - k * ln2Hi) - k * ln2Lo  // |r| ≤ 0.3466
        // Taylor series to r^15/15!: error < 0.35^16/16! ≈ 2e-21.
        var p = 1.0 / 1_307_674_368_000.0  // 1/15!
        p = p * r + 1.0 / 87_178_291_200.0  // 1/14!
        p = p * r + 1.0 / 6_227_020_800.0  // 1/13!
        p = p * r + 1.0 / 479_001_600.0
        p = p * r + 1.0 / 39_916_800.0
        p = p * r + 1.0 / 3_628_800.0
        p = p * r + 1.0 / 362_880.0
        p = p * r + 1.0 / 40_320.0
        p = p * r + 1.0 / 5_040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        return Double(sign: .plus, exponent: Int(k), significand: p)
    }
}
