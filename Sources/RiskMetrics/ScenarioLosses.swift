import LinearAlgebra
import RiskModel

// Shared machinery of historical and Monte Carlo VaR/ES (METHODOLOGY "Parametric VaR and ES"): per-account losses over a matrix of
// scenario moves, their upper-tail order statistics, and liquidation counts. Both methods reduce to the same
// problem once every scenario is turned into relative price moves G_{s,i} = exp(r_{s,i}) − 1 (full revaluation):
//
//     L_{a,s} = −Σ_i e_{a,i}·G_{s,i}                       (loss of account a under scenario s)
//     breach_{a,s} = Σ_i b_{a,i}·(1 + G_{s,i}) < 0          (liquidatable at the horizon, METHODOLOGY "Parametric VaR and ES")
//
// computed over fixed blocks of accounts, with the same per-block dense/sparse kernel choice as
// `ParametricRiskCalculator`. Memory stays bounded: G itself (n × S, shared read-only), and per worker the tail
// candidates of a task's sparse accounts (`SparsePanelWorkspace`) or one (2·blockSize) × S product (dense),
// selected in place and reused — never an accounts × scenarios matrix.

/// Scenario-based (historical or Monte Carlo) VaR/ES per account and for the book, with the liquidation
/// probability per account. Losses are positive USD.
public struct ScenarioRisk: Sendable {
    /// The k-th largest scenario loss per account (× √h for historical); NaN for invalid accounts.
    /// May be negative for an account that gains in all but k − 1 scenarios.
    public var valueAtRisk: [Double]
    /// Mean of the k largest scenario losses per account (× √h for historical); ≥ `valueAtRisk`.
    public var expectedShortfall: [Double]
    /// Share of the scenarios in which the account is liquidatable at the horizon; NaN without debt, for invalid
    /// accounts, and for every account of a historical run.
    public var liquidationProbability: [Double]
    /// The book as one portfolio (all valid accounts' exposures summed per asset).
    public var bookValueAtRisk: Double
    public var bookExpectedShortfall: Double
    /// W (historical) or S (Monte Carlo).
    public var scenarioCount: Int
    /// k = ⌈round(count·(1 − α), 9)⌉ (`OrderStatistics.tailCount`).
    public var tailCount: Int
    /// Floating-point operations of the dense block products, for GFLOP/s: 2·rows·n·(S + |U|) per screened dense
    /// block (the single-precision product over all S paths and the double-precision one over the candidates'
    /// union U), 2·rows·n·S per block computed in full.
    public var matrixFlops: Double
    /// Blocks computed with dense products, and blocks computed from each account's own rows of G.
    public var denseBlocks: Int
    public var sparseBlocks: Int
    /// Worker-seconds spent in dense and in sparse blocks (loss products, liquidation counts and tail selection),
    /// summed over workers; diagnostics only (not deterministic).
    public var denseSeconds: Double
    public var sparseSeconds: Double
    /// Wall seconds spent building the scenario moves (G = exp(R) − 1, or the Monte Carlo draws).
    public var scenarioSeconds: Double

    public init(valueAtRisk: [Double], expectedShortfall: [Double], liquidationProbability: [Double],
                bookValueAtRisk: Double, bookExpectedShortfall: Double, scenarioCount: Int, tailCount: Int,
                matrixFlops: Double = 0, denseBlocks: Int = 0, sparseBlocks: Int = 0, denseSeconds: Double = 0,
                sparseSeconds: Double = 0, scenarioSeconds: Double = 0) {
        self.valueAtRisk = valueAtRisk
        self.expectedShortfall = expectedShortfall
        self.liquidationProbability = liquidationProbability
        self.bookValueAtRisk = bookValueAtRisk
        self.bookExpectedShortfall = bookExpectedShortfall
        self.scenarioCount = scenarioCount
        self.tailCount = tailCount
        self.matrixFlops = matrixFlops
        self.denseBlocks = denseBlocks
        self.sparseBlocks = sparseBlocks
        self.denseSeconds = denseSeconds
        self.sparseSeconds = sparseSeconds
        self.scenarioSeconds = scenarioSeconds
    }
}

/// Losses of every account over a matrix of scenario moves, reduced to VaR/ES (and liquidation counts) block by
/// block. Used by `HistoricalRiskCalculator` and `MonteCarloRiskCalculator`.
public enum ScenarioLossCalculator {
    /// Accounts per block. Fixed (never derived from the thread count) so results never depend on it. A dense block
    /// needs a (2·blockSize) × S product buffer per worker: 10 MB at S = 10,000.
    public static let blockSize = BlockPlan.scenarioLossAccounts

    /// Dense: one dgemm per block, rows −e (and b for accounts with debt) scattered over all n assets, times G
    /// (n × S). Sparse: per account, its own k rows of G combined in registers (k multiply-adds per scenario, 2k
    /// with debt), panel by panel of paths over the sparse accounts of up to 8 blocks (`SparsePanelWorkspace`).
    public typealias Kernel = BlockKernel

    /// How many times more multiply-adds per second one-thread dgemm sustains than the sparse row-combination loop
    /// (measured in release on the development machine, AMD EPYC Zen 5, 200 assets, 10,000 paths: a dense block
    /// runs at about 23 G multiply-adds/s (46 GFLOP/s, AVX-512 OpenBLAS), the sparse loop at about 8 G/s in 256-bit
    /// AVX2 registers).
    public static let denseEfficiency = 3.0

    /// Per-worker bytes of a task's sparse accounts: their tail candidates (what a task's size aims for) and
    /// coefficient lists.
    public static let sparseTaskBytes = 2 * SparsePanelWorkspace.taskCandidateBytes

    /// Computes every account's scenario VaR/ES (and liquidation probability when `liquidationRatio` is given).
    ///
    /// - Parameters:
    ///   - moves: G laid out asset-major, n × S: row j holds exp(r) − 1 of asset j in each of the S scenarios.
    ///     Entries must be finite.
    ///   - confidence: α; k = `OrderStatistics.tailCount(sampleCount: S, confidence: α)`.
    ///   - lossScale: factor applied to the order statistics (√h for historical, 1 for Monte Carlo).
    ///   - liquidationRatio: when given, each account with debt gets the share of scenarios with
    ///     Σ_i b_i·(1 + G_{s,i}) < 0, b_i = `ParametricRiskCalculator.bufferSensitivity`; nil: all NaN.
    ///   - workers: threads (`Parallel.forEachBlock`); OpenBLAS runs single-threaded inside.
    ///   - independentScenarios: the scenarios are independent draws in no particular order (Monte Carlo paths),
    ///     so that an account's first panel of losses is a fair sample of all of them: the sparse kernel then
    ///     guesses each account's tail threshold from it (`SparsePanelWorkspace`). Only the speed depends on it.
    public static func compute(book: Book, assessment: CollateralAssessment, moves: Matrix, confidence: Double,
                               lossScale: Double, liquidationRatio: Double?, workers: Int,
                               kernel: Kernel = .automatic, independentScenarios: Bool = false) -> ScenarioRisk {
        let n = moves.rows
        let scenarios = moves.columns
        precondition(scenarios >= 1, "scenario losses need at least one scenario")
        precondition(book.assetIndex.allSatisfy { Int($0) < n }, "book references assets beyond the scenario matrix")
        let tail = OrderStatistics.tailCount(sampleCount: scenarios, confidence: confidence)
        let accounts = book.accountCount
        let blockCount = (accounts + blockSize - 1) / blockSize
        var valueAtRisk = [Double](repeating: .nan, count: accounts)
        var shortfall = [Double](repeating: .nan, count: accounts)
        var probability = [Double](repeating: .nan, count: accounts)
        var blockFlops = [Double](repeating: -1, count: blockCount)   // −1: sparse block
        var blockSeconds = [Double](repeating: 0, count: blockCount)
        let job = LossJob(book: book, assessment: assessment, assets: n, scenarios: scenarios, tail: tail,
                          lossScale: lossScale, liquidationRatio: liquidationRatio, kernel: kernel,
                          largestMoves: largestMoves(moves), guessesThresholds: independentScenarios)
        let blocksPerTask = SparsePanelWorkspace.blocksPerTask(tail: tail, assets: n, scenarios: scenarios,
                                                                blockSize: blockSize)
        let taskCount = (blockCount + blocksPerTask - 1) / blocksPerTask
        let dense = (0 ..< blockCount).map { job.useDense($0 * blockSize ..< min(($0 + 1) * blockSize, accounts)) }
        // Dense blocks screen their paths in single precision (`LossWorkspace.screenedProduct`) unless a move is
        // beyond Float's range (it would be infinite there, and 0·∞ poisons every row of the product).
        let screens = dense.contains(true)
            && job.largestMoves.allSatisfy { $0 < LossWorkspace.singlePrecisionReach }
        let single: [Float] = screens ? moves.elements.map { Float($0) } : []
        let pathMajor: [Double] = screens ? moves.transposed.elements : []
        BLASThreads.with(1) {
            valueAtRisk.withSharedOutput { varOut in
            shortfall.withSharedOutput { esOut in
            probability.withSharedOutput { probabilityOut in
            blockFlops.withSharedOutput { flopsOut in
            blockSeconds.withSharedOutput { secondsOut in
            moves.elements.withUnsafeBufferPointer { g in
            single.withUnsafeBufferPointer { g32 in
            pathMajor.withUnsafeBufferPointer { gt in
                let movesView = ScenarioMoves(double: g, single: single.isEmpty ? nil : g32,
                                              pathMajor: pathMajor.isEmpty ? nil : gt)
                let outputs = LossOutputs(valueAtRisk: varOut, expectedShortfall: esOut, liquidationProbability: probabilityOut)
                let timings = BlockTimings(flops: flopsOut, seconds: secondsOut)
                Parallel.forEachBlock(blockCount: taskCount, workers: workers, makeWorkspace: {
                    LossWorkspace(assets: n, scenarios: scenarios, tail: tail, accountsPerTask: blocksPerTask * blockSize)
                }) { task, workspace in
                    let blocks = task * blocksPerTask ..< min((task + 1) * blocksPerTask, blockCount)
                    workspace.task(job, blocks: blocks, dense: dense, moves: movesView, outputs, timings)
                }
            }
            }
            }
            }
            }
            }
            }
            }
        }
        let whole = bookTail(book: book, assessment: assessment, moves: moves, tail: tail)
        var risk = ScenarioRisk(valueAtRisk: valueAtRisk, expectedShortfall: shortfall,
                                liquidationProbability: probability, bookValueAtRisk: whole.kth * lossScale,
                                bookExpectedShortfall: whole.mean * lossScale, scenarioCount: scenarios, tailCount: tail)
        for b in 0 ..< blockCount {
            if blockFlops[b] >= 0 {
                risk.denseBlocks += 1
                risk.matrixFlops += blockFlops[b]
                risk.denseSeconds += blockSeconds[b]
            } else {
                risk.sparseBlocks += 1
                risk.sparseSeconds += blockSeconds[b]
            }
        }
        return risk
    }

    /// max_s |G_{j,s}| of each asset j (row of G).
    static func largestMoves(_ moves: Matrix) -> [Double] {
        let scenarios = moves.columns
        return (0 ..< moves.rows).map { j in
            moves.elements[j * scenarios ..< (j + 1) * scenarios].reduce(0) { max($0, abs($1)) }
        }
    }

    /// The book's VaR and ES over these scenarios, exactly as `compute` reports them (for a merge of shards,
    /// which has every account's exposures but computed none of their losses).
    public static func bookRisk(book: Book, assessment: CollateralAssessment, moves: Matrix, confidence: Double,
                                lossScale: Double) -> (valueAtRisk: Double, expectedShortfall: Double) {
        let tail = OrderStatistics.tailCount(sampleCount: moves.columns, confidence: confidence)
        let whole = bookTail(book: book, assessment: assessment, moves: moves, tail: tail)
        return (whole.kth * lossScale, whole.mean * lossScale)
    }

    /// The book's k-th largest loss and mean of the k largest (unscaled): all valid accounts' exposures summed per
    /// asset in the order of the computed accounts (canonical), then one combination over the assets with a non-zero total.
    static func bookTail(book: Book, assessment: CollateralAssessment, moves: Matrix,
                         tail: Int) -> (kth: Double, mean: Double) {
        let n = moves.rows, scenarios = moves.columns
        var total = [Double](repeating: 0, count: n)
        for a in 0 ..< book.accountCount where !assessment.invalid[a] {
            for k in book.holdings(of: a) { total[Int(book.assetIndex[k])] += assessment.exposure[k] }
        }
        var offsets: [Int] = [], coefficients: [Double] = []
        for j in 0 ..< n where total[j] != 0 {
            offsets.append(j * scenarios)
            coefficients.append(-total[j])
        }
        var losses = [Double](repeating: 0, count: scenarios)
        moves.elements.withUnsafeBufferPointer { g in
            offsets.withUnsafeBufferPointer { o in
                coefficients.withUnsafeBufferPointer { c in
                    losses.withUnsafeMutableBufferPointer { out in
                        RowCombination.combine(g, count: scenarios, offsets: o, coefficients: c, into: out)
                    }
                }
            }
        }
        let result = OrderStatistics.upperTail(&losses, count: tail)
        return (result.kthLargest, result.meanOfLargest)
    }
}

// MARK: - Block work

/// What every block needs to know, shared read-only by the workers.
struct LossJob: Sendable {
    let book: Book
    let assessment: CollateralAssessment
    let assets: Int
    let scenarios: Int
    let tail: Int
    let lossScale: Double
    let liquidationRatio: Double?
    let kernel: ScenarioLossCalculator.Kernel
    /// M_j = max_s |G_{j,s}| per asset: the largest relative move of each asset over all scenarios.
    let largestMoves: [Double]
    /// Whether sparse accounts guess their tail thresholds from their first panel (independent scenarios).
    let guessesThresholds: Bool
    /// Per account: its breach count when settled in advance (`settle`), −1 when its buffers must be summed over the
    /// scenarios or it gets no count. Computed once per run.
    private var settled: [Int] = []

    init(book: Book, assessment: CollateralAssessment, assets: Int, scenarios: Int, tail: Int, lossScale: Double,
         liquidationRatio: Double?, kernel: ScenarioLossCalculator.Kernel, largestMoves: [Double],
         guessesThresholds: Bool = false) {
        (self.book, self.assessment, self.assets, self.scenarios, self.tail) = (book, assessment, assets, scenarios, tail)
        (self.lossScale, self.liquidationRatio, self.kernel) = (lossScale, liquidationRatio, kernel)
        self.largestMoves = largestMoves
        self.guessesThresholds = guessesThresholds
        settled = (0 ..< book.accountCount).map { countsBreaches($0) ? settle($0) ?? -1 : -1 }
    }

    /// Relative margin by which a buffer must clear its largest possible move for `settle` to decide without
    /// counting: far above the rounding of the kernels' sums (≈ (holdings + 1)·2⁻⁵³ of the terms' sizes).
    static let settledMargin = 1e-9

    /// Whether the account gets a liquidation count (it has debt and the run asks for them).
    @inline(__always) func countsBreaches(_ a: Int) -> Bool {
        liquidationRatio != nil && assessment.debt[a] > 0
    }

    /// The account's breach count when every scenario must give the same answer, nil when they must be counted.
    /// The buffer in scenario s is B + Σ_h b_h·G_{s,j_h} with B = Σ_h b_h, and |Σ_h b_h·G_{s,j_h}| ≤ Σ_h |b_h|·M_j:
    /// a buffer B above that bound is positive in every scenario (0 breaches), one below its negative is negative
    /// in every scenario (S breaches). Only for accounts that `countsBreaches`.
    private func settle(_ a: Int) -> Int? {
        var base = 0.0, reach = 0.0
        for h in book.holdings(of: a) {
            let b = ParametricRiskCalculator.bufferSensitivity(h, assessment, liquidationRatio!)
            base += b
            reach += abs(b) * largestMoves[Int(book.assetIndex[h])]
        }
        let margin = Self.settledMargin * (abs(base) + reach)
        if base - reach > margin { return 0 }
        if base + reach < -margin { return scenarios }
        return nil
    }

    /// The account's breach count settled in advance (`settle`), nil when it must be counted or gets no count.
    @inline(__always) func settledBreaches(_ a: Int) -> Int? {
        settled[a] >= 0 ? settled[a] : nil
    }

    /// B = Σ_h b_h over the account's holdings in holding order (USD): its buffer today.
    func bufferBase(_ a: Int) -> Double {
        book.holdings(of: a).reduce(0.0) { $0 + ParametricRiskCalculator.bufferSensitivity($1, assessment, liquidationRatio!) }
    }

    /// Whether the kernels must sum the account's buffer over the scenarios (it gets a count not settled in advance).
    @inline(__always) func sumsBuffers(_ a: Int) -> Bool {
        countsBreaches(a) && settled[a] < 0
    }

    /// Dense when (rows·n)/efficiency < Σ_a k_a·(1 or 2) multiply-adds per scenario, rows = accounts + accounts
    /// whose buffers are summed.
    func useDense(_ accounts: Range<Int>) -> Bool {
        guard assets > 0 else { return false }
        var sparseWork = 0.0, rows = 0.0
        for a in accounts where !assessment.invalid[a] {
            let factor = sumsBuffers(a) ? 2.0 : 1.0
            sparseWork += factor * Double(book.holdings(of: a).count)
            rows += factor
        }
        return kernel.choosesDense(denseOperations: rows * Double(assets), sparseOperations: sparseWork,
                                   denseEfficiency: ScenarioLossCalculator.denseEfficiency)
    }

    /// Writes one account's figures from its losses (reordered in place) and its breach count.
    @inline(__always) func finish(_ a: Int, losses: UnsafeMutableBufferPointer<Double>, breaches: Int?,
                                  _ outputs: LossOutputs) {
        let (kth, mean) = OrderStatistics.upperTail(losses, count: tail)
        outputs.valueAtRisk[a] = kth * lossScale
        outputs.expectedShortfall[a] = mean * lossScale
        if let breaches { outputs.liquidationProbability[a] = Double(breaches) / Double(scenarios) }
    }
}

/// The per-account outputs, written at disjoint indices (each account belongs to one block).
struct LossOutputs: Sendable {
    let valueAtRisk: SharedOutput<Double>
    let expectedShortfall: SharedOutput<Double>
    let liquidationProbability: SharedOutput<Double>
}

/// A read-only view of a buffer shared by parallel workers. Sound because the array is not mutated while the
/// parallel loop runs and outlives it (the view is created inside `withUnsafeBufferPointer`).
struct ReadOnlyBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Double>
    init(_ buffer: UnsafeBufferPointer<Double>) { self.buffer = buffer }
}

/// Per block: the dense product's floating-point operations (−1 for a sparse block) and the worker-seconds spent
/// on it (a task's sparse accounts are timed together and their seconds spread evenly over its sparse blocks).
struct BlockTimings: Sendable {
    let flops: SharedOutput<Double>
    let seconds: SharedOutput<Double>
}

/// One worker's reusable buffers: the panel workspace of sparse accounts, and the dense buffers ((2·blockSize) × n
/// input, (2·blockSize) × S product), allocated at the first dense block.
struct LossWorkspace {
    let assets: Int
    let scenarios: Int
    var sparse: SparsePanelWorkspace
    var screening = ScreeningBuffers()
    var denseInput: [Double] = []
    var denseOutput: [Double] = []
    var debtRow: [Int]

    init(assets: Int, scenarios: Int, tail: Int, accountsPerTask: Int) {
        self.assets = assets
        self.scenarios = scenarios
        sparse = SparsePanelWorkspace(assets: assets, scenarios: scenarios, tail: tail, accountsPerTask: accountsPerTask)
        debtRow = [Int](repeating: -1, count: ScenarioLossCalculator.blockSize)
    }

    /// One task: its dense blocks one by one, then all the valid accounts of its sparse blocks together, panel by
    /// panel (`SparsePanelWorkspace`).
    mutating func task(_ job: LossJob, blocks: Range<Int>, dense: [Bool], moves: ScenarioMoves, _ outputs: LossOutputs,
                       _ timings: BlockTimings) {
        let clock = ContinuousClock()
        let blockSize = ScenarioLossCalculator.blockSize, accounts = job.book.accountCount
        var sparseBlocks: [Int] = []
        sparse.clear()
        for block in blocks {
            let range = block * blockSize ..< min((block + 1) * blockSize, accounts)
            if dense[block] {
                let start = clock.now
                timings.flops[block] = denseBlock(job, accounts: range, moves: moves, outputs)
                timings.seconds[block] = start.duration(to: clock.now).seconds
            } else {
                sparseBlocks.append(block)
                for a in range where !job.assessment.invalid[a] { sparse.add(a, job) }
            }
        }
        guard !sparseBlocks.isEmpty else { return }
        let start = clock.now
        sparse.compute(job, moves: moves.double, outputs)
        let share = start.duration(to: clock.now).seconds / Double(sparseBlocks.count)
        for block in sparseBlocks { timings.seconds[block] = share }
    }

    /// Dense kernel: rows 0 ..< m of the input hold −e of each account of the block (zero rows for invalid ones),
    /// the following rows b of each account whose buffers are summed; their product with G (n × S) gives every loss
    /// and buffer path, screened in single precision when `moves.single` is there (`screenedProduct`), else one
    /// double-precision dgemm. Returns the products' floating-point operations.
    mutating func denseBlock(_ job: LossJob, accounts: Range<Int>, moves: ScenarioMoves, _ outputs: LossOutputs) -> Double {
        let capacity = 2 * ScenarioLossCalculator.blockSize
        if denseInput.isEmpty {
            denseInput = [Double](repeating: 0, count: capacity * assets)
            denseOutput = [Double](repeating: 0, count: capacity * scenarios)
        }
        let m = fillDenseInput(job, accounts: accounts)
        let flops = screenedProduct(job, accounts: accounts, rows: m, moves: moves, outputs)
            ?? fullProduct(job, accounts: accounts, rows: m, moves: moves.double, outputs)
        clearDenseInput(job, accounts: accounts)
        return flops
    }

    /// Writes the block's rows into `denseInput` (and `debtRow`); returns the row count m.
    private mutating func fillDenseInput(_ job: LossJob, accounts: Range<Int>) -> Int {
        let book = job.book, assessment = job.assessment, n = assets
        var rows = accounts.count
        for a in accounts {
            let r = a - accounts.lowerBound
            debtRow[r] = -1
            guard !assessment.invalid[a] else { continue }
            let counting = job.sumsBuffers(a)
            if counting {
                debtRow[r] = rows
                rows += 1
            }
            for h in book.holdings(of: a) {
                let j = Int(book.assetIndex[h])
                denseInput[r * n + j] = -assessment.exposure[h]
                if counting {
                    denseInput[debtRow[r] * n + j] =
                        ParametricRiskCalculator.bufferSensitivity(h, assessment, job.liquidationRatio!)
                }
            }
        }
        return rows
    }

    /// Resets the entries `fillDenseInput` wrote, so the next block starts from zeros without a full memset.
    private mutating func clearDenseInput(_ job: LossJob, accounts: Range<Int>) {
        let book = job.book, n = assets
        for a in accounts where !job.assessment.invalid[a] {
            let r = a - accounts.lowerBound
            for h in book.holdings(of: a) {
                let j = Int(book.assetIndex[h])
                denseInput[r * n + j] = 0
                if debtRow[r] >= 0 { denseInput[debtRow[r] * n + j] = 0 }
            }
        }
    }

    /// Every loss and buffer path by one double-precision dgemm, then each account's selection and count.
    private mutating func fullProduct(_ job: LossJob, accounts: Range<Int>, rows m: Int, moves: UnsafeBufferPointer<Double>,
                                      _ outputs: LossOutputs) -> Double {
        let assessment = job.assessment, n = assets, scenarios = self.scenarios
        denseInput.withUnsafeBufferPointer { x in
            denseOutput.withUnsafeMutableBufferPointer { y in
                gemm(m: m, n: scenarios, k: n, a: x, b: moves, c: y)
            }
        }
        for a in accounts where !assessment.invalid[a] {
            let r = a - accounts.lowerBound
            var breaches = job.settledBreaches(a)
            if debtRow[r] >= 0 {
                let base = job.bufferBase(a)
                let row = debtRow[r] * scenarios
                var count = 0
                denseOutput.withUnsafeBufferPointer { y in
                    for s in 0 ..< scenarios where base + y[row + s] < 0 { count += 1 }
                }
                breaches = count
            }
            denseOutput.withUnsafeMutableBufferPointer { y in
                let lossRow = UnsafeMutableBufferPointer(rebasing: y[r * scenarios ..< (r + 1) * scenarios])
                job.finish(a, losses: lossRow, breaches: breaches, outputs)
            }
        }
        return 2 * Double(m) * Double(n) * Double(scenarios)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
