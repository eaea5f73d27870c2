extension DenseKernels {
    /// Two quadratic forms on one principal submatrix of a symmetric matrix: (x₁ᵀ·S_II·x₁, x₂ᵀ·S_II·x₂), where
    /// I = `indices[0 ..< count]` (row/column indices of S, row-major with leading dimension `lda`) and
    /// `x[p]` = (x₁_p, x₂_p) are the two vectors' entries on index `indices[p]`.
    ///
    /// Reads only S[indices[p], indices[q]] for q ≤ p (one triangle: k(k + 1)/2 gathered entries for k indices),
    /// so S must be symmetric; indices in increasing order read each row forward (cache-friendly for large k).
    /// Plain Swift in a fixed summation order: the result depends only on the data, not on threads or alignment.
    /// Both vectors share each gathered entry (one load, one SIMD2 multiply-add).
    @inlinable
    public static func pairedQuadraticForms(_ s: UnsafePointer<Double>, lda: Int, indices: UnsafePointer<Int>,
                                            x: UnsafePointer<SIMD2<Double>>, count k: Int) -> SIMD2<Double> {
        var total = SIMD2<Double>()
        for p in 0 ..< k {
            let row = s + indices[p] * lda
            var offDiagonal = SIMD2<Double>()
            for q in 0 ..< p { offDiagonal = offDiagonal.addingProduct(SIMD2(repeating: row[indices[q]]), x[q]) }
            let xp = x[p]
            // x_p·(2·Σ_{q<p} S_pq·x_q + S_pp·x_p): each off-diagonal pair counted twice by symmetry.
            total = total.addingProduct(xp, (offDiagonal + offDiagonal).addingProduct(SIMD2(repeating: row[indices[p]]), xp))
        }
        return total
    }
}
