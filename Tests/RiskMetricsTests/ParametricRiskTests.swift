import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

/// Parametric VaR/ES against naive loops and closed forms. Tolerances: the kernel and the naive loops sum the
/// same products in different orders, so agreement is to a few ulps of σ²; 1e-12 relative leaves a wide margin.
@Suite struct ParametricRiskTests {
    let z99 = 2.3263478740408408  // Φ⁻¹(0.99), mpmath

    @Test(arguments: [ParametricRiskCalculator.Kernel.dense, .sparse, .automatic])
    func matchesNaivePerAccountLoop(kernel: ParametricRiskCalculator.Kernel) {
        let n = 23
        let cov = randomCovariance(assets: n, seed: 7)
        let book = randomBook(accounts: 700, assets: n, seed: 11)   // several blocks of 128, last one partial
        var rng = TestRandom(seed: 3)
        let prices = (0 ..< n).map { _ in rng.nextUniform(0.5 ... 500) }
        let (assessment, risk) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n), kernel: kernel)
        let phi = exp(-0.5 * z99 * z99) / (2 * Double.pi).squareRoot()
        for a in 0 ..< book.accountCount {
            // Naive: dense exposure vector, double loop for eᵀΣe and (Σe)_i.
            var e = [Double](repeating: 0, count: n)
            for k in book.holdings(of: a) { e[Int(book.assetIndex[k])] = book.quantity[k] * prices[Int(book.assetIndex[k])] }
            var sigmaE = [Double](repeating: 0, count: n)
            for i in 0 ..< n { for j in 0 ..< n { sigmaE[i] += cov[i, j] * e[j] } }
            var variance = 0.0
            for i in 0 ..< n { variance += e[i] * sigmaE[i] }
            let sigma = variance.squareRoot()
            #expect(relativeError(risk.valueAtRisk[a], z99 * sigma) < 1e-12)
            #expect(relativeError(risk.expectedShortfall[a], sigma * phi / 0.01) < 1e-12)
            var componentSum = 0.0
            for k in book.holdings(of: a) {
                let j = Int(book.assetIndex[k])
                #expect(abs(risk.componentVaR[k] - e[j] * sigmaE[j] / sigma * z99) <= 1e-12 * risk.valueAtRisk[a])
                componentSum += risk.componentVaR[k]
            }
            // Euler allocation: component VaRs sum to VaR.
            #expect(abs(componentSum - risk.valueAtRisk[a]) <= 1e-12 * risk.valueAtRisk[a])
            #expect(risk.expectedShortfall[a] >= risk.valueAtRisk[a])
            #expect(assessment.hcv[a] <= assessment.collateral[a])
        }
    }

    @Test func oneAssetClosedForm() {
        let sigma = 0.04
        let cov = Matrix([[sigma * sigma]])
        var builder = BookBuilder(assetCount: 1)
        builder.add(account: "x", asset: 0, quantity: 2.5)
        let (_, risk) = computeRisk(book: builder.build(), covariance: cov, prices: [400], schedule: schedule(1))
        // VaR = z·|e|·σ = 2.3263478740408408 · 1000 · 0.04.
        #expect(relativeError(risk.valueAtRisk[0], z99 * 1000 * 0.04) < 1e-15)
        #expect(relativeError(risk.componentVaR[0], risk.valueAtRisk[0]) < 1e-15)
    }

    @Test func twoAssetClosedFormWithDebt() {
        // Long 1,000 USD of A (σ 5 %), short 600 USD of B (σ 1 %), correlation 0.3.
        let s1 = 0.05, s2 = 0.01, rho = 0.3
        let cov = Matrix([[s1 * s1, rho * s1 * s2], [rho * s1 * s2, s2 * s2]])
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "x", asset: 0, quantity: 10)
        builder.add(account: "x", asset: 1, quantity: -600)
        var config = RiskConfig()
        config.horizonDays = 4
        let (_, risk) = computeRisk(book: builder.build(), covariance: cov, prices: [100, 1], schedule: schedule(2), config: config)
        let variance = 1000.0 * 1000 * s1 * s1 + 600.0 * 600 * s2 * s2 - 2 * rho * 1000 * 600 * s1 * s2
        #expect(relativeError(risk.valueAtRisk[0], z99 * variance.squareRoot() * 2) < 1e-14)
        // Component of A: e_A (Σe)_A / σ · z √h.
        let sigmaE0 = 1000 * s1 * s1 - 600 * rho * s1 * s2
        #expect(relativeError(risk.componentVaR[0], 1000 * sigmaE0 / variance.squareRoot() * z99 * 2) < 1e-14)
    }

    @Test func scalesLinearlyInSizeAndWithSquareRootOfHorizon() {
        let n = 8
        let cov = randomCovariance(assets: n, seed: 5)
        let book = randomBook(accounts: 50, assets: n, seed: 9)
        let tripled = Book(accountIDs: book.accountIDs, rowStart: book.rowStart, assetIndex: book.assetIndex,
                           quantity: book.quantity.map { 3 * $0 })
        let prices = [Double](repeating: 10, count: n)
        let (_, base) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n))
        let (_, big) = computeRisk(book: tripled, covariance: cov, prices: prices, schedule: schedule(n))
        var config = RiskConfig()
        config.horizonDays = 9
        let (_, long) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n), config: config)
        for a in 0 ..< book.accountCount {
            #expect(relativeError(big.valueAtRisk[a], 3 * base.valueAtRisk[a]) < 1e-13)
            #expect(relativeError(long.valueAtRisk[a], 3 * base.valueAtRisk[a]) < 1e-13)
            #expect(relativeError(long.expectedShortfall[a], 3 * base.expectedShortfall[a]) < 1e-13)
        }
    }

    @Test func resultsDoNotDependOnWorkerCount() {
        let n = 17
        let cov = randomCovariance(assets: n, seed: 21)
        let book = randomBook(accounts: 1000, assets: n, seed: 22)
        let prices = [Double](repeating: 3, count: n)
        let (_, one) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n), workers: 1)
        let (_, three) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n), workers: 3)
        #expect(one.valueAtRisk.map(\.bitPattern) == three.valueAtRisk.map(\.bitPattern))
        #expect(one.componentVaR.map(\.bitPattern) == three.componentVaR.map(\.bitPattern))
        #expect(one.liquidationSigma.map(\.bitPattern) == three.liquidationSigma.map(\.bitPattern))
        #expect(one.liquidationScenario == three.liquidationScenario)
    }

    @Test func bookVaRIsTheVaROfTheSummedPortfolio() {
        let n = 6
        let cov = randomCovariance(assets: n, seed: 31)
        let book = randomBook(accounts: 40, assets: n, seed: 32)
        let prices = (1 ... n).map(Double.init)
        let (_, risk) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n))
        var total = [Double](repeating: 0, count: n)
        for k in 0 ..< book.holdingCount { total[Int(book.assetIndex[k])] += book.quantity[k] * prices[Int(book.assetIndex[k])] }
        var variance = 0.0
        for i in 0 ..< n { for j in 0 ..< n { variance += total[i] * cov[i, j] * total[j] } }
        #expect(relativeError(risk.bookValueAtRisk, z99 * variance.squareRoot()) < 1e-12)
        // Subadditivity of normal VaR: the book's VaR never exceeds the sum of the accounts'.
        #expect(risk.bookValueAtRisk <= risk.valueAtRisk.reduce(0, +) * (1 + 1e-12))
    }

    @Test func zeroVarianceAccountHasZeroRiskAndZeroComponents() {
        let cov = Matrix([[0, 0], [0, 0.0004]])
        var builder = BookBuilder(assetCount: 2)
        builder.add(account: "stable", asset: 0, quantity: 100)
        let (_, risk) = computeRisk(book: builder.build(), covariance: cov, prices: [1, 1], schedule: schedule(2))
        #expect(risk.valueAtRisk[0] == 0)
        #expect(risk.componentVaR[0] == 0)
    }

    /// The dense (dgemm) and sparse (gather) kernels compute the same numbers up to summation order, and the
    /// automatic choice takes dgemm for books whose accounts hold most of the universe.
    @Test func denseAndSparseKernelsAgree() {
        let n = 40
        let cov = randomCovariance(assets: n, seed: 41)
        var rng = TestRandom(seed: 42)
        var builder = BookBuilder(assetCount: n)
        for a in 0 ..< 300 {
            let held = a < 150 ? 1 + rng.nextInt(0 ..< 5) : 30 + rng.nextInt(0 ..< 10)   // sparse blocks, then dense ones
            for j in 0 ..< held { builder.add(account: "a\(a)", asset: (j * 7 + a) % n, quantity: rng.nextUniform(1 ... 5)) }
            builder.add(account: "a\(a)", asset: (a * 3 + 1) % n, quantity: -rng.nextUniform(1 ... 20))
        }
        let book = builder.build()
        let prices = (0 ..< n).map { _ in rng.nextUniform(1 ... 100) }
        let (_, dense) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n), kernel: .dense)
        let (_, sparse) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n), kernel: .sparse)
        let (_, auto) = computeRisk(book: book, covariance: cov, prices: prices, schedule: schedule(n))
        #expect(dense.denseBlocks == 3 && sparse.sparseBlocks == 3)
        #expect(auto.sparseBlocks >= 1 && auto.denseBlocks >= 1)
        for a in 0 ..< book.accountCount {
            #expect(relativeError(dense.valueAtRisk[a], sparse.valueAtRisk[a]) < 1e-13)
            let (x, y) = (dense.liquidationSigma[a], sparse.liquidationSigma[a])
            #expect(x.isNaN == y.isNaN)
            #expect(x.isNaN || abs(x - y) <= 1e-12 * (1 + abs(x)))
            #expect(dense.liquidationScenario[a] == sparse.liquidationScenario[a])
        }
        for k in 0 ..< book.holdingCount {
            #expect(abs(dense.componentVaR[k] - sparse.componentVaR[k]) <= 1e-12 * dense.valueAtRisk.max()!)
        }
    }
}
