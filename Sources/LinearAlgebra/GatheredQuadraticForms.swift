import CKernels

extension DenseKernels {
    /// Two quadratic forms on one principal submatrix of a symmetric matrix: (x₁ᵀ·S_II·x₁, x₂ᵀ·S_II·x₂), where
    /// I = `indices[0 ..< count]` (row/column indices of S, row-major with leading dimension `lda`) and
    /// `x[p]` = (x₁_p, x₂_p) are the two vectors' entries on index `indices[p]`.
    ///
    /// Reads only S[indices[p], indices[q]] for q ≤ p (one triangle: k(k + 1)/2 gathered entries for k indices),
    /// so S must be symmetric; indices in increasing order read each row forward (cache-friendly for large k).
    /// A fixed summation order (per vector: o ← fma(S_pq, x_q, o) over q < p from 0, then
    /// t ← fma(x_p, fma(S_pp, x_p, 2·o), t) over p from 0): the result depends only on the data, not on threads,
    /// alignment or the CPU. Both vectors share each gathered entry (one load, one two-lane multiply-add); the C
    /// kernel (`CKernels`) runs its FMA build where the CPU has it.
    public static func pairedQuadraticForms(_ s: UnsafePointer<Double>, lda: Int, indices: UnsafePointer<Int>,
                                            x: UnsafePointer<SIMD2<Double>>, count k: Int) -> SIMD2<Double> {
        var forms = SIMD2<Double>()
        // Safe: the kernel reads S at indices[p]·lda + indices[q] (the caller's indices are rows of S), x as 2k
        // doubles (SIMD2<Double> is two doubles, in order) and writes two doubles into `forms`.
        x.withMemoryRebound(to: Double.self, capacity: 2 * k) { pairs in
            withUnsafeMutableBytes(of: &forms) { out in
                ballast_paired_quadratic_forms(s, lda, indices, pairs, k, out.baseAddress!.assumingMemoryBound(to: Double.self))
            }
        }
        return forms
    }
}
