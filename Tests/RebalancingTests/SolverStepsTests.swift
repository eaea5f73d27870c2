import Foundation
import Testing
@testable import Rebalancing

/// The named steps of the solver and the rebalancer on their own: the residuals and one Newton direction at the
/// starting point of a 2-asset QP (against hand-computed values and the unreduced Newton equations), the arena, the
/// problem's objective and coverage, and the snapping step (against a plain-loop reference).
@Suite struct SolverStepsTests {
    /// P = [[0.04, 0.01], [0.01, 0.09]], ℓ = (−0.02, 0.01), c = (0.5, 0.5), u = (1, 1), κ = (0.1, 0.2),
    /// g = (0.9, 0.8), k = (0.01, 0.02), r = 0.8. Both boxes are 0.5 wide on both sides, so the starting point is
    /// p = m = 0.25 (y = c), unit bound duals, η = 0, ζ = 1, σ = max(coverage row value, 0.1) = 0.1.
    static let twoAssets = QPData(quadratic: [0.04, 0.01, 0.01, 0.09], linear: [-0.02, 0.01], current: [0.5, 0.5],
                                  upper: [1, 1], costWeight: [0.1, 0.2], coverageValue: [0.9, 0.8],
                                  coverageCost: [0.01, 0.02], coverageFloor: 0.8)

    @Test func residualsAtTheStartingPointOfATwoAssetQP() {
        let solver = QPSolver()
        let problem = Self.twoAssets.problem
        #expect(solver.start(problem) == nil)
        #expect(solver.x.p[0] == 0.25 && solver.x.m[1] == 0.25 && solver.x.zpu[0] == 1 && solver.x.zeta == 1)
        let r = solver.computeResiduals()
        // By hand: y = c = (0.5, 0.5), Py = (0.025, 0.05), ∇ = 2Py + ℓ = (0.03, 0.11).
        // Objective yᵀPy + ℓᵀy + κᵀ(p + m) = 0.0125 + 0.025 − 0.01 + 0.005 + 0.05 + 0.1 = 0.1825.
        #expect(abs(r.objective - 0.1825) <= 1e-15)
        #expect(abs(r.gradientMax - 0.11) <= 1e-15)
        // r0 = r − gᵀc = 0.8 − 0.85 = −0.05; row value Σ(g − k)p − (g + k)m = 0.25·(−0.02 − 0.04) = −0.015;
        // σ = max(0.05 − 0.015, 0.1) = 0.1; swap residual Σ(p − m) = 0; coverage residual −σ − r0 − 0.015 = −0.065.
        #expect(abs(solver.r0 - -0.05) <= 1e-15)
        #expect(solver.x.sigma == 0.1)
        #expect(abs(r.primal - 0.065) <= 1e-15)
        // Stationarity (unit bound duals cancel): r_p = ∇ + κ − η − ζ(g − k), r_m = −∇ + κ + η + ζ(g + k).
        let rp = [0.03 + 0.1 - 0.89, 0.11 + 0.2 - 0.78], rm = [-0.03 + 0.1 + 0.91, -0.11 + 0.2 + 0.82]
        for i in 0 ..< 2 {
            #expect(abs(solver.residuals.rp[i] - rp[i]) <= 1e-15, "r_p[\(i)] \(solver.residuals.rp[i]) vs \(rp[i])")
            #expect(abs(solver.residuals.rm[i] - rm[i]) <= 1e-15, "r_m[\(i)] \(solver.residuals.rm[i]) vs \(rm[i])")
        }
        #expect(abs(r.dual - 0.98) <= 1e-15)
        // Complementarity: four pairs of 0.25·1 per asset, plus σζ = 0.1, over 2·4 + 1 pairs.
        #expect(abs(r.complementarity - 2.1) <= 1e-15)
        #expect(r.count == 9)
        #expect(!r.isConverged(scale: solver.scale) && !r.isAcceptable(scale: solver.scale))
        #expect(abs(r.merit(scale: solver.scale) - 2.1 / 1.1825) <= 1e-15)   // scale 1: the gap term is the largest
    }

    /// One Newton direction (τ > 0, no corrector) from the reduced, bordered solve satisfies the unreduced
    /// linearised KKT system of the split form.
    @Test(arguments: [0.0, 0.05])
    func newtonDirectionSolvesTheUnreducedSystem(tau: Double) {
        let data = Self.twoAssets
        let solver = QPSolver()
        let problem = data.problem
        #expect(solver.start(problem) == nil)
        _ = solver.computeResiduals()
        solver.formNewtonSystem()
        var shift = 0.0
        #expect(solver.factorise(regularisation: &shift))
        solver.solveBorderColumns()
        solver.direction(tau: tau, corrector: false)
        let x = solver.x, d = solver.dx, n = data.n
        let ds = (0 ..< n).map { d.p[$0] - d.m[$0] }
        let room = (0 ..< n).map { data.upper[$0] - data.current[$0] }
        var swap = 0.0, row = 0.0, rowValue = 0.0
        for i in 0 ..< n {
            var pds = 0.0
            for j in 0 ..< n { pds += data.quadratic[i * n + j] * ds[j] }
            let bp = data.coverageValue[i] - data.coverageCost[i], bm = data.coverageValue[i] + data.coverageCost[i]
            // Stationarity of p and m.
            let sp = 2 * pds - d.eta - bp * d.zeta - d.zpl[i] + d.zpu[i] + solver.residuals.rp[i]
            let sm = -2 * pds + d.eta + bm * d.zeta - d.zml[i] + d.zmu[i] + solver.residuals.rm[i]
            #expect(abs(sp) <= 1e-12 && abs(sm) <= 1e-12, "stationarity \(sp) \(sm)")
            // Complementarity of the four bounds.
            let cpl = x.zpl[i] * d.p[i] + x.p[i] * d.zpl[i] - (tau - x.p[i] * x.zpl[i])
            let cpu = -x.zpu[i] * d.p[i] + (room[i] - x.p[i]) * d.zpu[i] - (tau - (room[i] - x.p[i]) * x.zpu[i])
            let cml = x.zml[i] * d.m[i] + x.m[i] * d.zml[i] - (tau - x.m[i] * x.zml[i])
            let cmu = -x.zmu[i] * d.m[i] + (data.current[i] - x.m[i]) * d.zmu[i]
                - (tau - (data.current[i] - x.m[i]) * x.zmu[i])
            #expect(max(abs(cpl), abs(cpu), abs(cml), abs(cmu)) <= 1e-12, "complementarity \(cpl) \(cpu) \(cml) \(cmu)")
            swap += ds[i] + (x.p[i] - x.m[i])
            row += bp * d.p[i] - bm * d.m[i]
            rowValue += bp * x.p[i] - bm * x.m[i]
        }
        #expect(abs(swap) <= 1e-12)
        // Coverage row and its slack: Σ(b_pΔp − b_mΔm) − Δσ = −(row value − σ − r0); ζΔσ + σΔζ = τ − σζ.
        #expect(abs(row - d.sigma + (rowValue - x.sigma - solver.r0)) <= 1e-12)
        #expect(abs(x.zeta * d.sigma + x.sigma * d.zeta - (tau - x.sigma * x.zeta)) <= 1e-12)
    }

    @Test func arenaCarvesAlignedVectorsAndSizesItsLayoutExactly() {
        var vectors: [UnsafeMutablePointer<Double>] = []
        let arena = Arena.sized { a in
            vectors = [a.carve(3), a.carve(0), a.carve(9), a.carve(16)]
        }
        #expect(arena.count == 8 + 0 + 16 + 16)
        #expect(arena.used == arena.count)
        for v in vectors { #expect(Int(bitPattern: v) % 64 == 0) }
        #expect(vectors[2] - vectors[0] == 8)
        #expect(vectors[3] - vectors[2] == 16)
        // A zero-initialised allocation.
        #expect((0 ..< 16).allSatisfy { vectors[3][$0] == 0 })
    }

    @Test func problemObjectiveAndCoverageMatchTheirDefinitions() {
        let data = randomProblem(n: 7, seed: 42)
        let problem = data.problem
        var rng = TestRandom(seed: 7)
        for _ in 0 ..< 5 {
            let y = (0 ..< data.n).map { data.upper[$0] * rng.nextUnit() }
            y.withUnsafeBufferPointer { point in
                #expect(abs(problem.objective(at: point.baseAddress!) - data.objective(y)) <= 1e-14)
                #expect(abs(problem.coverage(at: point.baseAddress!) - data.coverage(y)) <= 1e-14)
            }
        }
        // Growing and shrinking keeps the storage; the size is what was set last.
        problem.resize(30)
        problem.resize(3)
        #expect(problem.n == 3)
    }

    @Test func nonFiniteDataIsANumericalFailure() {
        var data = Self.twoAssets
        data.linear[1] = .nan
        #expect(QPSolver().solve(data.problem) == .numericalFailure("non-finite problem data"))
        data = Self.twoAssets
        data.quadratic[1] = .infinity
        #expect(QPSolver().solve(data.problem) == .numericalFailure("non-finite quadratic term"))
        data = Self.twoAssets
        data.coverageFloor = .nan
        #expect(QPSolver().solve(data.problem) == .numericalFailure("coverage floor is NaN"))
    }

    // MARK: snapping

    /// The snapping rule written as separate passes: snap each value, sum, find the first largest free value.
    static func referenceSnap(_ x: [Double], cap: [Double], held: [Double], collateral C: Double) -> [Double] {
        let tolerance = 1e-10 * C
        var snapped = x
        for i in x.indices {
            if abs(x[i]) <= tolerance {
                snapped[i] = 0
            } else if abs(x[i] - cap[i]) <= tolerance {
                snapped[i] = cap[i]
            } else if abs(x[i] - held[i]) <= tolerance {
                snapped[i] = held[i]
            }
        }
        var total = 0.0
        for v in snapped { total += v }
        let free = snapped.indices.filter { snapped[$0] > 0 && snapped[$0] < cap[$0] && snapped[$0] != held[$0] }
        var largest: Int?
        for i in free where largest == nil || snapped[i] > snapped[largest!] { largest = i }
        if let largest { snapped[largest] += C - total }
        return snapped
    }

    @Test func snappingMatchesAPlainLoopReference() {
        var rng = TestRandom(seed: 2026)
        for trial in 0 ..< 400 {
            let n = 1 + trial % 9
            let C = [1.0, 1234.5, 3e7][trial % 3]
            let held = (0 ..< n).map { _ in rng.nextBool(0.4) ? 0 : rng.nextUnit() * C / Double(n) }
            let cap = held.map { max($0, rng.nextUnit() * C) }
            // Targets on, near (within and just beyond the tolerance) or away from 0, the cap and the holding.
            let x = (0 ..< n).map { i -> Double in
                let anchor = [0, cap[i], held[i], rng.nextUnit() * cap[i]][Int(rng.nextUnit() * 4) % 4]
                let jitter = [0, 0.5e-10, -0.9e-10, 1.5e-10, 1e-6][Int(rng.nextUnit() * 5) % 5] * C
                return max(0, anchor + jitter)
            }
            var snapped = x + [Double](repeating: -1, count: 3)   // spare capacity, as in the rebalancer
            AccountRebalancer.snapTargets(&snapped, cap: cap, held: held, count: n, collateral: C)
            let expected = Self.referenceSnap(x, cap: cap, held: held, collateral: C)
            #expect(Array(snapped[0 ..< n]) == expected, "trial \(trial)")
            #expect(snapped[n...].allSatisfy { $0 == -1 })
        }
    }

    @Test func snappingPutsTheRoundingOnTheLargestFreeTarget() {
        // 0.3 + 0.2 + 0.5 − 1e-11 with C = 1: the last value snaps onto its cap 0.5; the first free, largest value
        // (0.3, index 0) takes the remainder so that the total is C again.
        var x = [0.3, 0.2, 0.5 - 1e-11]
        AccountRebalancer.snapTargets(&x, cap: [1, 1, 0.5], held: [0, 0, 0], count: 3, collateral: 1)
        #expect(x[2] == 0.5 && x[1] == 0.2)
        #expect(x[0] == 0.3 + (1 - (0.3 + 0.2 + 0.5)))
        // Nothing free: nothing moves.
        var y = [0.5, 0.5]
        AccountRebalancer.snapTargets(&y, cap: [0.5, 0.5], held: [0.5, 0], count: 2, collateral: 1.5)
        #expect(y == [0.5, 0.5])
    }

    @Test func failureReasonsNameTheOutcome() {
        #expect(AccountRebalancer.failureReason(.solved(iterations: 3), collateral: 10) == nil)
        #expect(AccountRebalancer.failureReason(.infeasible(maxCoverage: 0.5), collateral: 10)
            == "coverage infeasible in the solver (max 5.0 USD)")
        #expect(AccountRebalancer.failureReason(.numericalFailure("why"), collateral: 10) == "QP numerical failure: why")
        #expect(AccountRebalancer.failureReason(.notConverged(iterations: 120, primalResidual: 1, dualResidual: 2,
                                                              complementarity: 3), collateral: 10)
            == "QP did not converge in 120 iterations (residuals 1.0, 2.0, 3.0)")
    }
}
