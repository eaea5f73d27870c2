import Foundation
import LinearAlgebra
@testable import RiskMetrics
import RiskModel
import Testing

/// Monte Carlo VaR/ES and liquidation probability (SPEC §3.2).
///
/// Statistical checks use a fixed seed (so they are deterministic) and bounds of 4 standard errors:
/// - VaR: the standard error of a sample α-quantile of S draws of a normal P&L with standard deviation σ is
///   sd ≈ √(α(1 − α)/S)/φ(z)·σ (asymptotic variance of a sample quantile, α(1 − α)/(S·f(q)²)). At α = 0.99 and
///   S = 20,000 that is 0.0264·σ, 1.1 % of VaR. The exp(x) − 1 ≈ x linearisation adds a bias of about z·σ_x/2
///   relative (σ_x the daily return volatility × √h, 0.2 % here), allowed for separately.
/// - probabilities: √(p(1 − p)/S).
/// Exact checks (same draws, naive loop) use 1e-12 relative: only the summation order differs.
@Suite struct MonteCarloRiskTests {
    /// Daily covariance from volatilities and one common correlation.
    private func covariance(vols: [Double], correlation rho: Double) -> Matrix {
        let n = vols.count
        var s = Matrix(rows: n, columns: n)
        for i in 0 ..< n { for j in 0 ..< n { s[i, j] = vols[i] * vols[j] * (i == j ? 1 : rho) } }
        return s
    }

    private func config(paths: Int, horizon: Double = 1, confidence: Double = 0.99,
                        distribution: MonteCarloDistribution = .normal, dof: Double = 5) -> RiskConfig {
        var c = RiskConfig()
        c.monteCarloPaths = paths
        c.horizonDays = horizon
        c.confidence = confidence
        c.monteCarloDistribution = distribution
        c.monteCarloDegreesOfFreedom = dof
        c.haircutModel = .schedule
        return c
    }

    /// A book of explicit accounts: (asset, USD exposure) lists; all prices are 1.
    private func book(_ accounts: [[(Int, Double)]], assets n: Int) -> Book {
        var builder = BookBuilder(assetCount: n)
        for (a, holdings) in accounts.enumerated() {
            for (j, usd) in holdings { builder.add(account: "a\(a)", asset: j, quantity: usd) }
        }
        return builder.build()
    }

    /// The standard error of a sample α-quantile of S normal draws with standard deviation σ.
    private func quantileStandardError(sigma: Double, confidence alpha: Double, paths: Int) -> Double {
        let z = NormalDistribution.quantile(alpha)
        return (alpha * (1 - alpha) / Double(paths)).squareRoot() / NormalDistribution.density(z) * sigma
    }

    private func maxAbsDifference(_ f: Matrix, reproducing sigma: Matrix) -> Double {
        let ffT = multiply(f, f, transposeB: .transposed)
        return zip(ffT.elements, sigma.elements).map { abs($0 - $1) }.max() ?? 0
    }

    // MARK: - Factor

    @Test func positiveDefiniteCovarianceGetsACholeskyFactor() throws {
        let sigma = randomCovariance(assets: 12, seed: 3)
        let f = try MonteCarloRiskCalculator.factor(sigma)
        #expect(f.kind == .cholesky)
        #expect(maxAbsDifference(f.matrix, reproducing: sigma) <= 1e-14 * sigma.diagonal.max()!)
    }

    /// Singular covariances: two identical assets, a zero-variance asset, a zero row and column (a dropped asset).
    static let singularCases: [(name: String, sigma: Matrix)] = {
        let s0 = 0.001, s1 = 0.0012
        let identical = Matrix([[s0 * s0, s0 * s0, 0.3 * s0 * s1],
                                [s0 * s0, s0 * s0, 0.3 * s0 * s1],
                                [0.3 * s0 * s1, 0.3 * s0 * s1, s1 * s1]])
        let zeroVariance = Matrix([[s0 * s0, 0.3 * s0 * s1, 0], [0.3 * s0 * s1, s1 * s1, 0], [0, 0, 0]])
        let droppedAsset = Matrix([[s0 * s0, 0, 0.3 * s0 * s1, 0],
                                   [0, 0, 0, 0],
                                   [0.3 * s0 * s1, 0, s1 * s1, 0],
                                   [0, 0, 0, 4e-6]])
        return [("identical", identical), ("zeroVariance", zeroVariance), ("droppedAsset", droppedAsset)]
    }()

    @Test(arguments: 0 ..< 3)
    func singularCovarianceRunsAndGivesTheClosedFormVaR(index: Int) throws {
        let (name, sigma) = Self.singularCases[index]
        let n = sigma.rows
        let f = try MonteCarloRiskCalculator.factor(sigma)
        guard case .eigen = f.kind else {
            Issue.record("\(name): expected the eigen factor, got \(f.kind)")
            return
        }
        #expect(maxAbsDifference(f.matrix, reproducing: sigma) <= 1e-15, "\(name)")
        // Long the first and third assets (or the first two), short the last held one: every case has a singular
        // direction inside the account's holdings or next to them.
        let accounts: [[(Int, Double)]] = [[(0, 1000), (1, 600), (2, -700)], [(0, 2000), (n - 1, -500)], [(2, 800)]]
        let b = book(accounts, assets: n)
        let c = config(paths: 20_000, horizon: 4)
        let (assessment, parametric) = computeRisk(book: b, covariance: sigma, prices: [Double](repeating: 1, count: n),
                                                   schedule: schedule(n), config: c)
        let (risk, used) = try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma,
                                                                 config: c, workers: 2)
        #expect(used.kind == f.kind)
        for a in 0 ..< b.accountCount {
            let closed = parametric.valueAtRisk[a]
            let se = quantileStandardError(sigma: closed / NormalDistribution.quantile(0.99), confidence: 0.99,
                                           paths: 20_000)
            // + 1e-9 USD: an account holding only the zero-variance asset has VaR 0 up to eigenvector rounding.
            #expect(abs(risk.valueAtRisk[a] - closed) <= 4 * se + 0.005 * closed + 1e-9, "\(name) account \(a)")
            #expect(risk.expectedShortfall[a] >= risk.valueAtRisk[a])
        }
    }

    // MARK: - Against closed forms

    /// Daily σ ≈ 0.1 %: exp(x) − 1 ≈ x, so VaR ≈ z·σ_P·√h and ES ≈ σ_P·√h·φ(z)/(1 − α).
    @Test func smallVolatilityMatchesTheParametricClosedForm() throws {
        let sigma = covariance(vols: [0.001, 0.0012, 0.0008], correlation: 0.3)
        let b = book([[(0, 1000), (1, 500), (2, -300)], [(1, 2000)], [(0, 700), (2, 400), (1, -900)], [(2, -100)]],
                     assets: 3)
        let paths = 20_000
        let c = config(paths: paths, horizon: 4)
        let (assessment, parametric) = computeRisk(book: b, covariance: sigma, prices: [1, 1, 1], schedule: schedule(3),
                                                   config: c)
        let (risk, factor) = try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma,
                                                                   config: c, workers: 2)
        #expect(factor.kind == .cholesky)
        #expect(risk.scenarioCount == paths && risk.tailCount == 200)
        for a in 0 ..< b.accountCount {
            let closed = parametric.valueAtRisk[a]
            let sigmaP = closed / NormalDistribution.quantile(0.99)   // σ_P·√h
            let se = quantileStandardError(sigma: sigmaP, confidence: 0.99, paths: paths)
            #expect(abs(risk.valueAtRisk[a] - closed) <= 4 * se + 0.005 * closed, "account \(a)")
            // ES averages the 200 largest losses: its standard error is below the quantile's; 5 % is > 4 of them.
            #expect(relativeError(risk.expectedShortfall[a], parametric.expectedShortfall[a]) < 0.05)
            #expect(risk.expectedShortfall[a] >= risk.valueAtRisk[a])
        }
        let bookSE = quantileStandardError(sigma: parametric.bookValueAtRisk / NormalDistribution.quantile(0.99),
                                           confidence: 0.99, paths: paths)
        #expect(abs(risk.bookValueAtRisk - parametric.bookValueAtRisk) <= 4 * bookSE + 0.005 * parametric.bookValueAtRisk)
    }

    /// P(liquidation) ≈ Φ(−B₀/√(h·bᵀΣb)) = Φ(−liquidation_sigma) for small volatility.
    @Test func liquidationProbabilityMatchesTheNormalClosedForm() throws {
        let sigma = covariance(vols: [0.001, 0.0012], correlation: 0.3)
        // 1,000 USD of collateral (haircut 10 %: b = 900) against debts just below 900: B₀ of a few USD.
        let b = book([[(0, 1000), (1, -897.5)], [(0, 1000), (1, -899.2)], [(0, 1000), (1, -898.5)], [(0, 50)]], assets: 2)
        let paths = 20_000
        let c = config(paths: paths, horizon: 4)
        let (assessment, parametric) = computeRisk(book: b, covariance: sigma, prices: [1, 1], schedule: schedule(2),
                                                   config: c)
        let (risk, _) = try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma,
                                                             config: c, workers: 1)
        for a in 0 ..< 3 {
            let p = NormalDistribution.cdf(-parametric.liquidationSigma[a])
            #expect(p > 0.05 && p < 0.6)
            let se = (p * (1 - p) / Double(paths)).squareRoot()
            #expect(abs(risk.liquidationProbability[a] - p) <= 4 * se, "account \(a): \(risk.liquidationProbability[a]) vs \(p)")
        }
        #expect(risk.liquidationProbability[3].isNaN)   // no debt
    }

    /// Accounts whose buffer clears (or misses) its largest possible move in every path get 0 (or S) breaches
    /// without their buffers being summed; the one in between is counted path by path. Against a naive count over
    /// the same draws, with both kernels; the dense products have rows for the three losses and the one counted
    /// buffer only.
    @Test(arguments: [ScenarioLossCalculator.Kernel.sparse, .dense])
    func settledAccountsMatchTheNaiveCount(kernel: ScenarioLossCalculator.Kernel) throws {
        let sigma = covariance(vols: [0.05, 0.01], correlation: 0.2)
        let b = book([[(0, 1000), (1, -10)], [(0, 10), (1, -1000)], [(0, 1000), (1, -880)]], assets: 2)
        let paths = 4000
        let c = config(paths: paths, confidence: 0.975)
        let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: [1, 1], schedule: schedule(2), config: c)
        let (risk, f) = try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma,
                                                             config: c, workers: 1, kernel: kernel)
        let x = MonteCarloRiskCalculator.logReturns(factor: f, config: c)
        let terms = schedule(2)
        var counts = [0, 0, 0]
        for a in 0 ..< 3 {
            for s in 0 ..< paths {
                var buffer = 0.0
                for q in b.holdings(of: a) {
                    let j = Int(b.assetIndex[q]), e = assessment.exposure[q]
                    let sensitivity = e > 0
                        ? e * (1 - Naive.haircut(terms[j], sigma: 0, usd: e, z: Naive.z975, config: c))
                        : c.liquidationRatio * e
                    buffer += sensitivity * (1 + expm1(x[s, j]))
                }
                if buffer < 0 { counts[a] += 1 }
            }
        }
        #expect(counts[0] == 0 && counts[1] == paths && counts[2] > 0 && counts[2] < paths)
        for a in 0 ..< 3 { #expect(risk.liquidationProbability[a] == Double(counts[a]) / Double(paths), "account \(a)") }
        if kernel == .dense {
            // 4 rows × 2 assets over the S screened paths and the candidates' union (at most a quarter of S).
            let columns = risk.matrixFlops / (2 * 4 * 2)
            #expect(columns >= Double(paths) && columns <= 1.25 * Double(paths))
        }
    }

    /// Dense blocks screen paths in single precision: hedged accounts (large offsetting positions in two highly
    /// correlated assets, whose losses are small next to the positions, so the single-precision error bound is
    /// wide and many paths stay candidates) and a plain one, against the sorted losses of a naive loop over the
    /// same draws.
    @Test func screenedDenseBlocksMatchTheNaiveLossesOfHedgedAccounts() throws {
        let sigma = covariance(vols: [0.03, 0.031, 0.02], correlation: 0.999)
        let hedges = [0.5, 0.9, 0.99, 0.999, 1.0, 1.001]
        let b = book(hedges.map { [(0, 1e6), (1, -1e6 * $0)] } + [[(2, 5000)]], assets: 3)
        let paths = 3000
        let c = config(paths: paths, confidence: 0.99)
        let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: [1, 1, 1], schedule: schedule(3), config: c)
        let (risk, f) = try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma,
                                                             config: c, workers: 1, kernel: .dense)
        let x = MonteCarloRiskCalculator.logReturns(factor: f, config: c)
        let k = Naive.tailCount(paths, confidence: 0.99)
        for a in 0 ..< b.accountCount {
            var losses: [Double] = []
            for s in 0 ..< paths {
                var pnl = 0.0
                for q in b.holdings(of: a) { pnl += assessment.exposure[q] * expm1(x[s, Int(b.assetIndex[q])]) }
                losses.append(-pnl)
            }
            losses.sort(by: >)
            #expect(relativeError(risk.valueAtRisk[a], losses[k - 1]) < 1e-12, "account \(a)")
            #expect(relativeError(risk.expectedShortfall[a], losses[..<k].reduce(0, +) / Double(k)) < 1e-12)
        }
    }

    /// A move beyond Float's range (a data error upstream, capped at the largest double) must not reach the
    /// single-precision screening, where 0·∞ would poison the rows of accounts that do not hold the asset: the
    /// dense kernel agrees with the sparse one, which reads only each account's own rows.
    @Test func movesBeyondFloatRangeAreNotScreened() throws {
        let sigma = covariance(vols: [0.02, 0.03], correlation: 0.1)
        let b = book([[(0, 100)], [(0, 250)], [(0, 40)]], assets: 2)
        let c = config(paths: 500)
        let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: [1, 1], schedule: schedule(2), config: c)
        var moves = Matrix(rows: 2, columns: 500)
        var rng = TestRandom(seed: 77)
        for s in 0 ..< 500 { moves[0, s] = rng.nextUniform(-0.1 ... 0.1); moves[1, s] = rng.nextUniform(-0.1 ... 0.1) }
        moves[1, 17] = .greatestFiniteMagnitude
        func run(_ kernel: ScenarioLossCalculator.Kernel) -> ScenarioRisk {
            ScenarioLossCalculator.compute(book: b, assessment: assessment, moves: moves, confidence: 0.99, lossScale: 1,
                                           liquidationRatio: nil, workers: 1, kernel: kernel)
        }
        let (dense, sparse) = (run(.dense), run(.sparse))
        #expect(dense.denseBlocks == 1 && sparse.sparseBlocks == 1)
        for a in 0 ..< 3 {
            #expect(dense.valueAtRisk[a].isFinite && relativeError(dense.valueAtRisk[a], sparse.valueAtRisk[a]) < 1e-12)
            #expect(relativeError(dense.expectedShortfall[a], sparse.expectedShortfall[a]) < 1e-12)
        }
    }

    /// Sparse accounts guess their tail threshold from their first panel of paths when the scenarios are
    /// independent draws. Moves whose first panel is 100 times wider than the rest make every guess too high (the
    /// accounts run again without one); moves whose first panel is 100 times narrower make it too low (the streams
    /// are cut instead). Either way VaR, ES and the liquidation counts are those of the naive sorted losses.
    @Test func guessedTailThresholdsNeverChangeTheResult() {
        let n = 64, paths = 3000
        let accounts: [[(Int, Double)]] = (0 ..< 12).map { (a: Int) -> [(Int, Double)] in
            [(a, 1e4 * Double(a + 1)), (a + 20, -2e3), (40 + a % 5, 5e3)]
        }
        let b = book(accounts, assets: n)
        let c = config(paths: paths)
        let sigma = covariance(vols: [Double](repeating: 0.02, count: n), correlation: 0.2)
        let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: [Double](repeating: 1, count: n),
                                          schedule: schedule(n), config: c)
        let panel = SparsePanelWorkspace.panelPaths(assets: n, scenarios: paths)
        #expect(panel < paths / 2)
        for firstPanelScale in [100.0, 0.01] {
            var moves = Matrix(rows: n, columns: paths)
            var rng = TestRandom(seed: 91)
            for j in 0 ..< n {
                for s in 0 ..< paths { moves[j, s] = rng.nextUniform(-0.05 ... 0.05) * (s < panel ? firstPanelScale : 1) }
            }
            let risk = ScenarioLossCalculator.compute(book: b, assessment: assessment, moves: moves, confidence: 0.99,
                                                      lossScale: 1, liquidationRatio: 1.1, workers: 2, kernel: .sparse,
                                                      independentScenarios: true)
            let k = Naive.tailCount(paths, confidence: 0.99)
            for a in 0 ..< b.accountCount {
                var losses: [Double] = []
                for s in 0 ..< paths {
                    var pnl = 0.0
                    for q in b.holdings(of: a) { pnl += assessment.exposure[q] * moves[Int(b.assetIndex[q]), s] }
                    losses.append(-pnl)
                }
                losses.sort(by: >)
                #expect(risk.valueAtRisk[a] == losses[k - 1], "scale \(firstPanelScale), account \(a)")
                #expect(relativeError(risk.expectedShortfall[a], losses[..<k].reduce(0, +) / Double(k)) < 1e-12)
            }
            let unguessed = ScenarioLossCalculator.compute(book: b, assessment: assessment, moves: moves,
                                                           confidence: 0.99, lossScale: 1, liquidationRatio: 1.1,
                                                           workers: 1, kernel: .sparse)
            #expect(risk.liquidationProbability == unguessed.liquidationProbability)
        }
    }

    /// Student t (ν = 5) at the same covariance: heavier tails than the normal.
    @Test func studentTailsAreHeavierThanNormal() throws {
        let sigma = covariance(vols: [0.001, 0.0012, 0.0008], correlation: 0.3)
        let b = book([[(0, 1000), (1, 500), (2, -300)]], assets: 3)
        func run(_ distribution: MonteCarloDistribution, confidence: Double) throws -> ScenarioRisk {
            let c = config(paths: 20_000, confidence: confidence, distribution: distribution)
            let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: [1, 1, 1], schedule: schedule(3), config: c)
            return try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma, config: c,
                                                        workers: 2).0
        }
        let normal = try run(.normal, confidence: 0.99), t = try run(.studentT, confidence: 0.99)
        // ES/VaR: 1.146 for the normal, about 1.32 for a unit-variance t₅.
        #expect(t.expectedShortfall[0] / t.valueAtRisk[0] > normal.expectedShortfall[0] / normal.valueAtRisk[0] + 0.08)
        // The 99.9 % quantile: 3.09 σ for the normal, 5.893·√(3/5) = 4.56 σ for the unit-variance t₅.
        let normal999 = try run(.normal, confidence: 0.999), t999 = try run(.studentT, confidence: 0.999)
        #expect(t999.valueAtRisk[0] > 1.2 * normal999.valueAtRisk[0])
    }

    /// The sample covariance of the draws X is Σ: within 5 standard errors √((Σ_ii·Σ_jj + Σ_ij²)/S) per entry for
    /// the normal; for t₅ (kurtosis 9: sd of a sample variance √(8/S)·σ²) the variances within 10 % (5 sd).
    @Test func drawsHaveTheTargetCovariance() throws {
        let sigma = covariance(vols: [0.02, 0.01, 0.03, 0.015], correlation: 0.4)
        let f = try MonteCarloRiskCalculator.factor(sigma)
        let paths = 20_000
        for distribution in [MonteCarloDistribution.normal, .studentT] {
            let x = MonteCarloRiskCalculator.logReturns(factor: f, config: config(paths: paths, distribution: distribution),
                                                        workers: 2)
            #expect(x.rows == paths && x.columns == 4)
            let sample = CovarianceEstimator.sample(x)
            for i in 0 ..< 4 {
                for j in 0 ..< 4 {
                    let se = ((sigma[i, i] * sigma[j, j] + sigma[i, j] * sigma[i, j]) / Double(paths)).squareRoot()
                    if distribution == .normal {
                        #expect(abs(sample[i, j] - sigma[i, j]) <= 5 * se, "Σ[\(i),\(j)]")
                    } else if i == j {
                        #expect(relativeError(sample[i, i], sigma[i, i]) < 0.1, "t: Σ[\(i),\(i)]")
                    }
                }
            }
        }
    }

    // MARK: - Against the same draws

    /// VaR/ES and liquidation counts against a naive loop over the engine's own draws X (`logReturns`):
    /// losses −Σ_i e_i·(exp(√h·x_i) − 1) sorted, and the count of Σ_i b_i·exp(√h·x_i) < 0. The book mixes small
    /// accounts with accounts of 20–35 holdings (more than one row group of the sparse kernel).
    @Test(arguments: [MonteCarloDistribution.normal, .studentT], [ScenarioLossCalculator.Kernel.sparse, .dense])
    func matchesANaiveLoopOverTheSameDraws(distribution: MonteCarloDistribution,
                                           kernel: ScenarioLossCalculator.Kernel) throws {
        let n = 40
        let sigma = randomCovariance(assets: n, seed: 17)
        var rng = TestRandom(seed: 19)
        var builder = BookBuilder(assetCount: n)
        for a in 0 ..< 150 {
            let held = a % 10 == 3 ? 20 + rng.nextInt(0 ..< 16) : 1 + rng.nextInt(0 ..< 6)
            let first = rng.nextInt(0 ..< n)
            for q in 0 ..< held { builder.add(account: "a\(a)", asset: (first + q) % n, quantity: rng.nextUniform(0.5 ... 20)) }
            if rng.nextUnit() < 0.7 {
                builder.add(account: "a\(a)", asset: (first + n - 1) % n, quantity: -rng.nextUniform(0.5 ... 10) * Double(held))
            }
        }
        let b = builder.build()
        let prices = (0 ..< n).map { _ in rng.nextUniform(0.5 ... 50) }
        let paths = 3000
        let c = config(paths: paths, horizon: 2, confidence: 0.975, distribution: distribution)
        let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: prices, schedule: schedule(n), config: c)
        let (risk, f) = try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma, config: c,
                                                             workers: 2, kernel: kernel)
        let x = MonteCarloRiskCalculator.logReturns(factor: f, config: c)
        let h = c.horizonDays.squareRoot()
        let k = Naive.tailCount(paths, confidence: 0.975)   // the test's own k, not the engine's
        #expect(risk.tailCount == k && k == 75)
        // b = c·(1 − h) for collateral (the test's own haircut), liquidation_ratio·e for debt.
        let terms = schedule(n)
        let sensitivity = (0 ..< b.holdingCount).map { q in
            let e = assessment.exposure[q]
            return e > 0 ? e * (1 - Naive.haircut(terms[Int(b.assetIndex[q])], sigma: 0, usd: e, z: Naive.z975, config: c))
                : c.liquidationRatio * e
        }
        var withDebt = 0, uncertain = 0
        for a in 0 ..< b.accountCount {
            var losses: [Double] = []
            var breaches = 0
            for s in 0 ..< paths {
                var pnl = 0.0, buffer = 0.0
                for q in b.holdings(of: a) {
                    let j = Int(b.assetIndex[q])
                    let move = expm1(h * x[s, j])
                    pnl += assessment.exposure[q] * move
                    buffer += sensitivity[q] * (1 + move)
                }
                losses.append(-pnl)
                if buffer < 0 { breaches += 1 }
            }
            losses.sort(by: >)
            #expect(relativeError(risk.valueAtRisk[a], losses[k - 1]) < 1e-12)
            #expect(relativeError(risk.expectedShortfall[a], losses[..<k].reduce(0, +) / Double(k)) < 1e-12)
            #expect(risk.expectedShortfall[a] >= risk.valueAtRisk[a])
            if assessment.debt[a] > 0 {
                withDebt += 1
                if breaches > 0 && breaches < paths { uncertain += 1 }
                #expect(risk.liquidationProbability[a] == Double(breaches) / Double(paths), "account \(a)")
            } else {
                #expect(risk.liquidationProbability[a].isNaN)
            }
        }
        #expect(withDebt > 50)
        #expect(uncertain >= 5, "accounts with a liquidation probability strictly between 0 and 1: \(uncertain)")
    }

    /// Bit-identical for 1 and 3 workers under each kernel; dense (dgemm) and sparse agree to summation order.
    @Test func resultsDoNotDependOnWorkersAndKernelsAgree() throws {
        let n = 60
        let sigma = randomCovariance(assets: n, seed: 51)
        var rng = TestRandom(seed: 52)
        var builder = BookBuilder(assetCount: n)
        for a in 0 ..< 200 {
            let large = a >= 64 && a < 128   // the second block holds most of the universe: dense under .automatic
            let held = large ? n - 5 + rng.nextInt(0 ..< 5) : 1 + rng.nextInt(0 ..< 5)
            for q in 0 ..< held { builder.add(account: "a\(a)", asset: (q * 7 + a) % n, quantity: rng.nextUniform(1 ... 20)) }
            if rng.nextUnit() < 0.8 { builder.add(account: "a\(a)", asset: (a * 3 + 1) % n, quantity: -rng.nextUniform(1 ... 40)) }
        }
        let b = builder.build()
        let prices = (0 ..< n).map { _ in rng.nextUniform(1 ... 100) }
        let c = config(paths: 2000)
        let (assessment, _) = computeRisk(book: b, covariance: sigma, prices: prices, schedule: schedule(n), config: c)
        func run(_ kernel: ScenarioLossCalculator.Kernel, workers: Int) throws -> ScenarioRisk {
            try MonteCarloRiskCalculator.compute(book: b, assessment: assessment, covariance: sigma, config: c,
                                                 workers: workers, kernel: kernel).0
        }
        var results: [ScenarioRisk] = []
        for kernel in [ScenarioLossCalculator.Kernel.dense, .sparse] {
            let one = try run(kernel, workers: 1), three = try run(kernel, workers: 3)
            #expect(one.valueAtRisk.map(\.bitPattern) == three.valueAtRisk.map(\.bitPattern))
            #expect(one.expectedShortfall.map(\.bitPattern) == three.expectedShortfall.map(\.bitPattern))
            #expect(one.liquidationProbability.map(\.bitPattern) == three.liquidationProbability.map(\.bitPattern))
            #expect(one.bookValueAtRisk.bitPattern == three.bookValueAtRisk.bitPattern)
            results.append(one)
        }
        let (dense, sparse) = (results[0], results[1])
        let blocks = (b.accountCount + ScenarioLossCalculator.blockSize - 1) / ScenarioLossCalculator.blockSize
        #expect(blocks > 1 && dense.denseBlocks == blocks && sparse.sparseBlocks == blocks)
        for a in 0 ..< b.accountCount {
            #expect(relativeError(dense.valueAtRisk[a], sparse.valueAtRisk[a]) < 1e-12)
            #expect(relativeError(dense.expectedShortfall[a], sparse.expectedShortfall[a]) < 1e-12)
            let (p, q) = (dense.liquidationProbability[a], sparse.liquidationProbability[a])
            #expect(p.isNaN == q.isNaN)
            #expect(p.isNaN || abs(p - q) <= 1.0 / 2000)   // at most one knife-edge path may flip
        }
        let automatic = try run(.automatic, workers: 2)
        #expect(automatic.denseBlocks >= 1 && automatic.sparseBlocks >= 1)
    }

    /// Path s depends only on (seed, s): the first paths of a shorter run are bitwise those of a longer one, with
    /// any number of workers; another seed gives other draws.
    @Test func pathDrawsDependOnlyOnSeedAndPathIndex() throws {
        let f = try MonteCarloRiskCalculator.factor(randomCovariance(assets: 7, seed: 61))
        for distribution in [MonteCarloDistribution.normal, .studentT] {
            let short = MonteCarloRiskCalculator.logReturns(factor: f, config: config(paths: 300, distribution: distribution),
                                                            workers: 1)
            let long = MonteCarloRiskCalculator.logReturns(factor: f, config: config(paths: 1000, distribution: distribution),
                                                           workers: 3)
            #expect(short.elements.map(\.bitPattern) == long.elements[0 ..< 300 * 7].map(\.bitPattern))
            var other = config(paths: 300, distribution: distribution)
            other.monteCarloSeed = 43
            let reseeded = MonteCarloRiskCalculator.logReturns(factor: f, config: other)
            #expect(reseeded.elements != short.elements)
        }
    }
}
