import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

@Suite struct LiquidationDistanceTests {
    let z99 = 2.3263478740408408

    /// One collateral asset (σ₁) against one debt asset (σ₂): b = (c(1−h), −LR·d), closed-form bᵀΣb,
    /// and the adverse move x* exhausts the linearised buffer exactly: bᵀx* = −B₀.
    @Test func closedFormForOneCollateralOneDebt() {
        let s1 = 0.05, s2 = 0.02, rho = 0.4
        let cov = Matrix([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "x", asset: 0, quantity: 20)     // 2,000 USD collateral at 100
        builder.add(account: "x", asset: 1, quantity: -1200)  // 1,200 USD debt at 1
        var config = RiskConfig()
        config.haircutModel = .schedule
        config.horizonDays = 2
        let (assessment, risk) = computeRisk(book: builder.build(), covariance: cov, prices: [100, 1],
                                             schedule: schedule(2, haircut: 0.2), config: config)
        let b = [2000 * 0.8, -1200.0]
        let bSb = b[0] * b[0] * s1 * s1 + b[1] * b[1] * s2 * s2 + 2 * b[0] * b[1] * rho * s1 * s2
        let buffer = 1600.0 - 1200
        #expect(relativeError(assessment.liquidationBuffer[0], buffer) < 1e-15)
        #expect(relativeError(risk.liquidationSigma[0], buffer / (2 * bSb).squareRoot()) < 1e-14)
        let x0 = -buffer * (cov[0, 0] * b[0] + cov[0, 1] * b[1]) / bSb
        let x1 = -buffer * (cov[1, 0] * b[0] + cov[1, 1] * b[1]) / bSb
        #expect(relativeError(b[0] * x0 + b[1] * x1, -buffer) < 1e-14)
        let expected = [(0, expm1(x0)), (1, expm1(x1))].sorted { abs($0.1) > abs($1.1) }
            .map { "A\($0.0) \(String(format: "%.1f", 100 * $0.1))%" }.joined(separator: "; ")
        #expect(risk.liquidationScenario[0] == expected)
    }

    /// SPEC §3.2: an account already below the liquidation ratio keeps its negative distance (the closed form) but
    /// gets no scenario — the move x* would be a rally back to the threshold.
    @Test func alreadyLiquidatableKeepsNegativeSigmaWithoutScenario() {
        let s1 = 0.05, s2 = 0.02
        let cov = Matrix([[s1 * s1, 0], [0, s2 * s2]])
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "x", asset: 0, quantity: 10)     // 1,000 USD collateral at 100, HCV 800
        builder.add(account: "x", asset: 1, quantity: -900)   // 900 USD debt at 1: CR 0.889
        var config = RiskConfig()
        config.haircutModel = .schedule
        let (assessment, risk) = computeRisk(book: builder.build(), covariance: cov, prices: [100, 1],
                                             schedule: schedule(2, haircut: 0.2), config: config)
        let b = [800.0, -900.0]
        let bSb = b[0] * b[0] * s1 * s1 + b[1] * b[1] * s2 * s2
        #expect(assessment.status[0] == .liquidatable)
        #expect(relativeError(risk.liquidationSigma[0], -100 / bSb.squareRoot()) < 1e-14)
        #expect(risk.liquidationScenario[0] == "")
    }

    @Test func emptyWithoutDebt() {
        var builder = BookBuilder(assetCount: 1)
        builder.add(account: "x", asset: 0, quantity: 1)
        let (assessment, risk) = computeRisk(book: builder.build(), covariance: Matrix([[0.001]]), prices: [10], schedule: schedule(1))
        #expect(risk.liquidationSigma[0].isNaN)
        #expect(risk.liquidationScenario[0] == "")
        #expect(assessment.collateralRatio[0].isNaN)
        #expect(assessment.status[0] == .ok)
    }

    @Test func scenarioKeepsThreeLargestMovesWithTiesInScheduleOrder() {
        var builder = BookBuilder(assetCount: 5)
        for j in [4, 2, 0, 1, 3] { builder.add(account: "x", asset: j, quantity: 1) }
        let book = builder.build()
        let moves: [Int: Double] = [0: -0.1, 1: -0.3, 2: -0.1, 3: 0.05, 4: -0.3]
        let text = ParametricRiskCalculator.liquidationScenario(holdings: book.holdings(of: 0), book: book,
                                                                tickers: ["A", "B", "C", "D", "E"],
                                                                move: { moves[Int(book.assetIndex[$0])]! })
        #expect(text == "B -30.0%; E -30.0%; A -10.0%")
        #expect(ParametricRiskCalculator.percentText(-0.0004) == "0.0%")
        #expect(ParametricRiskCalculator.percentText(0.1234) == "12.3%")
    }
}

extension LiquidationDistanceTests {
    /// The fast formatter agrees with C's printf("%.1f") on a million random moves, near-ties included.
    @Test func percentTextMatchesPrintf() {
        var rng = TestRandom(seed: 99)
        for i in 0 ..< 1_000_000 {
            let move: Double
            switch i % 4 {
            case 0: move = rng.nextUniform(-1 ... 3)
            case 1: move = (Double(rng.nextInt(-10_000 ..< 30_000)) + 0.5) / 1000   // x.x5 % boundaries
            case 2: move = rng.nextUniform(-1e-4 ... 1e-4)
            default: move = Double(rng.nextInt(-1000 ..< 3000)) / 1000
            }
            var expected = String(format: "%.1f", 100 * move)
            if expected == "-0.0" { expected = "0.0" }
            let got = ParametricRiskCalculator.percentText(move)
            if got != expected + "%" {
                Issue.record("move \(move): \(got) vs printf \(expected)%")
                return
            }
        }
    }
}
