import Foundation
import CKernels
import Testing
@testable import LinearAlgebra

/// The C kernels (`CKernels`) behind `DenseKernels.symv`, `DenseKernels.pairedQuadraticForms`, `RowCombination`,
/// `correlatedDraws` and `DecayedSquares`: each against a plain Swift loop written here in the documented summation
/// order (so the bits must agree exactly), and the kernel the CPU runs (AVX2 + FMA where present) against the
/// portable build, bit for bit.
/// Inputs span many binades and cancel, so a fused multiply-add where the contract has none (or the reverse), or
/// another summation order, changes the result.
@Suite struct CPUKernelsTests {
    /// Values of both signs over about 2⁻²⁰ … 2²⁰.
    func wideValues(_ count: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0 ..< count).map { _ in
            rng.nextUniform(-1 ... 1) * Double(sign: .plus, exponent: rng.nextInt(-20 ..< 21), significand: 1)
        }
    }

    /// The positions where two results differ in any bit (empty: the same bits).
    func differences(_ a: [Double], _ b: [Double]) -> [Int] {
        a.count != b.count ? [-1] : a.indices.filter { a[$0].bitPattern != b[$0].bitPattern }
    }

    // MARK: symv

    /// The documented order: per row, four lanes of fused multiply-adds, (l₀ + l₁) + (l₂ + l₃), then the tail.
    func referenceSymv(_ s: [Double], n: Int, lda: Int, x: [Double]) -> [Double] {
        (0 ..< n).map { i in
            var lanes = [Double](repeating: 0, count: 4)
            let blocked = n / 4 * 4
            for k in stride(from: 0, to: blocked, by: 4) {
                for j in 0 ..< 4 { lanes[j] = lanes[j].addingProduct(s[i * lda + k + j], x[k + j]) }
            }
            var total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
            for k in blocked ..< n { total += s[i * lda + k] * x[k] }
            return total
        }
    }

    @Test(arguments: [(1, 1), (3, 5), (4, 4), (7, 9), (13, 13), (64, 67), (193, 193)])
    func symvFollowsItsSummationOrderOnEveryBuild(n: Int, lda: Int) {
        let s = wideValues(n * lda, seed: UInt64(n)), x = wideValues(n, seed: UInt64(100 + n))
        let expected = referenceSymv(s, n: n, lda: lda, x: x)
        var dispatched = [Double](repeating: .nan, count: n), portable = dispatched
        s.withUnsafeBufferPointer { ps in
            x.withUnsafeBufferPointer { px in
                dispatched.withUnsafeMutableBufferPointer {
                    DenseKernels.symv(ps.baseAddress!, n: n, lda: lda, x: px.baseAddress!, y: $0.baseAddress!)
                }
                portable.withUnsafeMutableBufferPointer {
                    ballast_symv_portable(ps.baseAddress!, n, lda, px.baseAddress!, $0.baseAddress!)
                }
            }
        }
        #expect(differences(dispatched, expected).isEmpty)
        #expect(differences(portable, expected).isEmpty)
    }

    // MARK: paired quadratic forms

    @Test(arguments: [1, 2, 5, 31])
    func pairedQuadraticFormsFollowTheirSummationOrderOnEveryBuild(k: Int) {
        let n = 40
        let raw = wideValues(n * n, seed: 7)
        var s = raw
        for i in 0 ..< n { for j in 0 ..< n { s[i * n + j] = raw[min(i, j) * n + max(i, j)] } }   // symmetric
        // k distinct indices of S, increasing (a partial Fisher–Yates shuffle).
        var rng = SplitMix64(seed: UInt64(k))
        var pool = Array(0 ..< n)
        for p in 0 ..< k { pool.swapAt(p, p + rng.nextInt(below: n - p)) }
        let indices = pool.prefix(k).sorted()
        let x = wideValues(2 * k, seed: 11)
        // Reference: o ← fma(S_pq, x_q, o) over q < p, then t ← fma(x_p, fma(S_pp, x_p, 2·o), t), per vector.
        var expected = [0.0, 0.0]
        for v in 0 ..< 2 {
            for p in indices.indices {
                var off = 0.0
                for q in 0 ..< p { off = off.addingProduct(s[indices[p] * n + indices[q]], x[2 * q + v]) }
                let xp = x[2 * p + v]
                expected[v] = expected[v].addingProduct(xp, (off + off).addingProduct(s[indices[p] * n + indices[p]], xp))
            }
        }
        let pairs = (0 ..< k).map { SIMD2(x[2 * $0], x[2 * $0 + 1]) }
        var portable = [Double](repeating: .nan, count: 2)
        let dispatched = s.withUnsafeBufferPointer { ps in
            indices.withUnsafeBufferPointer { pi in
                pairs.withUnsafeBufferPointer { px in
                    x.withUnsafeBufferPointer { flat in
                        portable.withUnsafeMutableBufferPointer {
                            ballast_paired_quadratic_forms_portable(ps.baseAddress!, n, pi.baseAddress, flat.baseAddress,
                                                                    k, $0.baseAddress!)
                        }
                    }
                    return DenseKernels.pairedQuadraticForms(ps.baseAddress!, lda: n, indices: pi.baseAddress!,
                                                             x: px.baseAddress!, count: k)
                }
            }
        }
        #expect(differences([dispatched.x, dispatched.y], expected).isEmpty)
        #expect(differences(portable, expected).isEmpty)
    }

    // MARK: row combinations

    /// G (flat: 23 rows of count + 5), k rows of the combination at random offsets (possibly overlapping, not
    /// aligned to G's rows) and two coefficients per row.
    func combination(rows k: Int, count: Int, seed: UInt64) -> (g: [Double], offsets: [Int], c: [Double], b: [Double]) {
        let width = count + 5, rowCount = 23
        let g = wideValues(rowCount * width, seed: seed)
        var rng = SplitMix64(seed: seed &+ 1)
        let offsets = (0 ..< k).map { _ in rng.nextInt(below: rowCount) * width + rng.nextInt(below: 6) }
        return (g, offsets, wideValues(k, seed: seed &+ 2), wideValues(k, seed: seed &+ 3))
    }

    static let shapes = [(0, 0), (0, 9), (1, 1), (3, 15), (16, 16), (17, 33), (40, 100), (5, 617)]

    @Test(arguments: shapes)
    func combineSumsEachElementInRowOrderOnEveryBuild(rows k: Int, count: Int) {
        let (g, offsets, c, _) = combination(rows: k, count: count, seed: UInt64(31 * k + count))
        var expected = [Double](repeating: 0, count: count)
        for t in 0 ..< count {
            var sum = 0.0
            for q in 0 ..< k { sum += c[q] * g[offsets[q] + t] }
            expected[t] = sum
        }
        var dispatched = [Double](repeating: .nan, count: count), portable = dispatched
        g.withUnsafeBufferPointer { pg in
            offsets.withUnsafeBufferPointer { po in
                c.withUnsafeBufferPointer { pc in
                    dispatched.withUnsafeMutableBufferPointer {
                        RowCombination.combine(pg, count: count, offsets: po, coefficients: pc, into: $0)
                    }
                    portable.withUnsafeMutableBufferPointer {
                        if count > 0 { ballast_combine_rows_portable(pg.baseAddress, count, po.baseAddress, pc.baseAddress, k, $0.baseAddress) }
                    }
                }
            }
        }
        #expect(differences(dispatched, expected).isEmpty)
        #expect(differences(portable, expected).isEmpty)
    }

    @Test(arguments: shapes)
    func combineCountingNegativeCountsTheSecondSumsBelowZeroOnEveryBuild(rows k: Int, count: Int) {
        let (g, offsets, c, b) = combination(rows: k, count: count, seed: UInt64(57 * k + count))
        var expected = [Double](repeating: 0, count: count)
        var second = [Double](repeating: 0, count: count)
        for t in 0 ..< count {
            for q in 0 ..< k {
                expected[t] += c[q] * g[offsets[q] + t]
                second[t] += b[q] * g[offsets[q] + t]
            }
        }
        // A base near the middle of the second sums, so that both signs occur; a negative base counts every t for k = 0.
        let base = k == 0 ? -1 : -(second.sorted()[count / 2])
        let expectedCount = second.filter { base + $0 < 0 }.count
        var dispatched = [Double](repeating: .nan, count: count), portable = dispatched
        var scratch = [Double](repeating: .nan, count: count)
        var counts = [0, 0]
        g.withUnsafeBufferPointer { pg in
            offsets.withUnsafeBufferPointer { po in
                c.withUnsafeBufferPointer { pc in
                    b.withUnsafeBufferPointer { pb in
                        scratch.withUnsafeMutableBufferPointer { ps in
                            counts[0] = dispatched.withUnsafeMutableBufferPointer {
                                RowCombination.combineCountingNegative(pg, count: count, offsets: po, coefficients: pc, into: $0,
                                                                       countingCoefficients: pb, base: base, scratch: ps)
                            }
                            counts[1] = portable.withUnsafeMutableBufferPointer {
                                count == 0 ? 0 : ballast_combine_rows_counting_negative_portable(
                                    pg.baseAddress, count, po.baseAddress, pc.baseAddress, pb.baseAddress, k, base,
                                    $0.baseAddress, ps.baseAddress)
                            }
                        }
                    }
                }
            }
        }
        #expect(differences(dispatched, expected).isEmpty)
        #expect(differences(portable, expected).isEmpty)
        #expect(counts == [expectedCount, expectedCount])
    }

    // MARK: correlated draws

    /// The documented order, as the generator ran it before the kernel: per path, x ← 0, then one
    /// x[t] ← x[t] + z_j·Fᵀ[j, t] (multiply, then add) for t ≥ first[j] per row j in ascending order, skipping rows of
    /// zeros and zero normals.
    func referenceDraws(_ ft: [Double], n: Int, first: [Int], z: [Double]) -> [Double] {
        var x = [Double](repeating: 0, count: z.count)
        for p in 0 ..< z.count / n {
            for j in 0 ..< n where first[j] < n && z[p * n + j] != 0 {
                for t in first[j] ..< n { x[p * n + t] = x[p * n + t] + z[p * n + j] * ft[j * n + t] }
            }
        }
        return x
    }

    /// Fᵀ with rows of three kinds: upper-triangular (a Cholesky factor's), all zero (a clipped eigenvalue), dense.
    func mixedFactor(n: Int, seed: UInt64) -> (ft: [Double], first: [Int]) {
        var ft = wideValues(n * n, seed: seed)
        var first = [Int](repeating: 0, count: n)
        for j in 0 ..< n {
            switch j % 3 {
            case 0: first[j] = j
            case 1 where j % 2 == 1: first[j] = n
            default: first[j] = 0
            }
            for t in 0 ..< first[j] { ft[j * n + t] = 0 }
        }
        return (ft, first)
    }

    @Test(arguments: [(1, 1), (7, 3), (8, 4), (9, 5), (17, 9), (24, 32)])
    func correlatedDrawsSumRowsInOrderOnEveryBuild(n: Int, paths: Int) {
        let (ft, first) = mixedFactor(n: n, seed: UInt64(n))
        var z = wideValues(n * paths, seed: 5)
        z[0] = 0   // a zero normal: its row is skipped by the reference, included (as ±0 products) by the kernel
        let expected = referenceDraws(ft, n: n, first: first, z: z)
        var dispatched = [Double](repeating: .nan, count: z.count), portable = dispatched
        ft.withUnsafeBufferPointer { f in first.withUnsafeBufferPointer { fi in z.withUnsafeBufferPointer { zz in
            dispatched.withUnsafeMutableBufferPointer {
                correlatedDraws(transposedFactor: f, firstNonZero: fi, normals: zz, into: $0)
            }
            portable.withUnsafeMutableBufferPointer {
                ballast_factor_paths_portable(f.baseAddress!, n, fi.baseAddress!, zz.baseAddress!, paths, $0.baseAddress!)
            }
        } } }
        #expect(differences(dispatched, expected).isEmpty)
        #expect(differences(portable, expected).isEmpty)
    }

    // MARK: decayed squares

    /// The documented order: Horner's rule over the oldest n mod 4, four lanes with step λ⁴, lanes weighted and
    /// summed in order, u scaled by λ^(4·groups).
    func referenceDecayedSquares(_ y: ArraySlice<Double>, lambda: Double) -> Double {
        let values = Array(y), head = values.count % 4, groups = values.count / 4
        var u = 0.0
        for d in 0 ..< head { u = (values[d] * values[d]).addingProduct(lambda, u) }
        let lambda2 = lambda * lambda, lambda4 = lambda2 * lambda2
        var lanes = [0.0, 0.0, 0.0, 0.0]
        for g in 0 ..< groups {
            for j in 0 ..< 4 {
                let v = values[head + 4 * g + j]
                lanes[j] = (v * v).addingProduct(lanes[j], lambda4)
            }
        }
        let weights = [lambda2 * lambda, lambda2, lambda, 1]
        return u * pow(lambda, Double(4 * groups)) + (((lanes[0] * weights[0] + lanes[1] * weights[1]) + lanes[2] * weights[2])
            + lanes[3] * weights[3])
    }

    @Test(arguments: [1, 3, 4, 250, 365])
    func decayedSquaresFollowTheirSummationOrderAndTheDefinition(n: Int) {
        let y = wideValues(n, seed: UInt64(n)), lambda = 0.94
        let expected = referenceDecayedSquares(y[...], lambda: lambda)
        let direct = (0 ..< n).map { pow(lambda, Double(n - 1 - $0)) * y[$0] * y[$0] }.reduce(0, +)
        let (dispatched, portable) = y.withUnsafeBufferPointer {
            (DecayedSquares.sum($0, lambda: lambda), ballast_decayed_squares_portable($0.baseAddress, n, lambda))
        }
        #expect(differences([dispatched, portable], [expected, expected]).isEmpty)
        #expect(abs(dispatched - direct) <= 1e-13 * direct)
    }

    /// The rolling forecasts against a loop written here (slide, refresh below the fraction of the running largest),
    /// on a series with a volatile stretch that leaves the window (so the refresh runs), and against the definition.
    @Test func ewmaForecastsSlideAndRefreshOnEveryBuild() {
        let window = 30, days = 120, lambda = 0.94, refresh = 0x1p-10
        var y = wideValues(window + days, seed: 5).map { $0 * 1e-6 }
        for d in 10 ..< 20 { y[d] *= 1e6 }                       // leaves the window on day 20: U falls by ~10¹²
        let lambdaW = pow(lambda, Double(window)), scale = (1 - lambda) / (1 - lambdaW), multiplier = 2.33
        var expected = [Double](repeating: 0, count: days)
        var u = referenceDecayedSquares(y[0 ..< window], lambda: lambda), largest = u, refreshes = 0
        for b in 0 ..< days {
            if b > 0 {
                u = (y[b + window - 1] * y[b + window - 1] - lambdaW * (y[b - 1] * y[b - 1])).addingProduct(lambda, u)
                if u > largest {
                    largest = u
                } else if !(u >= largest * refresh) {
                    u = referenceDecayedSquares(y[b ..< b + window], lambda: lambda)
                    largest = u
                    refreshes += 1
                }
            }
            expected[b] = multiplier * max(scale * u, 0).squareRoot()
        }
        #expect(refreshes > 0)
        var dispatched = [Double](repeating: .nan, count: days), portable = dispatched
        y.withUnsafeBufferPointer { py in
            dispatched.withUnsafeMutableBufferPointer {
                DecayedSquares.rollingForecasts(py, window: window, lambda: lambda, lambdaPowerWindow: lambdaW, scale: scale,
                                                multiplier: multiplier, refreshFraction: refresh, into: $0)
            }
            portable.withUnsafeMutableBufferPointer {
                ballast_ewma_forecasts_portable(py.baseAddress, window, days, lambda, lambdaW, scale, multiplier, refresh,
                                                $0.baseAddress)
            }
        }
        #expect(differences(dispatched, expected).isEmpty)
        #expect(differences(portable, expected).isEmpty)
        // The definition, day by day: multiplier·√(scale·Σ_d λ^{age}·y_d²) over each window, to 1e-12 relative.
        for b in stride(from: 0, to: days, by: 7) {
            let direct = (0 ..< window).map { pow(lambda, Double(window - 1 - $0)) * y[b + $0] * y[b + $0] }.reduce(0, +)
            let definition = multiplier * (scale * direct).squareRoot()
            #expect(abs(dispatched[b] - definition) <= 1e-12 * definition, "day \(b)")
        }
    }
}
