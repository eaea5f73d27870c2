import LinearAlgebra
@testable import RiskReport
import Testing

/// The report's "accounts with the most exceptions": the one-scan selection against a full sort (largest total first,
/// file order on ties, totals of 0 left out).
@Suite struct MostExceptionsTests {
    @Test func oneScanEqualsTheFullSort() {
        var rng = SplitMix64(seed: 11)
        for trial in 0 ..< 200 {
            let n = Int(rng.next() % 300)
            let totals = (0 ..< n).map { _ in Int(rng.next() % (trial % 3 == 0 ? 3 : 40)) }
            let accounts = (0 ..< n).map { _ in Int(rng.next() % UInt64(max(n, 1))) }  // file order → account
            for count in [0, 1, 5, 20, 400] {
                let sorted = accounts.enumerated().sorted { x, y in
                    totals[x.element] != totals[y.element] ? totals[x.element] > totals[y.element] : x.offset < y.offset
                }.prefix(count).map(\.element).filter { totals[$0] > 0 }
                #expect(HTMLReport.mostExceptions(accounts, count: count) { totals[$0] } == sorted, "trial \(trial), count \(count)")
            }
        }
    }
}
