import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

/// A book with its market, haircuts and today's assessment, ready to stress.
private struct StressFixture {
    let book: Book
    let prices: [Double]
    let schedule: CollateralSchedule
    let config: RiskConfig
    let haircuts: HaircutCalculator
    let assessment: CollateralAssessment

    init(book: Book, prices: [Double], schedule: CollateralSchedule, volatilities: [Double],
         config: RiskConfig = RiskConfig()) {
        self.book = book
        self.prices = prices
        self.schedule = schedule
        self.config = config
        haircuts = HaircutCalculator(schedule: schedule, volatilities: volatilities,
                                     z: NormalDistribution.quantile(config.confidence), config: config)
        assessment = CollateralAssessment.assess(book: book, prices: prices, haircuts: haircuts, settlementAsset: 0,
                                                 config: config)
    }

    /// A random book of `accounts` over `n` assets (Fixtures' `randomBook`), prices in 0.5–500, daily vols from
    /// `randomCovariance`. A small ADV puts many holdings past T₀ days of liquidity, so the size-dependent haircut
    /// path runs too.
    static func random(accounts: Int, assets n: Int, seed: UInt64, adv: Double? = 2_000) -> StressFixture {
        var rng = TestRandom(seed: seed ^ 0x57E55)
        let prices = (0 ..< n).map { _ in rng.nextUniform(0.5 ... 500) }
        let vols = randomCovariance(assets: n, seed: seed).diagonal.map { $0.squareRoot() }
        return StressFixture(book: randomBook(accounts: accounts, assets: n, seed: seed), prices: prices,
                             schedule: uniformSchedule(n, haircut: 0.05, adv: adv), volatilities: vols)
    }

    func scenarios(_ rows: [[Double]], names: [String]? = nil) -> StressScenarios {
        let names = names ?? rows.indices.map { "s\($0)" }
        return StressScenarios(names: names, sources: names.map { _ in .hypothetical },
                               shocks: rows.isEmpty ? Matrix(rows: 0, columns: schedule.count) : Matrix(rows))
    }

    func run(_ scenarios: StressScenarios, workers: Int = 1, kernel: StressTester.Kernel = .automatic) -> StressResult {
        StressTester.run(book: book, assessment: assessment, scenarios: scenarios, haircuts: haircuts, config: config,
                         workers: workers, kernel: kernel)
    }

    func stressed(_ account: Int, _ scenarios: StressScenarios) -> [StressedAccount] {
        StressTester.stressAccount(account, book: book, assessment: assessment, scenarios: scenarios,
                                   haircuts: haircuts, config: config)
    }
}

/// Fixtures' `schedule` under a name that the fixture's own `schedule` property does not shadow.
private func uniformSchedule(_ n: Int, haircut: Double, adv: Double?) -> CollateralSchedule {
    schedule(n, haircut: haircut, adv: adv)
}

/// Random shocks in `range` for every asset.
private func randomShocks(scenarios: Int, assets n: Int, range: ClosedRange<Double>, seed: UInt64) -> [[Double]] {
    var rng = TestRandom(seed: seed)
    return (0 ..< scenarios).map { _ in (0 ..< n).map { _ in rng.nextUniform(range) } }
}

/// Bitwise equality of two results (NaN equal to NaN of the same pattern).
private func identical(_ x: StressResult, _ y: StressResult) -> Bool {
    x.scenarios.count == y.scenarios.count
        && zip(x.scenarios, y.scenarios).allSatisfy { a, b in
            a.name == b.name && a.totalLossUSD.bitPattern == b.totalLossUSD.bitPattern
                && a.shortfallUSD.bitPattern == b.shortfallUSD.bitPattern && a.accountsOK == b.accountsOK
                && a.accountsMarginCall == b.accountsMarginCall && a.accountsLiquidatable == b.accountsLiquidatable
                && a.newlyLiquidatable == b.newlyLiquidatable
        }
        && x.worstScenario == y.worstScenario
        && x.worstScenarioLoss.map(\.bitPattern) == y.worstScenarioLoss.map(\.bitPattern)
}

private func rank(_ status: AccountStatus) -> Int {
    switch status {
    case .ok: return 0
    case .marginCall: return 1
    case .liquidatable: return 2
    }
}

@Suite struct StressTestingTests {
    let z99 = NormalDistribution.quantile(0.99)

    // MARK: Hand-computed cases

    /// USDC (asset 0, price 1, no ADV), A (price 100, σ 5 %, ADV 5,000 USD: 500 USD a day at 10 % participation)
    /// and B (price 200, σ 3 %, no ADV). Accounts: `solo` holds 10 A; `borrower` 10 A against 500 USDC;
    /// `pair` 10 A against 3 B. Scenarios: A −30 %; A −60 %; A −20 % with B +50 %.
    private func handFixture(model: HaircutModel) -> StressFixture {
        var builder = BookBuilder(assetCount: 3)
        builder.add(account: "solo", asset: 1, quantity: 10)
        builder.add(account: "borrower", asset: 1, quantity: 10)
        builder.add(account: "borrower", asset: 0, quantity: -500)
        builder.add(account: "pair", asset: 1, quantity: 10)
        builder.add(account: "pair", asset: 2, quantity: -3)
        let schedule = CollateralSchedule(assets: [
            AssetTerms(ticker: "USDC", scheduleHaircut: 0.02),
            AssetTerms(ticker: "A", scheduleHaircut: 0.1, averageDailyVolumeUSD: 5_000),
            AssetTerms(ticker: "B", scheduleHaircut: 0.15),
        ])
        var config = RiskConfig()
        config.haircutModel = model
        return StressFixture(book: builder.build(), prices: [1, 100, 200], schedule: schedule,
                             volatilities: [0.001, 0.05, 0.03], config: config)
    }

    private var handScenarios: [[Double]] { [[0, -0.3, 0], [0, -0.6, 0], [0, -0.2, 0.5]] }

    @Test func handComputedVolatilityModel() {
        let f = handFixture(model: .volatility)
        let sc = f.scenarios(handScenarios, names: ["mild", "crash", "squeeze"])
        // Haircut of A at a stressed value c′: T = max(1, c′/500) days, h = max(0.1, 1 − exp(−z·0.05·√T)).
        func haircutA(_ c: Double) -> Double { max(0.1, 1 - exp(-z99 * 0.05 * max(1, c / 500).squareRoot())) }
        // Today 1,000 USD of A: T = 2 days. Under the scenarios 700 (T = 1.4), 400 (T = 1: below T₀) and 800 (T = 1.6).
        #expect(relativeError(f.assessment.haircut[0], haircutA(1000)) < 1e-14)
        let hcvA = [700 * (1 - haircutA(700)), 400 * (1 - haircutA(400)), 800 * (1 - haircutA(800))]
        // The re-evaluated haircuts really differ from today's (thinner position, shorter liquidation).
        #expect(haircutA(700) < haircutA(1000) - 0.01 && haircutA(400) > 0.1)

        // solo: no debt → no ratio, ok; loss 300, 600, 200; no shortfall.
        let solo = f.stressed(0, sc)
        for (s, expectedLoss) in [300.0, 600, 200].enumerated() {
            #expect(relativeError(solo[s].lossUSD, expectedLoss) < 1e-14)
            #expect(relativeError(solo[s].hcvUSD, hcvA[s]) < 1e-14)
            #expect(solo[s].collateralRatio.isNaN && solo[s].status == .ok && solo[s].shortfallUSD == 0 && solo[s].debtUSD == 0)
        }

        // borrower: debt 500 USDC, never shocked.
        let borrower = f.stressed(1, sc)
        let borrowerCR = hcvA.map { $0 / 500 }   // ≈ 1.220, 0.712, 1.381
        #expect(borrower.map(\.status) == [.ok, .liquidatable, .ok])
        for s in 0 ..< 3 {
            #expect(relativeError(borrower[s].collateralRatio, borrowerCR[s]) < 1e-14)
            #expect(borrower[s].debtUSD == 500)
        }
        #expect(relativeError(borrower[0].collateralUSD, 700) < 1e-15)
        #expect(borrower[0].shortfallUSD == 0 && borrower[2].shortfallUSD == 0)
        #expect(relativeError(borrower[1].shortfallUSD, 100) < 1e-13)   // 500 − 400
        #expect(relativeError(borrower[1].lossUSD, 600) < 1e-14)

        // pair: debt 600 USD of B; B +50 % in `squeeze` raises it to 900.
        let pair = f.stressed(2, sc)
        #expect(pair.map(\.status) == [.marginCall, .liquidatable, .liquidatable])
        #expect(relativeError(pair[0].collateralRatio, hcvA[0] / 600) < 1e-14)   // ≈ 1.017
        #expect(relativeError(pair[2].collateralRatio, hcvA[2] / 900) < 1e-14)   // ≈ 0.767
        #expect(relativeError(pair[2].debtUSD, 900) < 1e-15)
        #expect(relativeError(pair[1].shortfallUSD, 200) < 1e-13)   // 600 − 400
        #expect(relativeError(pair[2].shortfallUSD, 100) < 1e-13)   // 900 − 800
        #expect(relativeError(pair[2].lossUSD, 500) < 1e-14)        // −(1000·(−0.2) + (−600)·0.5)

        // The book table and the worst scenarios, through the block kernel (both kernels).
        #expect(f.assessment.status == [.ok, .ok, .ok])
        for kernel in [StressTester.Kernel.dense, .sparse] {
            let result = f.run(sc, kernel: kernel)
            let table = result.scenarios
            #expect(table.map(\.name) == ["mild", "crash", "squeeze"])
            #expect(table.map(\.accountsOK) == [2, 1, 2])
            #expect(table.map(\.accountsMarginCall) == [1, 0, 0])
            #expect(table.map(\.accountsLiquidatable) == [0, 2, 1])
            #expect(table.map(\.newlyLiquidatable) == [0, 2, 1])
            for (s, expected) in [900.0, 1800, 900].enumerated() { #expect(relativeError(table[s].totalLossUSD, expected) < 1e-14) }
            for (s, expected) in [0.0, 300, 100].enumerated() { #expect(abs(table[s].shortfallUSD - expected) < 1e-10) }
            #expect(result.worstScenario == [1, 1, 1])
            #expect(zip(result.worstScenarioLoss, [600.0, 600, 600]).allSatisfy { relativeError($0, $1) < 1e-14 })
        }
    }

    @Test func handComputedScheduleModel() {
        // Schedule haircuts: A keeps 0.1 whatever its size.
        let f = handFixture(model: .schedule)
        let pair = f.stressed(2, f.scenarios(handScenarios))
        #expect(relativeError(pair[0].hcvUSD, 700 * 0.9) < 1e-15)
        #expect(relativeError(pair[0].collateralRatio, 630.0 / 600) < 1e-15)   // 1.05: margin call
        #expect(relativeError(pair[2].collateralRatio, 720.0 / 900) < 1e-15)   // 0.8: liquidatable
        #expect(pair.map(\.status) == [.marginCall, .liquidatable, .liquidatable])
        #expect(relativeError(pair[0].lossUSD, 300) < 1e-14)
    }

    // MARK: Invariants

    /// ADV 2,000 USD puts most holdings on the per-scenario haircut path; no ADV keeps every holding on the
    /// constant (T = T₀) path, whose haircut is the volatility one, above the 5 % schedule floor for most assets.
    @Test(arguments: [2_000, nil] as [Double?])
    func zeroShockReproducesTodayExactly(adv: Double?) {
        let f = StressFixture.random(accounts: 400, assets: 10, seed: 21, adv: adv)
        #expect(f.haircuts.marginalHaircut(asset: 1) > 0.05 || f.haircuts.marginalHaircut(asset: 3) > 0.05)
        // Other scenarios around the zero one: large rises push holdings onto the per-scenario haircut path.
        var rows = randomShocks(scenarios: 4, assets: 10, range: -0.5 ... 3, seed: 4)
        rows.insert([Double](repeating: 0, count: 10), at: 2)
        let sc = f.scenarios(rows)
        for a in 0 ..< f.book.accountCount {
            let today = f.stressed(a, sc)[2]
            #expect(today.collateralUSD == f.assessment.collateral[a])
            #expect(today.debtUSD == f.assessment.debt[a])
            #expect(today.hcvUSD == f.assessment.hcv[a])
            #expect(today.collateralRatio.bitPattern == f.assessment.collateralRatio[a].bitPattern)
            #expect(today.status == f.assessment.status[a])
            #expect(today.lossUSD == 0 && today.shortfallUSD == max(0, f.assessment.debt[a] - f.assessment.collateral[a]))
        }
        let todayCounts = AccountStatus.allCases.map { s in f.assessment.status.filter { $0 == s }.count }
        for kernel in [StressTester.Kernel.dense, .sparse] {
            let row = f.run(sc, kernel: kernel).scenarios[2]
            #expect(row.totalLossUSD == 0 && row.newlyLiquidatable == 0)
            #expect([row.accountsOK, row.accountsMarginCall, row.accountsLiquidatable] == todayCounts)
        }
    }

    @Test func deeperShockNeverImprovesLongOnlyRatio() {
        // Accounts long the shocked assets: collateral anywhere, debt (if any) only in asset 0, which no scenario
        // moves. A deeper fall lowers every collateral value, and c·(1 − h(c)) rises with c while z·σ·√T < 2
        // (here z·σ ≤ 0.2 and T ≤ 125 days), so HCV and the ratio can only fall and the status only worsen.
        let n = 8
        let f = StressFixture.random(accounts: 600, assets: n, seed: 33)
        var rng = TestRandom(seed: 77)
        var rows: [[Double]] = []
        for _ in 0 ..< 6 {
            let base = (0 ..< n).map { j in j == 0 ? 0 : -0.6 * rng.nextUnit() }
            let deeper = base.enumerated().map { j, d in j == 0 ? 0 : d - 0.9 * rng.nextUnit() * (1 + d) }
            rows += [base, deeper]
        }
        let sc = f.scenarios(rows)
        var checked = 0
        for a in 0 ..< f.book.accountCount {
            let debtAssets = f.book.holdings(of: a).filter { f.book.quantity[$0] < 0 }.map { f.book.assetIndex[$0] }
            guard debtAssets.allSatisfy({ $0 == 0 }) else { continue }
            checked += 1
            let stressed = f.stressed(a, sc)
            for pair in 0 ..< rows.count / 2 {
                let shallow = stressed[2 * pair], deep = stressed[2 * pair + 1]
                #expect(deep.collateralUSD <= shallow.collateralUSD)
                #expect(deep.hcvUSD <= shallow.hcvUSD)
                #expect(deep.lossUSD >= shallow.lossUSD)
                #expect(deep.debtUSD == shallow.debtUSD)
                #expect(rank(deep.status) >= rank(shallow.status))
                if shallow.debtUSD > 0 { #expect(deep.collateralRatio <= shallow.collateralRatio) }
            }
        }
        #expect(checked > 200)
    }

    @Test func noShortfallForOverCollateralisedAccountsUnderMildShocks() {
        // With C ≥ 1.25·D and |δ| ≤ 10 %: C′ ≥ 0.9·C ≥ 1.125·D ≥ 1.1·D ≥ D′.
        let n = 9
        let f = StressFixture.random(accounts: 500, assets: n, seed: 44)
        let sc = f.scenarios(randomShocks(scenarios: 8, assets: n, range: -0.1 ... 0.1, seed: 5))
        var covered = 0, naiveShortfall = [Double](repeating: 0, count: 8)
        for a in 0 ..< f.book.accountCount {
            let stressed = f.stressed(a, sc)
            for s in 0 ..< 8 { naiveShortfall[s] += stressed[s].shortfallUSD }
            guard f.assessment.collateral[a] >= 1.25 * f.assessment.debt[a] else { continue }
            covered += 1
            #expect(stressed.allSatisfy { $0.shortfallUSD == 0 })
        }
        #expect(covered > 100)
        let table = f.run(sc).scenarios
        for s in 0 ..< 8 { #expect(relativeError(table[s].shortfallUSD, naiveShortfall[s]) < 1e-12) }
    }

    // MARK: Worst scenario

    @Test func worstScenarioTiesKeepTheFirst() {
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "x", asset: 1, quantity: 10)
        builder.add(account: "x", asset: 0, quantity: -300)
        var config = RiskConfig()
        config.haircutModel = .schedule
        let f = StressFixture(book: builder.build(), prices: [1, 100], schedule: schedule(2), volatilities: [0, 0.05],
                              config: config)
        // Two identical scenarios: the first.
        let identicalPair = f.run(f.scenarios([[0, -0.1], [0, -0.3], [0, -0.3]]))
        #expect(identicalPair.worstScenario == [1])
        #expect(relativeError(identicalPair.worstScenarioLoss[0], 300) < 1e-14)
        // A loss larger by 4e-13 relative is a tie: still the first.
        let withinTolerance = f.run(f.scenarios([[0, -0.1], [0, -0.3], [0, -0.3 * (1 + 4e-13)]]))
        #expect(withinTolerance.worstScenario == [1])
        #expect(withinTolerance.worstScenarioLoss[0] < f.stressed(0, f.scenarios([[0, -0.3 * (1 + 4e-13)]]))[0].lossUSD)
        // Larger by 4e-12 relative: a real difference.
        let beyond = f.run(f.scenarios([[0, -0.1], [0, -0.3], [0, -0.3 * (1 + 4e-12)]]))
        #expect(beyond.worstScenario == [2])
        // No scenarios: none.
        let none = f.run(f.scenarios([]))
        #expect(none.worstScenario == [-1] && none.worstScenarioLoss[0].isNaN && none.scenarios.isEmpty)

        // The rule itself: a scan that replaces the best only by a larger loss that is not a tie with it.
        #expect(StressTester.isTie(1, 1 + 9e-13) && !StressTester.isTie(1, 1 + 1.1e-12))
        #expect(StressTester.isTie(-5, -5 * (1 + 5e-13)) && StressTester.isTie(0, 0) && !StressTester.isTie(0, 1e-300))
        #expect(StressTester.worstScenario(losses: [1, 1 + 5e-13, 1 + 1.5e-12]) == 2)   // the third is 1.5e-12 past the first
        #expect(StressTester.worstScenario(losses: [1, 1 + 5e-13, 1 + 9e-13]) == 0)
        #expect(StressTester.worstScenario(losses: [-3, -1, -1]) == 1)
        #expect(StressTester.worstScenario(losses: []) == nil)
    }

    // MARK: Against a naive loop, and reproducibility

    @Test(arguments: [StressTester.Kernel.automatic, .dense, .sparse])
    func totalsMatchNaivePerAccountPerScenarioLoop(kernel: StressTester.Kernel) {
        let n = 12, scenarioCount = 9
        // 6 blocks of 128, the last partial. ADV 20,000 USD: holdings up to 2,000 USD (and their shocks) stay within
        // T₀ days of liquidity (constant-haircut path), larger ones take the per-scenario path.
        var f = StressFixture.random(accounts: 700, assets: n, seed: 55, adv: 20_000)
        // One account whose exposure overflows: flagged invalid, skipped.
        let big = (0 ..< n).first { f.prices[$0] > 2 }!
        let book = Book(accountIDs: f.book.accountIDs + ["overflow"], rowStart: f.book.rowStart + [f.book.holdingCount + 1],
                        assetIndex: f.book.assetIndex + [Int32(big)], quantity: f.book.quantity + [.greatestFiniteMagnitude])
        f = StressFixture(book: book, prices: f.prices, schedule: f.schedule, volatilities: f.haircuts.volatilities)
        #expect(f.assessment.invalid.last == true)
        let rows = randomShocks(scenarios: scenarioCount, assets: n, range: -0.6 ... 0.4, seed: 6)
        let result = f.run(f.scenarios(rows), workers: 2, kernel: kernel)

        var loss = [Double](repeating: 0, count: scenarioCount), shortfall = loss, grossLoss = loss
        var counts = [[Int]](repeating: [0, 0, 0, 0], count: scenarioCount)
        for a in 0 ..< f.book.accountCount where !f.assessment.invalid[a] {
            var accountLoss = [Double](repeating: 0, count: scenarioCount), accountGross = 0.0
            for s in 0 ..< scenarioCount {
                var c = 0.0, d = 0.0, hcv = 0.0
                for k in f.book.holdings(of: a) {
                    let j = Int(f.book.assetIndex[k])
                    let e = f.book.quantity[k] * f.prices[j]
                    let stressed = e * (1 + rows[s][j])
                    accountLoss[s] -= e * rows[s][j]
                    grossLoss[s] += abs(e * rows[s][j])
                    accountGross = max(accountGross, abs(e * rows[s][j]))
                    if stressed > 0 {
                        c += stressed
                        // The test's own §3.3 haircut (z of 0.99 from mpmath), not the engine's calculator.
                        hcv += stressed * (1 - Naive.haircut(f.schedule[j], sigma: f.haircuts.volatilities[j], usd: stressed,
                                                             z: Naive.z99, config: f.config))
                    } else {
                        d -= stressed
                    }
                }
                let status = Naive.status(hcv: hcv, debt: d, config: f.config)   // the test's own §3.4 rule
                counts[s][["ok", "margin_call", "liquidatable"].firstIndex(of: status)!] += 1
                if status == "liquidatable" && f.assessment.status[a] != .liquidatable { counts[s][3] += 1 }
                shortfall[s] += max(0, d - c)
                loss[s] += accountLoss[s]
            }
            #expect(result.worstScenario[a] == Naive.worstScenario(accountLoss))
            #expect(abs(result.worstScenarioLoss[a] - accountLoss[result.worstScenario[a]]) <= 1e-13 * accountGross)
        }
        #expect(result.worstScenario.last == -1 && result.worstScenarioLoss.last!.isNaN)
        for s in 0 ..< scenarioCount {
            let row = result.scenarios[s]
            #expect([row.accountsOK, row.accountsMarginCall, row.accountsLiquidatable, row.newlyLiquidatable] == counts[s])
            #expect(row.accountsOK + row.accountsMarginCall + row.accountsLiquidatable == f.book.accountCount - 1)
            // Different summation orders (blocks, dgemm): agreement to a few ulps of the gross sum.
            #expect(abs(row.totalLossUSD - loss[s]) <= 1e-12 * grossLoss[s])
            #expect(relativeError(row.shortfallUSD, shortfall[s]) < 1e-12)
        }
        // Every kind of outcome occurs, so the comparison means something.
        #expect(counts.contains { $0[1] > 0 } && counts.contains { $0[2] > 0 } && counts.contains { $0[3] > 0 })
        let blocks = (f.book.accountCount + StressTester.blockSize - 1) / StressTester.blockSize
        #expect(result.denseBlocks + result.sparseBlocks == blocks)
        if kernel == .dense { #expect(result.denseBlocks == blocks && result.matrixFlops == 2 * Double(f.book.accountCount * n * scenarioCount)) }
        if kernel == .sparse { #expect(result.sparseBlocks == blocks && result.matrixFlops == 0) }
    }

    @Test func bitwiseIdenticalForAnyWorkerCountAndKernelsAgree() {
        let n = 30, scenarioCount = 25
        let f = StressFixture.random(accounts: 1_000, assets: n, seed: 66)
        let sc = f.scenarios(randomShocks(scenarios: scenarioCount, assets: n, range: -0.7 ... 0.5, seed: 7))
        var results: [StressTester.Kernel: StressResult] = [:]
        for kernel in [StressTester.Kernel.dense, .sparse, .automatic] {
            let one = f.run(sc, workers: 1, kernel: kernel)
            let three = f.run(sc, workers: 3, kernel: kernel)
            #expect(identical(one, three))
            results[kernel] = one
        }
        let dense = results[.dense]!, sparse = results[.sparse]!
        // The nonlinear part is the same code on both paths: counts and shortfalls are bit-identical; losses come
        // from dgemm or from gathers, equal up to summation order.
        for (d, s) in zip(dense.scenarios, sparse.scenarios) {
            #expect(d.accountsOK == s.accountsOK && d.accountsMarginCall == s.accountsMarginCall)
            #expect(d.accountsLiquidatable == s.accountsLiquidatable && d.newlyLiquidatable == s.newlyLiquidatable)
            #expect(d.shortfallUSD.bitPattern == s.shortfallUSD.bitPattern)
            #expect(relativeError(d.totalLossUSD, s.totalLossUSD) < 1e-12)
        }
        #expect(dense.worstScenario == sparse.worstScenario)
        #expect(zip(dense.worstScenarioLoss, sparse.worstScenarioLoss).allSatisfy { relativeError($0, $1) < 1e-12 })
    }

    // MARK: Scenario construction

    @Test func replayEqualsTheScenarioBuiltByHandFromThePriceRows() {
        // Ten days, four assets. A1 misses 05-03 and 05-04 (filled from 05-02); A2 is listed on 05-06 (no price
        // on the start date); A3 misses 05-02…05-05, four days, too long to fill.
        let dates = (1 ... 10).map { String(format: "2022-05-%02d", $0) }
        let nan = Double.nan
        let columns: [[Double]] = [
            [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
            [5, 6, nan, nan, 7, 8, 9, 4, 4.5, 5],
            [nan, nan, nan, nan, nan, 100, 101, 102, 103, 104],
            [2, nan, nan, nan, nan, 3, 3, 3, 3, 3],
        ]
        var table: [Double] = []
        for t in 0 ..< 10 { for j in 0 ..< 4 { table.append(columns[j][t]) } }
        let prices = PriceHistory(dates: dates, assetCount: 4, prices: table)
        let hypothetical = ScenarioSet(names: ["crash", "r1"], assetCount: 4, shocks: [-0.3, 0, 0, 0, 0, -0.5, 0, 0])
        let replays = [
            HistoricalReplay(name: "r1", startDate: "2022-05-03", endDate: "2022-05-08"),
            HistoricalReplay(name: "before", startDate: "2021-01-01", endDate: "2022-05-05"),
            HistoricalReplay(name: "late", startDate: "2022-05-06", endDate: "2022-05-10"),
        ]
        let built = StressScenarioBuilder.build(scenarios: hypothetical, prices: prices, replays: replays,
                                                tickers: ["A0", "A1", "A2", "A3"])
        #expect(built.names == ["crash", "r1", "r1", "late"])
        #expect(built.sources == [.hypothetical, .hypothetical, .replay(start: "2022-05-03", end: "2022-05-08"),
                                  .replay(start: "2022-05-06", end: "2022-05-10")])
        #expect(built.shocks.rows == 4 && built.shocks.columns == 4)
        #expect(built.shocks.row(0) == [-0.3, 0, 0, 0] && built.shocks.row(1) == [0, -0.5, 0, 0])
        // By hand: A0 17/12 − 1; A1 from the filled 6 (05-02) to 4; A2 and A3 unpriced on 05-03 → 0.
        let r1: [Double] = [17.0 / 12 - 1, 4.0 / 6 - 1, 0, 0]
        let late: [Double] = [19.0 / 15 - 1, 5.0 / 8 - 1, 104.0 / 100 - 1, 3.0 / 3 - 1]
        #expect(built.shocks.row(2) == r1)
        #expect(built.shocks.row(3) == late)
        #expect(built.warnings == [
            "historical scenario r1 (2022-05-03..2022-05-08): 2 assets have no price on 2022-05-03 or 2022-05-08 "
                + "(after filling gaps of up to 3 days) and get a zero shock: A2, A3",
            "historical scenario before (2021-01-01..2022-05-05) is not covered by prices.csv (2022-05-01..2022-05-10): skipped",
        ])

        // Stressing with the replay is stressing with the hand-built row.
        var builder = BookBuilder(assetCount: 4)
        builder.add(account: "a", asset: 0, quantity: 3)
        builder.add(account: "a", asset: 1, quantity: -2)
        builder.add(account: "b", asset: 2, quantity: 1)
        let f = StressFixture(book: builder.build(), prices: [19, 5, 104, 3], schedule: schedule(4),
                              volatilities: [0.02, 0.03, 0.04, 0.05])
        let byHand = f.scenarios([r1], names: ["r1"])
        let replayOnly = StressScenarioBuilder.build(scenarios: .empty(assetCount: 4), prices: prices,
                                                     replays: [replays[0]], tickers: ["A0", "A1", "A2", "A3"])
        #expect(identical(f.run(replayOnly), f.run(byHand)))
    }

    @Test func replayWarningsNameTheFirstFewAssets() {
        let n = 8
        let dates = ["2020-03-11", "2020-03-12", "2020-03-13"]
        // Only asset 0 is priced; the other seven have no price at all.
        let table = (0 ..< 3).flatMap { t in (0 ..< n).map { j in j == 0 ? 100 + Double(t) : .nan } }
        let built = StressScenarioBuilder.build(
            scenarios: .empty(assetCount: n), prices: PriceHistory(dates: dates, assetCount: n, prices: table),
            replays: RiskConfig.defaultReplays, tickers: (0 ..< n).map { "T\($0)" })
        #expect(built.names == ["covid_crash"])
        #expect(built.shocks.row(0) == [102.0 / 100 - 1] + [Double](repeating: 0, count: n - 1))
        #expect(built.warnings.count == 4)
        #expect(built.warnings[0] == "historical scenario covid_crash (2020-03-11..2020-03-13): 7 assets have no price on "
            + "2020-03-11 or 2020-03-13 (after filling gaps of up to 3 days) and get a zero shock: T1, T2, T3, T4, T5 and 2 more")
        #expect(built.warnings[1] == "historical scenario china_ban (2021-05-18..2021-05-20) is not covered by prices.csv "
            + "(2020-03-11..2020-03-13): skipped")
    }
}
