import Foundation
import LinearAlgebra
@testable import RiskMetrics
import RiskModel
import Testing

/// Per-account VaR backtesting (SPEC §3.7): closed forms, the rolling forecasts against fresh estimates and naive
/// quantiles, the no-look-ahead rule, history shortening, and determinism.
@Suite struct BacktestTests {
    // MARK: Fixture

    /// A price history from daily log returns (rows = days, columns = assets), row 0 at 100; dates sort as strings.
    private func history(logReturns: [[Double]], start: Double = 100) -> PriceHistory {
        let n = logReturns[0].count
        var rows: [[Double]] = [[Double](repeating: start, count: n)]
        for r in logReturns { rows.append(zip(rows.last!, r).map { $0 * exp($1) }) }
        return PriceHistory(dates: (0 ..< rows.count).map { "d\(10_000 + $0)" }, assetCount: n, prices: rows.flatMap { $0 })
    }

    /// A price history from relative daily moves P_t = P_{t−1}·(1 + m_t).
    private func history(moves: [[Double]]) -> PriceHistory {
        history(logReturns: moves.map { $0.map { log1p($0) } })
    }

    /// Random log returns with a common factor; `calmAfter`: days from which volatility drops 100×.
    private func randomReturns(days: Int, assets n: Int, seed: UInt64, calmAfter: Int? = nil) -> [[Double]] {
        var rng = TestRandom(seed: seed)
        var rows: [[Double]] = []
        for t in 0 ..< days {
            let scale: Double = t >= (calmAfter ?? days) ? 0.01 : 1
            let market = rng.nextNormal() * 0.02
            var row = [Double](repeating: 0, count: n)
            for j in 0 ..< n {
                let factor = market * Double(1 + j % 3) / 2
                row[j] = scale * (0.0005 * Double(j) + factor + rng.nextNormal() * 0.015)
            }
            rows.append(row)
        }
        return rows
    }

    private func market(_ prices: PriceHistory, config: RiskConfig, days: Int,
                        holders: [Int]? = nil, workers: Int = 1) throws -> (ReturnWindow, BacktestMarket) {
        let n = prices.assetCount
        let window = try MarketDataPreparation.prepare(prices: prices, schedule: schedule(n),
                                                       holderCounts: holders ?? [Int](repeating: 1, count: n), config: config)
        return (window, Backtester.prepare(prices: prices, window: window, config: config, backtestDays: days,
                                           workers: workers))
    }

    private func config(window: Int, confidence: Double = 0.99, method: CovarianceMethod = .sample,
                        lambda: Double = 0.94) -> RiskConfig {
        var config = RiskConfig()
        config.window = window
        config.confidence = confidence
        config.covariance = method
        config.ewmaLambda = lambda
        return config
    }

    /// A book with one account per exposure vector (USD per asset; zero entries are not held).
    private func book(_ accounts: [[Double]]) -> (Book, [Double]) {
        var builder = BookBuilder(assetCount: accounts[0].count)
        var exposure: [Double] = []
        for (a, e) in accounts.enumerated() {
            for (j, v) in e.enumerated() where v != 0 {
                builder.add(account: "acct-\(a)", asset: j, quantity: v)
                exposure.append(v)
            }
        }
        return (builder.build(), exposure)
    }

    private func sameBits(_ x: [Double], _ y: [Double]) -> Bool { x.map(\.bitPattern) == y.map(\.bitPattern) }

    // MARK: Closed forms

    /// One asset, 1,000 USD, W = 20, B = 20, α = 0.9 (k = ⌈20·0.1⌉ = 2, p = 0.1). Daily moves +0.1 % (a loss of −1)
    /// except −2 % on return days 5 and 12, −3 % on 22 and 23, −2.5 % on 30, −4 % on 35, −3.5 % on 39 (backtest day
    /// b is return day 20 + b). Historical VaR_b = the 2nd largest loss of days b … b + 19: 20 for b ≤ 3 (days 5 and
    /// 12; on b = 3 day 22's 30 is the largest), 30 from b = 4 on (days 22 and 23, later 35's 40 on top). Exceptions:
    /// b = 2 (30 > 20), 3 (30 > 20), 15 (40 > 30), 19 (35 > 30); b = 10 (25 < 30) is none. x = 4; the pairs of
    /// consecutive days give n01 = 3 (b = 2, 15, 19), n11 = 1 (b = 3), n10 = 2 (b = 4, 16), n00 = 19 − 6 = 13.
    @Test func oneAssetHandBuiltSeries() throws {
        var moves = [Double](repeating: 0.001, count: 40)
        for (d, m) in [(5, -0.02), (12, -0.02), (22, -0.03), (23, -0.03), (30, -0.025), (35, -0.04), (39, -0.035)] { moves[d] = m }
        let prices = history(moves: moves.map { [$0] })
        let cfg = config(window: 20, confidence: 0.9)
        let (_, m) = try market(prices, config: cfg, days: 20)
        #expect(m.days == 20 && m.warnings.isEmpty && m.dates == Array(prices.dates.suffix(20)))
        let whole = Backtester.book(exposuresByAsset: [1000], market: m, confidence: 0.9)

        // Realized losses and historical forecasts.
        for b in 0 ..< 20 {
            let loss = -1000 * moves[20 + b]
            #expect(abs(whole.losses[b] - loss) < 1e-10)
            #expect(abs(whole.varHistorical[b] - (b <= 3 ? 20 : 30)) < 1e-10, "b = \(b)")
        }
        let historical = try #require(whole.historical)
        #expect(historical.exceptions == 4)
        #expect(historical.transitions == ExceptionTransitions(n00: 13, n01: 3, n10: 2, n11: 1))
        let p = 1 - 0.9
        // LR_pof = −2·[16·ln 0.9 + 4·ln 0.1 − 16·ln 0.8 − 4·ln 0.2]; LR_ind from π₀ = 3/16, π₁ = 1/3, π = 4/19.
        let pof = -2 * (16 * log(1 - p) + 4 * log(p) - 16 * log(0.8) - 4 * log(0.2))
        let ind = -2 * (15 * log(15.0 / 19) + 4 * log(4.0 / 19) - 13 * log(13.0 / 16) - 3 * log(3.0 / 16)
            - 2 * log(2.0 / 3) - 1 * log(1.0 / 3))
        #expect(relativeError(historical.lrPOF, pof) < 1e-12)
        #expect(relativeError(historical.pofPValue, erfc((pof / 2).squareRoot())) < 1e-12)
        #expect(relativeError(historical.lrInd, ind) < 1e-12)
        #expect(relativeError(historical.ccPValue, exp(-(pof + ind) / 2)) < 1e-12)
        // P(X ≤ 4) for Binomial(20, 0.1) = 0.9568 ≥ 0.95: yellow.
        #expect(historical.zone == .yellow)

        // Parametric (sample estimator): z·1000·sd of the window's log returns, written out.
        let z = 1.2815515655446004   // Φ⁻¹(0.9)
        var expectedExceptions = 0
        for b in 0 ..< 20 {
            let r = (b ..< b + 20).map { log(prices.prices[$0 + 1] / prices.prices[$0]) }
            let mean = r.reduce(0, +) / 20
            let variance = r.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 19
            let forecast = z * 1000 * variance.squareRoot()
            #expect(relativeError(whole.varParametric[b], forecast) < 1e-12, "b = \(b)")
            if whole.losses[b] > forecast { expectedExceptions += 1 }
        }
        #expect(whole.parametric?.exceptions == expectedExceptions)

        // The account gets the same figures as the one-asset book.
        let (accounts, exposure) = book([[1000]])
        let result = Backtester.run(book: accounts, exposure: exposure, invalid: [false], market: m, confidence: 0.9,
                                    workers: 1)
        #expect(result.days == 20 && result.dates == m.dates)
        #expect(result.historical.exceptions == [4] && result.historical.zone == ["yellow"])
        #expect(result.historical.pofPValue == [historical.pofPValue] && result.historical.ccPValue == [historical.ccPValue])
        #expect(result.parametric.exceptions == [expectedExceptions])
        let dailyHistorical = (0 ..< 20).map { [2, 3, 15, 19].contains($0) ? 1 : 0 }
        #expect(result.dailyExceptions.historical == dailyHistorical)
        #expect(result.dailyExceptions.parametric.reduce(0, +) == expectedExceptions)
    }

    /// A stablecoin-only account, a zero-quantity holding and an invalid account are not backtested (empty figures);
    /// the risky account next to them is.
    @Test func accountsWithoutMarketRiskHaveEmptyFigures() throws {
        var returns = randomReturns(days: 80, assets: 2, seed: 11)
        for t in returns.indices { returns[t][1] = 0 }                       // asset 1: a constant 1.00 stablecoin
        let prices = history(logReturns: returns, start: 1)
        let (_, m) = try market(prices, config: config(window: 40), days: 30)
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "stable", asset: 1, quantity: 5000)
        builder.add(account: "zero", asset: 0, quantity: 0)
        builder.add(account: "risky", asset: 0, quantity: 1000)
        builder.add(account: "invalid", asset: 0, quantity: 1000)
        let accounts = builder.build()
        let exposure = [5000.0, 0, 1000, 1000]
        let result = Backtester.run(book: accounts, exposure: exposure, invalid: [false, false, false, true], market: m,
                                    confidence: 0.99, workers: 1)
        for figures in [result.parametric, result.historical] {
            for a in [0, 1, 3] {
                #expect(figures.exceptions[a] == -1 && figures.pofPValue[a].isNaN && figures.ccPValue[a].isNaN
                        && figures.zone[a] == "", "account \(a)")
            }
            #expect(figures.exceptions[2] >= 0 && figures.pofPValue[2].isFinite && figures.zone[2] != "")
        }
        let stable = Backtester.book(exposuresByAsset: [0, 5000], market: m, confidence: 0.99)
        #expect(stable.parametric == nil && stable.historical == nil)
        #expect(stable.varParametric.allSatisfy { $0 == 0 } && stable.losses.allSatisfy { $0 == 0 })
    }

    // MARK: Forecasts

    /// Changing return t (day b₀'s realized return) leaves every forecast up to day b₀ unchanged, bit for bit, and
    /// changes day b₀ + 1's. Prices from that row on are halved (exact), so only that one return moves.
    @Test(arguments: [CovarianceMethod.sample, .ewma, .ledoitWolf])
    func forecastsDoNotSeeTheirOwnDay(method: CovarianceMethod) throws {
        let w = 40, days = 25, b0 = 12
        let returns = randomReturns(days: w + days, assets: 3, seed: 21)
        let prices = history(logReturns: returns)
        var changed = prices.prices
        let row = prices.rowCount - days + b0
        for i in row * 3 ..< changed.count { changed[i] *= 0.5 }
        let shocked = PriceHistory(dates: prices.dates, assetCount: 3, prices: changed)
        let cfg = config(window: w, confidence: 0.95, method: method)
        let (_, before) = try market(prices, config: cfg, days: days)
        let (_, after) = try market(shocked, config: cfg, days: days)
        let e = [1000.0, 500, -300]
        let x = Backtester.book(exposuresByAsset: e, market: before, confidence: 0.95)
        let y = Backtester.book(exposuresByAsset: e, market: after, confidence: 0.95)
        #expect(sameBits(Array(x.varParametric[0 ... b0]), Array(y.varParametric[0 ... b0])))
        #expect(sameBits(Array(x.varHistorical[0 ... b0]), Array(y.varHistorical[0 ... b0])))
        #expect(x.losses[b0] != y.losses[b0])
        #expect(x.varParametric[b0 + 1] != y.varParametric[b0 + 1])
        #expect(x.varHistorical[b0 + 1] != y.varHistorical[b0 + 1])
    }

    /// Every day's rolling parametric forecast equals z·√(eᵀΣe) of `CovarianceEstimator.estimate` on a return window
    /// built from the prices up to the day before, for all three estimators (EWMA also with a λ whose λ^W is not
    /// negligible). The first returns are 100× more volatile, so the sliding sums fall by more than 2¹⁰ once they
    /// leave the window and get recomputed.
    @Test(arguments: [(CovarianceMethod.sample, 0.94), (.ewma, 0.94), (.ewma, 0.995), (.ledoitWolf, 0.94)])
    func rollingForecastsEqualFreshEstimates(method: CovarianceMethod, lambda: Double) throws {
        let w = 60, days = 30
        let returns = randomReturns(days: w + days, assets: 4, seed: 31, calmAfter: 22)
        let prices = history(logReturns: returns)
        let cfg = config(window: w, method: method, lambda: lambda)
        let (_, m) = try market(prices, config: cfg, days: days)
        let e = [1000.0, -400, 250, 50]
        let whole = Backtester.book(exposuresByAsset: e, market: m, confidence: 0.99)
        let z = Naive.z99
        for b in 0 ..< days {
            let rows = prices.rowCount - days + b          // price rows up to return W + b − 1
            let prefix = PriceHistory(dates: Array(prices.dates[0 ..< rows]), assetCount: 4,
                                      prices: Array(prices.prices[0 ..< rows * 4]))
            let window = try MarketDataPreparation.prepare(prices: prefix, schedule: schedule(4),
                                                           holderCounts: [1, 1, 1, 1], config: cfg)
            let sigma = try CovarianceEstimator.estimate(window, config: cfg).matrix
            var variance = 0.0
            for i in 0 ..< 4 { for j in 0 ..< 4 { variance += e[i] * sigma[i, j] * e[j] } }
            #expect(relativeError(whole.varParametric[b], z * variance.squareRoot()) < 1e-10, "\(method) b = \(b)")
        }
    }

    /// The incremental rolling k-th largest equals a sort of every window: random values, heavy ties (a few distinct
    /// integers), runs of equal values, k from 1 to W, and a cluster of 60 large values leaving a 365-day window.
    @Test func rollingQuantileEqualsNaiveSort() {
        var rng = TestRandom(seed: 41)
        for trial in 0 ..< 80 {
            var w = 1 + rng.nextInt(below: 60), days = 1 + rng.nextInt(below: 80)
            var k = 1 + rng.nextInt(below: w)
            let cluster = trial % 10 == 3
            if cluster {   // a year's window at 99 % (k = 4) with a crash cluster leaving it day by day
                (w, days, k) = (365, 120, 4)
            }
            let values: [Double] = (0 ..< w + days - 1).map { i in
                if cluster { return rng.nextNormal() * (i >= 40 && i < 100 ? 10 : 1) }
                switch trial % 3 {
                case 0: return rng.nextNormal()
                case 1: return Double(rng.nextInt(below: 4))
                default: return Double((i / 7) % 3)
                }
            }
            let buffers = BacktestSeriesBuffers(days: days, tail: k)
            var out = [Double](repeating: .nan, count: days)
            values.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer {
                    BacktestSeries.rollingKthLargest(v, window: w, count: k, into: $0, buffers: buffers)
                }
            }
            for b in 0 ..< days {
                let sorted = values[b ..< b + w].sorted(by: >)
                #expect(out[b] == sorted[k - 1], "trial \(trial): W = \(w), k = \(k), b = \(b)")
            }
        }
    }

    /// Exceptions, transitions and daily counts of `evaluate` (branch-free) against plain counting; an all-zero
    /// forecast or a non-finite loss leaves the portfolio out.
    @Test func exceptionCountingMatchesPlainCounting() {
        var rng = TestRandom(seed: 45)
        for trial in 0 ..< 40 {
            let w = 5, days = 1 + rng.nextInt(below: 60)
            let losses = (0 ..< w + days).map { _ in rng.nextNormal() }
            var forecasts = (0 ..< days).map { _ in rng.nextUniform(-0.5 ... 2.5) * Double(trial % 4) / 2 }
            let flags = (0 ..< days).map { losses[w + $0] > forecasts[$0] }
            var counts = [Int32](repeating: 1, count: days)
            let result = losses.withUnsafeBufferPointer { l in
                forecasts.withUnsafeMutableBufferPointer { f in
                    counts.withUnsafeMutableBufferPointer { BacktestSeries.evaluate(losses: l, forecasts: f, window: w, counts: $0) }
                }
            }
            if trial % 4 == 0 {   // forecasts all 0
                #expect(!result.backtested && counts.allSatisfy { $0 == 1 })
                continue
            }
            #expect(result.backtested && result.exceptions == flags.filter { $0 }.count)
            #expect(result.transitions == ExceptionTransitions(flags), "trial \(trial)")
            #expect(counts == flags.map { $0 ? 2 : 1 })
        }
        let losses: [Double] = [0, 0, 1, .infinity, 2]
        var forecasts: [Double] = [1, 1, 1]
        let result = losses.withUnsafeBufferPointer { l in
            forecasts.withUnsafeMutableBufferPointer { BacktestSeries.evaluate(losses: l, forecasts: $0, window: 2, counts: nil) }
        }
        #expect(!result.backtested)
    }

    // MARK: History

    /// B shrinks to the complete history there is (with a warning), a gap of up to 3 days is filled and costs
    /// nothing, a longer gap cuts the history, under 20 days the backtest is skipped (with a warning), and
    /// backtest_days = 0 skips it silently.
    @Test func shortHistoryShrinksOrSkips() throws {
        let w = 30, rows = w + 1 + 60
        let base = history(logReturns: randomReturns(days: rows - 1, assets: 2, seed: 51))
        func withMissing(_ missingRows: [Int]) -> PriceHistory {
            var p = base.prices
            for t in missingRows { p[t * 2 + 1] = .nan }
            return PriceHistory(dates: base.dates, assetCount: 2, prices: p)
        }
        let cfg = config(window: w)
        // Asset 1 starts at row 35: 55 complete returns = W + 25.
        let (_, shortened) = try market(withMissing(Array(0 ..< 35)), config: cfg, days: 40)
        #expect(shortened.days == 25 && shortened.dates == Array(base.dates.suffix(25)))
        #expect(shortened.warnings.count == 1 && shortened.warnings[0].contains("shortened to 25 days"))
        // Starts at row 50: 40 returns = W + 10 < W + 20: skipped.
        let (_, skipped) = try market(withMissing(Array(0 ..< 50)), config: cfg, days: 40)
        #expect(skipped.isSkipped && skipped.days == 0 && skipped.dates.isEmpty)
        #expect(skipped.warnings.count == 1 && skipped.warnings[0].contains("backtest skipped"))
        let (accounts, exposure) = book([[100, 100]])
        let none = Backtester.run(book: accounts, exposure: exposure, invalid: [false], market: skipped, confidence: 0.99,
                                  workers: 2)
        #expect(none.days == 0 && none.parametric.exceptions == [-1] && none.historical.zone == [""])
        #expect(none.dailyExceptions.parametric.isEmpty && none.warnings == skipped.warnings)
        // A 3-day gap is forward-filled: the full 40 days.
        let (_, filled) = try market(withMissing([70, 71, 72]), config: cfg, days: 40)
        #expect(filled.days == 40 && filled.warnings.isEmpty)
        // A 4-day gap before the return window is not: complete returns only after it (rows 45 … 90: 46 returns).
        let (_, cut) = try market(withMissing([40, 41, 42, 43]), config: cfg, days: 40)
        #expect(cut.isSkipped && cut.warnings.count == 1)
        // backtest_days = 0.
        let (_, off) = try market(base, config: cfg, days: 0)
        #expect(off.isSkipped && off.warnings.isEmpty)
        // allow_short_history: a return missing inside the window itself leaves no backtest.
        var lenient = cfg
        lenient.allowShortHistory = true
        let (window, short) = try market(withMissing(Array(0 ..< 75)), config: lenient, days: 40)
        #expect(window.hasMissingReturns && short.isSkipped && short.warnings.count == 1)
    }

    /// An asset no one holds and without full history is outside the universe: it neither limits the history nor
    /// enters Ledoit–Wolf's p.
    @Test func assetsOutsideTheUniverseDoNotLimitTheHistory() throws {
        let w = 30
        var prices = history(logReturns: randomReturns(days: w + 50, assets: 3, seed: 61)).prices
        for t in 0 ..< 60 { prices[t * 3 + 2] = .nan }
        let threeAssets = PriceHistory(dates: (0 ..< w + 51).map { "d\(10_000 + $0)" }, assetCount: 3, prices: prices)
        let (window, m) = try market(threeAssets, config: config(window: w, method: .ledoitWolf), days: 40, holders: [1, 1, 0])
        #expect(!window.inUniverse[2] && m.days == 40 && m.warnings.isEmpty)
        // The last W returns are the return window's, bit for bit; the dropped asset's are 0.
        for j in 0 ..< 3 {
            for t in 0 ..< w {
                let expected = window.inUniverse[j] ? window.returns[t, j] : 0
                #expect(m.returns[j, 40 + t].bitPattern == expected.bitPattern)
                #expect(m.moves[j, 40 + t].bitPattern == expm1(expected).bitPattern)
            }
        }
        // Same shrinkage as a two-asset market.
        let twoAssets = PriceHistory(dates: threeAssets.dates, assetCount: 2,
                                     prices: (0 ..< threeAssets.rowCount).flatMap { [prices[$0 * 3], prices[$0 * 3 + 1]] })
        let (_, reference) = try market(twoAssets, config: config(window: w, method: .ledoitWolf), days: 40)
        #expect(sameBits(m.shrinkage, reference.shrinkage) && sameBits(m.shrinkageTarget, reference.shrinkageTarget))
    }

    // MARK: The book and determinism

    /// 700 random accounts (6 blocks): identical figures for 1 and 2 workers, dense and sparse kernels agree, each
    /// account equals the one-portfolio backtest of its exposures, and the daily counts add up.
    @Test(arguments: [CovarianceMethod.ewma, .ledoitWolf])
    func blocksWorkersAndKernels(method: CovarianceMethod) throws {
        let n = 8, w = 50, days = 40
        let prices = history(logReturns: randomReturns(days: w + days + 5, assets: n, seed: 71))
        let cfg = config(window: w, confidence: 0.95, method: method)
        let (_, m) = try market(prices, config: cfg, days: days, workers: 2)
        let accounts = randomBook(accounts: 700, assets: n, seed: 72)
        let latest = prices.latestPrices
        let exposure = (0 ..< accounts.holdingCount).map { accounts.quantity[$0] * latest[Int(accounts.assetIndex[$0])] }
        let invalid = (0 ..< accounts.accountCount).map { $0 % 97 == 13 }
        func run(_ workers: Int, _ kernel: BlockKernel) -> BacktestResult {
            Backtester.run(book: accounts, exposure: exposure, invalid: invalid, market: m, confidence: 0.95,
                           workers: workers, kernel: kernel)
        }
        let one = run(1, .automatic), two = run(2, .automatic)
        for (x, y) in [(one.parametric, two.parametric), (one.historical, two.historical)] {
            #expect(x.exceptions == y.exceptions && x.zone == y.zone)
            #expect(sameBits(x.pofPValue, y.pofPValue) && sameBits(x.ccPValue, y.ccPValue))
        }
        #expect(one.dailyExceptions == two.dailyExceptions)
        let dense = run(2, .dense), sparse = run(2, .sparse)
        #expect(dense.denseBlocks == 6 && sparse.sparseBlocks == 6)
        #expect(dense.parametric.exceptions == sparse.parametric.exceptions)
        #expect(dense.historical.exceptions == sparse.historical.exceptions)
        #expect(dense.dailyExceptions == sparse.dailyExceptions)
        for a in 0 ..< accounts.accountCount where invalid[a] { #expect(one.parametric.exceptions[a] == -1) }
        // Each account against the one-portfolio backtest of its own exposures.
        for a in stride(from: 0, to: accounts.accountCount, by: 7) where !invalid[a] {
            var e = [Double](repeating: 0, count: n)
            for k in accounts.holdings(of: a) { e[Int(accounts.assetIndex[k])] += exposure[k] }
            let single = Backtester.book(exposuresByAsset: e, market: m, confidence: 0.95)
            #expect(one.parametric.exceptions[a] == (single.parametric?.exceptions ?? -1), "account \(a)")
            #expect(one.historical.exceptions[a] == (single.historical?.exceptions ?? -1), "account \(a)")
            if let outcome = single.historical {
                #expect(relativeError(one.historical.ccPValue[a], outcome.ccPValue) < 1e-12)
            }
        }
        for (daily, figures) in [(one.dailyExceptions.parametric, one.parametric), (one.dailyExceptions.historical, one.historical)] {
            #expect(daily.count == days)
            #expect(daily.reduce(0, +) == figures.exceptions.filter { $0 > 0 }.reduce(0, +))
        }
        // The book as one portfolio.
        let total = Backtester.bookExposures(book: accounts, exposure: exposure, invalid: invalid, assetCount: n)
        let whole = Backtester.book(exposuresByAsset: total, market: m, confidence: 0.95)
        #expect(whole.days == days && whole.losses.count == days && whole.varHistorical.count == days)
        #expect(whole.parametric != nil && whole.historical != nil)
    }
}
