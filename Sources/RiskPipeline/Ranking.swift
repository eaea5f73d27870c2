import RiskModel

/// Which accounts the summary and the report call the riskiest.
public enum RiskRanking {
    /// Accounts with debt, lowest health factor first; ties by larger parametric VaR, then file order (positions.csv).
    /// Accounts without debt have no ratio and are never listed.
    public static func riskiest(_ result: RunResult, count: Int) -> [Int] {
        riskiest(collateralRatio: result.assessment.collateralRatio, valueAtRisk: result.parametric.valueAtRisk,
                 invalid: result.assessment.invalid, fileRows: result.accounts.fileRows, count: count)
    }

    /// Indices of the `count` riskiest accounts: lowest collateral ratio first, then larger VaR, then earlier in
    /// file order (`fileRows[a]`, the account's row in positions.csv; the index itself when nil); accounts
    /// without a ratio (no debt) or flagged invalid are left out.
    public static func riskiest(collateralRatio ratio: [Double], valueAtRisk: [Double], invalid: [Bool],
                                fileRows: [FileRow]? = nil, count: Int) -> [Int] {
        func riskier(_ a: Int, _ b: Int) -> Bool {
            if ratio[a] != ratio[b] { return ratio[a] < ratio[b] }
            if valueAtRisk[a] != valueAtRisk[b] { return valueAtRisk[a] > valueAtRisk[b] }
            if let rows = fileRows { return rows[a] < rows[b] }
            return a < b
        }
        // The first `count` in that order, kept sorted while scanning once (a full sort of a million accounts for
        // twenty of them cost more than the rest of the summary): most accounts fail the first comparison.
        guard count > 0 else { return [] }
        var top: [Int] = []
        top.reserveCapacity(count + 1)
        for a in ratio.indices where !ratio[a].isNaN && !invalid[a] {
            if top.count == count, !riskier(a, top[count - 1]) { continue }
            var position = top.count
            while position > 0, riskier(a, top[position - 1]) { position -= 1 }
            top.insert(a, at: position)
            if top.count > count { top.removeLast() }
        }
        return top
    }
}
