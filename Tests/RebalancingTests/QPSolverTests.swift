import Foundation
import Testing
@testable import Rebalancing

/// The QP solver on its own (SPEC §3.6 in units of C). Tolerances: the solver stops at swap/coverage residuals
/// ≤ 1e-11 and complementarity ≤ 1e-11, so KKT conditions are asserted at 1e-8 (the SPEC's constraint
/// accuracy in units of C) with bounds counted active within 1e-9.
@Suite struct QPSolverTests {
    func solved(_ data: QPData, _ solver: QPSolver = QPSolver()) -> QPSolver {
        let outcome = solver.solve(data.problem)
        guard case .solved = outcome else {
            Issue.record("expected solved, got \(outcome)")
            return solver
        }
        return solver
    }

    @Test(arguments: [(5, false), (8, true), (12, false), (20, true), (40, false), (60, true)])
    func kktOnRandomProblems(n: Int, singular: Bool) {
        let solver = QPSolver()
        for seed in 1 ... 6 as ClosedRange<UInt64> {
            for coverage in [true, false] {
                let data = randomProblem(n: n, seed: seed &* 7919 &+ UInt64(n), singular: singular, coverage: coverage)
                _ = solved(data, solver)
                let kkt = data.kktViolation(y: solver.solution, eta: solver.eta, zeta: solver.zeta)
                #expect(kkt.stationarity <= 1e-8, "n=\(n) seed=\(seed) cov=\(coverage) stationarity \(kkt.stationarity)")
                #expect(kkt.primal <= 1e-10, "n=\(n) seed=\(seed) primal \(kkt.primal)")
                #expect(kkt.complementarity <= 1e-8, "n=\(n) seed=\(seed) complementarity \(kkt.complementarity)")
                #expect(abs(solver.objective - data.objective(solver.solution)) <= 1e-12 * (1 + abs(solver.objective)))
                #expect(solver.iterations < 60)
            }
        }
    }

    /// A problem taken from a generated million-account book (an account's second working-set round): the
    /// coverage row ends weakly active (slack and multiplier both tend to 0), and plain Mehrotra steps cycled
    /// between two points with the gap stuck near 1e-5 until the iteration limit. The stagnation guard must get it
    /// to a KKT point like any other problem.
    @Test func weaklyActiveCoverageRowDoesNotStall() {
        let data = QPData(
            quadratic: [0.4807833063871774, 0.39593754039715356, 0.00042603163675718057, 0.0004601044811587772,
                        0.39593754039715356, 1.616227270028609, 0.0008075447098528338, 0.00028453358009248214,
                        0.00042603163675718057, 0.0008075447098528338, 3.3400752086985157e-05, 1.6648772630153433e-06,
                        0.0004601044811587772, 0.00028453358009248214, 1.6648772630153433e-06, 2.8948947155520235e-05],
            linear: [-0.0005708754368782469, -0.0010820967253629284, -4.475646241874616e-05, -2.2309083478095123e-06],
            current: [0.3121606568782288, 0.6878393431217712, 0.0, 0.0], upper: [1.0, 0.6878393431217712, 1.0, 1.0],
            costWeight: [0.07358336931313096, 1.2141255936666608, 0.03679168465656548, 0.03679168465656548],
            coverageValue: [0.88, 0.63, 0.98, 0.97], coverageCost: [0.0002, 0.0033, 0.0001, 0.0001],
            coverageFloor: 0.837489794806631)
        let solver = QPSolver()
        let outcome = solver.solve(data.problem, maxIterations: 120)
        guard case .solved = outcome else {
            Issue.record("expected solved, got \(outcome)")
            return
        }
        #expect(solver.iterations < 60)
        let kkt = data.kktViolation(y: solver.solution, eta: solver.eta, zeta: solver.zeta)
        #expect(kkt.stationarity <= 1e-8 && kkt.primal <= 1e-10 && kkt.complementarity <= 1e-8, "\(kkt)")
    }

    @Test func closedFormMinimumVarianceSplit() {
        // Two assets, no costs, no coverage, caps far away: y₁ = (P₂₂ − P₁₂)/(P₁₁ + P₂₂ − 2P₁₂).
        let p11 = 0.04, p22 = 0.01, p12 = 0.006
        let data = QPData(quadratic: [p11, p12, p12, p22], linear: [0, 0], current: [0.5, 0.5], upper: [1, 1],
                          costWeight: [0, 0], coverageValue: [1, 1], coverageCost: [0, 0], coverageFloor: -.infinity)
        let solver = solved(data)
        let expected = (p22 - p12) / (p11 + p22 - 2 * p12)
        #expect(abs(solver.solution[0] - expected) <= 1e-10)
        #expect(abs(solver.solution[1] - (1 - expected)) <= 1e-10)
    }

    @Test func bruteForceOnTinyProblems() {
        // Three assets on a grid of step 1/600 over the simplex slice Σy = 1: the solver is never worse than
        // the best grid point, and the grid is within its resolution (Lipschitz constant × step) of the solver.
        let solver = QPSolver()
        let steps = 600
        for seed in 1 ... 8 as ClosedRange<UInt64> {
            let data = randomProblem(n: 3, seed: 1000 + seed, singular: seed % 2 == 0)
            _ = solved(data, solver)
            let best = solver.objective
            var gridBest = Double.infinity
            for a in 0 ... steps {
                for b in 0 ... (steps - a) {
                    let y = [Double(a) / Double(steps), Double(b) / Double(steps), Double(steps - a - b) / Double(steps)]
                    if (0 ..< 3).contains(where: { y[$0] > data.upper[$0] + 1e-15 }) { continue }
                    if data.coverage(y) < data.coverageFloor { continue }
                    gridBest = min(gridBest, data.objective(y))
                }
            }
            #expect(best <= gridBest + 1e-10, "seed \(seed): solver \(best) worse than grid \(gridBest)")
            if gridBest.isFinite { #expect(gridBest - best <= 0.02, "seed \(seed): grid \(gridBest) vs \(best)") }
        }
    }

    @Test func capBinds() {
        // Min variance wants mostly the low-variance asset 1; a cap of 0.3 on it binds.
        var data = QPData(quadratic: [0.04, 0, 0, 0.0025], linear: [0, 0], current: [1, 0], upper: [1, 0.3],
                          costWeight: [0, 0], coverageValue: [1, 1], coverageCost: [0, 0], coverageFloor: -.infinity)
        var solver = solved(data)
        #expect(abs(solver.solution[1] - 0.3) <= 1e-10)
        data.upper[1] = 1
        solver = solved(data)
        #expect(abs(solver.solution[1] - 0.04 / 0.0425) <= 1e-9)
    }

    @Test func sellOnlyAssetIsNeverBought() {
        // Asset 1 has the lowest variance but is sell-only (u = c): it may only shrink.
        let data = QPData(quadratic: [0.04, 0, 0, 0, 0.0001, 0, 0, 0, 0.01], linear: [0, 0, 0], current: [0.5, 0.2, 0.3],
                          upper: [1, 0.2, 1], costWeight: [0, 0, 0], coverageValue: [1, 1, 1], coverageCost: [0, 0, 0],
                          coverageFloor: -.infinity)
        let solver = solved(data)
        #expect(solver.solution[1] <= 0.2 + 1e-12)
        #expect(abs(solver.solution[1] - 0.2) <= 1e-9)   // kept at its cap: it is the best asset
        #expect(abs(solver.solution.reduce(0, +) - 1) <= 1e-12)
    }

    @Test func coverageBinds() {
        // Min variance prefers asset 0 (low variance, low coverage value); the floor forces asset 1 in.
        var data = QPData(quadratic: [0.001, 0, 0, 0.04], linear: [0, 0], current: [0.5, 0.5], upper: [1, 1],
                          costWeight: [0, 0], coverageValue: [0.5, 0.9], coverageCost: [0, 0], coverageFloor: -.infinity)
        var solver = solved(data)
        let free0 = solver.solution[0]
        #expect(free0 > 0.9)
        data.coverageFloor = 0.7   // 0.5 y₀ + 0.9 (1 − y₀) ≥ 0.7 ⇔ y₀ ≤ 0.5
        solver = solved(data)
        #expect(abs(solver.solution[0] - 0.5) <= 1e-9)
        #expect(solver.zeta > 0)
        data.coverageFloor = 0.95
        guard case .infeasible(let best) = solver.solve(data.problem) else { Issue.record("expected infeasible"); return }
        #expect(abs(best - 0.9) <= 1e-12)
    }

    @Test func costsChangeTheOptimum() {
        // Without costs the optimum moves to the min-variance split; a cost above the marginal gain keeps c.
        var data = QPData(quadratic: [0.04, 0, 0, 0.03], linear: [0, 0], current: [0.5, 0.5], upper: [1, 1],
                          costWeight: [0, 0], coverageValue: [1, 1], coverageCost: [0, 0], coverageFloor: -.infinity)
        var solver = solved(data)
        #expect(abs(solver.solution[0] - 0.03 / 0.07) <= 1e-9)
        // Gradient difference at c: 2(0.04 − 0.03)·0.5 = 0.01; a round trip costing 0.02 > 0.01 blocks the trade.
        data.costWeight = [0.01, 0.01]
        solver = solved(data)
        #expect(abs(solver.solution[0] - 0.5) <= 1e-9)
        // A smaller cost moves part of the way: 2·0.04 y₀ − κ = 2·0.03 (1 − y₀) + κ (sell 0, buy 1) ⇒ y₀ = (0.06 + 2κ)/0.14.
        data.costWeight = [0.002, 0.002]
        solver = solved(data)
        #expect(abs(solver.solution[0] - (0.06 + 0.004) / 0.14) <= 1e-9)
    }

    @Test func singularCovarianceIdenticalAssetsAndStablecoin() {
        // Two identical risky assets and a zero-variance stablecoin: min variance moves everything to the coin.
        let s = 0.04
        let data = QPData(quadratic: [s, s, 0, s, s, 0, 0, 0, 0], linear: [0, 0, 0], current: [0.4, 0.4, 0.2],
                          upper: [1, 1, 1], costWeight: [0, 0, 0], coverageValue: [0.8, 0.8, 0.99], coverageCost: [0, 0, 0],
                          coverageFloor: -.infinity)
        let solver = solved(data)
        // Degenerate optimum (zero gradient at an active bound): y converges like √gap, the objective like the gap.
        #expect(abs(solver.solution[2] - 1) <= 1e-5)
        #expect(solver.objective <= 1e-11)
        // With the coin capped at 0.5, the two identical assets share the rest (any split is optimal).
        var capped = data
        capped.upper[2] = 0.5
        let solver2 = solved(capped)
        #expect(abs(solver2.solution[2] - 0.5) <= 1e-9)
        #expect(abs(solver2.solution[0] + solver2.solution[1] - 0.5) <= 1e-9)
        #expect(abs(solver2.objective - s * 0.25) <= 1e-10)
    }

    @Test func coverageGreedyMatchesBruteForce() {
        // Against (a) an exhaustive search over vertices of the split LP on tiny problems and (b) the QP solver
        // with P = 0, ℓ = −g, κ = k (maximising the coverage as a QP).
        var rng = TestRandom(seed: 99)
        let solver = QPSolver()
        for trial in 0 ..< 60 {
            let n = 2 + trial % 4
            var c = (0 ..< n).map { _ in rng.nextBool(0.3) ? 0 : rng.nextUnit() }
            if c.allSatisfy({ $0 == 0 }) { c[0] = 0.5 }
            let u = (0 ..< n).map { i in rng.nextBool(0.25) ? c[i] : max(c[i], rng.nextUniform(0 ... 1.5)) }
            let g = (0 ..< n).map { _ in rng.nextUniform(0.3 ... 1) }
            let k = (0 ..< n).map { _ in rng.nextBool(0.3) ? 0 : rng.nextUniform(0 ... 0.05) }
            let (best, y) = CoverageLP.maximize(current: c, upper: u, value: g, cost: k)
            // The maximiser is feasible and attains the value.
            #expect(abs(y.reduce(0, +) - c.reduce(0, +)) <= 1e-12)
            #expect(zip(y, u).allSatisfy { $0 >= 0 && $0 <= $1 + 1e-15 })
            // (a) brute force: an optimal transfer moves from one seller to one buyer at a time; enumerate every
            // sequence-free pair structure on a fine grid of two-asset transfers (n ≤ 5, exhaustive over pairs,
            // then over pairs of pairs), taking the best.
            func value(_ x: [Double]) -> Double {
                var total = 0.0
                for i in 0 ..< n { total += g[i] * x[i] - k[i] * abs(x[i] - c[i]) }
                return total
            }
            var brute = value(c)
            for b in 0 ..< n where u[b] > c[b] {
                for s in 0 ..< n where s != b && c[s] > 0 {
                    var x = c
                    let amount = min(u[b] - c[b], c[s])
                    x[b] += amount; x[s] -= amount
                    brute = max(brute, value(x))
                    for b2 in 0 ..< n where b2 != b && u[b2] > x[b2] {
                        for s2 in 0 ..< n where s2 != s && s2 != b2 && x[s2] > 0 {
                            var z = x
                            let more = min(u[b2] - x[b2], x[s2])
                            z[b2] += more; z[s2] -= more
                            brute = max(brute, value(z))
                        }
                    }
                }
            }
            #expect(best >= brute - 1e-12, "trial \(trial): greedy \(best) below brute \(brute)")
            // (b) the QP solver on the same LP.
            let lp = QPData(quadratic: [Double](repeating: 0, count: n * n), linear: g.map { -$0 }, current: c, upper: u,
                            costWeight: k, coverageValue: g, coverageCost: k, coverageFloor: -.infinity)
            let outcome = solver.solve(lp.problem)
            #expect(outcome == .solved(iterations: solver.iterations))
            #expect(abs(-solver.objective - best) <= 1e-9, "trial \(trial): QP \(-solver.objective) vs greedy \(best)")
        }
    }

    @Test func workspaceReuseAcrossSizesGivesSameAnswer() {
        let big = randomProblem(n: 30, seed: 5)
        let small = randomProblem(n: 6, seed: 6)
        let fresh = solved(small)
        let expected = fresh.solution
        let reused = QPSolver()
        _ = solved(big, reused)
        _ = solved(small, reused)
        #expect(reused.solution == expected)
    }
}
