import Foundation
import LinearAlgebra
import RiskModel

/// Delta-normal VaR/ES per account and for the book, component VaR per holding, and the distance to
/// liquidation (METHODOLOGY "Parametric VaR and ES"). Losses are positive USD; σ is the daily USD standard deviation of the account's P&L.
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
    /// Floating-point operations of the dense block products (2·rows·n² per dense block), for GFLOP/s reporting.
    public var matrixFlops: Double
    /// Blocks computed with one dgemm, and blocks computed by per-account gathers (see `Kernel`).
    public var denseBlocks: Int
    public var sparseBlocks: Int

    public init(valueAtRisk: [Double], expectedShortfall: [Double], componentVaR: [Double], liquidationSigma: [Double],
                liquidationScenario: [String], bookValueAtRisk: Double, bookExpectedShortfall: Double,
                matrixFlops: Double, denseBlocks: Int, sparseBlocks: Int) {
        self.valueAtRisk = valueAtRisk
        self.expectedShortfall = expectedShortfall
        self.componentVaR = componentVaR
        self.liquidationSigma = liquidationSigma
        self.liquidationScenario = liquidationScenario
        self.bookValueAtRisk = bookValueAtRisk
        self.bookExpectedShortfall = bookExpectedShortfall
        self.matrixFlops = matrixFlops
        self.denseBlocks = denseBlocks
        self.sparseBlocks = sparseBlocks
    }
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
    public static let blockSize = BlockPlan.parametricAccounts

    /// Dense: one dgemm per block over (2·block) × n rows of e and b times Σ. Sparse: per account, Σ gathered on
    /// its own k assets (k² multiply-adds, no BLAS).
    public typealias Kernel = BlockKernel

    /// How many times more flops per second dgemm sustains than the scalar gather loop (measured in
    /// Benchmarks/: about 60 GFLOP/s against 3–4 GFLOP/s on one core).
    public static let denseEfficiency = 16.0

    /// Computes every account's parametric figures. Accounts are cut into fixed blocks of `blockSize`. A dense
    /// block is scattered into a (2·block) × n matrix — row 2r the exposures e, row 2r+1 the buffer sensitivities
    /// b — and multiplied by Σ with one dgemm; a sparse block multiplies each account's own k × k part of Σ.
    /// Either way the per-account sums then read only the account's own assets. Blocks run on `workers` threads
    /// with OpenBLAS single-threaded inside.
    public static func compute(book: Book, assessment: CollateralAssessment, covariance: Matrix,
                               tickers: [String], scale: NormalRiskScale, config: RiskConfig,
                               workers: Int, kernel: Kernel = .automatic) -> ParametricRisk {
        let n = covariance.rows
        let accounts = book.accountCount
        let blockCount = (accounts + blockSize - 1) / blockSize
        var valueAtRisk = [Double](repeating: 0, count: accounts)
        var shortfall = [Double](repeating: 0, count: accounts)
        var component = [Double](repeating: 0, count: book.holdingCount)
        var sigma = [Double](repeating: .nan, count: accounts)
        var scenario = [String](repeating: "", count: accounts)
        var denseBlock = [Bool](repeating: false, count: blockCount)
        let liquidationRatio = config.liquidationRatio
        BLASThreads.with(1) {
            valueAtRisk.withSharedOutput { varOut in
            shortfall.withSharedOutput { esOut in
            component.withSharedOutput { componentOut in
            sigma.withSharedOutput { sigmaOut in
            scenario.withSharedOutput { scenarioOut in
            denseBlock.withSharedOutput { denseOut in
            covariance.elements.withUnsafeBufferPointer { sigmaBuffer in
                let sigmaMatrix = SharedInput(sigmaBuffer)
                Parallel.forEachBlock(blockCount: blockCount, workers: workers,
                                      makeWorkspace: { BlockWorkspace(rows: 2 * blockSize, columns: n) }) { block, workspace in
                    let accountsInBlock = block * blockSize ..< min((block + 1) * blockSize, accounts)
                    let dense = useDense(kernel, book: book, accounts: accountsInBlock, assets: n)
                    denseOut[block] = dense
                    if dense {
                        workspace.scatter(book: book, accounts: accountsInBlock, assessment: assessment,
                                          liquidationRatio: liquidationRatio)
                        workspace.multiply(by: sigmaMatrix.buffer, rows: 2 * accountsInBlock.count)
                    }
                    for a in accountsInBlock {
                        let holdings = book.holdings(of: a)
                        let hasDebt = assessment.debt[a] > 0
                        // (Σe)_i and (Σb)_i for the account's own assets, in holding order.
                        if dense {
                            workspace.readProducts(book: book, holdings: holdings, row: 2 * (a - accountsInBlock.lowerBound))
                        } else {
                            workspace.gatherProducts(book: book, holdings: holdings, assessment: assessment,
                                                     liquidationRatio: liquidationRatio, withBuffer: hasDebt,
                                                     covariance: sigmaMatrix.buffer)
                        }
                        var variance = 0.0
                        for (p, k) in holdings.enumerated() { variance += assessment.exposure[k] * workspace.sigmaE[p] }
                        let s = max(variance, 0).squareRoot()
                        varOut[a] = scale.varPerSigma * s
                        esOut[a] = scale.esPerSigma * s
                        for (p, k) in holdings.enumerated() {
                            componentOut[k] = s > 0 ? assessment.exposure[k] * workspace.sigmaE[p] / s * scale.varPerSigma : 0
                        }
                        guard hasDebt, let distance = liquidationDistance(
                            account: a, holdings: holdings, sigmaB: workspace.sigmaB, book: book, assessment: assessment,
                            liquidationRatio: liquidationRatio, scale: scale, tickers: tickers) else { continue }
                        sigmaOut[a] = distance.sigma
                        scenarioOut[a] = distance.scenario
                    }
                    if dense { workspace.clear(book: book, accounts: accountsInBlock) }
                }
            }
            }
            }
            }
            }
            }
            }
        }
        let whole = bookRisk(book: book, assessment: assessment, covariance: covariance, scale: scale)
        let denseBlocks = denseBlock.filter { $0 }.count
        let flops = Double(denseBlocks) * 2 * Double(2 * blockSize) * Double(n) * Double(n)
        return ParametricRisk(valueAtRisk: valueAtRisk, expectedShortfall: shortfall, componentVaR: component,
                              liquidationSigma: sigma, liquidationScenario: scenario,
                              bookValueAtRisk: whole.valueAtRisk,
                              bookExpectedShortfall: whole.expectedShortfall, matrixFlops: flops,
                              denseBlocks: denseBlocks, sparseBlocks: blockCount - denseBlocks)
    }

    /// The book as one portfolio: exposures summed per asset in the order of the computed accounts (canonical; deterministic), invalid accounts left
    /// out; VaR and ES of that exposure vector.
    public static func bookRisk(book: Book, assessment: CollateralAssessment, covariance: Matrix,
                                scale: NormalRiskScale) -> (valueAtRisk: Double, expectedShortfall: Double) {
        var bookExposure = [Double](repeating: 0, count: covariance.rows)
        for a in 0 ..< book.accountCount where !assessment.invalid[a] {
            for k in book.holdings(of: a) { bookExposure[Int(book.assetIndex[k])] += assessment.exposure[k] }
        }
        // Single-threaded: a 200 × 200 gemv does not pay for waking OpenBLAS workers (they would spin afterwards).
        let bookSigma = BLASThreads.with(1) { max(quadraticForm(covariance, bookExposure), 0).squareRoot() }
        return (scale.varPerSigma * bookSigma, scale.esPerSigma * bookSigma)
    }

    /// Distance to liquidation of an indebted account and its scenario (METHODOLOGY "Parametric VaR and ES"), from (Σb)_i of its holdings in
    /// `sigmaB` (holding order): nil when bᵀΣb = 0; an empty scenario when the account is already liquidatable
    /// (B₀ < 0), since x* would then be the rally back to the threshold, not a liquidation scenario.
    static func liquidationDistance(account a: Int, holdings: Range<Int>, sigmaB: [Double], book: Book,
                                    assessment: CollateralAssessment, liquidationRatio: Double, scale: NormalRiskScale,
                                    tickers: [String]) -> (sigma: Double, scenario: String)? {
        var bSb = 0.0
        for (p, k) in holdings.enumerated() { bSb += bufferSensitivity(k, assessment, liquidationRatio) * sigmaB[p] }
        guard bSb > 0 else { return nil }
        let buffer = assessment.liquidationBuffer[a]
        let sigma = buffer / (scale.sqrtHorizon * bSb.squareRoot())
        guard buffer >= 0 else { return (sigma, "") }
        let firstHolding = holdings.lowerBound
        return (sigma, liquidationScenario(holdings: holdings, book: book, tickers: tickers,
                                           move: { k in expm1(-buffer * sigmaB[k - firstHolding] / bSb) }))
    }

    /// b_i = c_i(1 − h_i) for collateral, liquidation_ratio·e_i (≤ 0) for debt.
    @inline(__always) public static func bufferSensitivity(_ k: Int, _ assessment: CollateralAssessment,
                                                    _ liquidationRatio: Double) -> Double {
        let e = assessment.exposure[k]
        return e > 0 ? assessment.holdingHCV[k] : liquidationRatio * e
    }

    /// Whether a block runs as one dgemm: dense work 2·rows·n² against Σ k_a² gathers per account (× 2 with debt).
    static func useDense(_ kernel: Kernel, book: Book, accounts: Range<Int>, assets n: Int) -> Bool {
        kernel.choosesDense(
            denseOperations: 2 * Double(2 * accounts.count) * Double(n) * Double(n),
            sparseOperations: 2 * accounts.reduce(0.0) { sum, a in
                let k = Double(book.holdings(of: a).count)
                return sum + 2 * k * k
            },
            denseEfficiency: denseEfficiency)
    }

    /// The three largest |move| among the account's assets, ties in schedule order, as `TICKER -25.1%; …`.
    /// Keeps the top three in place while scanning (no sort, no array), since it runs for every account with debt.
    /// `move(k)` gives the move of holding k (a CSR index).
    public static func liquidationScenario(holdings: Range<Int>, book: Book, tickers: [String],
                                           move: (Int) -> Double) -> String {
        var top: [(asset: Int, move: Double)] = []
        top.reserveCapacity(4)
        for k in holdings {
            let j = Int(book.assetIndex[k])
            let m = move(k)
            // Insert (j, m) where it ranks: larger |move| first, then lower schedule index.
            var position = top.count
            while position > 0 {
                let other = top[position - 1]
                let ahead = abs(other.move) > abs(m) || (abs(other.move) == abs(m) && other.asset < j)
                if ahead { break }
                position -= 1
            }
            if position < 3 {
                top.insert((j, m), at: position)
                if top.count > 3 { top.removeLast() }
            }
        }
        var text = ""
        for (i, entry) in top.enumerated() {
            if i > 0 { text += "; " }
            text += tickers[entry.asset]
            text += " "
            text += percentText(entry.move)
        }
        return text
    }

    /// A relative move as a percentage with one decimal (`-25.1%`), rounded like C's `printf("%.1f")` of
    /// 100·move (round half to even on the exact binary value); a value that rounds to zero prints `0.0%`.
    public static func percentText(_ move: Double) -> String {
        let percent = 100 * move
        let scaled = percent * 10
        let nearest = scaled.rounded(.toNearestOrEven)
        // Exact unless the value sits within rounding noise of a .x5 boundary or is huge: then ask printf.
        guard percent.isFinite, abs(scaled) < 1e15, abs(abs(scaled - scaled.rounded(.down)) - 0.5) > 1e-6 else {
            var text = String(format: "%.1f", percent)
            if text == "-0.0" { text = "0.0" }
            return text + "%"
        }
        let tenths = Int(nearest)
        let magnitude = abs(tenths)
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(magnitude / 10).\(magnitude % 10)%"
    }
}

/// A read-only view of a buffer shared by parallel workers. Sound because the underlying array is not
/// mutated while the parallel loop runs and outlives it (the view is created inside `withUnsafeBufferPointer`).
struct SharedInput: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Double>
    init(_ buffer: UnsafeBufferPointer<Double>) { self.buffer = buffer }
}

/// A worker's reusable buffers: the dense block (input rows of e and b, their products with Σ) and the
/// per-account products (Σe)_i, (Σb)_i on the account's own assets.
struct BlockWorkspace {
    let columns: Int
    var input: [Double]
    var output: [Double]
    /// (Σe) on the current account's holdings, in holding order.
    var sigmaE: [Double]
    /// (Σb) on the current account's holdings, in holding order.
    var sigmaB: [Double]
    /// The current account's asset indices.
    private var assets: [Int]
    private var bufferRow: [Double]

    init(rows: Int, columns: Int) {
        self.columns = columns
        input = [Double](repeating: 0, count: rows * columns)
        output = [Double](repeating: 0, count: rows * columns)
        sigmaE = [Double](repeating: 0, count: columns)
        sigmaB = [Double](repeating: 0, count: columns)
        assets = [Int](repeating: 0, count: columns)
        bufferRow = [Double](repeating: 0, count: columns)
    }

    /// Writes e (row 2r) and b = c(1 − h) − liquidation_ratio·d (row 2r+1) of each account; other entries stay 0.
    mutating func scatter(book: Book, accounts: Range<Int>, assessment: CollateralAssessment, liquidationRatio: Double) {
        for a in accounts {
            let r = 2 * (a - accounts.lowerBound)
            for k in book.holdings(of: a) {
                let j = Int(book.assetIndex[k])
                input[r * columns + j] = assessment.exposure[k]
                input[(r + 1) * columns + j] = ParametricRiskCalculator.bufferSensitivity(k, assessment, liquidationRatio)
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

    /// Dense path: copies the account's entries of rows `row` (Σe) and `row + 1` (Σb) of the block product.
    mutating func readProducts(book: Book, holdings: Range<Int>, row: Int) {
        for (p, k) in holdings.enumerated() {
            let j = Int(book.assetIndex[k])
            sigmaE[p] = output[row * columns + j]
            sigmaB[p] = output[(row + 1) * columns + j]
        }
    }

    /// Sparse path: (Σe)_p = Σ_q Σ[j_p, j_q]·e_q over the account's own assets (and Σb likewise when asked).
    mutating func gatherProducts(book: Book, holdings: Range<Int>, assessment: CollateralAssessment,
                                 liquidationRatio: Double, withBuffer: Bool, covariance: UnsafeBufferPointer<Double>) {
        let k = holdings.count
        for (p, h) in holdings.enumerated() {
            assets[p] = Int(book.assetIndex[h])
            bufferRow[p] = ParametricRiskCalculator.bufferSensitivity(h, assessment, liquidationRatio)
        }
        let first = holdings.lowerBound
        for p in 0 ..< k {
            let rowBase = assets[p] * columns
            var se = 0.0, sb = 0.0
            for q in 0 ..< k {
                let c = covariance[rowBase + assets[q]]
                se += c * assessment.exposure[first + q]
                sb += c * bufferRow[q]
            }
            sigmaE[p] = se
            sigmaB[p] = withBuffer ? sb : 0
        }
    }
}
