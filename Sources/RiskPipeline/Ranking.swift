/// Which accounts the summary and the report call the riskiest.
public enum RiskRanking {
    /// Accounts with debt, lowest health factor first; ties by larger parametric VaR, then book order.
    /// Accounts without debt have no ratio and are never listed.
    public static func riskiest(_ result: RunResult, count: Int) -> [Int] {
        let ratio = result.assessment.collateralRatio
        let valueAtRisk = result.parametric.valueAtRisk
        let candidates = ratio.indices.filter { !ratio[$0].isNaN && !result.assessment.invalid[$0] }
        let sorted = candidates.sorted { a, b in
            if ratio[a] != ratio[b] { return ratio[a] < ratio[b] }
            if valueAtRisk[a] != valueAtRisk[b] { return valueAtRisk[a] > valueAtRisk[b] }
            return a < b
        }
        return Array(sorted.prefix(count))
    }
}
