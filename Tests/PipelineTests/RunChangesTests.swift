import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import RiskPipeline
import Testing

/// `RunChanges.compare` against hand computations (two assets, explicit 2 × 2 arithmetic) and against a plain
/// reference over random runs: the attribution's parts, new and closed accounts, assets entering and leaving the risk
/// universe, out-of-range accounts, the book, the transition matrix, and independence of the worker count.
@Suite struct RunChangesTests {
    typealias Account = ChangesFixture.Account

    /// Σ_A of the hand computations: σ_X² = 4e-4, σ_Y² = 9e-4, cov 3e-4; s = 2.5.
    static let s11 = 4e-4, s12 = 3e-4, s22 = 9e-4
    static let sigmaA = Matrix([[s11, s12], [s12, s22]])
    static let s = 2.5

    /// V for two exposures under a 2 × 2 Σ, written out.
    static func handVaR(_ e1: Double, _ e2: Double, _ c11: Double, _ c12: Double, _ c22: Double, s: Double = s) -> Double {
        s * (e1 * e1 * c11 + 2 * e1 * e2 * c12 + e2 * e2 * c22).squareRoot()
    }

    /// Runs A and B of one account holding X and owing Y.
    static func twoNights(qA: (Double, Double), pA: (Double, Double), qB: (Double, Double), pB: (Double, Double),
                          sigmaB: Matrix = sigmaA, sB: Double = s, varA: Double, varB: Double) -> RunChanges {
        let a = ChangesFixture.snapshot(runID: 1, asOf: "2026-02-02", tickers: ["X", "Y"], prices: [pA.0, pA.1],
                                        covariance: sigmaA, varPerSigma: s,
                                        accounts: [Account(id: "acc", status: .ok, varParam: varA,
                                                           holdings: [("X", qA.0), ("Y", qA.1)])], bookVaR: varA)
        let b = ChangesFixture.snapshot(runID: 2, asOf: "2026-02-03", tickers: ["X", "Y"], prices: [pB.0, pB.1],
                                        covariance: sigmaB, varPerSigma: sB,
                                        accounts: [Account(id: "acc", status: .ok, varParam: varB,
                                                           holdings: [("X", qB.0), ("Y", qB.1)])], bookVaR: varB)
        return RunChanges.compare(before: a, after: b, history: [], workers: 1)
    }

    static func close(_ x: Double, _ y: Double, relative: Double = 1e-12, scale: Double? = nil) -> Bool {
        abs(x - y) <= relative * (scale ?? max(abs(x), abs(y), 1e-300))
    }

    // MARK: - Two assets, two nights, by hand

    /// e_A = (20, −5): 400·4e-4 − 200·3e-4 + 25·9e-4 = 0.1225, V_A = 2.5·0.35 = 0.875.
    @Test func theHandValueOfTheFirstNight() {
        #expect(Self.close(Self.handVaR(20, -5, Self.s11, Self.s12, Self.s22), 0.875))
        #expect(Self.close(PositionVaR.value(assets: [0, 1], quantities: [2, -1], prices: [10, 5], covariance: Self.sigmaA,
                                             inUniverse: [true, true], varPerSigma: Self.s), 0.875))
    }

    @Test func onlyPricesChange() {
        // e at the new prices (12, 4): (24, −4).
        let varB = Self.handVaR(24, -4, Self.s11, Self.s12, Self.s22)
        let c = Self.twoNights(qA: (2, -1), pA: (10, 5), qB: (2, -1), pB: (12, 4), varA: 0.875, varB: varB)
        let part = c.accounts[0].attribution
        #expect(Self.close(part.price, varB - 0.875))
        #expect(part.position == 0)
        #expect(abs(part.model) <= 1e-12 * varB)
        #expect(Self.close(c.book.attribution.price, varB - 0.875) && c.book.attribution.position == 0)
    }

    @Test func onlyPositionsChange() {
        // q_B = (3, −2): e = (30, −10).
        let varB = Self.handVaR(30, -10, Self.s11, Self.s12, Self.s22)
        let c = Self.twoNights(qA: (2, -1), pA: (10, 5), qB: (3, -2), pB: (10, 5), varA: 0.875, varB: varB)
        let part = c.accounts[0].attribution
        #expect(abs(part.price) <= 1e-12)
        #expect(Self.close(part.position, varB - 0.875))
        #expect(abs(part.model) <= 1e-12 * varB)
    }

    @Test func onlyTheCovarianceChanges() {
        // Σ_B = [[9e-4, 1e-4], [1e-4, 4e-4]] on e = (20, −5).
        let varB = Self.handVaR(20, -5, 9e-4, 1e-4, 4e-4)
        let c = Self.twoNights(qA: (2, -1), pA: (10, 5), qB: (2, -1), pB: (10, 5),
                               sigmaB: Matrix([[9e-4, 1e-4], [1e-4, 4e-4]]), varA: 0.875, varB: varB)
        let part = c.accounts[0].attribution
        #expect(abs(part.price) <= 1e-12 && part.position == 0)
        #expect(Self.close(part.model, varB - 0.875))
    }

    @Test func aChangeOfConfidenceIsAModelChange() {
        // s from 2.5 to 2.5·1.2: V_B = 1.2·V_A.
        let c = Self.twoNights(qA: (2, -1), pA: (10, 5), qB: (2, -1), pB: (10, 5), sB: Self.s * 1.2, varA: 0.875,
                               varB: 0.875 * 1.2)
        let part = c.accounts[0].attribution
        #expect(abs(part.price) <= 1e-12 && part.position == 0)
        #expect(Self.close(part.model, 0.175))
        #expect(Self.close(c.book.attribution.model, 0.175))
    }

    // MARK: - Assets entering and leaving the risk universe

    /// Z is outside run A's universe (zero rows of Σ_A), W not in run A at all; both carry risk in run B. Their risk
    /// is all model: a larger position in Z changes nothing under Σ_A.
    @Test func assetsEnteringTheUniverseAreAModelChange() {
        let a = ChangesFixture.snapshot(runID: 1, asOf: "2026-02-02", tickers: ["X", "Y", "Z"], prices: [10, 5, 3],
                                        inUniverse: [true, true, false],
                                        covariance: Matrix([[Self.s11, Self.s12, 0], [Self.s12, Self.s22, 0], [0, 0, 0]]),
                                        varPerSigma: Self.s,
                                        accounts: [Account(id: "acc", status: .ok, varParam: Self.s * 20 * Self.s11.squareRoot(),
                                                           holdings: [("X", 2), ("Z", 5)])])
        let sigmaB = Matrix([[4e-4, 0, 1e-4, 0], [0, 9e-4, 0, 0], [1e-4, 0, 16e-4, 2e-4], [0, 0, 2e-4, 25e-4]])
        let b = ChangesFixture.snapshot(runID: 2, asOf: "2026-02-03", tickers: ["X", "Y", "Z", "W"], prices: [10, 5, 3, 7],
                                        covariance: sigmaB, varPerSigma: Self.s,
                                        accounts: [Account(id: "acc", status: .ok, varParam: 0,
                                                           holdings: [("X", 2), ("Z", 9), ("W", 1)])])
        // e_B = (20, 27, 7) on (X, Z, W) under Σ_B, written out.
        let diagonal: Double = 400 * 4e-4 + 729 * 16e-4 + 49 * 25e-4
        let crossXZ: Double = 20 * 27 * 1e-4, crossZW: Double = 27 * 7 * 2e-4
        let formB = diagonal + 2 * (crossXZ + crossZW)
        var bb = b
        bb.varParam[0] = Self.s * formB.squareRoot()
        let part = RunChanges.compare(before: a, after: bb, history: [], workers: 1).accounts[0].attribution
        #expect(abs(part.price) <= 1e-12 && part.position == 0)
        #expect(Self.close(part.model, bb.varParam[0] - a.varParam[0]))
    }

    /// Z leaves: run B no longer lists it (the account sold it), so Z keeps run A's price in V(q_A, p_B, Σ_A).
    @Test func anAssetLeavingKeepsItsPriceAndItsRiskGoesWithThePosition() {
        // Σ_A on (X, Z): [[4e-4, 2e-4], [2e-4, 16e-4]].
        let a = ChangesFixture.snapshot(runID: 1, asOf: "2026-02-02", tickers: ["X", "Z"], prices: [10, 3],
                                        covariance: Matrix([[4e-4, 2e-4], [2e-4, 16e-4]]), varPerSigma: Self.s,
                                        accounts: [Account(id: "acc", status: .ok, varParam: Self.handVaR(20, 15, 4e-4, 2e-4, 16e-4),
                                                           holdings: [("X", 2), ("Z", 5)])])
        let b = ChangesFixture.snapshot(runID: 2, asOf: "2026-02-03", tickers: ["X"], prices: [12],
                                        covariance: Matrix([[4e-4]]), varPerSigma: Self.s,
                                        accounts: [Account(id: "acc", status: .ok, varParam: Self.s * 24 * 0.02,
                                                           holdings: [("X", 2)])])
        let part = RunChanges.compare(before: a, after: b, history: [], workers: 1).accounts[0].attribution
        let repriced = Self.handVaR(24, 15, 4e-4, 2e-4, 16e-4)   // X at 12, Z still at 3
        #expect(Self.close(part.price, repriced - a.varParam[0]))
        #expect(Self.close(part.position, Self.s * 24 * 0.02 - repriced))
        #expect(abs(part.model) <= 1e-12)
    }

    // MARK: - Accounts: new, closed, out of range

    @Test func newClosedAndOutOfRangeAccounts() {
        let v1 = Self.handVaR(20, -5, Self.s11, Self.s12, Self.s22)
        let a = ChangesFixture.snapshot(runID: 1, asOf: "2026-02-02", tickers: ["X", "Y"], prices: [10, 5],
                                        covariance: Self.sigmaA, varPerSigma: Self.s, accounts: [
                                            Account(id: "kept", status: .ok, varParam: v1, holdings: [("X", 2), ("Y", -1)]),
                                            Account(id: "closed", status: .marginCall, varParam: Self.s * 10 * 0.02,
                                                    holdings: [("X", 1)]),
                                            Account(id: "broken", status: .ok, varParam: 1, holdings: [("X", 1)]),
                                        ])
        let b = ChangesFixture.snapshot(runID: 2, asOf: "2026-02-03", tickers: ["X", "Y"], prices: [12, 4],
                                        covariance: Self.sigmaA, varPerSigma: Self.s, accounts: [
                                            Account(id: "new", status: .marginCall, varParam: 1.5, holdings: [("X", 3), ("Y", -1)]),
                                            Account(id: "broken", status: nil, varParam: 99, holdings: [("X", 1e40)]),
                                            Account(id: "kept", status: .ok, varParam: Self.handVaR(24, -4, Self.s11, Self.s12, Self.s22),
                                                    holdings: [("X", 2), ("Y", -1)]),
                                        ])
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 1)
        #expect(c.accounts.map(\.account) == ["new", "broken", "kept", "closed"])
        #expect(c.newAccounts == 1 && c.closedAccounts == 1)
        // New: q_A = 0, V_A = 0, e_B = (36, −4).
        let new = c.accounts[0], newRepositioned = Self.handVaR(36, -4, Self.s11, Self.s12, Self.s22)
        #expect(new.statusBefore == .none && new.varBefore == 0 && new.attribution.price == 0)
        #expect(Self.close(new.attribution.position, newRepositioned) && Self.close(new.attribution.model, 1.5 - newRepositioned))
        // Closed: q_B = 0, V_B = 0, X at 12.
        let closed = c.accounts[3]
        #expect(closed.statusAfter == .none && closed.varAfter == 0 && closed.attribution.model == 0)
        #expect(Self.close(closed.attribution.price, Self.s * 12 * 0.02 - Self.s * 10 * 0.02))
        #expect(Self.close(closed.attribution.position, -Self.s * 12 * 0.02))
        // Out of range: VaR NaN on that side whatever the snapshot says, no attribution.
        let broken = c.accounts[1]
        #expect(broken.statusAfter == .outOfRange && broken.varAfter.isNaN && broken.varBefore == 1)
        #expect(broken.attribution.price.isNaN && broken.attribution.position.isNaN && broken.attribution.model.isNaN)
        #expect(c.transitions[.none, .marginCall] == 1 && c.transitions[.ok, .outOfRange] == 1)
        #expect(c.transitions[.marginCall, .none] == 1 && c.transitions[.ok, .ok] == 1)
        #expect(c.transitions.counts.reduce(0, +) == 4)
        #expect(c.newlyBreaching == [0] && c.newlyMarginCall == 1 && c.newlyLiquidatable == 0)
        // The book leaves "broken" out of run B's sum (out of range) but not of run A's.
        let bookRepositioned = Self.handVaR(36 + 24, -8, Self.s11, Self.s12, Self.s22)   // new + kept at (12, 4)
        let bookRepriced = Self.handVaR(24 + 12 + 12, -4, Self.s11, Self.s12, Self.s22)  // kept + closed + broken
        #expect(Self.close(c.book.attribution.position, bookRepositioned - bookRepriced))
    }

    // MARK: - Random runs against the reference

    static let random = ChangesFixture.randomRuns(accounts: 3000, seed: 11)

    @Test func thePartsSumToTheChangeOnRandomRuns() {
        let (a, b) = Self.random
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        var defined = 0
        for row in c.accounts where !row.attribution.price.isNaN {
            defined += 1
            let change = row.varAfter - row.varBefore
            #expect(abs(row.attribution.total - change) <= 1e-9 * max(row.varBefore, row.varAfter, abs(change), 1e-300),
                    "\(row.account)")
        }
        #expect(defined > 2000)
        let book = c.book
        #expect(abs(book.attribution.total - (book.varAfter - book.varBefore)) <= 1e-9 * max(book.varBefore, book.varAfter))
    }

    /// Every account's parts are the formulas evaluated by the reference (dictionaries, double loops).
    @Test func everyAccountsPartsAreTheReferenceFormulas() {
        let (a, b) = Self.random
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        let inA = Dictionary(uniqueKeysWithValues: a.accountIDs.enumerated().map { ($1, $0) })
        let inB = Dictionary(uniqueKeysWithValues: b.accountIDs.enumerated().map { ($1, $0) })
        let pB = ChangesFixture.afterPrices(a, b)
        for row in c.accounts {
            let i = inA[row.account], j = inB[row.account]
            #expect(row.statusBefore == (i.map { ChangeStatus(a.status[$0]) } ?? .none))
            #expect(row.statusAfter == (j.map { ChangeStatus(b.status[$0]) } ?? .none))
            guard row.statusBefore != .outOfRange && row.statusAfter != .outOfRange else {
                #expect(row.attribution.price.isNaN && row.attribution.model.isNaN)
                continue
            }
            let vA = i.map { a.varParam[$0] } ?? 0, vB = j.map { b.varParam[$0] } ?? 0
            let repriced = ChangesFixture.referenceVaR(i.map { ChangesFixture.quantities(a, $0) } ?? [:], prices: pB, under: a)
            let repositioned = ChangesFixture.referenceVaR(j.map { ChangesFixture.quantities(b, $0) } ?? [:], prices: pB, under: a)
            let scale = max(vA, vB, repriced, repositioned, 1e-300)
            #expect(Self.close(row.attribution.price, repriced - vA, relative: 1e-11, scale: scale), "\(row.account)")
            #expect(Self.close(row.attribution.position, repositioned - repriced, relative: 1e-11, scale: scale))
            #expect(Self.close(row.attribution.model, vB - repositioned, relative: 1e-11, scale: scale))
        }
    }

    /// The book: the same formulas on the quantities summed over the accounts in range of each run.
    @Test func theBookIsTheFormulasOnSummedQuantities() {
        let (a, b) = Self.random
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        func summed(_ run: RunSnapshot) -> [String: Double] {
            var q: [String: Double] = [:]
            for i in 0 ..< run.accountCount where run.status[i] != nil {
                for (t, x) in ChangesFixture.quantities(run, i) { q[t, default: 0] += x }
            }
            return q
        }
        let pB = ChangesFixture.afterPrices(a, b)
        let repriced = ChangesFixture.referenceVaR(summed(a), prices: pB, under: a)
        let repositioned = ChangesFixture.referenceVaR(summed(b), prices: pB, under: a)
        let scale = max(a.bookVaR, b.bookVaR, repriced, repositioned)
        #expect(c.book.varBefore == a.bookVaR && c.book.varAfter == b.bookVaR)
        #expect(Self.close(c.book.attribution.price, repriced - a.bookVaR, relative: 1e-10, scale: scale))
        #expect(Self.close(c.book.attribution.position, repositioned - repriced, relative: 1e-10, scale: scale))
        #expect(Self.close(c.book.attribution.model, b.bookVaR - repositioned, relative: 1e-10, scale: scale))
    }

    @Test func theTransitionMatrixIsANaiveCount() {
        let (a, b) = Self.random
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        func name(_ s: AccountStatus??) -> String {
            switch s { case nil: return "none"; case .some(nil): return "out_of_range"; case .some(.some(let x)): return x.rawValue }
        }
        var naive: [String: Int] = [:]
        let statusA = Dictionary(uniqueKeysWithValues: zip(a.accountIDs, a.status))
        let statusB = Dictionary(uniqueKeysWithValues: zip(b.accountIDs, b.status))
        for id in Set(a.accountIDs).union(b.accountIDs) { naive["\(name(statusA[id]))>\(name(statusB[id]))", default: 0] += 1 }
        for x in ChangeStatus.allCases {
            for y in ChangeStatus.allCases { #expect(c.transitions[x, y] == naive["\(x.name)>\(y.name)", default: 0], "\(x)→\(y)") }
        }
        #expect(c.newAccounts == Set(b.accountIDs).subtracting(a.accountIDs).count)
        #expect(c.closedAccounts == Set(a.accountIDs).subtracting(b.accountIDs).count)
    }

    @Test func newlyBreachingAndLargestIncreasesAreThoseOfPlainLoops() {
        let (a, b) = Self.random
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        let rank: [ChangeStatus: Int] = [.ok: 0, .marginCall: 1, .liquidatable: 2]
        let worse = c.accounts.indices.filter { r in
            let x = c.accounts[r]
            guard let now = rank[x.statusAfter], now > 0 else { return false }
            return (rank[x.statusBefore] ?? -1) < now
        }
        #expect(c.newlyBreaching == worse.filter { c.accounts[$0].statusAfter == .liquidatable }
            + worse.filter { c.accounts[$0].statusAfter == .marginCall })
        let increases = c.accounts.indices.filter { c.accounts[$0].varIncrease > 0 }
            .sorted { x, y in
                let (dx, dy) = (c.accounts[x].varIncrease, c.accounts[y].varIncrease)
                return dx != dy ? dx > dy : x < y
            }
        #expect(c.largestIncreases == Array(increases.prefix(20)))
    }

    @Test func oneAndThreeWorkersGiveTheSameBits() {
        let (a, b) = Self.random
        let one = RunChanges.compare(before: a, after: b, history: [], workers: 1)
        let three = RunChanges.compare(before: a, after: b, history: [], workers: 3)
        func bits(_ c: RunChanges) -> [UInt64] {
            c.accounts.flatMap { r in
                [r.varBefore, r.varAfter, r.attribution.price, r.attribution.position, r.attribution.model].map(\.bitPattern)
            } + [c.book.attribution.price, c.book.attribution.position, c.book.attribution.model].map(\.bitPattern)
        }
        #expect(bits(one) == bits(three))
        #expect(one.accounts.map(\.account) == three.accounts.map(\.account))
        #expect(one.transitions == three.transitions && one.largestIncreases == three.largestIncreases)
        #expect(one.newlyBreaching == three.newlyBreaching)
    }

    @Test func theHistoryIsByAsOfDateThenID() {
        let (a, b) = Self.random
        func run(_ id: Int64, _ date: String) -> StoredRun {
            StoredRun(id: id, bookName: "book", asOf: date, storedAt: "2026-01-01T00:00:00Z", engineVersion: "1.0.0",
                      accounts: 1, collateral: 1, debt: 1, hcv: 1, varParam: 1, varHist: 1, varMC: 1, ok: 1, marginCall: 0,
                      liquidatable: 0)
        }
        let c = RunChanges.compare(before: a, after: b, history: [run(5, "2026-01-03"), run(2, "2026-01-04"), run(3, "2026-01-03")],
                                   workers: 1)
        #expect(c.history.map(\.id) == [3, 5, 2])
        #expect(c.before == RunChanges.RunInfo(runID: 4, bookName: "book", asOf: "2026-01-05"))
        #expect(c.after.runID == 7)
    }

    // MARK: - Size

    /// 100,000 accounts of about 6 holdings in 200 assets; prints the time (debug builds are several times slower
    /// than release).
    @Test func aHundredThousandRetailAccounts() {
        let (a, b) = Self.largeRuns(accounts: 100_000, assets: 200, holdings: 6)
        let start = DispatchTime.now()
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print("RunChanges.compare: 100,000 accounts × 6 holdings, 200 assets, 2 workers: \(seconds) s")
        #expect(c.accounts.count == 100_000)
    }

    /// With BALLAST_BENCH=1: 5,000 accounts of 500 holdings in 500 assets.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BALLAST_BENCH"] == "1"))
    func fiveThousandInstitutionalAccounts() {
        let (a, b) = Self.largeRuns(accounts: 5000, assets: 500, holdings: 500)
        let start = DispatchTime.now()
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 2)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print("RunChanges.compare: 5,000 accounts × 500 holdings, 500 assets, 2 workers: \(seconds) s")
        #expect(c.accounts.count == 5000)
    }

    /// Two runs of `accounts` accounts holding `holdings` of `assets` assets (same Σ, B with other quantities).
    static func largeRuns(accounts: Int, assets n: Int, holdings k: Int) -> (RunSnapshot, RunSnapshot) {
        var random = ChangesFixture.Random(state: 3)
        let tickers = (0 ..< n).map { "A\($0)" }
        let sigma = ChangesFixture.covariance(n, inUniverse: tickers.map { _ in true }, random: &random)
        var starts = [0], assets: [Int32] = [], quantities: [Double] = []
        for _ in 0 ..< accounts {
            let first = random.int(n)
            for h in 0 ..< k {
                assets.append(Int32((first + h * 7) % n))
                quantities.append(random.next() - 0.3)
            }
            starts.append(assets.count)
        }
        let ids = (0 ..< accounts).map { "account-\($0)" }
        let a = RunSnapshot(runID: 1, bookName: "big", asOf: "2026-01-01", tickers: tickers,
                            prices: tickers.map { _ in 1 + 10 * random.next() }, inUniverse: tickers.map { _ in true },
                            covariance: sigma, varPerSigma: 2.3, accountIDs: ids, status: ids.map { _ in .ok },
                            varParam: ids.map { _ in 1 }, holdingStart: starts, holdingAsset: assets,
                            holdingQuantity: quantities, bookVaR: 1)
        var b = a
        b.runID = 2
        b.holdingQuantity = quantities.map { $0 * (0.9 + 0.2 * random.next()) }
        b.prices = a.prices.map { $0 * 1.01 }
        return (a, b)
    }
}
