import Foundation
import LinearAlgebra
import RiskModel

/// A factor F of the covariance, F·Fᵀ = Σ, used to turn independent standard normals into joint draws.
public struct MonteCarloFactor: Sendable {
    public enum Kind: Sendable, Equatable {
        /// Lower-triangular Cholesky factor L (Σ positive definite and well conditioned per pivot).
        case cholesky
        /// V·diag(√max(λ, 0)) from the symmetric eigendecomposition Σ = V·Λ·Vᵀ (singular or near-singular Σ);
        /// `clippedEigenvalues` negative eigenvalues (rounding noise of a PSD matrix) were set to 0.
        case eigen(clippedEigenvalues: Int)
    }

    /// n × n, row-major: x = F·z.
    public let matrix: Matrix
    public let kind: Kind
}

/// Monte Carlo VaR/ES and probability of liquidation by full revaluation (METHODOLOGY "Parametric VaR and ES").
///
/// S = `mc_paths` joint daily log-return draws x_s = F·z_s (z_s standard normal, F·Fᵀ = Σ); with `student_t`,
/// x_s = F·z_s·√((ν − 2)/ν)/√(χ²_ν/ν) = F·z_s·√((ν − 2)/χ²_ν), one χ²_ν per path, so the covariance is Σ again.
/// Scenario moves G_{s,i} = exp(√h·x_{s,i}) − 1; losses −Σ_i e_i·G_{s,i}; VaR/ES the k-th largest loss and the
/// mean of the k largest (no further √h); the liquidation probability is the share of paths with
/// Σ_i b_i·exp(√h·x_{s,i}) < 0 (b from `ParametricRiskCalculator.bufferSensitivity`), NaN without debt.
///
/// Reproducibility: path s draws from its own SplitMix64 stream, seeded with output s of the SplitMix64 stream of
/// `mc_seed` (a 64-bit hash of (seed, s)): first n standard normals by Box–Muller (pairs, cosine then sine), then
/// (Student t) one Gamma(ν/2) by Marsaglia–Tsang from the same stream. x_s = F·z_s is summed column by column in a
/// fixed order. So the draws of a path depend only on (mc_seed, s, Σ): not on the thread count, block sizes,
/// account order or the number of paths S.
public enum MonteCarloRiskCalculator {
    /// Paths per generation block (parallel over blocks; a constant, so results never depend on it anyway).
    public static let pathBlockSize = 256

    /// A Cholesky pivot is accepted when its square (the variance of asset j not explained by assets 0 ..< j) is
    /// at least this fraction of Σ_jj; below it (e.g. two identical assets, where it is rounding noise) the eigen
    /// factor is used, whose entries do not depend on noise.
    public static let relativePivotTolerance = 1e-10

    /// F with F·Fᵀ = Σ: Cholesky when Σ is positive definite with every pivot above `relativePivotTolerance`,
    /// else the eigen factor V·√max(Λ, 0) — which never fails on a (numerically) positive semidefinite Σ:
    /// zero-variance assets, zero rows and columns of dropped assets, identical assets, PSD-repaired estimates.
    /// - Throws: `.nonFiniteInput` for NaN or infinite entries, `.noConvergence` if `dsyevd` fails.
    public static func factor(_ covariance: Matrix) throws(LinearAlgebraError) -> MonteCarloFactor {
        precondition(covariance.isSquare, "factor of a non-square covariance")
        let n = covariance.rows
        guard covariance.elements.allSatisfy(\.isFinite) else { throw .nonFiniteInput }
        if n == 0 { return MonteCarloFactor(matrix: covariance, kind: .cholesky) }
        if let l = try? LAPACK.cholesky(covariance) {
            let wellConditioned = (0 ..< n).allSatisfy { j in
                let pivot = l[j, j]
                return pivot * pivot >= relativePivotTolerance * covariance[j, j]
            }
            if wellConditioned { return MonteCarloFactor(matrix: l, kind: .cholesky) }
        }
        let eigen = try LAPACK.symmetricEigen(covariance)
        var f = eigen.vectors
        var clipped = 0
        for k in 0 ..< n {
            let lambda = eigen.values[k]
            if lambda < 0 { clipped += 1 }
            let scale = lambda > 0 ? lambda.squareRoot() : 0
            for i in 0 ..< n { f.elements[i * n + k] *= scale }
        }
        return MonteCarloFactor(matrix: f, kind: .eigen(clippedEigenvalues: clipped))
    }

    /// Every account's Monte Carlo VaR/ES and liquidation probability, and the book's VaR/ES; also returns the
    /// factor used. Bit-identical for any `workers`.
    public static func compute(book: Book, assessment: CollateralAssessment, covariance: Matrix, config: RiskConfig,
                               workers: Int, kernel: ScenarioLossCalculator.Kernel = .automatic)
        throws(LinearAlgebraError) -> (ScenarioRisk, MonteCarloFactor) {
        let f = try factor(covariance)
        let risk = compute(book: book, assessment: assessment, factor: f, config: config, workers: workers,
                           kernel: kernel)
        return (risk, f)
    }

    /// As above with a factor computed beforehand.
    public static func compute(book: Book, assessment: CollateralAssessment, factor: MonteCarloFactor,
                               config: RiskConfig, workers: Int,
                               kernel: ScenarioLossCalculator.Kernel = .automatic) -> ScenarioRisk {
        let clock = ContinuousClock()
        let start = clock.now
        let moves = scenarioMoves(factor: factor, config: config, workers: workers)
        let built = start.duration(to: clock.now)
        var risk = ScenarioLossCalculator.compute(book: book, assessment: assessment, moves: moves,
                                                  confidence: config.confidence, lossScale: 1,
                                                  liquidationRatio: config.liquidationRatio, workers: workers,
                                                  kernel: kernel, independentScenarios: true)
        risk.scenarioSeconds = built.seconds
        return risk
    }

    /// G = exp(√h·X) − 1 laid out asset-major, n × S (row j: asset j's relative moves over the S paths).
    public static func scenarioMoves(factor: MonteCarloFactor, config: RiskConfig, workers: Int) -> Matrix {
        let n = factor.matrix.rows
        let paths = config.monteCarloPaths
        let sqrtHorizon = config.horizonDays.squareRoot()
        var moves = Matrix(rows: n, columns: paths)
        moves.elements.withSharedOutput { out in
            generate(factor: factor, config: config, workers: workers) { s, x in
                // Capped at the largest finite double: a draw beyond exp's range (a data error upstream) must not
                // become +∞, whose product with a zero exposure is NaN for every account of a dense block.
                for i in 0 ..< n { out[i * paths + s] = min(expm1(sqrtHorizon * x[i]), .greatestFiniteMagnitude) }
            }
        }
        return moves
    }

    /// The daily log-return draws X themselves, S × n path-major (row s = x_s): the same numbers that
    /// `scenarioMoves` exponentiates. For tests and diagnostics.
    public static func logReturns(factor: MonteCarloFactor, config: RiskConfig, workers: Int = 1) -> Matrix {
        let n = factor.matrix.rows
        var draws = Matrix(rows: config.monteCarloPaths, columns: n)
        draws.elements.withSharedOutput { out in
            generate(factor: factor, config: config, workers: workers) { s, x in
                for i in 0 ..< n { out[s * n + i] = x[i] }
            }
        }
        return draws
    }

    /// Draws every path (in parallel over fixed blocks of `pathBlockSize` paths) and hands x_s to `emit`, which
    /// must write only outputs of path s.
    static func generate(factor: MonteCarloFactor, config: RiskConfig, workers: Int,
                         emit: @Sendable (_ path: Int, _ x: UnsafeBufferPointer<Double>) -> Void) {
        let paths = config.monteCarloPaths
        precondition(paths >= 1, "mc_paths must be at least 1")
        let studentT = config.monteCarloDistribution == .studentT
        let dof = config.monteCarloDegreesOfFreedom
        precondition(!studentT || dof > 2, "mc_dof must be greater than 2")
        let n = factor.matrix.rows
        // Row j of Fᵀ is column j of F: x = Σ_j z_j·Fᵀ[j, :] runs over contiguous rows. Rows of zeros (clipped or
        // zero eigenvalues) are skipped; for a Cholesky factor only the entries i ≥ j are non-zero.
        let transposed = factor.matrix.transposed
        let firstNonZero = (0 ..< n).map { j in (0 ..< n).first { transposed.elements[j * n + $0] != 0 } ?? n }
        let seed = config.monteCarloSeed
        let blockCount = (paths + pathBlockSize - 1) / pathBlockSize
        transposed.elements.withUnsafeBufferPointer { ft in
            let rows = ReadOnlyBuffer(ft)
            Parallel.forEachBlock(blockCount: blockCount, workers: workers,
                                  makeWorkspace: { PathWorkspace(assets: n, firstNonZero: firstNonZero) }) {
                block, workspace in
                var first = block * pathBlockSize
                let end = min(first + pathBlockSize, paths)
                while first < end {
                    let batch = first ..< min(first + PathWorkspace.batchPaths, end)
                    workspace.draw(paths: batch, seed: seed, transposedFactor: rows.buffer,
                                   studentT: studentT ? dof : nil)
                    for s in batch { workspace.withDraw(s - batch.lowerBound) { emit(s, $0) } }
                    first = batch.upperBound
                }
            }
        }
    }
}

/// One generation worker's buffers for a batch of paths: their standard normals z and draws x (path-major, n per
/// path), the Student-t scales, and the factor's first non-zero entry per row of Fᵀ.
struct PathWorkspace {
    /// Paths drawn together: their normals and draws (2 × 32 × n doubles, 256 KB at 500 assets) stay in a core's L2
    /// while Fᵀ is read once for them all.
    static let batchPaths = 32

    let assets: Int
    let firstNonZero: [Int]
    var z: [Double]
    var x: [Double]
    var scale: [Double]

    init(assets: Int, firstNonZero: [Int]) {
        self.assets = assets
        self.firstNonZero = firstNonZero
        z = [Double](repeating: 0, count: assets * Self.batchPaths)
        x = z
        scale = [Double](repeating: 1, count: Self.batchPaths)
    }

    /// x_s = F·z_s (× √((ν − 2)/χ²_ν) for Student t) for the paths s of `paths` (at most `batchPaths`).
    mutating func draw(paths: Range<Int>, seed: UInt64, transposedFactor ft: UnsafeBufferPointer<Double>,
                       studentT dof: Double?) {
        let n = assets
        for (p, s) in paths.enumerated() { drawVariates(path: s, slot: p, seed: seed, studentT: dof) }
        let used = paths.count * n
        z.withUnsafeBufferPointer { normals in
        x.withUnsafeMutableBufferPointer { draws in
        firstNonZero.withUnsafeBufferPointer { first in
            correlatedDraws(transposedFactor: ft, firstNonZero: first,
                            normals: UnsafeBufferPointer(rebasing: normals[0 ..< used]),
                            into: UnsafeMutableBufferPointer(rebasing: draws[0 ..< used]))
        }
        }
        }
        guard dof != nil else { return }
        for p in 0 ..< paths.count {
            for i in 0 ..< n { x[p * n + i] *= scale[p] }
        }
    }

    /// Path s's independent variates from its own stream: n standard normals into z's slot `slot`, then (Student t)
    /// its scale √((ν − 2)/χ²_ν) into scale[slot].
    private mutating func drawVariates(path s: Int, slot p: Int, seed: UInt64, studentT dof: Double?) {
        let n = assets
        var master = SplitMix64(seed: seed, skipping: UInt64(s))
        var rng = SplitMix64(seed: master.next())
        var j = 0
        while j < n {
            let (cosine, sine) = PathRandom.normalPair(&rng)
            z[p * n + j] = cosine
            if j + 1 < n { z[p * n + j + 1] = sine }
            j += 2
        }
        if let dof {
            let chiSquare = 2 * PathRandom.gamma(shape: dof / 2, &rng)
            scale[p] = ((dof - 2) / chiSquare).squareRoot()
        }
    }

    /// Calls `body` with the draw x of the batch's path `p`.
    func withDraw(_ p: Int, _ body: (UnsafeBufferPointer<Double>) -> Void) {
        x.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[p * assets ..< (p + 1) * assets])) }
    }
}

/// The per-path variates, from one SplitMix64 stream.
enum PathRandom {
    /// Two independent standard normals by Box–Muller: r·cos θ, r·sin θ with r = √(−2 ln u₁), u₁ ∈ (0, 1],
    /// θ = 2π·u₂.
    @inline(__always) static func normalPair(_ rng: inout SplitMix64) -> (Double, Double) {
        let u1 = 1 - rng.nextUnit()
        let u2 = rng.nextUnit()
        let r = (-2 * log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * cos(theta), r * sin(theta))
    }

    /// Gamma(shape, 1) for shape ≥ 1 by Marsaglia & Tsang (ACM TOMS 26(3), 2000): d = shape − 1/3,
    /// c = 1/√(9d); repeat x ~ N(0,1), v = (1 + c·x)³ until v > 0 and u < 1 − 0.0331·x⁴ or
    /// ln u < x²/2 + d·(1 − v + ln v); return d·v. (Shape = ν/2 > 1 for ν > 2.)
    static func gamma(shape: Double, _ rng: inout SplitMix64) -> Double {
        precondition(shape >= 1, "gamma: shape must be at least 1")
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normalPair(&rng).0
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = rng.nextUnit()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return d * v }
            if log(u) < 0.5 * x2 + d * (1 - v + log(v)) { return d * v }
        }
    }
}
