import Foundation
import LinearAlgebra
import RiskModel

/// The covariance of daily log returns over the schedule (METHODOLOGY "Covariance"), daily units (return²).
public struct CovarianceEstimate: Sendable {
    /// n × n, schedule order; rows and columns of assets outside the universe are zero.
    public let matrix: Matrix
    /// σ_i = √Σ_ii, daily log-return volatility (fraction).
    public let volatilities: [Double]
    /// Ledoit–Wolf shrinkage intensity in [0, 1], nil for other methods.
    public let shrinkage: Double?
    /// Negative eigenvalues clipped to zero by the PSD repair (short history only).
    public let clippedEigenvalues: Int
    public let warnings: [String]
}

public enum CovarianceEstimator {
    /// Estimates Σ from the return window with the configured method. Complete data goes through BLAS
    /// (`syrk`); assets with short history switch the whole estimate to pairwise-complete sums, repaired
    /// to the nearest positive semidefinite matrix.
    public static func estimate(_ window: ReturnWindow, config: RiskConfig) throws(LinearAlgebraError) -> CovarianceEstimate {
        let n = window.returns.columns
        let active = (0 ..< n).filter { window.inUniverse[$0] }
        let w = window.window
        // Compact W × m block of the universe's returns.
        var r = Matrix(rows: w, columns: active.count)
        for t in 0 ..< w {
            for (k, j) in active.enumerated() { r.elements[t * active.count + k] = window.returns.elements[t * n + j] }
        }
        var compact: Matrix
        var shrinkage: Double? = nil
        var clipped = 0
        var warnings: [String] = []
        if window.hasMissingReturns {
            (compact, shrinkage) = pairwise(r, config: config)
            let repaired = try LAPACK.nearestPositiveSemidefinite(compact)
            compact = repaired.matrix
            clipped = repaired.clipped
            if clipped > 0 {
                warnings.append("pairwise covariance was not positive semidefinite: \(clipped) negative eigenvalues clipped to zero")
            }
        } else {
            switch config.covariance {
            case .sample: compact = sample(r)
            case .ewma: compact = ewma(r, lambda: config.ewmaLambda)
            case .ledoitWolf: (compact, shrinkage) = ledoitWolf(r)
            }
        }
        var full = Matrix(rows: n, columns: n)
        for (a, i) in active.enumerated() {
            for (b, j) in active.enumerated() { full.elements[i * n + j] = compact.elements[a * active.count + b] }
        }
        let vols = (0 ..< n).map { max(full[$0, $0], 0).squareRoot() }
        return CovarianceEstimate(matrix: full, volatilities: vols, shrinkage: shrinkage, clippedEigenvalues: clipped,
                                  warnings: warnings)
    }

    /// Column means of a W × m matrix.
    static func columnMeans(_ r: Matrix) -> [Double] {
        var means = [Double](repeating: 0, count: r.columns)
        for t in 0 ..< r.rows {
            for j in 0 ..< r.columns { means[j] += r.elements[t * r.columns + j] }
        }
        return means.map { $0 / Double(r.rows) }
    }

    static func demeaned(_ r: Matrix) -> Matrix {
        let means = columnMeans(r)
        var c = r
        for t in 0 ..< r.rows {
            for j in 0 ..< r.columns { c.elements[t * r.columns + j] -= means[j] }
        }
        return c
    }

    /// Demeaned, divided by W − 1.
    public static func sample(_ r: Matrix) -> Matrix {
        var s = Matrix(rows: r.columns, columns: r.columns)
        syrk(demeaned(r), .transposed, alpha: 1 / Double(r.rows - 1), into: &s)
        return s
    }

    /// RiskMetrics EWMA, zero mean: w_k = (1−λ)λ^k / (1−λ^W) with k = 0 for the most recent (last) row.
    public static func ewma(_ r: Matrix, lambda: Double) -> Matrix {
        let w = r.rows
        let norm = (1 - lambda) / (1 - pow(lambda, Double(w)))
        var scaled = r
        for t in 0 ..< w {
            let weight = norm * pow(lambda, Double(w - 1 - t))
            let s = weight.squareRoot()
            for j in 0 ..< r.columns { scaled.elements[t * r.columns + j] *= s }
        }
        var out = Matrix(rows: r.columns, columns: r.columns)
        syrk(scaled, .transposed, into: &out)
        return out
    }

    /// EWMA weights, oldest row first (sum to 1).
    public static func ewmaWeights(count w: Int, lambda: Double) -> [Double] {
        let norm = (1 - lambda) / (1 - pow(lambda, Double(w)))
        return (0 ..< w).map { norm * pow(lambda, Double(w - 1 - $0)) }
    }

    /// Ledoit & Wolf (2004) shrinkage of the demeaned 1/W covariance S towards μ·I, μ = tr(S)/p — the estimator of
    /// scikit-learn's `ledoit_wolf`: δ = ‖S − μI‖²_F / p, β = min(δ, (Σ_t ‖x_t x_tᵀ − S‖²_F / W²) / p),
    /// shrinkage = β/δ, Σ = (1 − shrinkage)·S + shrinkage·μ·I.
    public static func ledoitWolf(_ r: Matrix) -> (Matrix, Double) {
        let nSamples = Double(r.rows)
        let p = r.columns
        let x = demeaned(r)
        var unnormalised = Matrix(rows: p, columns: p)          // XᵀX
        syrk(x, .transposed, into: &unnormalised)
        var s = unnormalised
        for i in s.elements.indices { s.elements[i] /= nSamples }
        if p == 1 { return (s, 0) }
        var squares = x
        for i in squares.elements.indices { squares.elements[i] *= squares.elements[i] }
        var fourth = Matrix(rows: p, columns: p)                 // (X∘X)ᵀ(X∘X)
        syrk(squares, .transposed, into: &fourth)
        let betaSum = fourth.elements.reduce(0, +)
        var deltaSum = 0.0
        for v in unnormalised.elements { deltaSum += v * v }
        deltaSum /= nSamples * nSamples
        let mu = s.diagonal.reduce(0, +) / Double(p)
        let traceS = s.diagonal.reduce(0, +)
        var beta = 1 / (Double(p) * nSamples) * (betaSum / nSamples - deltaSum)
        let delta = (deltaSum - 2 * mu * traceS + Double(p) * mu * mu) / Double(p)
        beta = min(beta, delta)
        let shrinkage = beta == 0 ? 0 : beta / delta
        var out = s
        for i in out.elements.indices { out.elements[i] *= (1 - shrinkage) }
        for i in 0 ..< p { out.elements[i * p + i] += shrinkage * mu }
        return (out, shrinkage)
    }

    /// Pairwise-complete estimate for windows with missing returns (NaN): each entry uses the days where both
    /// returns exist (sample: pairwise means, ÷(n_ij − 1); EWMA: weights renormalised over those days;
    /// Ledoit–Wolf: pairwise 1/n_ij covariance and the same shrinkage formula with pairwise sums).
    static func pairwise(_ r: Matrix, config: RiskConfig) -> (Matrix, Double?) {
        let p = r.columns, w = r.rows
        var s = Matrix(rows: p, columns: p)
        let weights = ewmaWeights(count: w, lambda: config.ewmaLambda)
        var pi = Matrix(rows: p, columns: p)   // per-entry β terms for Ledoit–Wolf
        for i in 0 ..< p {
            for j in 0 ... i {
                var days: [Int] = []
                for t in 0 ..< w where !r[t, i].isNaN && !r[t, j].isNaN { days.append(t) }
                let count = Double(days.count)
                var value = 0.0
                switch config.covariance {
                case .ewma:
                    var num = 0.0, den = 0.0
                    for t in days {
                        num += weights[t] * r[t, i] * r[t, j]
                        den += weights[t]
                    }
                    value = den > 0 ? num / den : 0
                case .sample, .ledoitWolf:
                    guard days.count >= 2 else { break }
                    var mi = 0.0, mj = 0.0
                    for t in days {
                        mi += r[t, i]
                        mj += r[t, j]
                    }
                    mi /= count
                    mj /= count
                    var acc = 0.0
                    for t in days { acc += (r[t, i] - mi) * (r[t, j] - mj) }
                    value = acc / (config.covariance == .sample ? count - 1 : count)
                    if config.covariance == .ledoitWolf {
                        var b = 0.0
                        for t in days {
                            let d = (r[t, i] - mi) * (r[t, j] - mj) - value
                            b += d * d
                        }
                        pi[i, j] = b / (count * count)
                        pi[j, i] = pi[i, j]
                    }
                }
                s[i, j] = value
                s[j, i] = value
            }
        }
        guard config.covariance == .ledoitWolf, p > 1 else { return (s, nil) }
        let mu = s.diagonal.reduce(0, +) / Double(p)
        var delta = 0.0
        for i in 0 ..< p {
            for j in 0 ..< p {
                let d = s[i, j] - (i == j ? mu : 0)
                delta += d * d
            }
        }
        delta /= Double(p)
        let beta = min(pi.elements.reduce(0, +) / Double(p), delta)
        let shrinkage = beta == 0 ? 0 : beta / delta
        var out = s
        for i in out.elements.indices { out.elements[i] *= (1 - shrinkage) }
        for i in 0 ..< p { out.elements[i * p + i] += shrinkage * mu }
        return (out, shrinkage)
    }
}
