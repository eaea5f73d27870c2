// Deterministic sampling helpers shared by every suite: the fixtures draw from LinearAlgebra's SplitMix64, so the
// same seeds give the same numbers on every platform and in every run.

import Foundation
import LinearAlgebra

/// Fixture sampling on LinearAlgebra's SplitMix64: the same sequence on every platform.
extension SplitMix64 {
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { nextUnit() }
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }
    public mutating func logUniform(_ low: Double, _ high: Double) -> Double { exp(uniform(log(low), log(high))) }
    /// Standard normal by Box–Muller (one of the pair).
    public mutating func normal() -> Double {
        let u1 = 1 - uniform()  // (0, 1]
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * uniform())
    }
    /// Uniform integer in `0 ..< bound`.
    public mutating func index(_ bound: Int) -> Int { nextInt(below: bound) }
}

extension Duration {
    /// The duration in seconds, as a Double (for rates computed inside a benchmark).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
