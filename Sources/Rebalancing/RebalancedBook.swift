import RiskMetrics
import RiskModel

extension CascadeBook {
    /// The book as it would be if every recommendation were followed (METHODOLOGY "Liquidation cascades under stress"): an account `rebalanced` or
    /// `topup_required` holds its target collateral net of the trading costs, x_i·(1 − cost/C) USD of asset i at
    /// today's prices, beside its unchanged debts, and a `topup_required` account also holds `target_topup_usd` more
    /// of the settlement asset; every other account is as today.
    ///
    /// Rows of a changed account: its debts in holding order, then its targets in target-row order, then the top-up
    /// (added to the settlement asset's target when the account has one).
    public static func rebalanced(book: Book, assessment: CollateralAssessment, rebalancing: RebalancingResult,
                                  settlementAsset: Int) -> CascadeBook {
        var rowStart = [0], asset: [Int32] = [], value: [Double] = []
        rowStart.reserveCapacity(book.accountCount + 1)
        asset.reserveCapacity(book.holdingCount)
        value.reserveCapacity(book.holdingCount)
        for a in 0 ..< book.accountCount {
            let status = rebalancing.status[a]
            if status == .rebalanced || status == .topupRequired {
                for k in book.holdings(of: a) where assessment.exposure[k] < 0 {
                    asset.append(book.assetIndex[k])
                    value.append(assessment.exposure[k])
                }
                let collateral = assessment.collateral[a]
                // Share of the targets left after paying the trading costs out of the collateral.
                let kept = collateral > 0 ? 1 - rebalancing.cost[a] / collateral : 1
                let firstTarget = value.count
                for r in rebalancing.targetRows(of: a) where rebalancing.rows.targetUSD[r] > 0 {
                    asset.append(rebalancing.rows.asset[r])
                    value.append(rebalancing.rows.targetUSD[r] * kept)
                }
                let topup = rebalancing.targetTopup[a]
                if status == .topupRequired && topup > 0 {
                    // Added to the target holding of the settlement asset if there is one: one holding, one haircut.
                    if let r = (firstTarget ..< value.count).first(where: { asset[$0] == Int32(settlementAsset) }) {
                        value[r] += topup
                    } else {
                        asset.append(Int32(settlementAsset))
                        value.append(topup)
                    }
                }
            } else {
                for k in book.holdings(of: a) {
                    asset.append(book.assetIndex[k])
                    value.append(assessment.exposure[k])
                }
            }
            rowStart.append(value.count)
        }
        return CascadeBook(rowStart: rowStart, asset: asset, value: value, excluded: assessment.invalid)
    }
}
