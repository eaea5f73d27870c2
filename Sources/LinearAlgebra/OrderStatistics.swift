import Foundation

/// Upper-tail order statistics for historical and Monte Carlo VaR/ES (METHODOLOGY "Parametric VaR and ES"):
/// VaR = the k-th largest loss, ES = the mean of the k largest losses.
///
/// Selection is Floyd–Rivest (CACM 1975, algorithm 489: the pivot is selected from a sample
/// so that one pass over n elements leaves only O(n^(2/3)·√log n) plus the smaller side) with
/// three changes: the sample is strided over the whole range (robust to sorted or clustered
/// input), the pivot offset uses the binomial deviation at the target quantile (tighter in
/// the tails), and partitioning is three-way and branch-free (fast on unpredictable data and
/// on ties). An introselect-style guard heapsorts the remaining range if a loop runs more
/// than ~2·log₂(n) rounds, bounding the worst case at O(n log n). Everything is
/// deterministic (no random pivots) and allocation-free.
///
/// Measured (release, x86-64): n = 10,000, k = 100 in about 6 µs, against about 500 µs for a
/// full sort.
public enum OrderStatistics {
    /// The tail count (METHODOLOGY "Historical VaR and ES"): k = ⌈round(n·(1 − α), 9)⌉, clamped to [1, n].
    ///
    /// Rounding n·(1 − α) to 9 decimals first removes the binary representation error of α,
    /// so n = 10,000, α = 0.99 gives 100 (not 101); n = 365, α = 0.99 gives 4 (3.65 → 4);
    /// n = 250, α = 0.975 gives 7 (6.25 → 7).
    ///
    /// - Precondition: n ≥ 1 and 0 ≤ α ≤ 1.
    public static func tailCount(sampleCount n: Int, confidence alpha: Double) -> Int {
        precondition(n >= 1, "tailCount: sample count must be at least 1")
        precondition(alpha >= 0 && alpha <= 1, "tailCount: confidence must be in [0, 1]")
        let exact = Double(n) * (1 - alpha)
        let scaled = exact * 1e9
        // Below 2^52 the scaled value still has a fractional part to round away; above it
        // is already an integer and rounding to 9 decimals changes nothing.
        let rounded = scaled < 0x1p52 ? scaled.rounded(.toNearestOrAwayFromZero) / 1e9 : exact
        let k = rounded.rounded(.up)
        if k <= 1 { return 1 }
        if k >= Double(n) { return n }
        return Int(k)
    }

    /// The k-th largest value of `values` and the mean of the k largest values.
    ///
    /// Finds the element of ascending rank n − k by selection (Floyd–Rivest, expected O(n),
    /// no full sort, no allocation) and then sums values[n − k ..< n] in index order with
    /// compensated (TwoSum) summation, so the mean is accurate to about one ulp. The mean is
    /// clamped into [kthLargest, max], so ES ≥ VaR always holds and an all-equal tail gives
    /// exactly that value.
    ///
    /// On return `values` is reordered: `values[n − k]` holds the k-th largest value, the
    /// k − 1 larger ones are in `values[n − k + 1 ..< n]` (in no particular order) and the
    /// rest are in `values[0 ..< n − k]`. Deterministic: the result and the final order depend
    /// only on the input values and their order. `kthLargest` depends only on the multiset
    /// of values; `meanOfLargest` may differ in the last ulp if the input is permuted
    /// (different summation order).
    ///
    /// - Precondition: 1 ≤ k ≤ values.count. All values must be finite. NaN is not checked
    ///   (that would cost a pass): with NaNs the call still terminates and stays in bounds,
    ///   but the results are unspecified.
    public static func upperTail(
        _ values: UnsafeMutableBufferPointer<Double>, count k: Int
    ) -> (kthLargest: Double, meanOfLargest: Double) {
        let n = values.count
        precondition(k >= 1 && k <= n, "upperTail: need 1 <= k <= values.count")
        let m = n - k
        if k == 1 {
            // Plain maximum, moved to the end to keep the documented layout.
            var best = n - 1
            for i in 0..<(n - 1) where values[i] > values[best] { best = i }
            values.swapAt(best, n - 1)
            return (values[n - 1], values[n - 1])
        }
        select(values, rank: m, left: 0, right: n - 1)

        let kth = values[m]
        var sum = 0.0
        var compensation = 0.0
        var largest = kth
        for i in m..<n {
            let v = values[i]
            // TwoSum (Knuth): t + err == sum + v exactly.
            let t = sum + v
            let vv = t - sum
            let err = (sum - (t - vv)) + (v - vv)
            sum = t
            compensation += err
            if v > largest { largest = v }
        }
        let mean = (sum + compensation) / Double(k)
        return (kth, min(max(mean, kth), largest))
    }

    /// Convenience over an array: reorders `values` as the buffer version does.
    public static func upperTail(
        _ values: inout [Double], count k: Int
    ) -> (kthLargest: Double, meanOfLargest: Double) {
        values.withUnsafeMutableBufferPointer { upperTail($0, count: k) }
    }

    // MARK: - Selection

    // Memory safety: every access below goes through the buffer's subscript or swapAt with
    // an index proven to lie in [left, right] ⊆ [0, count); those subscripts are bounds-checked
    // in debug builds (so the tests check the proofs) and unchecked in release builds.

    /// Floyd–Rivest SELECT (CACM 18(3), 1975, algorithm 489), iterative outer loop.
    /// Postcondition: a[rank] holds the value of ascending rank `rank` within [left, right],
    /// a[left ..< rank] ≤ a[rank] ≤ a[rank + 1 ... right].
    /// `roundLimit` overrides the fallback threshold (tests use it to exercise the fallback).
    static func select(
        _ a: UnsafeMutableBufferPointer<Double>, rank k: Int, left initialLeft: Int, right initialRight: Int,
        roundLimit: Int? = nil
    ) {
        var left = initialLeft
        var right = initialRight
        let size = right - left + 1
        // Introselect-style guard: each round normally shrinks the range by a large factor
        // (and removes every copy of its pivot, so ties cannot stall it), so ~2·log₂(size)
        // rounds suffice; beyond that the range is heapsorted. A NaN pivot makes no progress
        // and ends up there too.
        let roundLimit = roundLimit ?? 2 * (Int.bitWidth - size.leadingZeroBitCount) + 8
        var rounds = 0
        while right > left {
            rounds += 1
            if rounds > roundLimit {
                heapSort(a, left: left, right: right)
                return
            }
            if right - left > 600 {
                placeFloydRivestPivot(a, rank: k, left: left, right: right)
            } else if right - left >= smallSampleMinimum - 1 {
                placeSampledPivot(a, rank: k, left: left, right: right)
            }
            // Three-way partition of [left, right] around t = a[k] in up to two passes:
            // [left, lt) < t, then (only if k ≥ lt) [lt, store) == t and [store, right] > t.
            // The loops are branch-free (Lomuto with an unconditional swap and a 0/1
            // increment), which matters because the outcome of `x < t` is unpredictable:
            // about 3x faster than a branchy Hoare partition on random data, 4x on ties.
            // All indices stay within [left, right]: read runs over that range and
            // left ≤ store ≤ read. The 0/1 comes from the comparison's byte via
            // unsafeBitCast(Bool → UInt8), which is well defined (Bool is one byte holding 0
            // or 1); `x < t ? 1 : 0` is compiled to a branch by LLVM here.
            let t = a[k]
            var store = left
            for read in left...right {
                let x = a[read]
                a[read] = a[store]
                a[store] = x
                store &+= Int(truncatingIfNeeded: unsafeBitCast(x < t, to: UInt8.self))
            }
            let lt = store
            if k < lt {
                right = lt - 1  // excludes t itself, which is not < t: progress
                continue
            }
            // [lt, right] holds no value < t; gather the ones equal to t at its front.
            for read in lt...right {
                let x = a[read]
                a[read] = a[store]
                a[store] = x
                store &+= Int(truncatingIfNeeded: unsafeBitCast(x <= t, to: UInt8.self))
            }
            if k < store { return }  // a[k] == t and everything is in place
            left = store  // store > lt for finite t (t itself was counted): progress
        }
    }

    /// Ranges from this size up to 601 elements get a sampled pivot (`placeSampledPivot`); smaller ones partition
    /// around whatever a[k] holds.
    static let smallSampleMinimum = 64

    /// Floyd–Rivest's pivot: selects within a sample of s ≈ n^(2/3)/2 elements gathered into a window around k, so
    /// that a[k] becomes a pivot whose rank in [left, right] is close to k but, with high probability, on the side
    /// that leaves the smaller part.
    private static func placeFloydRivestPivot(_ a: UnsafeMutableBufferPointer<Double>, rank k: Int, left: Int,
                                              right: Int) {
        let n = Double(right - left + 1)
        let i = Double(k - left + 1)
        let z = log(n)
        let s = 0.5 * exp(2 * z / 3)
        // Offset of the sample rank: √z standard deviations of the rank of the sample p-quantile (p = i/n).
        // Floyd–Rivest use the median's deviation (p = ½) for every k; the binomial p(1 − p) keeps the pivot much
        // closer to k in the tails (VaR: p ≈ 0.99), saving most of a second pass.
        let p = i / n
        let sd = (z * s * p * (1 - p) * (n - s) / n).squareRoot() * (i - n / 2 < 0 ? -1 : 1)
        let lo = Int((Double(k) - i * s / n + sd).rounded(.down))
        let hi = Int((Double(k) + (n - i) * s / n + sd).rounded(.down))
        // Clamp so that left ≤ window.lowerBound ≤ k ≤ window.upperBound ≤ right.
        let window = min(max(left, lo), k) ... max(min(right, hi), k)
        selectInStridedSample(a, rank: k, left: left, right: right, window: window)
    }

    /// Puts at a[k] the element of proportional rank in an evenly strided sample of about √size elements of
    /// [left, right], so that the partition around it leaves close to k instead of a random fraction of the range.
    private static func placeSampledPivot(_ a: UnsafeMutableBufferPointer<Double>, rank k: Int, left: Int, right: Int) {
        let size = right - left + 1
        let w = Int(Double(size).squareRoot())
        let offset = (k - left) * (w - 1) / (size - 1)
        let newRight = min(right, k - offset + w - 1)
        let newLeft = max(left, newRight - w + 1)
        selectInStridedSample(a, rank: k, left: left, right: right, window: newLeft ... newRight)
    }

    /// Fills `window` (⊆ [left, right], holding k) with an evenly strided sample of the whole range — instead of
    /// the contiguous window of the original Floyd–Rivest, which assumes random order: sorted, trending or
    /// volatility-clustered inputs then still get a good pivot — and selects rank k within it. Positions:
    /// window.lowerBound + j ≤ window.upperBound and left + j·stride ≤ left + (w−1)·(size/w) < left + size, both in
    /// [left, right].
    private static func selectInStridedSample(_ a: UnsafeMutableBufferPointer<Double>, rank k: Int, left: Int,
                                              right: Int, window: ClosedRange<Int>) {
        let w = window.count
        let stride = (right - left + 1) / w
        if stride > 1 {
            for j in 0 ..< w { a.swapAt(window.lowerBound + j, left + j * stride) }
        }
        select(a, rank: k, left: window.lowerBound, right: window.upperBound)
    }

    /// In-place heapsort of a[left ... right]: the O(n log n) fallback of `select`.
    static func heapSort(_ a: UnsafeMutableBufferPointer<Double>, left: Int, right: Int) {
        let count = right - left + 1
        if count < 2 { return }
        var start = count / 2
        while start > 0 {
            start -= 1
            siftDown(a, base: left, root: start, end: count)
        }
        var end = count - 1
        while end > 0 {
            a.swapAt(left, left + end)
            siftDown(a, base: left, root: 0, end: end)
            end -= 1
        }
    }

    /// Max-heap sift-down over heap positions [0, end), stored at a[base + position].
    private static func siftDown(_ a: UnsafeMutableBufferPointer<Double>, base: Int, root: Int, end: Int) {
        var parent = root
        while true {
            var child = 2 * parent + 1
            if child >= end { return }
            if child + 1 < end && a[base + child + 1] > a[base + child] { child += 1 }
            if !(a[base + child] > a[base + parent]) { return }
            a.swapAt(base + child, base + parent)
            parent = child
        }
    }
}
