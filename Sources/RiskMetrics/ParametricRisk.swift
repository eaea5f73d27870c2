import Foundation
import LinearAlgebra
import RiskModel

/// Delta-normal VaR/ES per account and for the book, component VaR per holding, and the distance to
/// liquidation (SPEC §3.2). Losses are positive USD; σ is the daily USD standard deviation of the account's P&L.
public struct ParametricRisk: Sendable {
    /// z·σ·√h per account.
    public var valueAtRisk: [Double]
    /// σ·√h·φ(z)/(1−α) per account.
    public var expectedShortfall: [Double]
    /// e_i·(Σe)_i/σ·z·√h per holding (sums to the account's VaR; 0 when σ = 0).
    public var componentVaR: [Double]
    /// B₀ / √(h·bᵀΣb) per account, NaN without debt or when bᵀΣb = 0.
    public var liquidationSigma: [Double]
    /// The three largest moves of x* = −B₀·Σb/(bᵀΣb), e.g. `SOL -25.1%; ETH -18.2%`; empty when not defined.
    public var liquidationScenario: [String]
    /// The book as one portfolio.
    public var bookValueAtRisk: Double
    public var bookExpectedShortfall: Double
    /// Floating-point operations of the block products (2·rows·n² per block), for GFLOP/s reporting.
    public var matrixFlops: Double
}

/// Constants of the delta-normal model at one confidence and horizon.
public struct NormalRiskScale: Sendable {
    public let confidence: Double
    /// z = Φ⁻¹(α).
    public let z: Double
    /// √h.
    public let sqrtHorizon: Double
    /// VaR per unit σ: z·√h.
    public let varPerSigma: Double
    /// ES per unit σ: √h·φ(z)/(1−α).
    public let esPerSigma: Double

    public init(confidence: Double, horizonDays: Double) {
        self.confidence = confidence
        z = NormalDistribution.quantile(confidence)
        sqrtHorizon = horizonDays.squareRoot()
        varPerSigma = z * sqrtHorizon
        esPerSigma = sqrtHorizon * NormalDistribution.density(z) / (1 - confidence)
    }
}

public enum ParametricRiskCalculator {
    /// Accounts per block product. Fixed (not derived from the thread count) so results never depend on it.
    public static let blockSize = 128

    /// Computes every account's parametric figures. Each block of accounts is scattered into a dense
    /// (2·block) × n matrix — row 2r the exposures e, row 2r+1 the buffer sensitivities b — and multiplied by Σ
    /// with one dgemm; per-account sums then read only the account's own assets. Blocks run on `workers`
    /// threads with OpenBLAS single-threaded inside.
    public static func compute(book: Book, assessment: CollateralAssessment, covariance: Matrix,
                               tickers: [String], scale: NormalRiskScale, config: RiskConfig,
                               workers: Int) -> ParametricRisk {
        let n = covariance.rows
        let accounts = book.accountCount
        let blockCount = (accounts + blockSize - 1) / blockSize
        var valueAtRisk = [Double](repeating: 0, count: accounts)
        var shortfall = [Double](repeating: 0, count: accounts)
        var component = [Double](repeating: 0, count: book.holdingCount)
        var sigma = [Double](repeating: .nan, count: accounts)
        var scenario = [String](repeating: "", count: accounts)
        let liquidationRatio = config.liquidationRatio
        BLASThreads.with(1) {
            valueAtRisk.withSharedOutput { varOut in
                shortfall.withSharedOutput { esOut in
                    component.withSharedOutput { componentOut in
                        sigma.withSharedOutput { sigmaOut in
                            scenario.withSharedOutput { scenarioOut in
                                covariance.elements.withUnsafeBufferPointer { sigmaBuffer in
                                    let covariancePointer = SharedInput(sigmaBuffer)
                                    Parallel.forEachBlock(
                                        blockCount: blockCount, workers: workers,
                                        makeWorkspace: { BlockWorkspace(rows: 2 * blockSize, columns: n) }
                                    ) { block, workspace in
                                        let first = block * blockSize
                                        let last = min(first + blockSize, accounts)
                                        workspace.scatter(book: book, accounts: first ..< last, assessment: assessment,
                                                          liquidationRatio: liquidationRatio)
                                        workspace.multiply(by: covariancePointer.buffer, rows: 2 * (last - first))
                                        for a in first ..< last {
                                            let r = 2 * (a - first)
                                            let holdings = book.holdings(of: a)
                                            var variance = 0.0
                                            for k in holdings {
                                                variance += assessment.exposure[k] * workspace.product(r, Int(book.assetIndex[k]))
                                            }
                                            let s = max(variance, 0).squareRoot()
                                            varOut[a] = scale.varPerSigma * s
                                            esOut[a] = scale.esPerSigma * s
                                            for k in holdings {
                                                componentOut[k] = s > 0
                                                    ? assessment.exposure[k] * workspace.product(r, Int(book.assetIndex[k])) / s * scale.varPerSigma
                                                    : 0
                                            }
                                            guard assessment.debt[a] > 0 else { continue }
                                            var bSb = 0.0
                                            for k in holdings {
                                                bSb += workspace.input(r + 1, Int(book.assetIndex[k])) * workspace.product(r + 1, Int(book.assetIndex[k]))
                                            }
                                            guard bSb > 0 else { continue }
                                            let buffer = assessment.liquidationBuffer[a]
                                            sigmaOut[a] = buffer / (scale.sqrtHorizon * sigma0(bSb))
                                            scenarioOut[a] = liquidationScenario(
                                                holdings: holdings, book: book, tickers: tickers,
                                                move: { j in expm1(-buffer * workspace.product(r + 1, j) / bSb) })
                                        }
                                        workspace.clear(book: book, accounts: first ..< last)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The book as one portfolio: exposures summed per asset in book order (deterministic), invalid accounts left out.
        var bookExposure = [Double](repeating: 0, count: n)
        for a in 0 ..< accounts where !assessment.invalid[a] {
            for k in book.holdings(of: a) { bookExposure[Int(book.assetIndex[k])] += assessment.exposure[k] }
        }
        let bookSigma = max(quadraticForm(covariance, bookExposure), 0).squareRoot()
        let flops = Double(blockCount) * 2 * Double(2 * blockSize) * Double(n) * Double(n)
        return ParametricRisk(valueAtRisk: valueAtRisk, expectedShortfall: shortfall, componentVaR: component,
                              liquidationSigma: sigma, liquidationScenario: scenario,
                              bookValueAtRisk: scale.varPerSigma * bookSigma,
                              bookExpectedShortfall: scale.esPerSigma * bookSigma, matrixFlops: flops)
    }

    @inline(__always) static func sigma0(_ variance: Double) -> Double { variance.squareRoot() }

    /// The three largest |move| among the account's assets, ties in schedule order, as `TICKER -25.1%; …`.
    public static func liquidationScenario(holdings: Range<Int>, book: Book, tickers: [String],
                                           move: (Int) -> Double) -> String {
        var moves: [(asset: Int, move: Double)] = []
        moves.reserveCapacity(holdings.count)
        for k in holdings {
            let j = Int(book.assetIndex[k])
            moves.append((j, move(j)))
        }
        moves.sort { lhs, rhs in
            let l = abs(lhs.move), r = abs(rhs.move)
            return l != r ? l > r : lhs.asset < rhs.asset
        }
        return moves.prefix(3).map { "\(tickers[$0.asset]) \(percentText($0.move))" }.joined(separator: "; ")
    }

    /// A relative move as a percentage with one decimal (`-25.1%`); a value that rounds to zero prints `0.0%`.
    public static func percentText(_ move: Double) -> String {
        var text = String(format: "%.1f", 100 * move)
        if text == "-0.0" { text = "0.0" }
        return text + "%"
    }
}

/// A read-only view of a buffer shared by parallel workers. Sound because the underlying array is not
/// mutated while the parallel loop runs and outlives it (the view is created inside `withUnsafeBufferPointer`).
struct SharedInput: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Double>
    init(_ buffer: UnsafeBufferPointer<Double>) { self.buffer = buffer }
}

/// A worker's reusable dense block: input rows (exposures / buffer sensitivities) and their products with Σ.
struct BlockWorkspace {
    let columns: Int
    var input: [Double]
    var output: [Double]

    init(rows: Int, columns: Int) {
        self.columns = columns
        input = [Double](repeating: 0, count: rows * columns)
        output = [Double](repeating: 0, count: rows * columns)
    }

    @inline(__always) func input(_ row: Int, _ column: Int) -> Double { input[row * columns + column] }
    @inline(__always) func product(_ row: Int, _ column: Int) -> Double { output[row * columns + column] }

    /// Writes e (row 2r) and b = c(1 − h) − liquidation_ratio·d (row 2r+1) of each account; other entries stay 0.
    mutating func scatter(book: Book, accounts: Range<Int>, assessment: CollateralAssessment, liquidationRatio: Double) {
        for a in accounts {
            let r = 2 * (a - accounts.lowerBound)
            for k in book.holdings(of: a) {
                let j = Int(book.assetIndex[k])
                let e = assessment.exposure[k]
                input[r * columns + j] = e
                input[(r + 1) * columns + j] = e > 0 ? assessment.holdingHCV[k] : liquidationRatio * e
            }
        }
    }

    /// Resets the entries `scatter` wrote, so the next block starts from zeros without a full memset.
    mutating func clear(book: Book, accounts: Range<Int>) {
        for a in accounts {
            let r = 2 * (a - accounts.lowerBound)
            for k in book.holdings(of: a) {
                let j = Int(book.assetIndex[k])
                input[r * columns + j] = 0
                input[(r + 1) * columns + j] = 0
            }
        }
    }

    /// output[0..<rows] = input[0..<rows] · Σ (Σ symmetric, so each output row is (Σx)ᵀ).
    mutating func multiply(by covariance: UnsafeBufferPointer<Double>, rows: Int) {
        let n = columns
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                gemm(m: rows, n: n, k: n, a: x, b: covariance, c: y)
            }
        }
    }
}
