import Foundation
import LinearAlgebra
@testable import Rebalancing

/// Deterministic test randomness: LinearAlgebra's SplitMix64 and its sampling helpers.
typealias TestRandom = SplitMix64

/// Plain-array form of a solver problem, so tests can build, mutate and re-solve it.
struct QPData {
    var quadratic: [Double]
    var linear: [Double]
    var current: [Double]
    var upper: [Double]
    var costWeight: [Double]
    var coverageValue: [Double]
    var coverageCost: [Double]
    var coverageFloor: Double
    var n: Int { current.count }

    /// The solver's form of the problem.
    var problem: QPProblem {
        QPProblem(quadratic: quadratic, linear: linear, current: current, upper: upper, costWeight: costWeight,
                  coverageValue: coverageValue, coverageCost: coverageCost, coverageFloor: coverageFloor)
    }

    func objective(_ y: [Double]) -> Double {
        var total = 0.0
        for i in 0 ..< n {
            var row = 0.0
            for j in 0 ..< n { row += quadratic[i * n + j] * y[j] }
            total += y[i] * row + linear[i] * y[i] + costWeight[i] * abs(y[i] - current[i])
        }
        return total
    }

    func coverage(_ y: [Double]) -> Double {
        var total = 0.0
        for i in 0 ..< n { total += coverageValue[i] * y[i] - coverageCost[i] * abs(y[i] - current[i]) }
        return total
    }

    /// Largest violation of the KKT conditions at (y, η, ζ), in y-space with the subdifferential of |y − c|:
    /// −(2Py + ℓ − η·1 − ζ·g) ∈ (κ + ζk)∘∂|y − c| + N_[0,u](y), primal feasibility, ζ ≥ 0 and ζ·slack = 0.
    /// `boundTolerance` decides which bounds (and kinks) count as active.
    func kktViolation(y: [Double], eta: Double, zeta: Double, boundTolerance: Double = 1e-8) -> (stationarity: Double, primal: Double, complementarity: Double) {
        var stationarity = 0.0, primal = 0.0
        var sumY = 0.0, sumC = 0.0
        for i in 0 ..< n {
            var row = 0.0
            for j in 0 ..< n { row += quadratic[i * n + j] * y[j] }
            let g = 2 * row + linear[i] - eta - zeta * coverageValue[i]
            let kk = costWeight[i] + zeta * coverageCost[i]
            let d = y[i] - current[i]
            var lo: Double, hi: Double
            if abs(d) <= boundTolerance { lo = -kk; hi = kk } else if d > 0 { lo = kk; hi = kk } else { lo = -kk; hi = -kk }
            if y[i] <= boundTolerance { lo = -.infinity }
            if y[i] >= upper[i] - boundTolerance { hi = .infinity }
            let target = -g
            let violation = target < lo ? lo - target : (target > hi ? target - hi : 0)
            stationarity = max(stationarity, violation)
            primal = max(primal, -y[i], y[i] - upper[i])
            sumY += y[i]; sumC += current[i]
        }
        primal = max(primal, abs(sumY - sumC))
        var complementarity = 0.0
        if coverageFloor > -.infinity {
            let slack = coverage(y) - coverageFloor
            primal = max(primal, -slack)
            complementarity = max(-zeta, abs(zeta * slack))
        }
        return (stationarity, primal, complementarity)
    }
}

/// A random instance of the family: factor-model covariance (optionally singular: a duplicated asset and a
/// zero-variance stablecoin), holdings with zeros, caps, sell-only assets, costs, haircut-like coverage values.
func randomProblem(n: Int, seed: UInt64, singular: Bool = false, coverage: Bool = true) -> QPData {
    var rng = TestRandom(seed: seed)
    let factors = max(1, n / 3)
    var b = [Double](repeating: 0, count: n * factors)
    for i in 0 ..< n * factors { b[i] = rng.nextNormal() * 0.5 }
    var q = [Double](repeating: 0, count: n * n)
    for i in 0 ..< n {
        for j in 0 ..< n {
            var s = 0.0
            for f in 0 ..< factors { s += b[i * factors + f] * b[j * factors + f] }
            q[i * n + j] = s + (i == j && !singular ? 0.05 + 0.1 * rng.nextUnit() : 0)
        }
    }
    if singular && n >= 3 {
        // Asset 1 identical to asset 0; asset n − 1 a zero-variance stablecoin.
        for j in 0 ..< n { q[1 * n + j] = q[0 * n + j]; q[j * n + 1] = q[j * n + 0] }
        q[1 * n + 1] = q[0]
        for j in 0 ..< n { q[(n - 1) * n + j] = 0; q[j * n + (n - 1)] = 0 }
    }
    var c = (0 ..< n).map { _ in rng.nextBool(0.4) ? 0 : rng.nextUnit() }
    if c.allSatisfy({ $0 == 0 }) { c[0] = 1 }
    let total = c.reduce(0, +)
    c = c.map { $0 / total }
    let u = (0 ..< n).map { i in rng.nextBool(0.15) ? c[i] : max(rng.nextUniform(0.15 ... 1), c[i]) }
    var anchor = (0 ..< n).map { _ in rng.nextBool(0.5) ? 0 : rng.nextUnit() * 0.6 }
    anchor[0] += 0.1
    var l = [Double](repeating: 0, count: n)
    for i in 0 ..< n { for j in 0 ..< n { l[i] -= 2 * q[i * n + j] * anchor[j] } }
    let kappa = (0 ..< n).map { _ in rng.nextUniform(0 ... 0.3) }
    let g = (0 ..< n).map { _ in rng.nextUniform(0.4 ... 0.99) }
    let k = (0 ..< n).map { _ in rng.nextUniform(0 ... 0.004) }
    var data = QPData(quadratic: q, linear: l, current: c, upper: u, costWeight: kappa, coverageValue: g, coverageCost: k,
                      coverageFloor: -.infinity)
    if coverage {
        let now = data.coverage(c)
        let best = CoverageLP.maximize(current: c, upper: u, value: g, cost: k).coverage
        // Between today's coverage and the best reachable: usually binding.
        data.coverageFloor = now + rng.nextUniform(0.2 ... 0.9) * (best - now)
    }
    return data
}

/// The haircut of METHODOLOGY §3.3 written out for test references (not the engine's `HaircutCalculator`):
/// T = max(T₀, c/(participation·adv)), h = max(h_sched, 1 − e^(−z·σ·√T)); without the volatility model → h_sched.
/// z = Φ⁻¹(0.99) from mpmath unless given.
func referenceHaircut(scheduled: Double, sigma: Double, adv: Double?, usd: Double, volatilityModel: Bool,
                      liquidationDays: Double, participation: Double, z: Double = 2.3263478740408408) -> Double {
    guard volatilityModel else { return scheduled }
    var days = liquidationDays
    if let adv, usd / (participation * adv) > days { days = usd / (participation * adv) }
    return max(scheduled, 1 - exp(-z * sigma * days.squareRoot()))
}
