import CKernels
import CLinearAlgebra

/// In-place dense kernels on raw, densely packed buffers (leading dimension = n), for solvers that reuse their
/// workspaces across iterations (the rebalancing QP's Newton step): `LAPACK.cholesky` returns a fresh `Matrix` per
/// call, which a per-iteration hot path must not allocate. The caller owns the buffers and their sizes.
public enum DenseKernels {
    /// Cholesky factorisation in place of a symmetric positive definite n×n matrix (`dpotrf`, column-major
    /// lower triangle through `LAPACKE_dpotrf_work`; for a symmetric input the layout does not matter).
    /// Returns LAPACK's info: 0 success, > 0 the order of the leading minor that is not positive definite.
    /// The factor is meant for `choleskySolveInPlace` with the same n only (the small path keeps 1/L_jj on the
    /// diagonal, so its solves multiply instead of dividing).
    ///
    /// Up to `smallOrder` the factorisation is a plain Swift loop instead (same storage and return code): for the
    /// many tiny systems of the rebalancing solver the call into OpenBLAS costs more than the arithmetic, and
    /// OpenBLAS's LAPACK takes a process-wide lock for its buffer pool on every call, which serialises workers.
    public static func choleskyInPlace(_ a: UnsafeMutablePointer<Double>, n: Int) -> Int {
        guard n > 0 else { return 0 }
        if n <= smallOrder { return smallCholesky(a, n: n) }
        // Safe: a holds n·n elements (caller's workspace), leading dimension n.
        return Int(LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(n), a, Int32(n)))
    }

    /// Solves A·X = B in place for `nrhs` right-hand sides stored one after another (column-major n×nrhs)
    /// with the factor of `choleskyInPlace` (two `dtrsv` per column; the Swift loops below `smallOrder`).
    public static func choleskySolveInPlace(factor: UnsafePointer<Double>, n: Int, rhs: UnsafeMutablePointer<Double>, nrhs: Int) {
        guard n > 0, nrhs > 0 else { return }
        if n <= smallOrder {
            for r in 0 ..< nrhs { smallCholeskySolve(factor, n: n, rhs: rhs + r * n) }
            return
        }
        // Two triangular solves per column (`dtrsv`: L·z = b, then Lᵀ·x = z). For the one or two right sides the
        // solver has, `dpotrs` (through `dtrsm`) would pack the whole triangle on every call, which costs more
        // than the solve itself.
        // Safe: factor holds n·n elements, rhs holds n·nrhs; leading dimensions n.
        for r in 0 ..< nrhs {
            let column = rhs + r * n
            cblas_dtrsv(CblasColMajor, CblasLower, CblasNoTrans, CblasNonUnit, Int32(n), factor, Int32(n), column, 1)
            cblas_dtrsv(CblasColMajor, CblasLower, CblasTrans, CblasNonUnit, Int32(n), factor, Int32(n), column, 1)
        }
    }

    /// Largest order factorised and solved by the Swift loops below rather than LAPACK. OpenBLAS's blocked `dpotrf`
    /// reaches 17 GFLOP/s at n = 64 and 29 at n = 200 on one core (measured here), far beyond a scalar loop, while
    /// below a few dozen rows its call and lock overhead dominate; retail working sets (≈ 9 assets) sit well
    /// below 48 and institutional ones (≈ 190) well above, so the exact cut matters little.
    public static let smallOrder = 48

    /// Left-looking Cholesky of the column-major lower triangle (column j is a[j·n + j ..< j·n + n]); the strict
    /// upper triangle is not touched, the diagonal holds 1/L_jj. Returns 0, or j + 1 when the leading minor of order j + 1 is not positive
    /// definite (LAPACK's convention).
    static func smallCholesky(_ a: UnsafeMutablePointer<Double>, n: Int) -> Int {
        // Safe: a holds n·n elements; every index below is k·n + i with k, i < n.
        for j in 0 ..< n {
            let column = a + j * n
            for k in 0 ..< j {
                let previous = a + k * n
                let ljk = previous[j]
                for i in j ..< n { column[i] -= previous[i] * ljk }
            }
            let d = column[j]
            if !(d > 0) || !d.isFinite { return j + 1 }
            // The diagonal keeps 1/L_jj: the solves' serial chains then multiply (a division's latency is
            // several multiplications', and each solve has 2n of them in sequence).
            let inverse = 1 / d.squareRoot()
            column[j] = inverse
            for i in j + 1 ..< n { column[i] *= inverse }
        }
        return 0
    }

    /// Solves L·Lᵀ·x = b in place with the factor of `smallCholesky` (b has n elements; 1/L_jj on the diagonal).
    static func smallCholeskySolve(_ l: UnsafePointer<Double>, n: Int, rhs b: UnsafeMutablePointer<Double>) {
        // Safe: l holds n·n elements, b n; indices as in `smallCholesky`.
        for j in 0 ..< n {
            let column = l + j * n
            let v = b[j] * column[j]
            b[j] = v
            for i in j + 1 ..< n { b[i] -= column[i] * v }
        }
        var j = n - 1
        while j >= 0 {
            let column = l + j * n
            var total = b[j]
            for i in j + 1 ..< n { total -= column[i] * b[i] }
            b[j] = total * column[j]
            j -= 1
        }
    }

    /// y ← S·x for an n×n matrix S stored in full (both triangles), row-major with leading dimension `lda`.
    /// A fixed summation order (per row: four lanes of fused multiply-adds over the blocks of four columns, the lanes
    /// summed as (l₀ + l₁) + (l₂ + l₃), then the last n mod 4 columns in order): the result depends only on the data —
    /// not on the CPU's vector width, OpenBLAS's thread setting or the buffers' alignment — so batches are
    /// reproducible. The C kernel (`CKernels`) runs its AVX2 + FMA build where the CPU has them, four rows at a time.
    public static func symv(_ s: UnsafePointer<Double>, n: Int, lda: Int, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        precondition(n >= 0 && lda >= n, "symv: shapes")
        // Safe: S holds n rows of lda ≥ n elements, x and y n elements (the caller's contract).
        ballast_symv(s, n, lda, x, y)
    }

    /// y ← A·x for a general m×n row-major A with leading dimension `lda` (`cblas_dgemv`).
    public static func gemv(_ a: UnsafePointer<Double>, m: Int, n: Int, lda: Int, x: UnsafePointer<Double>,
                     y: UnsafeMutablePointer<Double>) {
        guard m > 0 else { return }
        if n == 0 {
            for i in 0 ..< m { y[i] = 0 }
            return
        }
        // Safe: A holds m rows of lda ≥ n elements, x n and y m elements.
        cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(m), Int32(n), 1, a, Int32(lda), x, 1, 0, y, 1)
    }
}
