import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, splittable generator. The n-th output depends only on
/// the seed and n (the state advances by a fixed odd constant), which makes it suitable for reproducible
/// streams keyed by (seed, index) and for deterministic test and benchmark data.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The generator positioned as if `index` outputs had been drawn from `seed`.
    public init(seed: UInt64, skipping index: UInt64) { state = seed &+ index &* Self.gamma }

    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in 0 ..< bound (modulo reduction; bias below 2⁻⁴⁰ for bounds under 2²⁴).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        return Int(next() % UInt64(bound))
    }
}

extension SplitMix64 {
    /// Uniform in the closed range (53 random bits).
    public mutating func nextUniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnit()
    }

    /// A standard normal draw by Box–Muller (the cosine half; two uniforms per draw).
    public mutating func nextNormal() -> Double {
        let u1 = max(nextUnit(), 1e-300), u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Uniform integer in the range.
    public mutating func nextInt(_ range: Range<Int>) -> Int { range.lowerBound + nextInt(below: range.count) }

    /// True with the given probability.
    public mutating func nextBool(_ probability: Double) -> Bool { nextUnit() < probability }
}
