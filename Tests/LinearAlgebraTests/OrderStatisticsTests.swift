import Testing
@testable import LinearAlgebra

/// Input shapes: random, heavy-tailed, ties, all equal, sorted, reverse sorted, and a few
/// patterns that defeat naive pivot choices.
private enum Shape: CaseIterable {
    case uniform, heavyTailed, fewDistinct, allEqual, ascending, descending, organPipe, sawtooth, mixedSigns

    func make(_ n: Int, _ rng: inout SplitMix64) -> [Double] {
        switch self {
        case .uniform:
            return (0..<n).map { _ in rng.nextUnit() * 2e6 - 1e6 }
        case .heavyTailed:
            // Cauchy-like: tan of a uniform angle, scaled; occasional very large losses.
            return (0..<n).map { _ in
                let u = rng.nextUnit() - 0.5
                return 1000 * u / max(1e-9, 0.5 - abs(u))
            }
        case .fewDistinct:
            return (0..<n).map { _ in Double(rng.nextInt(below: 5)) * 12.5 - 20 }
        case .allEqual:
            return [Double](repeating: 42.25, count: n)
        case .ascending:
            return (0..<n).map { Double($0) * 0.5 - 100 }
        case .descending:
            return (0..<n).map { Double(n - $0) * 0.5 - 100 }
        case .organPipe:
            return (0..<n).map { Double(min($0, n - 1 - $0)) }
        case .sawtooth:
            return (0..<n).map { i -> Double in
                let offset: Double = (i / 17) % 2 == 0 ? 0 : 0.5
                return Double(i % 17) + offset
            }
        case .mixedSigns:
            return (0..<n).map { i in
                let v = rng.nextUnit() * 1e4
                return i % 3 == 0 ? -v : (i % 7 == 0 ? 0 : v)
            }
        }
    }
}

/// Naive reference: sort descending; k-th largest and mean of the first k.
private struct NaiveTail {
    let descending: [Double]
    let prefixSums: [Double]
    init(_ values: [Double]) {
        descending = values.sorted(by: >)
        var sums = [0.0]
        sums.reserveCapacity(values.count + 1)
        var sum = 0.0
        for v in descending {
            sum += v
            sums.append(sum)
        }
        prefixSums = sums
    }
    func kth(_ k: Int) -> Double { descending[k - 1] }
    func mean(_ k: Int) -> Double { prefixSums[k] / Double(k) }
    /// Scale for the tolerance of the mean: the mean of |top k| (the naive running sum's
    /// error is bounded by a small multiple of ε·Σ|v|).
    func magnitude(_ k: Int) -> Double {
        descending[0..<k].reduce(0) { $0 + abs($1) } / Double(k)
    }
}

/// Checks one call against the naive reference, plus the documented layout of the result.
private func check(_ input: [Double], k: Int, reference: NaiveTail, label: String) {
    var values = input
    let n = values.count
    let result = OrderStatistics.upperTail(&values, count: k)
    let expectedKth = reference.kth(k)
    let expectedMean = reference.mean(k)
    let tolerance = 1e-12 * reference.magnitude(k)
    #expect(result.kthLargest == expectedKth, "\(label) n=\(n) k=\(k): kth \(result.kthLargest) != \(expectedKth)")
    #expect(abs(result.meanOfLargest - expectedMean) <= tolerance,
            "\(label) n=\(n) k=\(k): mean \(result.meanOfLargest) != \(expectedMean)")
    #expect(result.meanOfLargest >= result.kthLargest)
    // Layout: values[n-k] is the k-th largest, the larger ones follow, the rest precede.
    let m = n - k
    #expect(values[m] == expectedKth)
    let tailOK = values[m...].allSatisfy { $0 >= expectedKth }
    let headOK = values[..<m].allSatisfy { $0 <= expectedKth }
    #expect(tailOK && headOK, "\(label) n=\(n) k=\(k): not partitioned")
    #expect(values[m...].sorted(by: >) == Array(reference.descending[0..<k]),
            "\(label) n=\(n) k=\(k): tail is not the k largest")
}

@Suite("OrderStatistics")
struct OrderStatisticsTests {
    @Test("tailCount follows ⌈round(n·(1 − α), 9)⌉ clamped to [1, n]")
    func tailCountTable() {
        let table: [(n: Int, alpha: Double, k: Int)] = [
            (10000, 0.99, 100),  // 100.00000000000009 before rounding: not 101
            (365, 0.99, 4),  // 3.65
            (250, 0.975, 7),  // 6.25
            (100, 0.95, 5),  // 5.000000000000004 before rounding
            (1, 0.99, 1),  // 0.01 → 1
            (10000, 0.95, 500),
            (10000, 0.975, 250),
            (10000, 0.999, 10),
            (1000, 0.99, 10),
            (500, 0.99, 5),
            (252, 0.99, 3),  // 2.52
            (100_000, 0.99, 1000),
            (1_000_000, 0.999, 1000),
            (10, 0.5, 5),
            (10, 0, 10),
            (10, 1, 1),
            (7, 0.9999, 1),
            (3, 0.1, 3),  // 2.7 → 3
            (20, 0.9, 2),  // 1.9999999999999996 before rounding
        ]
        for row in table {
            #expect(OrderStatistics.tailCount(sampleCount: row.n, confidence: row.alpha) == row.k,
                    "tailCount(\(row.n), \(row.alpha))")
        }
    }

    @Test("hand-made cases")
    func handMade() {
        var a: [Double] = [3, 1, 2, 5, 4]
        let r = OrderStatistics.upperTail(&a, count: 2)
        #expect(r.kthLargest == 4 && r.meanOfLargest == 4.5)

        let cases: [(input: [Double], k: Int, kth: Double, mean: Double)] = [
            ([3, 1, 2, 5, 4], 1, 5, 5),
            ([3, 1, 2, 5, 4], 5, 1, 3),
            ([7], 1, 7, 7),
            ([2, 2, 1, 2], 3, 2, 2),
            ([-1, -5, -3], 2, -3, -2),
            ([1, 2], 1, 2, 2),
            ([1, 2], 2, 1, 1.5),
            ([5, 5, 5, 1, 9, 9], 3, 5, 23.0 / 3),
        ]
        for c in cases {
            var values = c.input
            let got = OrderStatistics.upperTail(&values, count: c.k)
            #expect(got.kthLargest == c.kth && got.meanOfLargest == c.mean, "\(c.input), k=\(c.k): \(got)")
        }

        // All-equal tail: the mean is exactly that value (clamped into [kth, max]).
        var g = [Double](repeating: 0.1, count: 1000)
        let rg = OrderStatistics.upperTail(&g, count: 300)
        #expect(rg.kthLargest == 0.1 && rg.meanOfLargest == 0.1)

        // Compensated summation: one huge value and many ones.
        var h = [Double](repeating: 1, count: 100)
        h[37] = 1e16
        let rh = OrderStatistics.upperTail(&h, count: 100)
        #expect(rh.meanOfLargest == (1e16 + 99) / 100)
    }

    @Test("buffer version agrees with the array version")
    func bufferVersion() {
        var rng = SplitMix64(seed: 7)
        let input = (0..<1000).map { _ in rng.nextUnit() }
        var viaArray = input
        let expected = OrderStatistics.upperTail(&viaArray, count: 10)
        var viaBuffer = input
        let got = viaBuffer.withUnsafeMutableBufferPointer { OrderStatistics.upperTail($0, count: 10) }
        #expect(got == expected)
        #expect(viaBuffer == viaArray)
    }

    @Test("deterministic: same input, same result and same final order")
    func deterministic() {
        var rng = SplitMix64(seed: 11)
        let input = (0..<10000).map { _ in rng.nextUnit() - 0.5 }
        var first = input
        var second = input
        let r1 = OrderStatistics.upperTail(&first, count: 100)
        let r2 = OrderStatistics.upperTail(&second, count: 100)
        #expect(r1 == r2)
        #expect(first == second)
    }

    @Test("matches a sort-based computation for every k on small and medium sizes")
    func exhaustiveK() {
        var rng = SplitMix64(seed: 0xBA11_A57)
        for n in [1, 2, 3, 10, 365, 1000] {
            for shape in Shape.allCases {
                let input = shape.make(n, &rng)
                let reference = NaiveTail(input)
                for k in 1...n {
                    check(input, k: k, reference: reference, label: "\(shape)")
                }
            }
        }
    }

    @Test("matches a sort-based computation on n = 10,000")
    func largeN() {
        var rng = SplitMix64(seed: 0x10_000)
        let n = 10_000
        var ks = [1, 2, 3, 10, 25, 99, 100, 101, 250, 500, 1000, 4999, 5000, 5001, 9000, 9900, 9999, 10000]
        for _ in 0..<10 { ks.append(1 + rng.nextInt(below: n)) }
        for shape in Shape.allCases {
            let input = shape.make(n, &rng)
            let reference = NaiveTail(input)
            for k in ks {
                check(input, k: k, reference: reference, label: "\(shape)")
            }
        }
    }

    @Test("many random arrays at the sizes the engine uses")
    func randomArrays() {
        var rng = SplitMix64(seed: 2024)
        for trial in 0..<300 {
            let n = [1, 2, 3, 10, 365, 1000, 10000][trial % 7]
            // Mix of continuous values and heavy ties.
            let ties = trial % 3 == 0
            let input = (0..<n).map { _ in ties ? Double(rng.nextInt(below: 4)) : rng.nextUnit() * 100 - 50 }
            let reference = NaiveTail(input)
            let k = 1 + rng.nextInt(below: n)
            check(input, k: k, reference: reference, label: "trial \(trial)")
            let kVaR = OrderStatistics.tailCount(sampleCount: n, confidence: 0.99)
            check(input, k: kVaR, reference: reference, label: "trial \(trial) (α=0.99)")
        }
    }

    @Test("NaN input (a precondition violation) still terminates within bounds")
    func nanInput() {
        // Results are unspecified; debug-build bounds checks would trap on a stray index.
        var rng = SplitMix64(seed: 5)
        for n in [1, 2, 10, 700, 10000] {
            for pattern in 0..<4 {
                var values = (0..<n).map { _ in rng.nextUnit() }
                switch pattern {
                case 0: values[n / 2] = .nan
                case 1: values[n - 1] = .nan
                case 2: for i in stride(from: 0, to: n, by: 3) { values[i] = .nan }
                default: values = [Double](repeating: .nan, count: n)
                }
                for k in Set([1, max(1, n / 100), n / 2 + 1, n]) {
                    var copy = values
                    _ = OrderStatistics.upperTail(&copy, count: k)
                    #expect(copy.count == n)
                }
            }
        }
    }

    @Test("the heapsort fallback yields the same selection")
    func fallbackPath() {
        var rng = SplitMix64(seed: 99)
        for n in [1, 2, 3, 10, 700, 5000] {
            for shape in Shape.allCases {
                let input = shape.make(n, &rng)
                let sorted = input.sorted()
                for rank in Set([0, n / 3, n / 2, n - 1]) {
                    for limit in [0, 1, 2] {
                        var values = input
                        values.withUnsafeMutableBufferPointer {
                            OrderStatistics.select($0, rank: rank, left: 0, right: n - 1, roundLimit: limit)
                        }
                        #expect(values[rank] == sorted[rank], "\(shape) n=\(n) rank=\(rank) limit=\(limit)")
                        #expect(values[..<rank].allSatisfy { $0 <= sorted[rank] })
                        #expect(values[rank...].allSatisfy { $0 >= sorted[rank] })
                    }
                }
                var all = input
                all.withUnsafeMutableBufferPointer { OrderStatistics.heapSort($0, left: 0, right: n - 1) }
                #expect(all == sorted)
            }
        }
    }
}
