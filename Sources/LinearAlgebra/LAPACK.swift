import CLinearAlgebra

/// A LAPACK failure, typed so callers can decide (an account in a batch is flagged, never crashes the run).
public enum LinearAlgebraError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The matrix is not positive definite: the leading minor of this order is not positive (dpotrf info > 0).
    case notPositiveDefinite(minor: Int)
    /// The input holds NaN or infinity (LAPACKE's NaN check).
    case nonFiniteInput
    /// The eigen solver did not converge (dsyevd info > 0).
    case noConvergence
    /// Any other LAPACK return code (an internal error).
    case lapack(routine: String, info: Int)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let minor): return "matrix is not positive definite (leading minor \(minor))"
        case .nonFiniteInput: return "matrix contains NaN or infinite values"
        case .noConvergence: return "eigenvalue algorithm did not converge"
        case .lapack(let routine, let info): return "\(routine) failed with info \(info)"
        }
    }
}

/// Symmetric eigendecomposition A = V·diag(values)·Vᵀ, eigenvalues ascending; column k of `vectors` is the k-th eigenvector.
public struct SymmetricEigen: Sendable {
    public let values: [Double]
    /// Row-major n×n; `vectors[i, k]` is component i of eigenvector k.
    public let vectors: Matrix
}

public enum LAPACK {
    /// Cholesky factor L (lower triangular, A = L·Lᵀ) of a symmetric positive definite matrix (`dpotrf`,
    /// called column-major through `LAPACKE_dpotrf_work`: no internal transposed copy).
    public static func cholesky(_ a: Matrix) throws(LinearAlgebraError) -> Matrix {
        precondition(a.isSquare, "cholesky of a non-square matrix")
        let n = a.rows
        if n == 0 { return a }
        guard a.elements.allSatisfy(\.isFinite) else { throw .nonFiniteInput }
        // Column-major upper triangle of a symmetric A is the row-major lower triangle: ask LAPACK for
        // U (column-major, A = UᵀU) and read it row-major as L = Uᵀ.
        var work = a.elements
        let info = work.withUnsafeMutableBufferPointer { p in
            // Safe: p holds n·n elements; leading dimension n.
            LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), p.baseAddress, Int32(n))
        }
        if info > 0 { throw .notPositiveDefinite(minor: Int(info)) }
        if info < 0 { throw .lapack(routine: "dpotrf", info: Int(info)) }
        var l = Matrix(rows: n, columns: n, elements: work)
        for i in 0 ..< n {
            for j in (i + 1) ..< n where j < n { l.elements[i * n + j] = 0 }
        }
        return l
    }

    /// Eigenvalues (ascending) and eigenvectors of a symmetric matrix (`dsyevd`, divide and conquer,
    /// column-major through `LAPACKE_dsyevd_work` with a workspace query). Only the lower triangle is read.
    public static func symmetricEigen(_ a: Matrix) throws(LinearAlgebraError) -> SymmetricEigen {
        precondition(a.isSquare, "eigen of a non-square matrix")
        let n = a.rows
        if n == 0 { return SymmetricEigen(values: [], vectors: a) }
        guard a.elements.allSatisfy(\.isFinite) else { throw .nonFiniteInput }
        var w = [Double](repeating: 0, count: n)
        var m = a.elements   // column-major read of a symmetric matrix: same numbers.
        var lworkQuery = 0.0
        var liworkQuery: Int32 = 0
        var info = m.withUnsafeMutableBufferPointer { pm in
            w.withUnsafeMutableBufferPointer { pw in
                // Safe: workspace query, sizes n·n and n.
                LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), pm.baseAddress,
                                    Int32(n), pw.baseAddress, &lworkQuery, -1, &liworkQuery, -1)
            }
        }
        if info != 0 { throw .lapack(routine: "dsyevd", info: Int(info)) }
        var work = [Double](repeating: 0, count: max(1, Int(lworkQuery)))
        var iwork = [Int32](repeating: 0, count: max(1, Int(liworkQuery)))
        info = m.withUnsafeMutableBufferPointer { pm in
            w.withUnsafeMutableBufferPointer { pw in
                work.withUnsafeMutableBufferPointer { pwork in
                    iwork.withUnsafeMutableBufferPointer { piwork in
                        // Safe: workspaces sized by the query above.
                        LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n),
                                            pm.baseAddress, Int32(n), pw.baseAddress, pwork.baseAddress,
                                            Int32(pwork.count), piwork.baseAddress, Int32(piwork.count))
                    }
                }
            }
        }
        if info > 0 { throw .noConvergence }
        if info < 0 { throw .lapack(routine: "dsyevd", info: Int(info)) }
        // m is column-major: eigenvector k is m[k*n ..< (k+1)*n]; store row-major with vectors[i, k].
        let columnMajor = Matrix(rows: n, columns: n, elements: m)
        return SymmetricEigen(values: w, vectors: columnMajor.transposed)
    }

    /// The nearest positive semidefinite matrix in Frobenius norm: eigenvalues below zero clipped to zero
    /// (Higham 1988). Returns the repaired matrix and the number of eigenvalues clipped.
    public static func nearestPositiveSemidefinite(_ a: Matrix) throws(LinearAlgebraError) -> (matrix: Matrix, clipped: Int) {
        let eigen = try symmetricEigen(a)
        let n = a.rows
        let clipped = eigen.values.filter { $0 < 0 }.count
        if clipped == 0 { return (a, 0) }
        // V·diag(max(λ,0))·Vᵀ = (V·√Λ₊)(V·√Λ₊)ᵀ.
        var scaled = eigen.vectors
        for k in 0 ..< n {
            let s = eigen.values[k] > 0 ? eigen.values[k].squareRoot() : 0
            for i in 0 ..< n { scaled.elements[i * n + k] *= s }
        }
        var out = Matrix(rows: n, columns: n)
        syrk(scaled, .none, into: &out)
        return (out, clipped)
    }
}
