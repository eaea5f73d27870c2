import LinearAlgebra
import RiskMetrics
import RiskModel

/// Rebalancing of every account of the book (METHODOLOGY "Rebalancing"), struct-of-arrays by account, target rows in CSR form.
public struct RebalancingResult: Sendable {
    public var status: [RebalanceStatus]
    /// Why an account failed; "" otherwise.
    public var reason: [String]
    /// `target_var_param`, `target_hcv_usd`, `target_collateral_ratio`, `target_topup_usd`, `turnover_usd`,
    /// `cost_usd`; NaN (an empty cell) for accounts not in scope or failed, and where undefined (ratio without debt).
    public var targetVaR: [Double]
    public var targetHCV: [Double]
    public var targetRatio: [Double]
    public var targetTopup: [Double]
    public var turnover: [Double]
    public var cost: [Double]
    /// Account a's target rows are `rowStart[a] ..< rowStart[a + 1]` of the row arrays: one per holding (the account's holdings in positions.csv order,
    /// debt rows included), then one per asset only bought (schedule order). Empty for accounts not in scope/failed.
    public var rowStart: [Int]
    public var rows: TargetRows

    // Totals (summary.json `rebalance`).
    public var inScope: Int
    public var counts: [RebalanceStatus: Int]
    public var totalTurnover: Double
    public var totalCost: Double
    /// Σ over accounts of trade USD per asset (schedule order).
    public var netFlows: [Double]

    /// Over the accounts that reached the solver: their count, and the sums of the final QP's size, of the
    /// working-set rounds and of the interior-point iterations (diagnostics).
    public var solvedCount: Int
    public var problemSizeSum: Int
    public var roundSum: Int
    public var iterationSum: Int

    /// Mean size of the final QP, mean working-set rounds and mean interior-point iterations per solved account.
    public var meanProblemSize: Double { solvedCount > 0 ? Double(problemSizeSum) / Double(solvedCount) : 0 }
    public var meanRounds: Double { solvedCount > 0 ? Double(roundSum) / Double(solvedCount) : 0 }
    public var meanIterations: Double { solvedCount > 0 ? Double(iterationSum) / Double(solvedCount) : 0 }

    /// Account a's row range.
    public func targetRows(of account: Int) -> Range<Int> { rowStart[account] ..< rowStart[account + 1] }

    /// The result from its per-account parts; the totals (counts, turnover, cost, net flows) are summed here, over
    /// accounts in order, for a run and for a merge of shards alike.
    public init(status: [RebalanceStatus], reason: [String], targetVaR: [Double], targetHCV: [Double],
                targetRatio: [Double], targetTopup: [Double], turnover: [Double], cost: [Double], rowStart: [Int],
                rows: TargetRows, assetCount: Int, solvedCount: Int, problemSizeSum: Int, roundSum: Int,
                iterationSum: Int) {
        self.status = status
        self.reason = reason
        self.targetVaR = targetVaR
        self.targetHCV = targetHCV
        self.targetRatio = targetRatio
        self.targetTopup = targetTopup
        self.turnover = turnover
        self.cost = cost
        self.rowStart = rowStart
        self.rows = rows
        self.solvedCount = solvedCount
        self.problemSizeSum = problemSizeSum
        self.roundSum = roundSum
        self.iterationSum = iterationSum
        var counts: [RebalanceStatus: Int] = [:]
        for s in RebalanceStatus.allCases { counts[s] = 0 }
        var inScopeCount = 0, totalTurnover = 0.0, totalCost = 0.0
        var flows = [Double](repeating: 0, count: assetCount)
        for a in status.indices {
            counts[status[a], default: 0] += 1
            if status[a] != .notInScope { inScopeCount += 1 }
            if turnover[a].isFinite { totalTurnover += turnover[a] }
            if cost[a].isFinite { totalCost += cost[a] }
            for r in rowStart[a] ..< rowStart[a + 1] { flows[Int(rows.asset[r])] += rows.tradeUSD[r] }
        }
        self.inScope = inScopeCount
        self.counts = counts
        self.totalTurnover = totalTurnover
        self.totalCost = totalCost
        self.netFlows = flows
    }
}

public enum RebalancingEngine {
    /// Accounts per block. Fixed, so results never depend on the worker count.
    public static let blockSize = BlockPlan.rebalancingAccounts

    /// Whether account a is in scope for `rebalance` (none / breaching: D > 0 and CR < margin_call_ratio / all).
    public static func inScope(_ a: Int, assessment: CollateralAssessment, config: RiskConfig) -> Bool {
        switch config.rebalance {
        case .none: return false
        case .all: return true
        case .breaching:
            return assessment.debt[a] > 0 && assessment.collateralRatio[a] < config.marginCallRatio
        }
    }

    /// Solves every account in scope in parallel over fixed blocks (OpenBLAS at one thread inside, one
    /// `AccountRebalancer` per worker); bit-identical for any worker count.
    public static func run(book: Book, assessment: CollateralAssessment, covariance: Matrix, haircuts: HaircutCalculator,
                           schedule: CollateralSchedule, prices: [Double], settlementAsset: Int, inUniverse: [Bool],
                           scale: NormalRiskScale, config: RiskConfig, workers: Int,
                           fullUniverse: Bool = false) -> RebalancingResult {
        var context = RebalancingContext(covariance: covariance, haircuts: haircuts, schedule: schedule, prices: prices,
                                         settlementAsset: settlementAsset, inUniverse: inUniverse, scale: scale,
                                         config: config)
        context.fullUniverse = fullUniverse
        let frozen = context
        let accounts = book.accountCount
        let blockCount = (accounts + blockSize - 1) / blockSize
        var targets = [AccountTarget](repeating: AccountTarget(status: .notInScope), count: accounts)
        var blockRows = [TargetRows](repeating: TargetRows(), count: blockCount)
        var blockRowCounts = [Int](repeating: 0, count: accounts)
        BLASThreads.with(1) {
            targets.withSharedOutput { targetOut in
                blockRows.withSharedOutput { rowsOut in
                    blockRowCounts.withSharedOutput { countOut in
                        Parallel.forEachBlock(blockCount: blockCount, workers: workers,
                                              makeWorkspace: { AccountRebalancer(context: frozen) }) { block, rebalancer in
                            var rows = TargetRows()
                            for a in block * blockSize ..< min((block + 1) * blockSize, accounts) {
                                guard inScope(a, assessment: assessment, config: config) else { continue }
                                let before = rows.count
                                let target = rebalancer.rebalance(account: a, book: book, assessment: assessment, rows: &rows)
                                if target.status == .failed {
                                    // A failed account reports no rows.
                                    rows.asset.removeLast(rows.count - before)
                                    rows.targetUSD.removeLast(rows.targetUSD.count - before)
                                    rows.weight.removeLast(rows.weight.count - before)
                                    rows.tradeUSD.removeLast(rows.tradeUSD.count - before)
                                    rows.tradeQuantity.removeLast(rows.tradeQuantity.count - before)
                                }
                                targetOut[a] = target
                                countOut[a] = rows.count - before
                            }
                            rowsOut[block] = rows
                        }
                    }
                }
            }
        }
        // Merge in account order (deterministic).
        var rowStart = [Int](repeating: 0, count: accounts + 1)
        for a in 0 ..< accounts { rowStart[a + 1] = rowStart[a] + blockRowCounts[a] }
        var rows = TargetRows()
        rows.asset.reserveCapacity(rowStart[accounts])
        for block in blockRows { rows.append(contentsOf: block) }
        var sizeSum = 0, roundSum = 0, iterationSum = 0, solved = 0
        for t in targets where t.problemSize > 0 {
            sizeSum += t.problemSize; roundSum += t.rounds; iterationSum += t.iterations; solved += 1
        }
        return RebalancingResult(
            status: targets.map(\.status), reason: targets.map(\.reason), targetVaR: targets.map(\.targetVaR),
            targetHCV: targets.map(\.targetHCV), targetRatio: targets.map(\.targetRatio),
            targetTopup: targets.map(\.targetTopup), turnover: targets.map(\.turnover), cost: targets.map(\.cost),
            rowStart: rowStart, rows: rows, assetCount: schedule.count, solvedCount: solved, problemSizeSum: sizeSum,
            roundSum: roundSum, iterationSum: iterationSum)
    }
}
