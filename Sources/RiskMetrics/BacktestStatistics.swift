import Foundation
import LinearAlgebra

/// The Basel traffic-light zone of a backtest (METHODOLOGY "VaR backtesting"): with P = P(X ≤ x), X ~ Binomial(B, 1 − α), `green` if
/// P < 0.95, `yellow` if P < 0.9999, else `red`.
public enum BacktestZone: String, Sendable, CaseIterable {
    case green, yellow, red
}

/// Counts of consecutive backtest days by exception state: n_ij = #{t : I_{t−1} = i, I_t = j} over the B − 1 pairs
/// of consecutive days (Christoffersen 1998).
public struct ExceptionTransitions: Sendable, Equatable {
    public var n00: Int
    public var n01: Int
    public var n10: Int
    public var n11: Int

    public init(n00: Int = 0, n01: Int = 0, n10: Int = 0, n11: Int = 0) {
        self.n00 = n00
        self.n01 = n01
        self.n10 = n10
        self.n11 = n11
    }

    /// The counts of a sequence of daily exception indicators (oldest first).
    public init(_ exceptions: [Bool]) {
        self.init()
        for t in exceptions.indices.dropFirst() { record(previous: exceptions[t - 1], current: exceptions[t]) }
    }

    @inline(__always) public mutating func record(previous: Bool, current: Bool) {
        switch (previous, current) {
        case (false, false): n00 += 1
        case (false, true): n01 += 1
        case (true, false): n10 += 1
        case (true, true): n11 += 1
        }
    }
}

/// A backtest's statistics for one portfolio and one VaR method (METHODOLOGY "VaR backtesting").
public struct BacktestOutcome: Sendable, Equatable {
    /// x, the number of days with L_t > VaR_t.
    public var exceptions: Int
    /// B.
    public var days: Int
    public var transitions: ExceptionTransitions
    /// Kupiec's proportion-of-failures likelihood ratio and its p-value (χ²₁ survival).
    public var lrPOF: Double
    public var pofPValue: Double
    /// Christoffersen's independence likelihood ratio, the conditional coverage LR_cc = LR_pof + LR_ind and its
    /// p-value (χ²₂ survival).
    public var lrInd: Double
    public var lrCC: Double
    public var ccPValue: Double
    public var zone: BacktestZone

    public init(exceptions: Int, days: Int, transitions: ExceptionTransitions, lrPOF: Double, pofPValue: Double,
                lrInd: Double, lrCC: Double, ccPValue: Double, zone: BacktestZone) {
        self.exceptions = exceptions
        self.days = days
        self.transitions = transitions
        self.lrPOF = lrPOF
        self.pofPValue = pofPValue
        self.lrInd = lrInd
        self.lrCC = lrCC
        self.ccPValue = ccPValue
        self.zone = zone
    }
}

/// The coverage tests of VaR backtesting (METHODOLOGY "VaR backtesting"): Kupiec's proportion of failures, Christoffersen's independence
/// and conditional coverage, and the Basel traffic light.
///
/// Every likelihood ratio is evaluated as a sum of n·ln(ratio) terms whose ratios are formed so that they lose no
/// accuracy when the ratio is close to 1 (log1p of an exactly computed difference), and every p-value is a survival
/// function evaluated directly (`Tails`), never 1 − F.
public enum BacktestStatistics {
    /// Kupiec's (1995) proportion-of-failures test of x exceptions in B days at exception probability p = 1 − α:
    /// LR_pof = −2·[(B−x)·ln(1−p) + x·ln p − (B−x)·ln(1−x̂) − x·ln x̂], x̂ = x/B, 0·ln 0 = 0; p-value = P(χ²₁ > LR_pof).
    ///
    /// Evaluated as 2·[(B−x)·ln((1−x̂)/(1−p)) + x·ln(x̂/p)] with ln(x̂/p) = log1p((x − B·p)/(B·p)) and
    /// ln((1−x̂)/(1−p)) = log1p((B·p − x)/(B·(1−p))), the differences x − B·p formed with one rounding (fused
    /// multiply-add): accurate to a few ulps even when x̂ ≈ p and the statistic is tiny. LR_pof ≥ 0 (clamped).
    ///
    /// - Precondition: 0 ≤ x ≤ B, B ≥ 1, 0 < p < 1.
    public static func kupiec(exceptions x: Int, days: Int, probability p: Double) -> (lr: Double, pValue: Double) {
        precondition(days >= 1 && x >= 0 && x <= days, "kupiec: need 0 <= x <= B, B >= 1")
        precondition(p > 0 && p < 1, "kupiec: p must be in (0, 1)")
        let b = Double(days), xd = Double(x)
        let expected = b * p                          // B·p
        var sum = 0.0
        if x > 0 {
            let excess = xd.addingProduct(-b, p)        // x − B·p, one rounding
            sum += xd * log1p(excess / expected)
        }
        if x < days {
            let shortfall = (-xd).addingProduct(b, p)   // B·p − x, one rounding
            sum += (b - xd) * log1p(shortfall / (b * (1 - p)))
        }
        let lr = max(0, 2 * sum)
        return (lr, Tails.chiSquared1Survival(lr))
    }

    /// Christoffersen's (1998) independence statistic:
    /// LR_ind = −2·[(n00+n10)·ln(1−π) + (n01+n11)·ln π − n00·ln(1−π₀) − n01·ln π₀ − n10·ln(1−π₁) − n11·ln π₁],
    /// π₀ = n01/(n00+n01), π₁ = n11/(n10+n11), π = (n01+n11)/N; 0·ln 0 = 0 and the terms of a π whose denominator
    /// is 0 are 0.
    ///
    /// Evaluated as 2·Σ n_ij·ln(ratio_ij) with, e.g., (1−π₀)/(1−π) = n00·N / ((n00+n01)·(n00+n10)): numerator and
    /// denominator are integers (exact in Double below 2⁵³, i.e. for any B < 9·10⁷), their difference is formed in
    /// integers, and ln(ratio) = log1p(difference/denominator). Clamped at 0 (the statistic is a sum of
    /// Kullback–Leibler divergences).
    public static func independence(_ t: ExceptionTransitions) -> Double {
        let total = t.n00 + t.n01 + t.n10 + t.n11
        let fromCalm = t.n00 + t.n01, fromException = t.n10 + t.n11
        let toCalm = t.n00 + t.n10, toException = t.n01 + t.n11
        /// count·ln(count·N / (rowTotal·columnTotal)); 0 when count = 0 (which covers 0·ln 0 and empty rows).
        func term(_ count: Int, _ row: Int, _ column: Int) -> Double {
            guard count > 0 else { return 0 }
            let numerator = count * total, denominator = row * column
            return Double(count) * log1p(Double(numerator - denominator) / Double(denominator))
        }
        let sum = term(t.n00, fromCalm, toCalm) + term(t.n01, fromCalm, toException)
            + term(t.n10, fromException, toCalm) + term(t.n11, fromException, toException)
        return max(0, 2 * sum)
    }

    /// Christoffersen's independence and conditional-coverage tests of a sequence of daily exceptions (oldest first)
    /// at exception probability p: LR_ind over the B − 1 consecutive pairs, LR_cc = LR_pof + LR_ind and its p-value
    /// P(χ²₂ > LR_cc) = exp(−LR_cc/2).
    public static func christoffersen(exceptions: [Bool], probability p: Double)
        -> (lrInd: Double, lrCC: Double, pValueCC: Double) {
        let x = exceptions.reduce(0) { $0 + ($1 ? 1 : 0) }
        let pof = kupiec(exceptions: x, days: exceptions.count, probability: p).lr
        let ind = independence(ExceptionTransitions(exceptions))
        let cc = pof + ind
        return (ind, cc, Tails.chiSquared2Survival(cc))
    }

    /// The zone of a cumulative probability P = P(X ≤ x): green below 0.95, yellow below 0.9999, else red.
    public static func zone(cumulativeProbability: Double) -> BacktestZone {
        if cumulativeProbability < 0.95 { return .green }
        if cumulativeProbability < 0.9999 { return .yellow }
        return .red
    }

    /// The Basel traffic-light zone of x exceptions in B days at exception probability p (B = 250, p = 0.01:
    /// green 0–4, yellow 5–9, red ≥ 10).
    public static func zone(exceptions x: Int, days: Int, probability p: Double) -> BacktestZone {
        zone(cumulativeProbability: Tails.binomialCDF(x, trials: days, probability: p))
    }

    /// Every statistic of one portfolio's backtest.
    public static func outcome(exceptions x: Int, days: Int, transitions: ExceptionTransitions,
                               probability p: Double) -> BacktestOutcome {
        let pof = kupiec(exceptions: x, days: days, probability: p)
        let ind = independence(transitions)
        let cc = pof.lr + ind
        return BacktestOutcome(exceptions: x, days: days, transitions: transitions, lrPOF: pof.lr,
                               pofPValue: pof.pValue, lrInd: ind, lrCC: cc, ccPValue: Tails.chiSquared2Survival(cc),
                               zone: zone(exceptions: x, days: days, probability: p))
    }
}

/// The statistics that depend only on x (Kupiec's LR and p-value, the zone), tabulated once for x = 0 … B so the
/// per-account work is a lookup plus Christoffersen's four logarithms.
struct BacktestTables: Sendable {
    let days: Int
    let probability: Double
    let lrPOF: [Double]
    let pofPValue: [Double]
    let zone: [BacktestZone]

    init(days: Int, probability p: Double) {
        self.days = days
        probability = p
        let cdf = Tails.binomialCDFs(trials: days, probability: p)
        var lr = [Double](repeating: 0, count: days + 1), pValue = lr
        for x in 0 ... days { (lr[x], pValue[x]) = BacktestStatistics.kupiec(exceptions: x, days: days, probability: p) }
        lrPOF = lr
        pofPValue = pValue
        zone = cdf.map { BacktestStatistics.zone(cumulativeProbability: $0) }
    }

    func outcome(exceptions x: Int, transitions: ExceptionTransitions) -> BacktestOutcome {
        let ind = BacktestStatistics.independence(transitions)
        let cc = lrPOF[x] + ind
        return BacktestOutcome(exceptions: x, days: days, transitions: transitions, lrPOF: lrPOF[x],
                               pofPValue: pofPValue[x], lrInd: ind, lrCC: cc, ccPValue: Tails.chiSquared2Survival(cc),
                               zone: zone[x])
    }
}
