import Foundation
import Testing
@testable import LinearAlgebra

/// `TailCandidates` against a full sort of each whole stream: the k-th largest exactly, the mean of the k largest to
/// summation order, for random, ascending (every batch passes the threshold, cuts every time), descending (the
/// threshold rises at once), tied and constant streams, with batches of varying width, several streams interleaved.
struct TailCandidatesTests {
    private enum Shape: CaseIterable {
        case uniform, ascending, descending, fewDistinct, constant

        func make(_ count: Int, _ rng: inout SplitMix64) -> [Double] {
            switch self {
            case .uniform: return (0 ..< count).map { _ in rng.nextUnit() * 2e4 - 1e4 }
            case .ascending: return (0 ..< count).map { Double($0) * 0.25 - 50 }
            case .descending: return (0 ..< count).map { Double(count - $0) * 0.25 - 50 }
            case .fewDistinct: return (0 ..< count).map { _ in Double(rng.nextInt(below: 4)) * 2.5 }
            case .constant: return [Double](repeating: -3.5, count: count)
            }
        }
    }

    /// The k-th largest and the mean of the k largest by sorting (the test's own reference).
    private func sortedTail(_ values: [Double], _ k: Int) -> (kth: Double, mean: Double) {
        let sorted = values.sorted(by: >)
        return (sorted[k - 1], sorted[..<k].reduce(0, +) / Double(k))
    }

    @Test(arguments: [(count: 3000, k: 30, batch: 96), (count: 1000, k: 250, batch: 40), (count: 500, k: 1, batch: 64),
                      (count: 200, k: 200, batch: 48), (count: 77, k: 5, batch: 200)])
    func matchesAFullSortOfEachStream(count: Int, k: Int, batch: Int) {
        var rng = SplitMix64(seed: UInt64(count * 31 + k))
        let shapes = Shape.allCases
        let streams = shapes.map { $0.make(count, &rng) }
        let tails = TailCandidates(streams: streams.count, tail: k, batchSize: batch, totalValues: count)
        #expect(tails.capacity == min(count, 3 * k + 2 * batch))
        var first = 0
        while first < count {
            // Varying widths, the same boundaries for every stream.
            let width = min(count - first, 1 + rng.nextInt(below: batch))
            for (s, values) in streams.enumerated() {
                values[first ..< first + width].withUnsafeBufferPointer { tails.append(s, $0) }
            }
            first += width
        }
        for (s, values) in streams.enumerated() {
            let expected = sortedTail(values, k)
            let got = tails.upperTail(s)!
            #expect(got.kthLargest == expected.kth, "\(shapes[s])")
            #expect(abs(got.meanOfLargest - expected.mean) <= 1e-13 * max(1, abs(expected.mean)), "\(shapes[s])")
        }
    }

    /// A reset stream starts afresh: its old candidates and threshold are gone.
    @Test func resetForgetsEarlierValues() {
        let tails = TailCandidates(streams: 1, tail: 2, batchSize: 4, totalValues: 16)
        #expect(tails.capacity == 14)   // the fourth batch cuts to {9, 8}, threshold 8
        for batch in [[9.0, 8, 7, 6], [5, 4, 3, 2], [1, 0, -1, -2], [0.5, 10, 11, -5]] {
            batch.withUnsafeBufferPointer { tails.append(0, $0) }
        }
        #expect(tails.upperTail(0)! == (10, 10.5))
        tails.reset(streams: 1)
        [-1.0, -2, -3, -4].withUnsafeBufferPointer { tails.append(0, $0) }
        #expect(tails.upperTail(0)! == (-2, -1.5))
    }

    /// A guessed threshold after the first batch: the result is the full sort's whenever the guess is at most the
    /// stream's k-th largest value (even equal to it), and nil whenever it is above (fewer than k values reach it);
    /// a restarted stream without a guess is exact again.
    @Test(arguments: [(count: 3000, k: 30, batch: 96), (count: 1000, k: 250, batch: 40), (count: 500, k: 1, batch: 64)])
    func aGuessedThresholdIsExactWhenItHoldsAndRefusedWhenNot(count: Int, k: Int, batch: Int) {
        var rng = SplitMix64(seed: UInt64(count + k))
        for shape in Shape.allCases {
            let values = shape.make(count, &rng)
            let expected = sortedTail(values, k)
            let sorted = values.sorted(by: >)
            // Below, at and above the k-th largest; the (k + 1)-th and (k − 1)-th largest values themselves.
            let guesses = [expected.kth - 1, expected.kth, expected.kth + 1, sorted[min(k, count - 1)], sorted[max(k - 2, 0)]]
            for guess in guesses {
                let tails = TailCandidates(streams: 1, tail: k, batchSize: batch, totalValues: count)
                var first = 0
                while first < count {
                    let width = min(count - first, batch)
                    values[first ..< first + width].withUnsafeBufferPointer { tails.append(0, $0) }
                    if first == 0 { tails.raiseThreshold(0, to: guess) }
                    first += width
                }
                let got = tails.upperTail(0)
                if guess <= expected.kth {
                    #expect(got?.kthLargest == expected.kth, "\(shape) guess \(guess)")
                    #expect(abs((got?.meanOfLargest ?? .nan) - expected.mean) <= 1e-13 * max(1, abs(expected.mean)))
                } else {
                    #expect(got == nil, "\(shape) guess \(guess) above the k-th largest \(expected.kth)")
                    tails.restart(0)
                    values.withUnsafeBufferPointer { all in
                        var first = 0
                        while first < count {
                            let width = min(count - first, batch)
                            tails.append(0, UnsafeBufferPointer(rebasing: all[first ..< first + width]))
                            first += width
                        }
                    }
                    #expect(tails.upperTail(0)?.kthLargest == expected.kth, "\(shape) after restart")
                }
            }
        }
    }
}
