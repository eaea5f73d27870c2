import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

/// Historical VaR/ES (SPEC §3.2) against a naive sort-based loop and hand-computed order statistics.
///
/// Tolerances: the engine and the naive loop sum the same products e_i·G_{t,i} in different orders (and the
/// dense kernel through dgemm), so losses agree to a few ulps of Σ|e_i·G_{t,i}|; 1e-12 relative leaves a wide
/// margin for the cancellation between collateral and debt. Hand-made series go through prices and logs
/// (P_t = P_{t−1}·(1 + m_t), r = ln(P_t/P_{t−1}), G = expm1(r)), which costs a few ulps: again 1e-12.
@Suite struct HistoricalRiskTests {
    /// Prices from relative daily moves (W × n), starting at 100, as a `PriceHistory`.
    private func history(moves: [[Double]]) -> PriceHistory {
        let n = moves[0].count
        var rows: [[Double]] = [[Double](repeating: 100, count: n)]
        for m in moves { rows.append(zip(rows.last!, m).map { $0 * (1 + $1) }) }
        let dates = (0 ..< rows.count).map { "t\(100_000 + $0)" }
        return PriceHistory(dates: dates, assetCount: n, prices: rows.flatMap { $0 })
    }

    private func window(_ prices: PriceHistory, holders: [Int], config: RiskConfig) throws -> ReturnWindow {
        try MarketDataPreparation.prepare(prices: prices, schedule: schedule(prices.assetCount), holderCounts: holders,
                                          config: config)
    }

    /// One account holding `exposure` USD of a single asset with the given daily moves: VaR, ES and k.
    private func singleAsset(moves: [Double], confidence: Double, exposure: Double = 1000,
                             horizon: Double = 1) throws -> ScenarioRisk {
        var config = RiskConfig()
        config.window = moves.count
        config.confidence = confidence
        config.horizonDays = horizon
        let prices = history(moves: moves.map { [$0] })
        let w = try window(prices, holders: [1], config: config)
        var builder = BookBuilder(assetCount: 1)
        builder.add(account: "x", asset: 0, quantity: exposure / w.latestPrices[0])
        let book = builder.build()
        let (assessment, _) = computeRisk(book: book, covariance: Matrix([[1e-4]]), prices: w.latestPrices,
                                          schedule: schedule(1), config: config)
        return HistoricalRiskCalculator.compute(book: book, assessment: assessment, window: w, config: config, workers: 1)
    }

    /// W = 10, α = 0.9: k = ⌈10·0.1⌉ = 1. Moves +1 %, −2 %, +3 %, −5 %, 0, +2 %, −1 %, −4 %, +1 %, +0.5 % on
    /// 1,000 USD give losses −10, 20, −30, 50, 0, −20, 10, 40, −10, −5: VaR = ES = the largest, 50.
    @Test func tenDaysAtNinetyPercentIsTheWorstDay() throws {
        let risk = try singleAsset(moves: [0.01, -0.02, 0.03, -0.05, 0, 0.02, -0.01, -0.04, 0.01, 0.005],
                                   confidence: 0.9)
        #expect(risk.tailCount == 1 && risk.scenarioCount == 10)
        #expect(relativeError(risk.valueAtRisk[0], 50) < 1e-12)
        #expect(relativeError(risk.expectedShortfall[0], 50) < 1e-12)
        #expect(risk.liquidationProbability[0].isNaN)
        #expect(relativeError(risk.bookValueAtRisk, 50) < 1e-12)
    }

    /// W = 365, α = 0.99: k = ⌈3.65⌉ = 4. Five loss days of −6, −5, −4, −3, −2 % and +0.1 % otherwise, on
    /// 1,000 USD: losses 60, 50, 40, 30, 20 and −1. VaR = L_(4) = 30; ES = (60 + 50 + 40 + 30)/4 = 45.
    /// (k = 3 would give 40, k = 5 would give 20.)
    @Test func yearAtNinetyNinePercentUsesFourWorstDays() throws {
        var moves = [Double](repeating: 0.001, count: 365)
        for (day, m) in zip([17, 101, 202, 250, 364], [-0.03, -0.06, -0.02, -0.05, -0.04]) { moves[day] = m }
        let risk = try singleAsset(moves: moves, confidence: 0.99)
        #expect(risk.tailCount == 4)
        #expect(relativeError(risk.valueAtRisk[0], 30) < 1e-12)
        #expect(relativeError(risk.expectedShortfall[0], 45) < 1e-12)
    }

    /// W = 250, α = 0.975: k = ⌈6.25⌉ = 7. Eight loss days of −1 … −8 % and +0.2 % otherwise, on 1,000 USD:
    /// losses 80, 70, …, 10 and −2. VaR = L_(7) = 20; ES = (80 + 70 + 60 + 50 + 40 + 30 + 20)/7 = 50.
    @Test func twoHundredFiftyDaysAtNinetySevenAndAHalfPercentUsesSevenWorstDays() throws {
        var moves = [Double](repeating: 0.002, count: 250)
        for i in 1 ... 8 { moves[i * 29] = -0.01 * Double(i) }
        let risk = try singleAsset(moves: moves, confidence: 0.975)
        #expect(risk.tailCount == 7)
        #expect(relativeError(risk.valueAtRisk[0], 20) < 1e-12)
        #expect(relativeError(risk.expectedShortfall[0], 50) < 1e-12)
        // √h scaling: h = 4 doubles both exactly (√4 = 2 is exact), and only the scaling changes.
        let long = try singleAsset(moves: moves, confidence: 0.975, horizon: 4)
        #expect(long.valueAtRisk[0] == 2 * risk.valueAtRisk[0])
        #expect(long.expectedShortfall[0] == 2 * risk.expectedShortfall[0])
        #expect(long.bookValueAtRisk == 2 * risk.bookValueAtRisk)
    }

    /// A random window, prices and book: many small accounts (sparse blocks) and blocks of large ones (dense).
    private struct RandomCase {
        let window: ReturnWindow
        let book: Book
        let assessment: CollateralAssessment
        let config: RiskConfig
    }

    private func randomCase(assets n: Int, days: Int, confidence: Double, horizon: Double = 1,
                            shortHistoryAsset: Int? = nil) throws -> RandomCase {
        var rng = TestRandom(seed: 1234)
        var moves: [[Double]] = []
        for _ in 0 ..< days {
            let market = rng.nextNormal() * 0.02
            moves.append((0 ..< n).map { j in expm1(market * Double(j % 3) / 2 + rng.nextNormal() * 0.01 * Double(1 + j % 4)) })
        }
        var prices = history(moves: moves)
        var config = RiskConfig()
        config.window = days
        config.confidence = confidence
        config.horizonDays = horizon
        if let j = shortHistoryAsset {
            // Listed late: no prices before day 40, so its first 40 returns are missing (NaN).
            var flat = prices.prices
            for t in 0 ..< 40 { flat[t * n + j] = .nan }
            prices = PriceHistory(dates: prices.dates, assetCount: n, prices: flat)
            config.allowShortHistory = true
        }
        var builder = BookBuilder(assetCount: n)
        for a in 0 ..< 400 {
            // Accounts 128 ..< 256 hold most of the universe: their block runs dense under `.automatic`.
            let large = a >= 128 && a < 256
            let held = large ? n - 3 + rng.nextInt(0 ..< 3) : 1 + rng.nextInt(0 ..< 5)
            for q in 0 ..< held { builder.add(account: "a\(a)", asset: (q * 7 + a) % n, quantity: rng.nextUniform(0.5 ... 50)) }
            if rng.nextUnit() < 0.7 { builder.add(account: "a\(a)", asset: (a * 3 + 1) % n, quantity: -rng.nextUniform(0.5 ... 30)) }
        }
        let book = builder.build()
        let w = try window(prices, holders: book.holderCounts(assetCount: n), config: config)
        let (assessment, _) = computeRisk(book: book, covariance: CovarianceEstimator.sample(w.returns.replacingNaN()),
                                          prices: w.latestPrices, schedule: schedule(n), config: config)
        return RandomCase(window: w, book: book, assessment: assessment, config: config)
    }

    /// The SPEC's formula as written: per account, P&L_t = Σ_i e_i·(exp(r_{t,i}) − 1) (as expm1, a missing return
    /// as 0), losses sorted descending, L_(k) and the mean of L_(1) … L_(k), both × √h.
    private func naive(_ c: RandomCase, exposures: [Double]) -> (valueAtRisk: Double, shortfall: Double) {
        let r = c.window.returns
        let n = r.columns, days = r.rows
        var losses: [Double] = []
        for t in 0 ..< days {
            var pnl = 0.0
            for j in 0 ..< n where exposures[j] != 0 {
                let x = r[t, j]
                pnl += exposures[j] * (x.isNaN ? 0 : expm1(x))
            }
            losses.append(-pnl)
        }
        losses.sort(by: >)
        let k = Naive.tailCount(days, confidence: c.config.confidence)   // the test's own k, not the engine's
        let h = c.config.horizonDays.squareRoot()
        return (losses[k - 1] * h, losses[..<k].reduce(0, +) / Double(k) * h)
    }

    private func accountExposures(_ c: RandomCase, _ a: Int) -> [Double] {
        var e = [Double](repeating: 0, count: c.window.returns.columns)
        for k in c.book.holdings(of: a) { e[Int(c.book.assetIndex[k])] = c.assessment.exposure[k] }
        return e
    }

    @Test(arguments: [ScenarioLossCalculator.Kernel.automatic, .dense, .sparse])
    func matchesNaiveSortBasedLoop(kernel: ScenarioLossCalculator.Kernel) throws {
        let c = try randomCase(assets: 60, days: 250, confidence: 0.99, horizon: 2)
        let risk = HistoricalRiskCalculator.compute(book: c.book, assessment: c.assessment, window: c.window,
                                                    config: c.config, workers: 2, kernel: kernel)
        #expect(risk.tailCount == 3)   // ⌈250·0.01⌉ = ⌈2.5⌉
        let blocks = (c.book.accountCount + ScenarioLossCalculator.blockSize - 1) / ScenarioLossCalculator.blockSize
        switch kernel {
        case .automatic: #expect(risk.denseBlocks >= 1 && risk.sparseBlocks >= 1)
        case .dense: #expect(blocks > 1 && risk.denseBlocks == blocks)
        case .sparse: #expect(blocks > 1 && risk.sparseBlocks == blocks)
        }
        for a in 0 ..< c.book.accountCount {
            let (v, es) = naive(c, exposures: accountExposures(c, a))
            #expect(relativeError(risk.valueAtRisk[a], v) < 1e-12)
            #expect(relativeError(risk.expectedShortfall[a], es) < 1e-12)
            #expect(risk.expectedShortfall[a] >= risk.valueAtRisk[a])
            #expect(risk.liquidationProbability[a].isNaN)
        }
        var total = [Double](repeating: 0, count: 60)
        for a in 0 ..< c.book.accountCount { for (j, e) in accountExposures(c, a).enumerated() { total[j] += e } }
        let (v, es) = naive(c, exposures: total)
        #expect(relativeError(risk.bookValueAtRisk, v) < 1e-12)
        #expect(relativeError(risk.bookExpectedShortfall, es) < 1e-12)
    }

    /// A short-history asset's missing returns count as no move.
    @Test func missingReturnsOfAShortHistoryAssetCountAsNoMove() throws {
        let c = try randomCase(assets: 9, days: 120, confidence: 0.975, shortHistoryAsset: 2)
        #expect(c.window.returns[0, 2].isNaN && !c.window.returns[50, 2].isNaN)
        let risk = HistoricalRiskCalculator.compute(book: c.book, assessment: c.assessment, window: c.window,
                                                    config: c.config, workers: 1)
        for a in 0 ..< c.book.accountCount {
            let (v, es) = naive(c, exposures: accountExposures(c, a))
            #expect(relativeError(risk.valueAtRisk[a], v) < 1e-12)
            #expect(relativeError(risk.expectedShortfall[a], es) < 1e-12)
        }
    }

    @Test(arguments: [ScenarioLossCalculator.Kernel.dense, .sparse])
    func resultsDoNotDependOnWorkerCount(kernel: ScenarioLossCalculator.Kernel) throws {
        let c = try randomCase(assets: 17, days: 200, confidence: 0.99)
        let one = HistoricalRiskCalculator.compute(book: c.book, assessment: c.assessment, window: c.window,
                                                   config: c.config, workers: 1, kernel: kernel)
        let three = HistoricalRiskCalculator.compute(book: c.book, assessment: c.assessment, window: c.window,
                                                     config: c.config, workers: 3, kernel: kernel)
        #expect(one.valueAtRisk.map(\.bitPattern) == three.valueAtRisk.map(\.bitPattern))
        #expect(one.expectedShortfall.map(\.bitPattern) == three.expectedShortfall.map(\.bitPattern))
        #expect(one.bookValueAtRisk.bitPattern == three.bookValueAtRisk.bitPattern)
    }

    /// An account whose exposure overflows is flagged invalid: NaN figures, left out of the book.
    @Test func invalidAccountsAreSkippedAndLeftOutOfTheBook() throws {
        var config = RiskConfig()
        config.window = 10
        config.confidence = 0.9
        let prices = history(moves: [0.01, -0.02, 0.03, -0.05, 0, 0.02, -0.01, -0.04, 0.01, 0.005].map { [$0, -$0] })
        let w = try window(prices, holders: [2, 1], config: config)
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "ok", asset: 0, quantity: 1000 / w.latestPrices[0])
        builder.add(account: "huge", asset: 1, quantity: 1e307)
        builder.add(account: "huge", asset: 0, quantity: 1e307)
        let book = builder.build()
        let (assessment, _) = computeRisk(book: book, covariance: Matrix([[1e-4, 0], [0, 1e-4]]), prices: w.latestPrices,
                                          schedule: schedule(2), config: config)
        #expect(assessment.invalid == [false, true])
        let risk = HistoricalRiskCalculator.compute(book: book, assessment: assessment, window: w, config: config, workers: 1)
        #expect(relativeError(risk.valueAtRisk[0], 50) < 1e-12)
        #expect(risk.valueAtRisk[1].isNaN && risk.expectedShortfall[1].isNaN)
        #expect(relativeError(risk.bookValueAtRisk, 50) < 1e-12)
    }
}

extension Matrix {
    /// A copy with NaN entries set to 0 (test helper for windows with missing returns).
    func replacingNaN() -> Matrix { Matrix(rows: rows, columns: columns, elements: elements.map { $0.isNaN ? 0 : $0 }) }
}
