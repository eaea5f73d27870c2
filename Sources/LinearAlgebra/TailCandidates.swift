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
/// k·(1 + ln(S/first batch)) candidates in all instead of S: for S = 10,000, k = 100 and batches of 160, about 500.
///
/// Deterministic: the result depends only on each stream's values, their order and the batch boundaries.
public struct TailCandidates {
    /// k: how many of the largest values each stream keeps track of.
    public let tail: Int
    /// The largest batch `append` accepts.
    public let batchSize: Int
    /// Candidates each stream can hold: room for k kept values and one whole batch, at least. A stream that never
    /// has more values than this (few values, or k close to their count) is never cut.
    public let capacity: Int
    private var values: [Double]
    private var counts: [Int]
    private var thresholds: [Double]

    /// Room for `streams` streams of batches of at most `batchSize` values, keeping track of the `tail` largest.
    /// `totalValues` (the length of each stream, when known) caps the room: a stream never needs more.
    public init(streams: Int, tail: Int, batchSize: Int, totalValues: Int) {
        precondition(tail >= 1 && batchSize >= 1 && totalValues >= tail, "TailCandidates: need 1 ≤ k ≤ values, batch ≥ 1")
        self.tail = tail
        self.batchSize = batchSize
        capacity = min(totalValues, Self.capacity(tail: tail, batchSize: batchSize))
        values = [Double](repeating: 0, count: streams * capacity)
        counts = [Int](repeating: 0, count: streams)
        thresholds = [Double](repeating: -.infinity, count: streams)
    }

    /// Room per stream: 2k + one batch. Cuts then happen at most every k values kept, each costing one selection
    /// over at most 2k + batch values.
    public static func capacity(tail: Int, batchSize: Int) -> Int { 2 * tail + batchSize }

    /// How many streams the storage holds.
    public var streams: Int { counts.count }

    /// Empties the first `streams` streams for reuse (their storage is kept).
    public mutating func reset(streams: Int) {
        precondition(streams <= counts.count, "TailCandidates: more streams than allocated")
        for s in 0 ..< streams {
            counts[s] = 0
            thresholds[s] = -.infinity
        }
    }

    /// Adds a batch of values to stream `stream`. Values must be finite.
    public mutating func append(_ stream: Int, _ batch: UnsafeBufferPointer<Double>) {
        precondition(batch.count <= batchSize, "TailCandidates: batch larger than batchSize")
        if counts[stream] + batch.count > capacity { cut(stream) }
        let threshold = thresholds[stream]
        var count = counts[stream]
        let start = stream * capacity
        values.withUnsafeMutableBufferPointer { storage in
            // Safe: count + batch.count ≤ capacity after the cut (the cut leaves k ≤ capacity − batchSize values), so
            // every store lands in this stream's slice [start, start + capacity) of the storage.
            let slot = storage.baseAddress! + start
            for v in batch {
                slot[count] = v
                count &+= Int(truncatingIfNeeded: unsafeBitCast(v >= threshold, to: UInt8.self))
            }
        }
        counts[stream] = count
    }

    /// The k-th largest value of the stream and the mean of its k largest (`OrderStatistics.upperTail` over the
    /// candidates). The stream must have seen at least k values.
    public mutating func upperTail(_ stream: Int) -> (kthLargest: Double, meanOfLargest: Double) {
        let count = counts[stream]
        precondition(count >= tail, "TailCandidates: fewer values than the tail count")
        let start = stream * capacity
        return values.withUnsafeMutableBufferPointer { storage in
            OrderStatistics.upperTail(UnsafeMutableBufferPointer(rebasing: storage[start ..< start + count]), count: tail)
        }
    }

    /// Keeps only the stream's k largest candidates and raises its threshold to the k-th of them.
    private mutating func cut(_ stream: Int) {
        let count = counts[stream], k = tail
        precondition(count >= k, "TailCandidates: a stream got more values than totalValues")
        let start = stream * capacity
        let kth = values.withUnsafeMutableBufferPointer { storage in
            let kept = UnsafeMutableBufferPointer(rebasing: storage[start ..< start + count])
            let kth = OrderStatistics.upperTail(kept, count: k).kthLargest
            // upperTail leaves the k largest at the end: move them to the front.
            for i in 0 ..< k { kept[i] = kept[count - k + i] }
            return kth
        }
        counts[stream] = k
        thresholds[stream] = kth
    }
}
