import LinearAlgebra
import RiskMetrics
import RiskModel

/// Two runs seen on run A's assets, where the attribution happens (V(·, p_B, Σ_A, s_A): only run A's covariance
/// prices risk, so an asset outside run A's risk universe carries none). Assets are matched by ticker.
struct ComparedMarket: Sendable {
    let before: RunSnapshot
    let after: RunSnapshot
    /// Per asset of run B: its index in run A when run A's risk universe holds it, else −1.
    let afterInBefore: [Int]
    /// p_B on run A's assets (USD per unit): run B's price, or run A's for an asset not in run B.
    let repricing: [Double]

    init(before a: RunSnapshot, after b: RunSnapshot) {
        precondition(a.covariance.rows == a.tickers.count && a.prices.count == a.tickers.count,
                     "RunSnapshot: one price and one row of Σ per asset")
        before = a
        after = b
        let indexInA = Self.index(a.tickers), indexInB = Self.index(b.tickers)
        afterInBefore = b.tickers.map { ticker in indexInA[ticker].flatMap { a.inUniverse[$0] ? $0 : nil } ?? -1 }
        repricing = a.tickers.indices.map { j in indexInB[a.tickers[j]].map { b.prices[$0] } ?? a.prices[j] }
    }

    static func index(_ tickers: [String]) -> [String: Int] {
        Dictionary(tickers.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every row's change, in fixed chunks of `RunChanges.chunkSize` rows on `workers` threads.
    func attribute(_ rows: AccountPairs, workers: Int) -> [AccountChange] {
        let placeholder = AccountChange(account: "", statusBefore: .none, statusAfter: .none, varBefore: 0, varAfter: 0,
                                        attribution: .undefined)
        var changes = [AccountChange](repeating: placeholder, count: rows.count)
        let size = RunChanges.chunkSize, assets = before.tickers.count
        changes.withSharedOutput { out in
            Parallel.forEachBlock(blockCount: (rows.count + size - 1) / size, workers: workers,
                                  makeWorkspace: { PositionPair(assetCount: assets) }) { chunk, pair in
                repricing.withUnsafeBufferPointer { prices in
                    before.covariance.elements.withUnsafeBufferPointer { covariance in
                        for r in chunk * size ..< min((chunk + 1) * size, rows.count) {
                            out[r] = change(before: Int(rows.before[r]), after: Int(rows.after[r]), pair: &pair,
                                            prices: prices, covariance: covariance)
                        }
                    }
                }
            }
        }
        return changes
    }

    /// The change of account `i` of run A / `j` of run B (−1: not in that run), valued with `pair` as workspace on
    /// run A's covariance and run B's prices (raw buffers of `before.covariance` and `repricing`).
    func change(before i: Int, after j: Int, pair: inout PositionPair, prices: UnsafeBufferPointer<Double>,
                covariance: UnsafeBufferPointer<Double>) -> AccountChange {
        let statusBefore = i < 0 ? ChangeStatus.none : ChangeStatus(before.status[i])
        let statusAfter = j < 0 ? ChangeStatus.none : ChangeStatus(after.status[j])
        var change = AccountChange(account: j >= 0 ? after.accountIDs[j] : before.accountIDs[i], statusBefore: statusBefore,
                                   statusAfter: statusAfter, varBefore: Self.valueAtRisk(i, statusBefore, before),
                                   varAfter: Self.valueAtRisk(j, statusAfter, after), attribution: .undefined)
        guard statusBefore != .outOfRange && statusAfter != .outOfRange else { return change }
        if i >= 0 { addBefore(i, to: &pair) }
        if j >= 0 { addAfter(j, to: &pair) }
        let v = pair.values(prices: prices, covariance: covariance, varPerSigma: before.varPerSigma)
        change.attribution = VaRAttribution(before: change.varBefore, repriced: v.x, repositioned: v.y, after: change.varAfter)
        return change
    }

    /// An account's parametric VaR on one side (USD): 0 when not in the run, NaN when out of range.
    static func valueAtRisk(_ a: Int, _ status: ChangeStatus, _ run: RunSnapshot) -> Double {
        switch status {
        case .none: return 0
        case .outOfRange: return .nan
        default: return run.varParam[a]
        }
    }

    /// Adds account `i`'s quantities of run A (on run A's risk universe) as the pair's first position.
    func addBefore(_ i: Int, to pair: inout PositionPair) {
        for k in before.holdings(of: i) {
            let asset = Int(before.holdingAsset[k])
            if before.inUniverse[asset] { pair.add(asset: asset, first: before.holdingQuantity[k], second: 0) }
        }
    }

    /// Adds account `j`'s quantities of run B (those in run A's risk universe) as the pair's second position.
    func addAfter(_ j: Int, to pair: inout PositionPair) {
        for k in after.holdings(of: j) {
            let asset = afterInBefore[Int(after.holdingAsset[k])]
            if asset >= 0 { pair.add(asset: asset, first: 0, second: after.holdingQuantity[k]) }
        }
    }

    /// The book's change: the same attribution on the quantities summed per asset over each run's accounts in range
    /// (in account order), between the runs' own book VaRs.
    func bookChange() -> RunChanges.BookChange {
        var pair = PositionPair(assetCount: before.tickers.count)
        for i in 0 ..< before.accountCount where before.status[i] != nil { addBefore(i, to: &pair) }
        for j in 0 ..< after.accountCount where after.status[j] != nil { addAfter(j, to: &pair) }
        let v = repricing.withUnsafeBufferPointer { prices in
            before.covariance.elements.withUnsafeBufferPointer { covariance in
                pair.values(prices: prices, covariance: covariance, varPerSigma: before.varPerSigma)
            }
        }
        return RunChanges.BookChange(varBefore: before.bookVaR, varAfter: after.bookVaR,
                                     attribution: VaRAttribution(before: before.bookVaR, repriced: v.x, repositioned: v.y,
                                                                 after: after.bookVaR))
    }
}
