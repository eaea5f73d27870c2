import LinearAlgebra
import RiskModel

/// The sparse accounts of one task (several blocks of accounts), computed panel by panel: paths [p, p + P) of every
/// account in turn, then the next P paths. Each n × P panel of the scenario moves G is read from memory once per
/// task and then from the core's cache by every account, instead of every account streaming its rows of the whole
/// n × S matrix from memory. Each account's losses of a panel go through its `TailCandidates` stream, which keeps
/// only the losses that can still be among its k largest, so the final selection runs over a few hundred values
/// instead of S. With independent scenarios (Monte Carlo) the stream's threshold is guessed from the account's
/// first panel (`guessQuantile`), checked at the end, and the account computed again without a guess when the
/// check fails.
///
/// Every loss L_{a,s} is summed exactly as by `RowCombination.combine` (holding order, from 0), so its value does not depend on
/// the panel width or on which accounts share a task; VaR and the liquidation counts are those of a full selection
/// over every path, ES may differ from it in the last ulp (summation order of the candidates).
struct SparsePanelWorkspace {
    /// Bytes of G one panel spans (n × P doubles): a quarter of a 1 MB L2, half of a 512 KB one, leaving room for
    /// the accounts' coefficients, candidates and the panel's losses.
    static let panelBytes = 256 * 1024

    /// Candidate storage per task (accounts × `TailCandidates.capacity` doubles) the task size aims for.
    static let taskCandidateBytes = 2 * 1024 * 1024

    /// Paths per panel are a multiple of this: the scenarios `RowCombination` sums per step.
    static let pathStep = 16

    /// Paths per panel: as many as fit `panelBytes` for n assets, a multiple of `pathStep`, at most S.
    static func panelPaths(assets: Int, scenarios: Int) -> Int {
        let width = pathStep
        let fitting = panelBytes / (8 * max(assets, 1)) / width * width
        return min(scenarios, max(width, fitting))
    }

    /// Most accounts one task sweeps together.
    static let taskAccounts = 512

    /// Blocks of accounts per task: as many as keep the task's candidates within `taskCandidateBytes` and its
    /// accounts within `taskAccounts`, at least 1.
    static func blocksPerTask(tail: Int, assets: Int, scenarios: Int, blockSize: Int) -> Int {
        let paths = panelPaths(assets: assets, scenarios: scenarios)
        let capacity = min(scenarios, TailCandidates.capacity(tail: tail, batchSize: paths))
        let accounts = min(taskAccounts, taskCandidateBytes / (8 * capacity))
        return max(1, accounts / blockSize)
    }

    let scenarios: Int
    let panelWidth: Int
    /// The task's sparse accounts (valid ones only), in account order, and each one's holdings with a non-zero
    /// exposure: rows `holdingStart[slot] ..< holdingStart[slot + 1]` of the lists below.
    private var accounts: [Int] = []
    private var holdingStart: [Int] = [0]
    /// Offset of the holding's row in G (asset index × S), −exposure (USD), buffer sensitivity b (USD).
    private var rowOffsets: [Int] = []
    private var lossCoefficients: [Double] = []
    private var bufferCoefficients: [Double] = []
    /// Σ b over all the account's holdings (USD); whether its buffers are summed over the paths; its breach count
    /// when settled without summing (`LossJob.settledBreaches`), −1 otherwise.
    private var bufferBase: [Double] = []
    private var counting: [Bool] = []
    private var settled: [Int] = []
    /// One panel's losses of the current account, and its buffer partial sums between row groups (P each).
    private var panelLosses: [Double]
    private var partial: [Double]
    private let tails: TailCandidates

    init(assets: Int, scenarios: Int, tail: Int, accountsPerTask: Int) {
        self.scenarios = scenarios
        panelWidth = Self.panelPaths(assets: assets, scenarios: scenarios)
        panelLosses = [Double](repeating: 0, count: panelWidth)
        partial = [Double](repeating: 0, count: panelWidth)
        tails = TailCandidates(streams: accountsPerTask, tail: tail, batchSize: panelWidth, totalValues: scenarios)
    }

    /// Forgets the previous task's accounts.
    mutating func clear() {
        accounts.removeAll(keepingCapacity: true)
        holdingStart.removeAll(keepingCapacity: true)
        holdingStart.append(0)
        rowOffsets.removeAll(keepingCapacity: true)
        lossCoefficients.removeAll(keepingCapacity: true)
        bufferCoefficients.removeAll(keepingCapacity: true)
        bufferBase.removeAll(keepingCapacity: true)
        counting.removeAll(keepingCapacity: true)
        settled.removeAll(keepingCapacity: true)
    }

    /// Adds account `a` (valid) with its holdings' rows and coefficients.
    mutating func add(_ a: Int, _ job: LossJob) {
        let book = job.book, assessment = job.assessment
        let known = job.settledBreaches(a)
        let counts = job.sumsBuffers(a)
        var base = 0.0
        for h in book.holdings(of: a) {
            let e = assessment.exposure[h]
            let b = counts ? ParametricRiskCalculator.bufferSensitivity(h, assessment, job.liquidationRatio!) : 0
            base += b
            guard e != 0 else { continue }   // a zero-quantity holding moves nothing (and has b = 0)
            rowOffsets.append(Int(book.assetIndex[h]) * scenarios)
            lossCoefficients.append(-e)
            bufferCoefficients.append(b)
        }
        accounts.append(a)
        holdingStart.append(rowOffsets.count)
        bufferBase.append(base)
        counting.append(counts)
        settled.append(known ?? -1)
    }

    /// Every added account's VaR/ES (× lossScale) and liquidation probability, written to `outputs`.
    mutating func compute(_ job: LossJob, moves: UnsafeBufferPointer<Double>, _ outputs: LossOutputs) {
        let slots = accounts.count
        guard slots > 0 else { return }
        precondition(slots <= tails.streams, "SparsePanelWorkspace: more accounts than candidate streams")
        tails.reset(streams: slots)
        var breaches = [Int](repeating: 0, count: slots)
        sweep(Array(0 ..< slots), moves: moves, guessing: job.guessesThresholds, breaches: &breaches)
        var results = (0 ..< slots).map { tails.upperTail($0) }
        // A stream whose guessed threshold is not proven (fewer than k losses above it) runs again without one.
        let unproven = (0 ..< slots).filter { results[$0] == nil }
        for slot in unproven {
            tails.restart(slot)
            breaches[slot] = 0
        }
        if !unproven.isEmpty {
            sweep(unproven, moves: moves, guessing: false, breaches: &breaches)
            for slot in unproven { results[slot] = tails.upperTail(slot) }
        }
        for slot in 0 ..< slots {
            let a = accounts[slot]
            // Safe to unwrap: a stream run without a guess always has its tail.
            let (kth, mean) = results[slot]!
            outputs.valueAtRisk[a] = kth * job.lossScale
            outputs.expectedShortfall[a] = mean * job.lossScale
            if counting[slot] {
                outputs.liquidationProbability[a] = Double(breaches[slot]) / Double(scenarios)
            } else if settled[slot] >= 0 {
                outputs.liquidationProbability[a] = Double(settled[slot]) / Double(scenarios)
            }
        }
    }

    /// Expected number of losses above a guessed threshold, in units of k: room for the error of a 1-panel
    /// estimate of the spread and for tails thinner than the normal's, few enough that a stream is seldom cut.
    static let guessedCandidates = 2.5

    /// z of the guessed threshold mean + z·sd (from an account's first panel of losses): the normal quantile that
    /// about `guessedCandidates`·k of the S losses exceed. Nil when there is nothing to gain: a single panel, or
    /// a tail so wide that the guess would keep most losses.
    static func guessQuantile(tail: Int, scenarios: Int, panelWidth: Int) -> Double? {
        let fraction = guessedCandidates * Double(tail) / Double(scenarios)
        guard scenarios > panelWidth, fraction < 0.25 else { return nil }
        return NormalDistribution.quantile(1 - fraction)
    }

    /// Runs the accounts of `slots` panel by panel into their candidate streams, adding their breaches. With
    /// `guessing`, each stream's threshold is raised after the first panel to mean + z·sd of that panel's losses
    /// (`guessQuantile`): most losses then never enter the candidates and few streams are ever cut (the caller
    /// runs a stream whose guess `TailCandidates.upperTail` cannot prove again without one).
    private mutating func sweep(_ slots: [Int], moves: UnsafeBufferPointer<Double>, guessing: Bool,
                                breaches: inout [Int]) {
        let (starts, counting, bufferBase, tails) = (holdingStart, counting, bufferBase, tails)
        let (scenarios, panelWidth) = (scenarios, panelWidth)
        let z = guessing ? Self.guessQuantile(tail: tails.tail, scenarios: scenarios, panelWidth: panelWidth) : nil
        rowOffsets.withUnsafeBufferPointer { offsets in
        lossCoefficients.withUnsafeBufferPointer { c in
        bufferCoefficients.withUnsafeBufferPointer { b in
        panelLosses.withUnsafeMutableBufferPointer { out in
        partial.withUnsafeMutableBufferPointer { scratch in
            var first = 0
            while first < scenarios {
                let width = min(panelWidth, scenarios - first)
                // Safe: the view starts inside G (first < S ≤ n·S) and ends where G ends.
                let panel = UnsafeBufferPointer(rebasing: moves[first...])
                for slot in slots {
                    let rows = starts[slot] ..< starts[slot + 1]
                    let lists = HoldingRows(offsets: UnsafeBufferPointer(rebasing: offsets[rows]),
                                            loss: UnsafeBufferPointer(rebasing: c[rows]),
                                            buffer: UnsafeBufferPointer(rebasing: b[rows]))
                    breaches[slot] += Self.panelLosses(lists, counting: counting[slot], base: bufferBase[slot],
                                                       panel: panel, width: width, into: out, scratch: scratch)
                    let losses = UnsafeBufferPointer(rebasing: out[0 ..< width])
                    tails.append(slot, losses)
                    if first == 0, let z { tails.raiseThreshold(slot, to: Self.guess(losses, z: z)) }
                }
                first += width
            }
        }
        }
        }
        }
        }
    }

    /// mean + z·sd of a panel's losses (sd with divisor P).
    @inline(__always)
    private static func guess(_ losses: UnsafeBufferPointer<Double>, z: Double) -> Double {
        var total = 0.0
        for v in losses { total += v }
        let mean = total / Double(losses.count)
        var squares = 0.0
        for v in losses { squares += (v - mean) * (v - mean) }
        return mean + z * (squares / Double(losses.count)).squareRoot()
    }

    /// One account's holdings with a non-zero exposure: row offsets in G, −exposure, buffer sensitivity.
    struct HoldingRows {
        let offsets: UnsafeBufferPointer<Int>
        let loss: UnsafeBufferPointer<Double>
        let buffer: UnsafeBufferPointer<Double>
    }

    /// One account's losses over a panel's `width` paths into `out` (`panel` starts at the panel's first path of
    /// asset 0); returns its breaches among them (0 when it gets no liquidation count).
    @inline(__always)
    private static func panelLosses(_ rows: HoldingRows, counting: Bool, base: Double, panel: UnsafeBufferPointer<Double>,
                                    width: Int, into out: UnsafeMutableBufferPointer<Double>,
                                    scratch: UnsafeMutableBufferPointer<Double>) -> Int {
        guard counting else {
            RowCombination.combine(panel, count: width, offsets: rows.offsets, coefficients: rows.loss, into: out)
            return 0
        }
        return RowCombination.combineCountingNegative(panel, count: width, offsets: rows.offsets,
                                                      coefficients: rows.loss, into: out,
                                                      countingCoefficients: rows.buffer, base: base, scratch: scratch)
    }
}
