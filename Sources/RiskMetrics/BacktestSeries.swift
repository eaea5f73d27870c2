import Foundation
import LinearAlgebra
import RiskModel

// The per-portfolio core of the backtest (METHODOLOGY "VaR backtesting"): from one portfolio's projected returns y_d = Σ_i e_i·r_{d,i}
// and full-revaluation losses L_d = −Σ_i e_i·(exp(r_{d,i}) − 1) over the W + B return days, the B parametric and
// historical VaR forecasts in O(W + B), then the exceptions. Shared by every account and by the book.
//
// Why the projection is enough: each estimator's Σ⁽ᵇ⁾ is a weighted sum of outer products of the window's (demeaned)
// returns, so eᵀΣ⁽ᵇ⁾e is the same weighted sum of squares of the scalar series y (demeaned by y's own mean, which is
// eᵀr̄); Ledoit–Wolf's (1 − s)·S + s·μ·I adds s·μ·eᵀe, with per-day scalars s and μ that do not depend on the
// portfolio (`BacktestMarket`).

/// What every portfolio's backtest reads besides its own series (shared read-only by the workers).
struct BacktestContext: Sendable {
    let days: Int
    let window: Int
    let method: CovarianceMethod
    /// z = Φ⁻¹(α) (1-day horizon).
    let z: Double
    /// k = ⌈round(W·(1 − α), 9)⌉ (`OrderStatistics.tailCount`).
    let tail: Int
    /// EWMA: λ, the weight normalisation (1 − λ)/(1 − λ^W) of `CovarianceEstimator.ewma`, and λ^W.
    let lambda: Double
    let ewmaNorm: Double
    let lambdaPowerWindow: Double
    /// Ledoit–Wolf per-day scalars (empty otherwise).
    let shrinkage: [Double]
    let shrinkageTarget: [Double]
    let tables: BacktestTables

    init(market: BacktestMarket, confidence: Double) {
        days = market.days
        window = market.window
        method = market.covariance
        z = NormalDistribution.quantile(confidence)
        tail = OrderStatistics.tailCount(sampleCount: market.window, confidence: confidence)
        lambda = market.ewmaLambda
        ewmaNorm = (1 - lambda) / (1 - pow(lambda, Double(market.window)))
        lambdaPowerWindow = pow(lambda, Double(market.window))
        shrinkage = market.shrinkage
        shrinkageTarget = market.shrinkageTarget
        tables = BacktestTables(days: market.days, probability: 1 - confidence)
    }
}

/// One portfolio's exceptions under one method: `backtested` is false when the forecast is 0 on every day (no
/// market risk) or some forecast or loss is not finite; the figures are then empty.
struct MethodEvaluation {
    var backtested: Bool
    var exceptions: Int
    var transitions: ExceptionTransitions

    static let notBacktested = MethodEvaluation(backtested: false, exceptions: 0, transitions: ExceptionTransitions())
}

/// One worker's buffers for the forecasts of one portfolio at a time. A class so its buffers can be handed to the
/// kernels as pointers while the workspace is borrowed.
final class BacktestSeriesBuffers {
    /// VaR forecasts of the B backtest days.
    let parametric: UnsafeMutableBufferPointer<Double>
    let historical: UnsafeMutableBufferPointer<Double>
    /// The current window's largest losses, descending (`BacktestSeries.keptCount` of them, and one −∞ slot after).
    let topValues: UnsafeMutableBufferPointer<Double>

    init(days: Int, tail: Int) {
        parametric = .allocate(capacity: days)
        parametric.initialize(repeating: 0)
        historical = .allocate(capacity: days)
        historical.initialize(repeating: 0)
        topValues = .allocate(capacity: BacktestSeries.keptCount(tail: tail) + 1)
        topValues.initialize(repeating: -.infinity)
    }

    deinit {
        parametric.deallocate()
        historical.deallocate()
        topValues.deallocate()
    }
}

enum BacktestSeries {
    /// A running sum of squares is recomputed from scratch when it falls below this fraction of the largest value it
    /// had since its last fresh computation: the rounding errors of the sliding updates are a few ulps of that
    /// largest value, so the current value keeps a relative accuracy of about 2¹⁰ ulps ≈ 2e-13 or better.
    static let refreshFraction = 0x1p-10

    /// Parametric VaR forecasts VaR_b = z·√(eᵀΣ⁽ᵇ⁾e) for b = 0 … B − 1, Σ⁽ᵇ⁾ the configured estimator over returns
    /// b … b + W − 1, from the portfolio's projected returns y (W + B values) and eᵀe over the universe's assets.
    ///
    /// * sample: eᵀΣe = Σ_{d∈window}(y_d − ȳ)²/(W − 1) (Σ = (R − r̄)ᵀ(R − r̄)/(W − 1), and e·(r_d − r̄) = y_d − ȳ);
    /// * ewma: eᵀΣe = Σ_k w_k·y²_{b+W−1−k}, w_k = (1−λ)λ^k/(1−λ^W), zero mean — the estimator's weights;
    /// * ledoit_wolf: Σ = (1 − s)·S + s·μ·I with S = XᵀX/W, so eᵀΣe = (1 − s_b)·Σ(y_d − ȳ)²/W + s_b·μ_b·eᵀe.
    ///
    /// The window sums slide in O(1) per day: mean and M2 = Σ(y − ȳ)² by the sliding Welford update
    /// (M2 += (y_in − y_out)·(y_in − ȳ_new + y_out − ȳ_old)), the EWMA sum U = Σ λ^{W−1−k'}·y² by
    /// U ← λ·U + (y_in² − λ^W·y_out²); either is recomputed from the window when it drops below `refreshFraction` of
    /// its running maximum (a volatile stretch leaving the window), so it stays accurate to ~1e-13 relative.
    static func parametric(y: UnsafeBufferPointer<Double>, exposureSquares ee: Double, context c: BacktestContext,
                           into out: UnsafeMutableBufferPointer<Double>) {
        let w = c.window, days = c.days
        precondition(y.count >= w + days && out.count >= days, "parametric forecasts: buffer sizes")
        let count = Double(w), reciprocal = 1 / count
        switch c.method {
        case .sample, .ledoitWolf:
            var (mean, m2) = centredSum(y, from: 0, count: w)
            var largest = m2
            for b in 0 ..< days {
                if b > 0 {
                    let incoming = y[b + w - 1], outgoing = y[b - 1]
                    let step = incoming - outgoing
                    let newMean = mean + step * reciprocal
                    m2 += step * ((incoming - newMean) + (outgoing - mean))
                    mean = newMean
                    if m2 > largest {
                        largest = m2
                    } else if !(m2 >= largest * refreshFraction) {
                        (mean, m2) = centredSum(y, from: b, count: w)
                        largest = m2
                    }
                }
                let variance: Double
                if c.method == .sample {
                    variance = m2 / (count - 1)
                } else {
                    let s = c.shrinkage[b]
                    variance = (1 - s) * (m2 / count) + s * c.shrinkageTarget[b] * ee
                }
                out[b] = c.z * max(variance, 0).squareRoot()
            }
        case .ewma:
            DecayedSquares.rollingForecasts(y, window: w, lambda: c.lambda, lambdaPowerWindow: c.lambdaPowerWindow,
                                            scale: c.ewmaNorm, multiplier: c.z, refreshFraction: refreshFraction,
                                            into: UnsafeMutableBufferPointer(rebasing: out[0 ..< days]))
        }
    }

    /// Mean and Σ(y − ȳ)² of y[from ..< from + count], two passes, four partial sums each (independent add chains).
    @inline(__always)
    static func centredSum(_ y: UnsafeBufferPointer<Double>, from: Int, count: Int) -> (mean: Double, m2: Double) {
        let end = from + count, blocked = from + count / 4 * 4
        var lanes = SIMD4<Double>()
        var d = from
        while d < blocked {
            lanes += SIMD4(y[d], y[d + 1], y[d + 2], y[d + 3])
            d += 4
        }
        var sum = lanes.sum()
        for e in blocked ..< end { sum += y[e] }
        let mean = sum / Double(count)
        let centre = SIMD4<Double>(repeating: mean)
        lanes = SIMD4<Double>()
        d = from
        while d < blocked {
            let v = SIMD4(y[d], y[d + 1], y[d + 2], y[d + 3]) - centre
            lanes += v * v
            d += 4
        }
        var m2 = lanes.sum()
        for e in blocked ..< end {
            let v = y[e] - mean
            m2 += v * v
        }
        return (mean, m2)
    }

    /// How many of a window's largest values the rolling quantile keeps: k plus a slack of max(k, 8), so that a
    /// cluster of large losses leaving the window (a crash a year ago) costs one rescan rather than one per day.
    static func keptCount(tail k: Int) -> Int { k + max(k, 8) }

    /// out[b] = the k-th largest of values[b ..< b + W] for b = 0 … B − 1 (B = out.count), incrementally.
    ///
    /// A sorted (descending) list S of the current window's largest values is kept: as a multiset, S is always the |S|
    /// largest values of the window (no value outside S exceeds min S), with k ≤ |S| ≤ m (`keptCount`), so S[k − 1]
    /// is the k-th largest. When the window slides:
    /// * the value v that leaves is removed from S (one copy) when v ≥ min S: if v > min S it is in S, and if v = min S
    ///   then, whether the day that leaves was in S or a tie outside it, the |S| − 1 largest values of the new window
    ///   are S less one copy of v — so values suffice, no day indices;
    /// * the value that enters is inserted when it exceeds min S (dropping the smallest when S is full);
    /// * only when S falls below k values is the window rescanned (O(W)).
    /// Inserting and removing are branch-free passes over the m + 1 slots (min/max and selects; the slots past S hold
    /// −∞), because which slot a loss lands in is unpredictable. A value of S leaves with probability about |S|/W per
    /// day and it takes m − k + 1 of them to force a rescan, so a backtest costs O(W + B·m) instead of B selections of
    /// O(W) each — also when large losses come in clusters. Values must be finite (the results are unspecified, but
    /// the loops stay bounded, otherwise).
    static func rollingKthLargest(_ values: UnsafeBufferPointer<Double>, window w: Int, count k: Int,
                                  into out: UnsafeMutableBufferPointer<Double>, buffers: BacktestSeriesBuffers) {
        let days = out.count
        let m = min(buffers.topValues.count - 1, w)
        precondition(k >= 1 && k <= w && k <= m && values.count >= w + days - 1, "rollingKthLargest: sizes")
        let top = buffers.topValues
        var size = 0
        /// Inserts v where it ranks (S grows up to m, then its smallest is dropped): slot q becomes
        /// max(min(S[q − 1], v), S[q]), from the last slot down so every slot reads the old values.
        @inline(__always) func insert(_ v: Double) {
            var q = size < m ? size : m - 1
            while q > 0 {
                top[q] = max(min(top[q - 1], v), top[q])
                q -= 1
            }
            top[0] = max(top[0], v)
            if size < m { size += 1 }
        }
        /// Removes one copy of v (present in S): slot q becomes S[q] if S[q] > v, else S[q + 1].
        @inline(__always) func remove(_ v: Double) {
            for q in 0 ..< size { top[q] = top[q] > v ? top[q] : top[q + 1] }
            size -= 1
        }
        @inline(__always) func rescan(_ start: Int) {
            for q in 0 ... m { top[q] = -.infinity }
            size = 0
            for d in start ..< start + w where values[d] > top[m - 1] { insert(values[d]) }
        }
        rescan(0)
        out[0] = top[k - 1]
        guard days > 1 else { return }
        for b in 1 ..< days {
            let leaving = values[b - 1]
            if leaving >= top[size - 1] { remove(leaving) }
            let entering = values[b + w - 1]
            if size < k {
                rescan(b)
            } else if entering > top[size - 1] {
                insert(entering)
            }
            out[b] = top[k - 1]
        }
    }

    /// Both methods' forecasts of one portfolio into `buffers`.
    static func forecasts(y: UnsafeBufferPointer<Double>, losses: UnsafeBufferPointer<Double>, exposureSquares ee: Double,
                          context c: BacktestContext, buffers: BacktestSeriesBuffers) {
        parametric(y: y, exposureSquares: ee, context: c, into: buffers.parametric)
        rollingKthLargest(losses, window: c.window, count: c.tail, into: buffers.historical, buffers: buffers)
    }

    /// Exceptions I_b = 1 when L_{W+b} > VaR_b (strictly), their count and consecutive-day transitions; each day's
    /// exception is added to `counts[b]` (when given). Not backtested when every forecast is 0 or a forecast or a
    /// realized loss is not finite.
    ///
    /// Branch-free (exceptions are rare and unpredictable): x and n11 = Σ I_{b−1}·I_b are summed as 0/1 integers, and
    /// the other transition counts follow from them: n01 = x − I_0 − n11, n10 = x − I_{B−1} − n11,
    /// n00 = B − 1 − n01 − n10 − n11.
    static func evaluate(losses: UnsafeBufferPointer<Double>, forecasts: UnsafeMutableBufferPointer<Double>, window w: Int,
                         counts: UnsafeMutableBufferPointer<Int32>?) -> MethodEvaluation {
        let days = forecasts.count
        precondition(days >= 1 && losses.count >= w + days && (counts?.count ?? days) >= days, "evaluate: sizes")
        var probe = 0.0        // NaN once any forecast or loss is not finite (∞·0 = NaN)
        var largest = 0.0
        for b in 0 ..< days {
            let f = forecasts[b]
            probe += f * 0 + losses[w + b] * 0
            largest = Swift.max(largest, Swift.abs(f))
        }
        guard probe == 0 && largest > 0 else { return .notBacktested }
        @inline(__always) func bit(_ b: Int) -> Int {
            Int(truncatingIfNeeded: unsafeBitCast(losses[w + b] > forecasts[b], to: UInt8.self))
        }
        var x = 0, n11 = 0
        var previous = 0
        for b in 0 ..< days {
            let current = bit(b)
            x += current
            n11 += previous & current
            if let counts { counts[b] &+= Int32(truncatingIfNeeded: current) }
            previous = current
        }
        let n01 = x - bit(0) - n11, n10 = x - bit(days - 1) - n11
        let transitions = ExceptionTransitions(n00: days - 1 - n01 - n10 - n11, n01: n01, n10: n10, n11: n11)
        return MethodEvaluation(backtested: true, exceptions: x, transitions: transitions)
    }
}
