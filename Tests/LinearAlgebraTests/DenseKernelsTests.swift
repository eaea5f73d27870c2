import Foundation
import Testing
@testable import LinearAlgebra

/// The in-place Cholesky factor/solve pair of `DenseKernels` on both of its paths (the Swift loops up to
/// `smallOrder`, OpenBLAS `dpotrf` + `dtrsv` above), against Gaussian elimination with partial pivoting written
/// here, and the symmetric mat-vec against a plain double loop.
@Suite struct DenseKernelsTests {
    /// A = G·Gᵀ + n·I (symmetric positive definite, condition number of order 10), row-major = column-major.
    func spd(_ n: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        let g = (0 ..< n * n).map { _ in rng.nextUniform(-1 ... 1) }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0 ..< n {
            for j in 0 ..< n {
                var s = 0.0
                for k in 0 ..< n { s += g[i * n + k] * g[j * n + k] }
                a[i * n + j] = s + (i == j ? Double(n) : 0)
            }
        }
        return a
    }

    /// Solves A·x = b by Gaussian elimination with partial pivoting (independent of the kernels under test).
    func gaussianSolve(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
        var m = a, x = b
        for col in 0 ..< n {
            let pivot = (col ..< n).max { abs(m[$0 * n + col]) < abs(m[$1 * n + col]) }!
            if pivot != col {
                for k in 0 ..< n { m.swapAt(col * n + k, pivot * n + k) }
                x.swapAt(col, pivot)
            }
            for r in col + 1 ..< n {
                let f = m[r * n + col] / m[col * n + col]
                for k in col ..< n { m[r * n + k] -= f * m[col * n + k] }
                x[r] -= f * x[col]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = x[r]
            for k in r + 1 ..< n { s -= m[r * n + k] * x[k] }
            x[r] = s / m[r * n + r]
        }
        return x
    }

    @Test(arguments: [1, 2, 7, DenseKernels.smallOrder, DenseKernels.smallOrder + 1, 120])
    func factorAndSolveMatchGaussianElimination(n: Int) {
        let a = spd(n, seed: UInt64(40 + n))
        var rng = SplitMix64(seed: UInt64(900 + n))
        let b = (0 ..< 2 * n).map { _ in rng.nextUniform(-5 ... 5) }
        var factor = a
        let info = factor.withUnsafeMutableBufferPointer { DenseKernels.choleskyInPlace($0.baseAddress!, n: n) }
        #expect(info == 0)
        var x = b
        factor.withUnsafeBufferPointer { f in
            x.withUnsafeMutableBufferPointer { DenseKernels.choleskySolveInPlace(factor: f.baseAddress!, n: n, rhs: $0.baseAddress!, nrhs: 2) }
        }
        for column in 0 ..< 2 {
            let expected = gaussianSolve(a, Array(b[column * n ..< (column + 1) * n]), n: n)
            // cond(A) ≈ 10 here: both methods are backward stable, so 1e-12 relative leaves a wide margin.
            let scale = expected.map(abs).max()!
            for i in 0 ..< n { #expect(abs(x[column * n + i] - expected[i]) <= 1e-12 * scale, "n=\(n) i=\(i)") }
        }
    }

    @Test(arguments: [3, DenseKernels.smallOrder, 80])
    func notPositiveDefiniteReportsTheLeadingMinor(n: Int) {
        // The identity with a negative entry at position k: the leading minor of order k + 1 is the first to fail.
        let k = n / 2
        var a = [Double](repeating: 0, count: n * n)
        for i in 0 ..< n { a[i * n + i] = i == k ? -1 : 1 }
        let info = a.withUnsafeMutableBufferPointer { DenseKernels.choleskyInPlace($0.baseAddress!, n: n) }
        #expect(info == k + 1)
    }

    @Test(arguments: [1, 4, 5, 13, 64])
    func symvMatchesPlainLoop(n: Int) {
        let a = spd(n, seed: UInt64(7 + n))
        var rng = SplitMix64(seed: UInt64(3 + n))
        let x = (0 ..< n).map { _ in rng.nextUniform(-1 ... 1) }
        var y = [Double](repeating: 0, count: n)
        a.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { DenseKernels.symv(pa.baseAddress!, n: n, lda: n, x: px.baseAddress!, y: $0.baseAddress!) }
            }
        }
        for i in 0 ..< n {
            var s = 0.0, magnitude = 0.0
            for j in 0 ..< n { s += a[i * n + j] * x[j]; magnitude += abs(a[i * n + j] * x[j]) }
            #expect(abs(y[i] - s) <= 4 * Double(n) * Double.ulpOfOne * magnitude)
        }
    }
}
