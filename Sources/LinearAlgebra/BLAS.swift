import CLinearAlgebra

// The one file (with LAPACK.swift) that talks to C. Every call checks shapes with `precondition`
// (a shape mismatch is a programmer error) before handing pointers to OpenBLAS.

/// Whether an operand enters a product as is or transposed.
public enum Transpose: Sendable { case none, transposed }

extension Transpose {
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Thread control of OpenBLAS. Ballast decides per phase who parallelises: big shared products may use
/// OpenBLAS threads; batches of per-account work under `concurrentPerform` set BLAS to one thread.
public enum BLASThreads {
    /// Sets the number of OpenBLAS worker threads (`openblas_set_num_threads`).
    public static func set(_ count: Int) { openblas_set_num_threads(Int32(max(1, count))) }
    /// Current number of OpenBLAS worker threads (`openblas_get_num_threads`).
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS limited to `count` threads, then restores the previous setting.
    public static func with<T, E: Error>(_ count: Int, _ body: () throws(E) -> T) throws(E) -> T {
        let previous = current
        set(count)
        defer { set(previous) }
        return try body()
    }
}

/// C ← α·op(A)·op(B) + β·C (`cblas_dgemm`, row-major).
public func gemm(_ a: Matrix, _ b: Matrix, transposeA transA: Transpose = .none, transposeB transB: Transpose = .none,
                 alpha: Double = 1, beta: Double = 0, into c: inout Matrix) {
    let m = transA == .none ? a.rows : a.columns
    let k = transA == .none ? a.columns : a.rows
    let kb = transB == .none ? b.rows : b.columns
    let n = transB == .none ? b.columns : b.rows
    precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
    precondition(c.rows == m && c.columns == n, "gemm: result is \(c.rows)×\(c.columns), expected \(m)×\(n)")
    guard m > 0, n > 0 else { return }
    if k == 0 {
        for i in c.elements.indices { c.elements[i] *= beta }
        return
    }
    a.elements.withUnsafeBufferPointer { pa in
        b.elements.withUnsafeBufferPointer { pb in
            c.elements.withUnsafeMutableBufferPointer { pc in
                // Safe: the three buffers hold m·k, k·n and m·n elements as checked above, with leading
                // dimensions equal to each matrix's column count.
                cblas_dgemm(CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k), alpha,
                            pa.baseAddress, Int32(a.columns), pb.baseAddress, Int32(b.columns), beta,
                            pc.baseAddress, Int32(c.columns))
            }
        }
    }
}

/// op(A)·op(B) as a new matrix.
public func multiply(_ a: Matrix, _ b: Matrix, transposeA transA: Transpose = .none,
                     transposeB transB: Transpose = .none) -> Matrix {
    var c = Matrix(rows: transA == .none ? a.rows : a.columns, columns: transB == .none ? b.columns : b.rows)
    gemm(a, b, transposeA: transA, transposeB: transB, into: &c)
    return c
}

/// Row-major gemm on raw buffers, for hot kernels that reuse their workspaces:
/// C[m×n] ← α·A[m×k]·op(B) + β·C where B is k×n (`.none`) or n×k (`.transposed`), all densely packed.
public func gemm(m: Int, n: Int, k: Int, alpha: Double = 1, a: UnsafeBufferPointer<Double>,
                 b: UnsafeBufferPointer<Double>, _ transB: Transpose = .none, beta: Double = 0,
                 c: UnsafeMutableBufferPointer<Double>) {
    precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n, "gemm: buffer too small")
    guard m > 0, n > 0, k > 0 else { return }
    // Safe: buffer sizes checked above; leading dimensions are the packed row lengths.
    cblas_dgemm(CblasRowMajor, CblasNoTrans, transB.cblas, Int32(m), Int32(n), Int32(k), alpha,
                a.baseAddress, Int32(k), b.baseAddress, Int32(transB == .none ? n : k), beta,
                c.baseAddress, Int32(n))
}

/// C ← α·A·Aᵀ + β·C (or α·Aᵀ·A with `.transposed`), full symmetric result (`cblas_dsyrk`, then mirrored).
public func syrk(_ a: Matrix, _ trans: Transpose = .none, alpha: Double = 1, beta: Double = 0, into c: inout Matrix) {
    let n = trans == .none ? a.rows : a.columns
    let k = trans == .none ? a.columns : a.rows
    precondition(c.rows == n && c.columns == n, "syrk: result is \(c.rows)×\(c.columns), expected \(n)×\(n)")
    guard n > 0 else { return }
    if k > 0 {
        a.elements.withUnsafeBufferPointer { pa in
            c.elements.withUnsafeMutableBufferPointer { pc in
                // Safe: A holds n·k elements (checked by construction), C holds n·n.
                cblas_dsyrk(CblasRowMajor, CblasLower, trans.cblas, Int32(n), Int32(k), alpha, pa.baseAddress,
                            Int32(a.columns), beta, pc.baseAddress, Int32(n))
            }
        }
    } else {
        for i in c.elements.indices { c.elements[i] *= beta }
    }
    c.symmetrizeFromLower()
}

/// C ← α·S·B + β·C for a symmetric S (`cblas_dsymm`, left side; only S's lower triangle is read).
public func symm(_ s: Matrix, _ b: Matrix, alpha: Double = 1, beta: Double = 0, into c: inout Matrix) {
    precondition(s.isSquare && s.columns == b.rows, "symm: S is \(s.rows)×\(s.columns), B is \(b.rows)×\(b.columns)")
    precondition(c.rows == b.rows && c.columns == b.columns, "symm: result shape")
    guard b.rows > 0, b.columns > 0 else { return }
    s.elements.withUnsafeBufferPointer { ps in
        b.elements.withUnsafeBufferPointer { pb in
            c.elements.withUnsafeMutableBufferPointer { pc in
                // Safe: shapes checked above.
                cblas_dsymm(CblasRowMajor, CblasLeft, CblasLower, Int32(b.rows), Int32(b.columns), alpha,
                            ps.baseAddress, Int32(s.columns), pb.baseAddress, Int32(b.columns), beta,
                            pc.baseAddress, Int32(c.columns))
            }
        }
    }
}

/// y ← α·op(A)·x + β·y (`cblas_dgemv`).
public func gemv(_ a: Matrix, _ x: [Double], transposeA trans: Transpose = .none, alpha: Double = 1, beta: Double = 0,
                 into y: inout [Double]) {
    let rowsOut = trans == .none ? a.rows : a.columns
    let colsIn = trans == .none ? a.columns : a.rows
    precondition(x.count == colsIn && y.count == rowsOut, "gemv: shapes")
    guard rowsOut > 0 else { return }
    if colsIn == 0 {
        for i in y.indices { y[i] *= beta }
        return
    }
    a.elements.withUnsafeBufferPointer { pa in
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                // Safe: A is rows×columns, x and y sized as checked above.
                cblas_dgemv(CblasRowMajor, trans.cblas, Int32(a.rows), Int32(a.columns), alpha, pa.baseAddress,
                            Int32(a.columns), px.baseAddress, 1, beta, py.baseAddress, 1)
            }
        }
    }
}

/// op(A)·x as a new vector.
public func multiply(_ a: Matrix, _ x: [Double], transposeA trans: Transpose = .none) -> [Double] {
    var y = [Double](repeating: 0, count: trans == .none ? a.rows : a.columns)
    gemv(a, x, transposeA: trans, into: &y)
    return y
}

/// xᵀ·S·x for a square S.
public func quadraticForm(_ s: Matrix, _ x: [Double]) -> Double {
    let sx = multiply(s, x)
    return dot(x, sx)
}
