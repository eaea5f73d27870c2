import LinearAlgebra
import RiskPipeline
import Testing

/// The riskiest-accounts selection against a full sort of the same order (ratios drawn from a few values, so
/// ties on the ratio and on VaR are common and the index tie-break is exercised).
@Suite struct RankingTests {
    @Test(arguments: [0, 1, 20, 500])
    func selectionEqualsTheHeadOfAFullSort(count: Int) {
        var rng = SplitMix64(seed: 77)
        let n = 3000
        let ratio = (0 ..< n).map { _ -> Double in rng.nextBool(0.25) ? .nan : Double(rng.nextInt(below: 40)) / 10 }
        let valueAtRisk = (0 ..< n).map { _ in Double(rng.nextInt(below: 5)) }
        let invalid = (0 ..< n).map { _ in rng.nextInt(below: 50) == 0 }
        let expected = (0 ..< n).filter { !ratio[$0].isNaN && !invalid[$0] }.sorted { a, b in
            (ratio[a], -valueAtRisk[a], a) < (ratio[b], -valueAtRisk[b], b)
        }
        let got = RiskRanking.riskiest(collateralRatio: ratio, valueAtRisk: valueAtRisk, invalid: invalid, count: count)
        #expect(got == Array(expected.prefix(count)))
    }
}
