import Foundation
import Testing
@testable import Rebalancing

/// The active-set finish of the QP solver (problems of more than `QPSolver.finishMinimumSize` assets), checked
/// against the KKT conditions written out in the test (`QPData.kktViolation`) and against the plain interior point
/// on the same problems (the finish turned off).
@Suite struct ActiveSetFinishTests {
    /// Solves with and without the finish; both must be solved.
    func bothWays(_ data: QPData) -> (finished: QPSolver, plain: QPSolver)? {
        let finished = QPSolver(), plain = QPSolver()
        plain.activeSetFinishEnabled = false
        let a = finished.solve(data.problem), b = plain.solve(data.problem)
        guard case .solved = a, case .solved = b else {
            Issue.record("expected solved both ways, got \(a) and \(b)")
            return nil
        }
        return (finished, plain)
    }

    /// Random problems of the institutional size (most assets end on a bound or on their kink), with a binding
    /// coverage row, without one, and with the floor a hair below the largest reachable coverage (a top-up
    /// account: the optimum is a vertex of the coverage LP moved by 1e-10, which the finish reaches by freeing
    /// the assets whose multipliers vanish).
    @Test(arguments: [(60, 0), (60, 1), (60, 2), (120, 0), (120, 2), (200, 1)])
    func finishIsAKKTPointAndMatchesThePlainInteriorPoint(n: Int, variant: Int) {
        var finishedCount = 0
        for seed in 1 ... 4 as ClosedRange<UInt64> {
            var data = randomProblem(n: n, seed: 31 &* seed &+ UInt64(n), singular: seed == 4, coverage: variant != 1)
            if variant == 2 {
                let best = CoverageLP.maximize(current: data.current, upper: data.upper, value: data.coverageValue,
                                               cost: data.coverageCost).coverage
                data.coverageFloor = best - 1e-10
            }
            guard let (finished, plain) = bothWays(data) else { continue }
            let y = finished.solution, context = "n=\(n) variant=\(variant) seed=\(seed)"
            let objective = data.objective(y), plainObjective = data.objective(plain.solution)
            #expect(abs(finished.objective - objective) <= 1e-12 * (1 + abs(objective)), "\(context)")
            guard finished.finishedByActiveSet else { continue }
            finishedCount += 1
            #expect(finished.iterations <= plain.iterations, "\(context)")
            // KKT at 1e-8 as for every solve; the coverage slack may be negative within the row tolerance (1e-11),
            // which the multiplier ζ (up to ~10⁴ at a top-up vertex) scales in ζ·slack.
            let kkt = data.kktViolation(y: y, eta: finished.eta, zeta: finished.zeta)
            #expect(kkt.stationarity <= 1e-8, "\(context) stationarity \(kkt.stationarity)")
            #expect(kkt.primal <= 1e-10, "\(context) primal \(kkt.primal)")
            #expect(kkt.complementarity <= 1e-8 + 1e-11 * finished.zeta, "\(context) complementarity \(kkt.complementarity)")
            // Never worse than the plain interior point; better by at most that one's own stopping accuracy (its
            // stationarity at these vertices is ~1e-6 when ζ is large).
            #expect(objective <= plainObjective + 1e-12 * (1 + abs(plainObjective)),
                    "\(context): finish \(objective) vs plain \(plainObjective)")
            #expect(plainObjective - objective <= 1e-7 * (1 + abs(plainObjective)), "\(context)")
            let gap = zip(y, plain.solution).map { abs($0 - $1) }.max() ?? 0
            #expect(gap <= 1e-5, "\(context): points differ by \(gap)")
        }
        // The path under test is taken (most random instances finish early).
        #expect(finishedCount >= 2, "n=\(n) variant=\(variant): finished \(finishedCount) of 4")
    }

    /// A finished point lies exactly on the bounds and kinks it was guessed at: y ∈ {0, c, u} for every asset but
    /// the free ones, which the KKT check above then covers.
    @Test func finishedPointSitsExactlyOnItsBounds() {
        let data = randomProblem(n: 80, seed: 4242)
        guard let (finished, _) = bothWays(data), finished.finishedByActiveSet else {
            Issue.record("the finish was not taken")
            return
        }
        let y = finished.solution
        var offBound = 0
        for i in 0 ..< data.n where !(y[i] == 0 || y[i] == data.current[i] || y[i] == data.upper[i]) { offBound += 1 }
        #expect(offBound <= QPSolver.finishMaxFree)
        #expect(offBound < data.n / 2, "\(offBound) of \(data.n) assets off their bounds")
    }

    /// The small dense solver: A·x = b to rounding on random systems with zero diagonal blocks (the finish's
    /// bordered systems need the row exchanges), and a singular system reported as such.
    @Test func gaussianSolveMeetsItsEquations() {
        var rng = TestRandom(seed: 77)
        for order in [4, 6, 9] {
            var a = (0 ..< order * order).map { _ in rng.nextNormal() }
            // A zero trailing 2 × 2 diagonal block, as in [[2P, −1, −a], [1ᵀ, 0, 0], [aᵀ, 0, 0]].
            for r in order - 2 ..< order { for c in order - 2 ..< order { a[r * order + c] = 0 } }
            let b = (0 ..< order).map { _ in rng.nextNormal() }
            var work = a, x = b
            let ok = work.withUnsafeMutableBufferPointer { w in
                x.withUnsafeMutableBufferPointer { QPSolver.gaussianSolve(w.baseAddress!, $0.baseAddress!, order: order) }
            }
            #expect(ok)
            for r in 0 ..< order {
                var total = 0.0
                for c in 0 ..< order { total += a[r * order + c] * x[c] }
                #expect(abs(total - b[r]) <= 1e-10 * (1 + abs(b[r])), "order \(order) row \(r)")
            }
        }
        var singular: [Double] = [1, 2, 3, 2, 4, 6, 0, 1, 1], rightSide: [Double] = [1, 2, 3]
        let ok = singular.withUnsafeMutableBufferPointer { w in
            rightSide.withUnsafeMutableBufferPointer { QPSolver.gaussianSolve(w.baseAddress!, $0.baseAddress!, order: 3) }
        }
        #expect(!ok)
    }
}
