import Testing
@testable import LinearAlgebra

/// `SinglePrecision`'s bound against brute force: single-precision dot products (sequential, and by `sgemm`) of
/// double-precision data, compared with the double-precision sums, on normal-range data and on data whose inputs
/// and products fall below Float's normal range (where the relative bound alone does not hold).
struct SinglePrecisionTests {
    /// The largest |ŷ − y| / (c·Σ|a·b| + allowance) over random dot products whose terms are scaled by `scale`.
    private func worstRatio(terms n: Int, coefficientScale: Double, valueScale: Double, seed: UInt64) -> Double {
        var rng = SplitMix64(seed: seed)
        let c = SinglePrecision.productErrorFactor(terms: n)
        var worst = 0.0
        for _ in 0 ..< 200 {
            let a = (0 ..< n).map { _ in (rng.nextUnit() * 2 - 1) * coefficientScale }
            let b = (0 ..< n).map { _ in (rng.nextUnit() * 2 - 1) * valueScale }
            var exact = 0.0, single: Float = 0, magnitude = 0.0
            for i in 0 ..< n {
                exact += a[i] * b[i]
                single += Float(a[i]) * Float(b[i])
                magnitude += abs(a[i] * b[i])
            }
            var viaGemm = [Float](repeating: 0, count: 1)
            let a32 = a.map(Float.init), b32 = b.map(Float.init)
            a32.withUnsafeBufferPointer { pa in b32.withUnsafeBufferPointer { pb in
                viaGemm.withUnsafeMutableBufferPointer { sgemm(m: 1, n: 1, k: n, a: pa, b: pb, c: $0) }
            } }
            let allowance = SinglePrecision.underflowAllowance(terms: n, coefficientSum: a.map(abs).reduce(0, +),
                                                                otherSum: b.map(abs).reduce(0, +))
            let bound = c * magnitude + allowance
            worst = max(worst, abs(Double(single) - exact) / bound, abs(Double(viaGemm[0]) - exact) / bound)
        }
        return worst
    }

    @Test func theBoundHoldsInFloatsNormalRange() {
        #expect(worstRatio(terms: 500, coefficientScale: 1e6, valueScale: 0.1, seed: 1) <= 1)
        #expect(worstRatio(terms: 8, coefficientScale: 3e9, valueScale: 0.5, seed: 2) <= 1)
    }

    /// Moves around 10⁻⁴³ (subnormal as Floats, a few significant bits) times exposures of 10¹²: each rounding of
    /// a move loses up to 2⁻¹⁵⁰ absolutely, 10¹²·2⁻¹⁵⁰ ≈ 7·10⁻³⁴ per term — far above the relative bound of these
    /// ~10⁻³¹ sums; and around 10⁻³⁹, where the relative bound of 64 terms still covers it.
    @Test func theUnderflowAllowanceCoversSubnormalInputs() {
        #expect(worstRatio(terms: 4, coefficientScale: 1e12, valueScale: 1e-43, seed: 3) <= 1)
        #expect(worstRatio(terms: 64, coefficientScale: 1e12, valueScale: 1e-39, seed: 5) <= 1)
        // Without the allowance the relative bound fails here: the test would catch its omission.
        var rng = SplitMix64(seed: 4)
        let n = 4, c = SinglePrecision.productErrorFactor(terms: n)
        var violated = false
        for _ in 0 ..< 50 {
            let a = (0 ..< n).map { _ in (rng.nextUnit() * 2 - 1) * 1e12 }
            let b = (0 ..< n).map { _ in (rng.nextUnit() * 2 - 1) * 1e-43 }
            var exact = 0.0, single: Float = 0, magnitude = 0.0
            for i in 0 ..< n {
                exact += a[i] * b[i]
                single += Float(a[i]) * Float(b[i])
                magnitude += abs(a[i] * b[i])
            }
            if abs(Double(single) - exact) > c * magnitude + Double(n) * Double(Float.leastNormalMagnitude) {
                violated = true
            }
        }
        #expect(violated)
    }
}
