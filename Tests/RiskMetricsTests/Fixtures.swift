import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel

/// Deterministic test randomness: LinearAlgebra's SplitMix64 and its sampling helpers.
typealias TestRandom = SplitMix64

/// A random positive semidefinite covariance built from random daily returns (W × n), daily units.
func randomCovariance(assets n: Int, days: Int = 120, seed: UInt64) -> Matrix {
    var rng = TestRandom(seed: seed)
    var r = Matrix(rows: days, columns: n)
    for t in 0 ..< days {
        let market = rng.nextNormal() * 0.02
        for j in 0 ..< n { r[t, j] = market * Double(j % 3) / 2 + rng.nextNormal() * 0.01 * Double(1 + j % 4) }
    }
    return CovarianceEstimator.sample(r)
}

/// A small random book: each account holds a few collateral assets and maybe one or two debts.
func randomBook(accounts: Int, assets n: Int, seed: UInt64) -> Book {
    var rng = TestRandom(seed: seed)
    var builder = BookBuilder(assetCount: n)
    for a in 0 ..< accounts {
        let holdings = 1 + rng.nextInt(0 ..< min(6, n))
        var used = Set<Int>()
        for _ in 0 ..< holdings {
            let j = rng.nextInt(0 ..< n)
            guard used.insert(j).inserted else { continue }
            builder.add(account: "acct-\(a)", asset: j, quantity: rng.nextUniform(0.5 ... 50))
        }
        if rng.nextUnit() < 0.7 {
            let j = rng.nextInt(0 ..< n)
            if used.insert(j).inserted { builder.add(account: "acct-\(a)", asset: j, quantity: -rng.nextUniform(0.5 ... 30)) }
        }
    }
    return builder.build()
}

func schedule(_ n: Int, haircut: Double = 0.1, adv: Double? = nil) -> CollateralSchedule {
    CollateralSchedule(assets: (0 ..< n).map {
        AssetTerms(ticker: "A\($0)", scheduleHaircut: haircut, averageDailyVolumeUSD: adv)
    })
}

func relativeError(_ x: Double, _ y: Double) -> Double {
    let scale = max(abs(x), abs(y))
    return scale == 0 ? 0 : abs(x - y) / scale
}

/// Runs haircuts + parametric on a book the way the pipeline does.
func computeRisk(book: Book, covariance: Matrix, prices: [Double], schedule: CollateralSchedule,
                 config: RiskConfig = RiskConfig(), workers: Int = 1,
                 kernel: ParametricRiskCalculator.Kernel = .automatic) -> (CollateralAssessment, ParametricRisk) {
    let scale = NormalRiskScale(confidence: config.confidence, horizonDays: config.horizonDays)
    let vols = covariance.diagonal.map { max($0, 0).squareRoot() }
    let haircuts = HaircutCalculator(schedule: schedule, volatilities: vols, z: scale.z, config: config)
    let assessment = CollateralAssessment.assess(book: book, prices: prices, haircuts: haircuts, settlementAsset: 0,
                                                 config: config)
    let risk = ParametricRiskCalculator.compute(book: book, assessment: assessment, covariance: covariance,
                                                tickers: schedule.tickers, scale: scale, config: config, workers: workers,
                                                kernel: kernel)
    return (assessment, risk)
}

/// The tests' own versions of the engine's small rules, written from METHODOLOGY.md, for naive references: a shared
/// bug in the engine's helper would otherwise pass both sides of a comparison.
enum Naive {
    /// Φ⁻¹(0.99) and Φ⁻¹(0.975), mpmath at 40 digits.
    static let z99 = 2.3263478740408408
    static let z975 = 1.959963984540054

    /// k = ⌈round(n·(1 − α), 9)⌉ clamped to [1, n], by decimal rounding of the product.
    static func tailCount(_ n: Int, confidence alpha: Double) -> Int {
        let product = Double(n) * (1 - alpha)
        let rounded = (product * 1e9).rounded() / 1e9
        var k = Int(rounded)
        if Double(k) < rounded { k += 1 }
        return min(max(k, 1), n)
    }

    /// §3.3: schedule → h_sched; volatility → max(h_sched, 1 − exp(−z·σ·√T)), T = max(T₀, c/(participation·adv)).
    static func haircut(_ terms: AssetTerms, sigma: Double, usd: Double, z: Double, config: RiskConfig) -> Double {
        if config.haircutModel == .schedule { return terms.scheduleHaircut }
        var days = config.liquidationDays
        if let adv = terms.averageDailyVolumeUSD, usd / (config.participation * adv) > days {
            days = usd / (config.participation * adv)
        }
        let h = 1 - exp(-z * sigma * days.squareRoot())
        return h > terms.scheduleHaircut ? h : terms.scheduleHaircut
    }

    /// §3.4 as strings: "liquidatable" below liquidation_ratio, "margin_call" below margin_call_ratio, else "ok";
    /// no debt is "ok". Strict: a ratio equal to a threshold gets the better status.
    static func status(hcv: Double, debt: Double, config: RiskConfig) -> String {
        guard debt > 0 else { return "ok" }
        let ratio = hcv / debt
        if ratio < config.liquidationRatio { return "liquidatable" }
        if ratio < config.marginCallRatio { return "margin_call" }
        return "ok"
    }

    /// §3.5: scan in order, replace the current worst b only by l > b with |l − b| > 1e-12·max(|l|, |b|).
    static func worstScenario(_ losses: [Double]) -> Int? {
        var best: Int? = nil
        for (s, l) in losses.enumerated() {
            guard let b = best.map({ losses[$0] }) else {
                best = s
                continue
            }
            if l > b && abs(l - b) > 1e-12 * max(abs(l), abs(b)) { best = s }
        }
        return best
    }
}
