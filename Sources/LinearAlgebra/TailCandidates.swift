/// The k largest of a stream of values, for many streams at once (one per account), in bounded memory.
///
/// Each stream keeps a candidate set and a threshold t, the k-th largest value it has seen so far once it has seen
/// more than its room holds (−∞ before). A value below t can never be among the k largest of the whole stream: k
/// values already seen are ≥ t. So only values ≥ t are kept; when a stream's candidates would overflow, they are cut
/// to their k largest (`OrderStatistics.upperTail`) and t rises to the k-th of them. At the end the k-th largest
/// and the mean of the k largest of the candidates are exactly those of the whole stream (the same multiset of the k
/// largest values); the mean is summed over the candidates' order, so it may differ from a selection over the whole
/// stream in the last ulp.
///
/// With a threshold that follows the running k-th largest, a stream of S values in random order keeps about
/// k·(1 + ln(S/m)) candidates after its first m values, instead of S: for S = 10,000, k = 100 and a first cut
/// after 640 values, about 370.
///
/// Deterministic: the result depends only on each stream's values, their order and the batch boundaries.
public final class TailCandidates {
    /// k: how many of the largest values each stream keeps track of.
    public let tail: Int
    /// The largest batch `append` accepts.
    public let batchSize: Int
    /// Candidates each stream can hold: room for k kept values and one whole batch, at least. A stream that never
    /// has more values than this (few values, or k close to their count) is never cut.
    public let capacity: Int
    /// How many streams the storage holds.
    public let streams: Int
    /// Stream s's candidates are values[s·capacity ..< s·capacity + counts[s]]; thresholds[s] is its t.
    /// Owned by this object (allocated in init, freed in deinit); held as pointers so that the per-batch path
    /// makes no array uniqueness checks or reference counting.
    private let values: UnsafeMutablePointer<Double>
    private let counts: UnsafeMutablePointer<Int>
    private let thresholds: UnsafeMutablePointer<Double>
    /// guessed[s]: whether stream s was given a threshold by `raiseThreshold`.
    private let guessed: UnsafeMutablePointer<Bool>

    /// Room for `streams` streams of batches of at most `batchSize` values, keeping track of the `tail` largest.
    /// `totalValues` (the length of each stream, when known) caps the room: a stream never needs more.
    public init(streams: Int, tail: Int, batchSize: Int, totalValues: Int) {
        precondition(tail >= 1 && batchSize >= 1 && totalValues >= tail && streams >= 0,
                     "TailCandidates: need 1 ≤ k ≤ values, batch ≥ 1")
        self.tail = tail
        self.batchSize = batchSize
        self.streams = streams
        capacity = min(totalValues, Self.capacity(tail: tail, batchSize: batchSize))
        values = .allocate(capacity: streams * capacity)
        values.initialize(repeating: 0, count: streams * capacity)
        counts = .allocate(capacity: streams)
        counts.initialize(repeating: 0, count: streams)
        thresholds = .allocate(capacity: streams)
        thresholds.initialize(repeating: -.infinity, count: streams)
        guessed = .allocate(capacity: streams)
        guessed.initialize(repeating: false, count: streams)
    }

    deinit {
        values.deallocate()
        counts.deallocate()
        thresholds.deallocate()
        guessed.deallocate()
    }

    /// Room per stream: 3k + two batches. A cut comes when the candidates would overflow, i.e. after at least
    /// 2k + one batch new candidates: the first cut sees that many values at once (its threshold is already a high
    /// quantile of the stream) and later ones are rare, so the selections cover a few times k values in all.
    /// (With room for k + one batch only, a stream of 10,000 values with k = 100 in batches of 160 is cut five
    /// times.)
    public static func capacity(tail: Int, batchSize: Int) -> Int { 3 * tail + 2 * batchSize }

    /// Empties the first `streams` streams for reuse (their storage is kept).
    public func reset(streams used: Int) {
        precondition(used <= streams, "TailCandidates: more streams than allocated")
        counts.update(repeating: 0, count: used)
        thresholds.update(repeating: -.infinity, count: used)
        guessed.update(repeating: false, count: used)
    }

    /// Empties stream `stream` alone (for running it again).
    public func restart(_ stream: Int) {
        precondition(stream >= 0 && stream < streams, "TailCandidates: no such stream")
        counts[stream] = 0
        thresholds[stream] = -.infinity
        guessed[stream] = false
    }

    /// Raises the stream's threshold to `guess` when that is higher, and drops the candidates below it: the
    /// stream then keeps only values ≥ the guess. Unlike the thresholds the stream sets itself, a guess is not
    /// known to be at most the stream's k-th largest value, so `upperTail` checks it: when at least k candidates
    /// remain, at least k of the stream's values are ≥ the guess, so its k-th largest is ≥ the guess, and also ≥
    /// every later threshold (each the k-th largest of some of its values): its k largest values were all kept and
    /// the result is exact. Otherwise `upperTail` gives nil and the stream must be run again (`restart`) without
    /// a guess.
    public func raiseThreshold(_ stream: Int, to guess: Double) {
        precondition(stream >= 0 && stream < streams, "TailCandidates: no such stream")
        guard guess > thresholds[stream] else { return }
        thresholds[stream] = guess
        guessed[stream] = true
        let slot = candidates(stream)
        var count = 0
        for v in slot {
            slot[count] = v
            count &+= Int(truncatingIfNeeded: unsafeBitCast(v >= guess, to: UInt8.self))
        }
        counts[stream] = count
    }

    /// Adds a batch of values to stream `stream`. Values must be finite.
    public func append(_ stream: Int, _ batch: UnsafeBufferPointer<Double>) {
        precondition(stream >= 0 && stream < streams && batch.count <= batchSize, "TailCandidates: stream or batch size")
        if counts[stream] + batch.count > capacity { cut(stream) }
        let threshold = thresholds[stream]
        var count = counts[stream]
        // Safe: count + batch.count ≤ capacity after the cut (the cut leaves k ≤ capacity − batchSize values), so
        // every store lands in this stream's slice [s·capacity, (s + 1)·capacity) of the storage.
        let slot = values + stream * capacity
        for v in batch {
            slot[count] = v
            count &+= Int(truncatingIfNeeded: unsafeBitCast(v >= threshold, to: UInt8.self))
        }
        counts[stream] = count
    }

    /// The k-th largest value of the stream and the mean of its k largest (`OrderStatistics.upperTail` over the
    /// candidates); nil when a guessed threshold (`raiseThreshold`) left fewer than k candidates. The stream must
    /// have seen at least k values.
    public func upperTail(_ stream: Int) -> (kthLargest: Double, meanOfLargest: Double)? {
        precondition(stream >= 0 && stream < streams, "TailCandidates: no such stream")
        precondition(guessed[stream] || counts[stream] >= tail, "TailCandidates: fewer values than the tail count")
        guard counts[stream] >= tail else { return nil }
        return OrderStatistics.upperTail(candidates(stream), count: tail)
    }

    /// Keeps only the stream's k largest candidates and raises its threshold to the k-th of them.
    private func cut(_ stream: Int) {
        let count = counts[stream], k = tail
        precondition(count >= k, "TailCandidates: a stream got more values than totalValues")
        let kept = candidates(stream)
        let kth = OrderStatistics.upperTail(kept, count: k).kthLargest
        // upperTail leaves the k largest at the end: move them to the front.
        for i in 0 ..< k { kept[i] = kept[count - k + i] }
        counts[stream] = k
        thresholds[stream] = max(thresholds[stream], kth)
    }

    /// The stream's candidates (valid until the next `append` or `reset`).
    private func candidates(_ stream: Int) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(start: values + stream * capacity, count: counts[stream])
    }
}
