import Foundation
import LinearAlgebra
import RiskModel

/// One row of stress.csv (METHODOLOGY "Stress tests", §4): a scenario's effect on the book. USD; losses positive.
public struct StressScenarioSummary: Sendable, Equatable {
    public let name: String
    /// Σ over accounts of −Σ_i e_i·δ_i.
    public var totalLossUSD: Double
    /// Accounts by status under the scenario (accounts without debt are ok).
    public var accountsOK: Int
    public var accountsMarginCall: Int
    public var accountsLiquidatable: Int
    /// Liquidatable under the scenario and not liquidatable today.
    public var newlyLiquidatable: Int
    /// Σ over accounts of max(0, D′ − C′): bad debt if every account were liquidated at the stressed prices.
    public var shortfallUSD: Double

    public init(name: String, totalLossUSD: Double, accountsOK: Int, accountsMarginCall: Int,
                accountsLiquidatable: Int, newlyLiquidatable: Int, shortfallUSD: Double) {
        self.name = name
        self.totalLossUSD = totalLossUSD
        self.accountsOK = accountsOK
        self.accountsMarginCall = accountsMarginCall
        self.accountsLiquidatable = accountsLiquidatable
        self.newlyLiquidatable = newlyLiquidatable
        self.shortfallUSD = shortfallUSD
    }
}

/// Stress results of a book: the per-scenario table and each account's worst scenario.
public struct StressResult: Sendable {
    /// One entry per scenario, in scenario order (`StressScenarios`).
    public var scenarios: [StressScenarioSummary]
    /// Per account: index of the scenario with the largest loss (first in scenario order on ties within
    /// `StressTester.tieTolerance`), −1 when there are no scenarios or the account is invalid.
    public var worstScenario: [Int]
    /// Per account: the loss of `worstScenario` (USD, positive = loss), NaN when there is none.
    public var worstScenarioLoss: [Double]
    /// Floating-point operations of the dense block products (2·rows·n·S per dense block), for GFLOP/s reporting.
    public var matrixFlops: Double
    /// Blocks whose losses came from one dgemm, and blocks computed by per-account gathers.
    public var denseBlocks: Int
    public var sparseBlocks: Int
    /// Per block of `StressTester.blockSize` accounts, `StressBlockTotals.fields` rows of S partial sums (losses,
    /// shortfalls, status counts): the scenario totals are their sum in block order (`StressTester.summaries`).
    /// Kept so that a sharded run can hand its blocks to the merge, which then sums exactly as one run does.
    public var blockTotals: [Double] = []

    public init(scenarios: [StressScenarioSummary], worstScenario: [Int], worstScenarioLoss: [Double],
                matrixFlops: Double, denseBlocks: Int, sparseBlocks: Int, blockTotals: [Double] = []) {
        self.scenarios = scenarios
        self.worstScenario = worstScenario
        self.worstScenarioLoss = worstScenarioLoss
        self.matrixFlops = matrixFlops
        self.denseBlocks = denseBlocks
        self.sparseBlocks = sparseBlocks
        self.blockTotals = blockTotals
    }
}

/// One account under one scenario (`StressTester.stressAccount`), the figures of METHODOLOGY "Ratios, status and recommendations" at stressed prices.
public struct StressedAccount: Sendable, Equatable {
    /// C′ = Σ_{e′>0} e′ with e′ = e·(1 + δ).
    public var collateralUSD: Double
    /// D′ = Σ_{e′<0} −e′.
    public var debtUSD: Double
    /// HCV′ = Σ c′_i·(1 − h_i(c′_i)), haircuts re-evaluated at the stressed values.
    public var hcvUSD: Double
    /// CR′ = HCV′ / D′, NaN when D′ = 0.
    public var collateralRatio: Double
    public var status: AccountStatus
    /// −Σ e_i·δ_i.
    public var lossUSD: Double
    /// max(0, D′ − C′).
    public var shortfallUSD: Double
}

/// Stress testing of METHODOLOGY "Stress tests": every account under every scenario.
///
/// Losses are linear in the shocks, so for a fixed block of accounts they are one product
/// L = −E·Δᵀ (block × S) — one dgemm for a dense block — or, for a sparse block, per-account gathers of the
/// rows of Δᵀ on the account's own assets (k contiguous axpys of length S). The rest is nonlinear (haircuts depend
/// on the stressed value, status on the ratio) and runs per holding × scenario over the account's own holdings:
/// holding outer, scenario inner, so each pass streams one row of Δᵀ and (1 + Δ)ᵀ and accumulates C′, D′, HCV′ for
/// all S scenarios in fixed-size buffers. Per-scenario totals are summed per block in account order, then over
/// blocks in block order, so every number is bit-identical for any worker count.
public enum StressTester {
    /// Accounts per block. Fixed (not derived from the thread count) so results never depend on it.
    public static let blockSize = BlockPlan.stressAccounts
    /// Partial sums per scenario in each block's totals (`StressResult.blockTotals`).
    public static var blockTotalFields: Int { StressBlockTotals.fields }

    /// Losses within this relative distance are ties for `worstScenario` (METHODOLOGY "Stress tests").
    public static let tieTolerance = 1e-12

    /// Dense: one dgemm per block, −(block × n exposures) · (n × S shocks). Sparse: per account, Σ over its own k
    /// holdings of e·(row of Δᵀ), k·S multiply-adds, no BLAS.
    public typealias Kernel = BlockKernel

    /// How many times more flops per second dgemm sustains than the gather. The rule is
    /// `ParametricRiskCalculator`'s; the factor is lower (16 there) because these gathers are contiguous,
    /// vectorised axpys of length S fused into the per-holding pass, not scattered k² reads of Σ. Measured on one
    /// core, S = 200: dense and sparse blocks cost the same at k ≈ 40 holdings of n = 200 assets and k ≈ 80 of
    /// n = 500, i.e. a factor of 5–6.
    public static let denseEfficiency = 5.0

    /// `loss` ties with the current best `best` when |loss − best| ≤ tieTolerance·max(|loss|, |best|).
    @inlinable public static func isTie(_ loss: Double, _ best: Double) -> Bool {
        abs(loss - best) <= tieTolerance * max(abs(loss), abs(best))
    }

    /// The worst scenario of a list of losses: scanning in order, a loss replaces the current best when it is
    /// larger and not a tie with it (`isTie`). nil for an empty list.
    public static func worstScenario(losses: [Double]) -> Int? {
        guard var best = losses.first else { return nil }
        var index = 0
        for s in losses.indices.dropFirst() where losses[s] > best && !isTie(losses[s], best) {
            best = losses[s]
            index = s
        }
        return index
    }

    /// Stresses every account of the book under every scenario.
    ///
    /// - `assessment`: today's figures (`CollateralAssessment.assess` at the as-of prices). Its exposures are the
    ///   e of every holding; accounts flagged `invalid` are skipped (worst scenario −1, not in any total).
    /// - `haircuts`: the calculator of today's assessment (same σ, same model); haircuts are re-evaluated at the
    ///   stressed collateral values.
    /// - `workers`: threads for the blocks (OpenBLAS runs single-threaded inside).
    /// - `kernel`: how block losses are computed (`.automatic` in production; the others for tests and benchmarks).
    ///
    /// An account's worst scenario is defined whenever there are scenarios, also when every scenario is a gain
    /// for it (then it is the smallest gain, a negative loss).
    public static func run(book: Book, assessment: CollateralAssessment, scenarios: StressScenarios,
                           haircuts: HaircutCalculator, config: RiskConfig, workers: Int,
                           kernel: Kernel = .automatic) -> StressResult {
        let accounts = book.accountCount
        let scenarioCount = scenarios.count
        precondition(assessment.exposure.count == book.holdingCount && assessment.debt.count == accounts,
                     "assessment does not match the book")
        var worst = [Int](repeating: -1, count: accounts)
        var worstLoss = [Double](repeating: .nan, count: accounts)
        guard scenarioCount > 0 else {
            return StressResult(scenarios: [], worstScenario: worst, worstScenarioLoss: worstLoss, matrixFlops: 0,
                                denseBlocks: 0, sparseBlocks: 0)
        }
        let n = scenarios.assetCount
        let tables = StressTables(scenarios: scenarios, haircuts: haircuts)
        let blockCount = (accounts + blockSize - 1) / blockSize
        // Per block, `StressBlockTotals.fields` rows of S partial sums (see `StressBlockTotals`).
        var blockTotals = [Double](repeating: 0, count: blockCount * StressBlockTotals.fields * scenarioCount)
        var denseRows = [Int](repeating: 0, count: blockCount)
        BLASThreads.with(1) {
            worst.withSharedOutput { worstOut in
            worstLoss.withSharedOutput { worstLossOut in
            blockTotals.withSharedOutput { totalsOut in
            denseRows.withSharedOutput { denseOut in
                Parallel.forEachBlock(blockCount: blockCount, workers: workers,
                                      makeWorkspace: { StressWorkspace(assets: n, scenarios: scenarioCount) }) { block, workspace in
                    let accountsInBlock = block * blockSize ..< min((block + 1) * blockSize, accounts)
                    let dense = useDense(kernel, book: book, accounts: accountsInBlock, assets: n, scenarios: scenarioCount)
                    if dense {
                        denseOut[block] = accountsInBlock.count
                        workspace.multiplyBlock(book: book, accounts: accountsInBlock, assessment: assessment, tables: tables)
                    }
                    precondition((block + 1) * StressBlockTotals.fields * scenarioCount <= totalsOut.count, "block totals")
                    // Safe: this block alone writes its slice of the totals (checked in range just above).
                    let totals = StressBlockTotals(base: totalsOut.base + block * StressBlockTotals.fields * scenarioCount,
                                             scenarios: scenarioCount)
                    for a in accountsInBlock where !assessment.invalid[a] {
                        let loss: UnsafeMutablePointer<Double>
                        if dense {
                            loss = workspace.denseLoss + (a - accountsInBlock.lowerBound) * scenarioCount
                            workspace.stressHoldings(of: a, book: book, exposure: assessment.exposure, tables: tables,
                                                     gatherLoss: false)
                        } else {
                            loss = workspace.loss
                            workspace.stressHoldings(of: a, book: book, exposure: assessment.exposure, tables: tables,
                                                     gatherLoss: true)
                        }
                        let worstIndex = totals.add(collateral: workspace.collateral, debt: workspace.debt,
                                                    hcv: workspace.hcv, loss: loss,
                                                    liquidatableToday: assessment.status[a] == .liquidatable,
                                                    config: config)
                        worstOut[a] = worstIndex
                        worstLossOut[a] = loss[worstIndex] + 0   // −0 (an unshocked account via dgemm) → 0
                    }
                    if dense { workspace.clearBlock(book: book, accounts: accountsInBlock, assessment: assessment) }
                }
            }
            }
            }
            }
        }
        let summaries = Self.summaries(blockTotals: blockTotals, names: scenarios.names)
        let rows = denseRows.reduce(0, +)
        let denseBlocks = denseRows.filter { $0 > 0 }.count
        return StressResult(scenarios: summaries, worstScenario: worst, worstScenarioLoss: worstLoss,
                            matrixFlops: 2 * Double(rows) * Double(n) * Double(scenarioCount),
                            denseBlocks: denseBlocks, sparseBlocks: blockCount - denseBlocks, blockTotals: blockTotals)
    }

    /// The per-scenario table from the blocks' partial sums (`StressResult.blockTotals`), added in block order:
    /// deterministic whatever the worker count, and the same for a merge of shards that hands over its blocks.
    public static func summaries(blockTotals: [Double], names: [String]) -> [StressScenarioSummary] {
        let scenarioCount = names.count
        guard scenarioCount > 0 else { return [] }
        let stride = StressBlockTotals.fields * scenarioCount
        precondition(blockTotals.count % stride == 0, "stress block totals: size")
        var totalLoss = [Double](repeating: 0, count: scenarioCount)
        var shortfall = [Double](repeating: 0, count: scenarioCount)
        var counts = [Int](repeating: 0, count: 4 * scenarioCount)
        for block in 0 ..< blockTotals.count / stride {
            let base = block * stride
            for s in 0 ..< scenarioCount {
                totalLoss[s] += blockTotals[base + s]
                shortfall[s] += blockTotals[base + scenarioCount + s]
                for c in 0 ..< 4 { counts[c * scenarioCount + s] += Int(blockTotals[base + (2 + c) * scenarioCount + s]) }
            }
        }
        return (0 ..< scenarioCount).map { s in
            StressScenarioSummary(name: names[s], totalLossUSD: totalLoss[s], accountsOK: counts[s],
                                  accountsMarginCall: counts[scenarioCount + s],
                                  accountsLiquidatable: counts[2 * scenarioCount + s],
                                  newlyLiquidatable: counts[3 * scenarioCount + s], shortfallUSD: shortfall[s])
        }
    }

    /// One account under every scenario, by the same per-holding pass as `run` (sparse path): for drill-downs and
    /// tests. The account need not be valid (its figures are then not finite).
    public static func stressAccount(_ account: Int, book: Book, assessment: CollateralAssessment,
                                     scenarios: StressScenarios, haircuts: HaircutCalculator,
                                     config: RiskConfig) -> [StressedAccount] {
        let scenarioCount = scenarios.count
        guard scenarioCount > 0 else { return [] }
        let tables = StressTables(scenarios: scenarios, haircuts: haircuts)
        let workspace = StressWorkspace(assets: scenarios.assetCount, scenarios: scenarioCount)
        workspace.stressHoldings(of: account, book: book, exposure: assessment.exposure, tables: tables,
                                 gatherLoss: true)
        return (0 ..< scenarioCount).map { s in
            let c = workspace.collateral[s], d = workspace.debt[s], h = workspace.hcv[s]
            let ratio = d > 0 ? h / d : .nan
            return StressedAccount(collateralUSD: c, debtUSD: d, hcvUSD: h, collateralRatio: ratio,
                                   status: AccountStatus.of(ratio: ratio, config: config), lossUSD: workspace.loss[s],
                                   shortfallUSD: max(0, d - c))
        }
    }

    /// Whether a block's losses come from one dgemm: dense work 2·rows·n·S (discounted by `denseEfficiency`)
    /// against 2·S·Σ k_a for the gathers. Depends only on the book, never on the thread count.
    static func useDense(_ kernel: Kernel, book: Book, accounts: Range<Int>, assets n: Int, scenarios: Int) -> Bool {
        let holdings = book.rowStart[accounts.upperBound] - book.rowStart[accounts.lowerBound]
        return kernel.choosesDense(denseOperations: 2 * Double(accounts.count) * Double(n) * Double(scenarios),
                                   sparseOperations: 2 * Double(scenarios) * Double(holdings),
                                   denseEfficiency: denseEfficiency)
    }
}

/// Scenario tables in the layout of the per-holding pass, built once per run and read by every worker.
///
/// Rows are assets: `shock[j·S + s]` = δ_{s,j} and `growth[j·S + s]` = 1 + δ_{s,j}, so a holding of asset j reads
/// two contiguous rows of S. Per asset, `maxGrowth` (largest 1 + δ over the scenarios), and the haircut table.
///
/// `@unchecked Sendable`: the buffers are written only in `init` and freed in `deinit`; workers only read them
/// while the object is alive (the parallel loop's closure holds a reference).
final class StressTables: @unchecked Sendable {
    let assets: Int
    let scenarios: Int
    let shock: UnsafeMutableBufferPointer<Double>
    let growth: UnsafeMutableBufferPointer<Double>
    let maxGrowth: [Double]
    let haircuts: HaircutTable

    init(scenarios table: StressScenarios, haircuts: HaircutCalculator) {
        let n = table.assetCount, s = table.count
        assets = n
        scenarios = s
        shock = .allocate(capacity: max(1, n * s))
        growth = .allocate(capacity: max(1, n * s))
        var maxGrowth = [Double](repeating: 1, count: n)
        for j in 0 ..< n {
            var largest = -Double.infinity
            for k in 0 ..< s {
                let delta = table.shocks.elements[k * n + j]
                let g = 1 + delta
                shock[j * s + k] = delta
                growth[j * s + k] = g
                largest = max(largest, g)
            }
            maxGrowth[j] = largest
        }
        self.maxGrowth = maxGrowth
        self.haircuts = HaircutTable(haircuts)
    }

    deinit {
        shock.deallocate()
        growth.deallocate()
    }
}

/// A worker's reusable buffers, allocated once per worker: the dense block (exposures scattered into rows of n,
/// and the block × S losses) and the current account's S-vectors of loss, C′, D′ and HCV′. A class so that the
/// hot loops hold plain pointers (no copy-on-write checks); it never leaves its worker.
final class StressWorkspace {
    let assets: Int
    let scenarios: Int
    /// blockSize × n exposures, zero outside the current dense block's holdings.
    let denseExposure: UnsafeMutablePointer<Double>
    /// blockSize × S losses of the current dense block.
    let denseLoss: UnsafeMutablePointer<Double>
    let loss: UnsafeMutablePointer<Double>
    let collateral: UnsafeMutablePointer<Double>
    let debt: UnsafeMutablePointer<Double>
    let hcv: UnsafeMutablePointer<Double>

    init(assets: Int, scenarios: Int) {
        self.assets = assets
        self.scenarios = scenarios
        let rows = StressTester.blockSize
        denseExposure = .allocate(capacity: max(1, rows * assets))
        denseExposure.initialize(repeating: 0, count: max(1, rows * assets))
        denseLoss = .allocate(capacity: max(1, rows * scenarios))
        denseLoss.initialize(repeating: 0, count: max(1, rows * scenarios))
        loss = .allocate(capacity: 4 * max(1, scenarios))
        loss.initialize(repeating: 0, count: 4 * max(1, scenarios))
        collateral = loss + max(1, scenarios)
        debt = collateral + max(1, scenarios)
        hcv = debt + max(1, scenarios)
    }

    deinit {
        denseExposure.deallocate()
        denseLoss.deallocate()
        loss.deallocate()
    }

    /// Dense path: scatters the block's exposures (valid accounts only) and computes its losses
    /// denseLoss = −E·Δᵀ with one dgemm.
    func multiplyBlock(book: Book, accounts: Range<Int>, assessment: CollateralAssessment, tables: StressTables) {
        let n = assets
        for a in accounts where !assessment.invalid[a] {
            let row = denseExposure + (a - accounts.lowerBound) * n
            for k in book.holdings(of: a) { row[Int(book.assetIndex[k])] = assessment.exposure[k] }
        }
        // Safe: the workspace holds blockSize × n and blockSize × S elements, tables n × S; accounts.count ≤ blockSize.
        gemm(m: accounts.count, n: scenarios, k: n, alpha: -1,
             a: UnsafeBufferPointer(start: denseExposure, count: accounts.count * n),
             b: UnsafeBufferPointer(tables.shock), .none, beta: 0,
             c: UnsafeMutableBufferPointer(start: denseLoss, count: accounts.count * scenarios))
    }

    /// Resets the entries `multiplyBlock` wrote, so the next block starts from zeros without a full memset.
    func clearBlock(book: Book, accounts: Range<Int>, assessment: CollateralAssessment) {
        for a in accounts where !assessment.invalid[a] {
            let row = denseExposure + (a - accounts.lowerBound) * assets
            for k in book.holdings(of: a) { row[Int(book.assetIndex[k])] = 0 }
        }
    }

    /// The per-holding pass of one account: C′, D′, HCV′ for every scenario (and, with `gatherLoss`, the loss
    /// −Σ e_i·δ_i), accumulated in holding order exactly as `CollateralAssessment.assess` does at today's prices,
    /// so a zero shock reproduces today's figures bit for bit.
    ///
    /// e′ = e·(1 + δ) keeps the sign of e (δ > −1), so a holding is collateral or debt in every scenario. A
    /// collateral holding's haircut is today's marginal one (T = T₀) in every scenario when even its largest
    /// stressed value e·max(1 + δ) stays within T₀ days of liquidity (rounding is monotone, so no stressed value
    /// exceeds it); only otherwise is the haircut evaluated per scenario.
    @inline(__always)
    func stressHoldings(of account: Int, book: Book, exposure: [Double], tables: StressTables, gatherLoss: Bool) {
        let s = scenarios
        let loss = loss, collateral = collateral, debt = debt, hcv = hcv
        // loss, collateral, debt, hcv are consecutive: one clear.
        loss.update(repeating: 0, count: 4 * s)
        let shockTable = tables.shock.baseAddress!, growthTable = tables.growth.baseAddress!
        for k in book.holdings(of: account) {
            let e = exposure[k]
            guard e != 0 else { continue }   // adds nothing (a zero-quantity holding)
            let j = Int(book.assetIndex[k])
            let delta = shockTable + j * s, growth = growthTable + j * s
            if gatherLoss {
                for t in 0 ..< s { loss[t] -= e * delta[t] }
            }
            if e < 0 {
                for t in 0 ..< s { debt[t] -= e * growth[t] }
                continue
            }
            let table = tables.haircuts
            if e * tables.maxGrowth[j] / table.liquidityScale[j] <= table.baseDays {
                let keep = 1 - table.marginalHaircut[j]
                for t in 0 ..< s {
                    let value = e * growth[t]
                    collateral[t] += value
                    hcv[t] += value * keep
                }
            } else {
                for t in 0 ..< s {
                    let value = e * growth[t]
                    collateral[t] += value
                    hcv[t] += value * (1 - table.haircut(asset: j, value: value))
                }
            }
        }
    }
}

/// One block's per-scenario partial sums, in `fields` consecutive rows of S inside the shared totals buffer:
/// loss, shortfall, then the counts ok, margin call, liquidatable, newly liquidatable (as exact small integers).
struct StressBlockTotals {
    static let fields = 6
    let base: UnsafeMutablePointer<Double>
    let scenarios: Int

    /// Adds one account under every scenario; returns its worst scenario (scan in order, ties keep the first).
    @inline(__always)
    func add(collateral: UnsafeMutablePointer<Double>, debt: UnsafeMutablePointer<Double>,
             hcv: UnsafeMutablePointer<Double>, loss: UnsafeMutablePointer<Double>, liquidatableToday: Bool,
             config: RiskConfig) -> Int {
        let s = scenarios
        let lossSum = base, shortfallSum = base + s, okCount = base + 2 * s, marginCallCount = base + 3 * s
        let liquidatableCount = base + 4 * s, newlyCount = base + 5 * s
        var best = loss[0], bestIndex = 0
        for t in 0 ..< s {
            let c = collateral[t], d = debt[t]
            let ratio = d > 0 ? hcv[t] / d : .nan
            switch AccountStatus.of(ratio: ratio, config: config) {
            case .ok: okCount[t] += 1
            case .marginCall: marginCallCount[t] += 1
            case .liquidatable:
                liquidatableCount[t] += 1
                if !liquidatableToday { newlyCount[t] += 1 }
            }
            shortfallSum[t] += max(0, d - c)
            let l = loss[t]
            lossSum[t] += l
            if l > best && !StressTester.isTie(l, best) {
                best = l
                bestIndex = t
            }
        }
        return bestIndex
    }
}
