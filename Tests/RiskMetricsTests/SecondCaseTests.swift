import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

/// Second, independent cases for behaviours that were held by one assertion each (issue 18): strict status
/// thresholds (through the assessment and the stress pass, at non-default ratios, with ratios exactly on them), the
/// worst-scenario tie rule (through the stress run: gains only, ties judged against the current worst and not the
/// previous scenario), and the Student-t scaling (per path, exactly, against the normal draws of the same seed).
@Suite struct SecondCaseTests {
    /// USD (haircut 0) and X (price 4, schedule haircut 0.5): every figure below is exact in binary.
    static func boundaryMarket() -> (CollateralSchedule, RiskConfig, HaircutCalculator) {
        let schedule = CollateralSchedule(assets: [AssetTerms(ticker: "USD", scheduleHaircut: 0),
                                                   AssetTerms(ticker: "X", scheduleHaircut: 0.5)])
        var config = RiskConfig()
        config.haircutModel = .schedule
        config.liquidationRatio = 1.25
        config.marginCallRatio = 1.5
        config.targetRatio = 2
        let haircuts = HaircutCalculator(schedule: schedule, volatilities: [0, 0.03], z: Naive.z99, config: config)
        return (schedule, config, haircuts)
    }

    /// Debt 1,000 USD each; X units 625 (HCV 1,250: CR = 1.25 exactly), 624.999 (just below), 750 (CR = 1.5
    /// exactly), 749.999 (just below), and 1,250 / 1,500 units that a −50 % shock brings exactly onto 1.25 / 1.5.
    @Test func statusThresholdsAreStrictAtNonDefaultRatiosInTheAssessmentAndUnderStress() {
        let (_, config, haircuts) = Self.boundaryMarket()
        var builder = BookBuilder(assetCount: 2)
        let units = [625, 624.999, 750, 749.999, 1250, 1500]
        for (a, q) in units.enumerated() {
            builder.add(account: "a\(a)", asset: 1, quantity: q)
            builder.add(account: "a\(a)", asset: 0, quantity: -1000)
        }
        let book = builder.build()
        let assessment = CollateralAssessment.assess(book: book, prices: [1, 4], haircuts: haircuts, settlementAsset: 0,
                                                     config: config)
        #expect(assessment.collateralRatio[0] == 1.25 && assessment.collateralRatio[2] == 1.5)
        #expect(assessment.status == [.marginCall, .liquidatable, .ok, .marginCall, .ok, .ok])
        // The test's own rule agrees (and is what the naive references use).
        for a in 0 ..< units.count {
            #expect(Naive.status(hcv: assessment.hcv[a], debt: assessment.debt[a], config: config)
                == assessment.status[a].rawValue, "account \(a)")
        }
        // Under X −50 %: 1,250 units → 2,500 USD, HCV 1,250, CR 1.25 → margin call (not liquidatable);
        // 1,500 units → CR 1.5 → ok (not margin call).
        let scenarios = StressScenarios(names: ["halve"], sources: [.hypothetical], shocks: Matrix([[0, -0.5]]))
        let onLiquidation = StressTester.stressAccount(4, book: book, assessment: assessment, scenarios: scenarios,
                                                       haircuts: haircuts, config: config)[0]
        #expect(onLiquidation.collateralRatio == 1.25 && onLiquidation.status == .marginCall)
        let onMarginCall = StressTester.stressAccount(5, book: book, assessment: assessment, scenarios: scenarios,
                                                      haircuts: haircuts, config: config)[0]
        #expect(onMarginCall.collateralRatio == 1.5 && onMarginCall.status == .ok)
        let table = StressTester.run(book: book, assessment: assessment, scenarios: scenarios, haircuts: haircuts,
                                     config: config, workers: 1).scenarios[0]
        // Halved: a0, a1, a2, a3 fall to CR 0.625 / ≈0.625 / 0.75 / ≈0.75 (liquidatable); a4 margin call; a5 ok.
        #expect([table.accountsOK, table.accountsMarginCall, table.accountsLiquidatable, table.newlyLiquidatable] == [1, 1, 4, 3] as [Int])
    }

    /// One account (1,000 USD of X against 300 USD): loss = −1,000·δ per scenario.
    static func tieRun(_ shocks: [Double]) -> StressResult {
        let (_, config, haircuts) = boundaryMarket()
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "x", asset: 1, quantity: 250)
        builder.add(account: "x", asset: 0, quantity: -300)
        let book = builder.build()
        let assessment = CollateralAssessment.assess(book: book, prices: [1, 4], haircuts: haircuts, settlementAsset: 0,
                                                     config: config)
        let scenarios = StressScenarios(names: shocks.indices.map { "s\($0)" },
                                        sources: shocks.map { _ in .hypothetical },
                                        shocks: Matrix(shocks.map { [0, $0] }))
        return StressTester.run(book: book, assessment: assessment, scenarios: scenarios, haircuts: haircuts,
                                config: config, workers: 1)
    }

    @Test func worstScenarioTieRuleThroughTheStressRun() {
        let cases: [(shocks: [Double], worst: Int)] = [
            // Gains only (negative losses −100, −50, −50·(1 − 4e-13)): the smallest gain, a tie keeps the first.
            ([0.1, 0.05, 0.05 * (1 - 4e-13)], 1),
            // Ties are judged against the current worst: 300·(1 + 8e-13) is a tie with 300, then 300·(1 + 1.6e-12) is
            // not (1.6e-12 past the worst, though only 0.8e-12 past the scenario before it).
            ([-0.1, -0.3, -0.3 * (1 + 8e-13), -0.3 * (1 + 1.6e-12)], 3),
            // A tie does not move the worst's value: 0.7e-12 steps creep past 1e-12 of the first only at the third.
            ([-0.3, -0.3 * (1 + 0.7e-12), -0.3 * (1 + 1.4e-12)], 2),
            // A later, really larger loss wins, and a later tie with it does not.
            ([-0.1, -0.2, -0.3, -0.3 * (1 + 5e-13), -0.25], 2),
        ]
        for (shocks, worst) in cases {
            let result = Self.tieRun(shocks)
            let losses = shocks.map { -1000 * $0 }
            #expect(Naive.worstScenario(losses) == worst, "the test's own scan, \(shocks)")
            #expect(result.worstScenario == [worst], "\(shocks)")
            #expect(abs(result.worstScenarioLoss[0] - losses[worst]) <= 1e-13 * abs(losses[worst]), "\(shocks)")
        }
    }

    /// x_t = x_n·√((ν − 2)/χ²_ν) with the normal draws of the same seed and path (the χ² comes after the normals on
    /// the path's stream): the ratio is one number per path, the same for every asset, and (ν − 2)/ratio² is a χ²_ν
    /// sample — its mean within 5 standard errors √(2ν/S) of ν, and its distribution function within 5 standard
    /// errors of the closed form 1 − e^(−x/2)·Σ_{k<ν/2}(x/2)^k/k! (ν even) at five points.
    @Test(arguments: [4.0, 6.0, 10.0])
    func studentTScalingIsAChiSquareFactorPerPath(dof: Double) throws {
        let sigma = Matrix([[4e-4, 1e-4, 0], [1e-4, 9e-4, -2e-4], [0, -2e-4, 2.5e-3]])
        let f = try MonteCarloRiskCalculator.factor(sigma)
        let paths = 20_000
        var config = RiskConfig()
        config.monteCarloPaths = paths
        config.monteCarloDistribution = .normal
        let normal = MonteCarloRiskCalculator.logReturns(factor: f, config: config, workers: 2)
        config.monteCarloDistribution = .studentT
        config.monteCarloDegreesOfFreedom = dof
        let t = MonteCarloRiskCalculator.logReturns(factor: f, config: config, workers: 2)
        var chiSquares: [Double] = []
        var commonFactor = true
        for s in 0 ..< paths {
            let ratios = (0 ..< 3).map { t[s, $0] / normal[s, $0] }
            if !ratios.allSatisfy({ relativeError($0, ratios[0]) < 1e-13 }) { commonFactor = false }
            chiSquares.append((dof - 2) / (ratios[0] * ratios[0]))
        }
        #expect(commonFactor, "one scale factor per path, shared by every asset")
        let mean = chiSquares.reduce(0, +) / Double(paths)
        #expect(abs(mean - dof) <= 5 * (2 * dof / Double(paths)).squareRoot(), "mean of χ²_\(dof): \(mean)")
        for x in [0.5, 0.8, 1.0, 1.5, 2.5].map({ $0 * dof }) {
            var term = 1.0, sum = 0.0
            for k in 0 ..< Int(dof) / 2 {
                if k > 0 { term *= (x / 2) / Double(k) }
                sum += term
            }
            let cdf = 1 - exp(-x / 2) * sum
            let empirical = Double(chiSquares.filter { $0 <= x }.count) / Double(paths)
            #expect(abs(empirical - cdf) <= 5 * (cdf * (1 - cdf) / Double(paths)).squareRoot(),
                    "ν \(dof), F(\(x)): \(empirical) vs \(cdf)")
        }
    }
}
