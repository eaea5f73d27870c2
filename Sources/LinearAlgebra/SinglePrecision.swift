import CLinearAlgebra

/// C (m × n) = A (m × k) · B (k × n) in single precision, row-major packed buffers (`cblas_sgemm`): twice the
/// multiply-adds per second of `gemm`, for products whose error is bounded and screened by the caller
/// (`SinglePrecision.productErrorFactor`).
public func sgemm(m: Int, n: Int, k: Int, a: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>,
                  c: UnsafeMutableBufferPointer<Float>) {
    precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "sgemm: buffer too small")
    guard m > 0, n > 0, k > 0 else { return }
    // Safe: buffer sizes checked above; leading dimensions are the packed row lengths.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                a.baseAddress, Int32(k), b.baseAddress, Int32(n), 0, c.baseAddress, Int32(n))
}

/// Error bounds of single-precision dot products of double-precision data.
public enum SinglePrecision {
    /// u = 2⁻²⁴, the unit roundoff of Float.
    public static let unitRoundoff = 0x1p-24

    /// c such that |ŷ − y| ≤ c·Σ_i |a_i·b_i| for y = Σ_i a_i·b_i over `terms` terms, ŷ computed in single precision
    /// from a_i and b_i rounded to Float (each off by at most u relative), in any summation order, with or without
    /// fused multiply-adds: c = γ_n·(1 + u)² + 2u + u², γ_n = n·u/(1 − n·u) (Higham, Accuracy and Stability of
    /// Numerical Algorithms, §3.1). Plus γ_n of double precision, so that ŷ is also within c·Σ|a_i·b_i| of the
    /// same sum computed in double precision in any order. Valid while no value over- or underflows Float.
    public static func productErrorFactor(terms n: Int) -> Double {
        let u = unitRoundoff, nu = Double(n) * u
        precondition(nu < 0.5, "SinglePrecision: too many terms for a bounded single-precision sum")
        let gamma = nu / (1 - nu)
        let doubleGamma = Double(n) * 0x1p-53 / (1 - Double(n) * 0x1p-53)
        return gamma * (1 + u) * (1 + u) + 2 * u + u * u + doubleGamma
    }

    /// Absolute error to add to `productErrorFactor`'s bound when values may fall below Float's normal range
    /// (2⁻¹²⁶): converting a_i or b_i to Float, or rounding a product, then loses up to half the subnormal spacing
    /// (2⁻¹⁵⁰) absolutely instead of relatively; additions of Floats are exact when they underflow. Over n terms
    /// that is at most 2⁻¹⁵⁰·(Σ|a_i|·(1 + u) + Σ|b_i|·(1 + u) + n), here doubled: 2⁻¹⁴⁹·(Σ|a_i| + Σ|b_i|max + n + 1),
    /// with Σ|b_i|max any bound of Σ|b_i|.
    public static func underflowAllowance(terms n: Int, coefficientSum: Double, otherSum: Double) -> Double {
        0x1p-149 * (coefficientSum + otherSum + Double(n) + 1)
    }
}
