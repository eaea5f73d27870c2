import LinearAlgebra
import Testing

/// The BLAS/LAPACK wrappers against naive triple loops and algebraic identities.
@Suite struct BLASAndLAPACKTests {
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
    }

    func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix {
        var rng = Random(state: seed)
        return Matrix(rows: rows, columns: columns, elements: (0 ..< rows * columns).map { _ in rng.next() })
    }

    func naiveProduct(_ a: Matrix, _ b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        for i in 0 ..< a.rows { for j in 0 ..< b.columns { for k in 0 ..< a.columns { c[i, j] += a[i, k] * b[k, j] } } }
        return c
    }

    func maxDifference(_ a: Matrix, _ b: Matrix) -> Double {
        zip(a.elements, b.elements).map { abs($0 - $1) }.max() ?? 0
    }

    @Test func gemmMatchesNaiveProductInEveryTransposition() {
        let a = randomMatrix(7, 5, seed: 1), b = randomMatrix(5, 9, seed: 2)
        let expected = naiveProduct(a, b)
        #expect(maxDifference(multiply(a, b), expected) < 1e-14)
        #expect(maxDifference(multiply(a.transposed, b, transposeA: .transposed), expected) < 1e-14)
        #expect(maxDifference(multiply(a, b.transposed, transposeB: .transposed), expected) < 1e-14)
        var c = Matrix(rows: 7, columns: 9, repeating: 1)
        gemm(a, b, alpha: 2, beta: 3, into: &c)
        #expect(maxDifference(c, Matrix(rows: 7, columns: 9, elements: expected.elements.map { 2 * $0 + 3 })) < 1e-14)
    }

    @Test func syrkSymmAndGemvAgreeWithGemm() {
        let a = randomMatrix(6, 4, seed: 3)
        var s = Matrix(rows: 4, columns: 4)
        syrk(a, .transposed, into: &s)
        #expect(maxDifference(s, naiveProduct(a.transposed, a)) < 1e-14)
        #expect(s.asymmetry == 0)
        let b = randomMatrix(4, 3, seed: 4)
        var sb = Matrix(rows: 4, columns: 3)
        symm(s, b, into: &sb)
        #expect(maxDifference(sb, naiveProduct(s, b)) < 1e-14)
        let x = [0.5, -1, 2, 0.25]
        let y = multiply(s, x)
        let naive = (0 ..< 4).map { i in (0 ..< 4).map { s[i, $0] * x[$0] }.reduce(0, +) }
        #expect(zip(y, naive).allSatisfy { abs($0 - $1) < 1e-14 })
        #expect(abs(quadraticForm(s, x) - zip(x, naive).map(*).reduce(0, +)) < 1e-13)
    }

    @Test func choleskyReconstructsAndRejectsIndefinite() throws {
        let a = randomMatrix(8, 5, seed: 5)
        var s = Matrix(rows: 5, columns: 5)
        syrk(a, .transposed, into: &s)
        for i in 0 ..< 5 { s[i, i] += 0.1 }
        let l = try LAPACK.cholesky(s)
        for i in 0 ..< 5 { for j in (i + 1) ..< 5 { #expect(l[i, j] == 0) } }
        #expect(maxDifference(multiply(l, l, transposeB: .transposed), s) < 1e-13)
        #expect(throws: LinearAlgebraError.notPositiveDefinite(minor: 2)) {
            _ = try LAPACK.cholesky(Matrix([[1, 2], [2, 1]]))
        }
        #expect(throws: LinearAlgebraError.nonFiniteInput) {
            _ = try LAPACK.cholesky(Matrix([[1, .nan], [.nan, 1]]))
        }
    }

    @Test func symmetricEigenDiagonalisesAndRepairsToPositiveSemidefinite() throws {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let eigen = try LAPACK.symmetricEigen(Matrix([[2, 1], [1, 2]]))
        #expect(abs(eigen.values[0] - 1) < 1e-15 && abs(eigen.values[1] - 3) < 1e-15)
        let s = Matrix([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])   // not PSD
        let full = try LAPACK.symmetricEigen(s)
        // V·Λ·Vᵀ reconstructs the matrix and V is orthogonal.
        var lambda = Matrix(rows: 3, columns: 3)
        for k in 0 ..< 3 { lambda[k, k] = full.values[k] }
        let rebuilt = multiply(multiply(full.vectors, lambda), full.vectors, transposeB: .transposed)
        #expect(maxDifference(rebuilt, s) < 1e-14)
        #expect(maxDifference(multiply(full.vectors, full.vectors, transposeA: .transposed), .identity(3)) < 1e-14)
        let (repaired, clipped) = try LAPACK.nearestPositiveSemidefinite(s)
        #expect(clipped == 1)
        let after = try LAPACK.symmetricEigen(repaired)
        #expect(after.values.allSatisfy { $0 > -1e-14 })
        // Clipping changes only the negative eigenvalue: the positive ones survive.
        #expect(abs(after.values[2] - full.values[2]) < 1e-13)
    }

    @Test func vectorKernelsMatchPlainLoops() {
        let x = (0 ..< 11).map { Double($0) * 0.5 - 2 }, y = (0 ..< 11).map { Double($0 * $0) / 7 }
        #expect(abs(dot(x, y) - zip(x, y).map(*).reduce(0, +)) < 1e-13)
        #expect(x.withUnsafeBufferPointer { sum($0) } == x.reduce(0, +))
    }
}
