import LinearAlgebra
/// The convex QP of METHODOLOGY "Rebalancing" in units of the account's collateral (y = x/C), over n assets:
///
///     minimize    yᵀP y + ℓᵀy + Σ κ_i·|y_i − c_i|
///     subject to  Σ y_i = Σ c_i                                   (a swap)
///                 0 ≤ y_i ≤ u_i            (u_i ≥ c_i ≥ 0; u_i = c_i: sell only)
///                 Σ g_i·y_i − Σ k_i·|y_i − c_i| ≥ r              (coverage after costs; optional)
///
/// P symmetric positive semidefinite (singular allowed: stablecoins, identical assets), κ, k ≥ 0.
///
/// ## Method: primal–dual interior point (Mehrotra predictor–corrector) on the split form
///
/// y = c + p − m with buys 0 ≤ p ≤ u − c and sells 0 ≤ m ≤ c makes every term smooth: |y − c| becomes p + m
/// (exact at the optimum since κ, k ≥ 0), the swap is 1ᵀ(p − m) = 0 and the coverage is the linear row
/// (g − k)ᵀp − (g + k)ᵀm − σ = r − gᵀc with a slack σ ≥ 0. Iterates stay strictly inside the boxes, so only the
/// two general rows carry infeasibility. Eliminating the bound duals leaves diagonal barrier weights D_p, D_m;
/// with E = D_p⁻¹ + D_m⁻¹ and s = p − m, the 2n-variable Newton system reduces exactly to one n × n system
///
///     (2P + E⁻¹)·Δs = u + Δη·1 + Δζ·β,    β = E⁻¹(D_p⁻¹(g − k) + D_m⁻¹(g + k)),
///
/// bordered by the two general rows, which a 2 × 2 Schur complement (three solves with one factor) removes.
/// 2P + E⁻¹ is positive definite even when P is singular (E⁻¹ > 0 strictly inside the boxes), so one LAPACK
/// Cholesky (`dpotrf`) per iteration serves both the predictor and the corrector; a tiny diagonal shift
/// (1e-13 of the scale, raised ×10⁴ on a failed factorisation) guards the limit where a free asset's barrier
/// weight vanishes and P is singular on the free set. Work per iteration: n³/3 for the factor + O(n²).
///
/// Why an interior point rather than an active set: in this family many bounds are active at the optimum
/// (zero holdings of most eligible assets, sell-outs, caps, and the kink |y − c| = 0 of every asset that is
/// not traded — each a degenerate vertex of the split form), so an active-set method needs O(#changes)
/// pivots with a factor update each, and its count grows with the universe, while Mehrotra's method takes a
/// nearly size-independent number of iterations (means measured: 10 on the tier-L retail book, 14 on the institutional
/// tier I), each one dense Cholesky at BLAS-3 speed, and is insensitive to
/// degeneracy and ties. Warm starts, the active set's strength, are covered instead by the working-set
/// strategy of the problem builder, which keeps retail problems at a handful of assets.
///
/// Feasibility is decided before iterating: the largest reachable coverage is an exact greedy LP
/// (`CoverageLP`); below r the outcome is `.infeasible(maxCoverage:)`. Convergence: swap and coverage
/// residuals ≤ 1e-11 (units of C), stationarity ≤ 1e-10·(scale of the gradient), total complementarity
/// ≤ 1e-12·(1 + |objective|) — the duality gap of the split form, so the objective is within ~1e-12 of the
/// optimum in units of C (the contract asks for 1e-6 relative; the tight gap keeps the point itself within ~1e-10 of
/// the bounds and kinks it sits on, so snapping and the no-trade test see them). Late iterations can run out of double precision (barrier weights spanning 25+ orders
/// of magnitude); each direction gets one step of iterative refinement, and the best iterate that met an
/// acceptance level (rows ≤ 1e-9, stationarity ≤ 1e-8·scale, gap ≤ 1e-9·(1 + |objective|)) is returned as
/// solved when the strict level is not reached (stagnation, a failed factorisation or non-finite iterates).
///
/// On problems of more than `finishMinimumSize` assets, once the gap is below `finishGap`, each iteration first tries
/// the active-set finish (`ActiveSetFinish.swift`): guess from the iterate which bound or kink every asset ends on,
/// solve the few free assets exactly, and return that point when it passes the same convergence test on the whole
/// problem. At the optimum of this family nearly every asset is on a bound or kink (tier I: 1.8 free of 193), so
/// the finish ends most institutional solves 3–6 iterations early (tier I: 14.9 → 10.3 iterations per account, each
/// a Cholesky of order ~200) with the optimum exact up to rounding; retail problems (≈ 9 assets) never try it.
///
/// One solve, as named steps: `prepare` (checks, boxes, feasibility, 2P, scale), `startingPoint`, then per iteration
/// `computeResiduals`, the stopping tests on `ResidualNorms`, `tryActiveSetFinish`, `formNewtonSystem` + `factorise` +
/// `solveBorderColumns`, `predictorCorrector` (two `direction`s: targets, reduced solve, refinement, dual steps) and
/// `takeStep`; `finish` maps the split variables back to y. The state is grouped by role (`Boxes`, the iterate and
/// the two directions as `SplitVector`s, `BestIterate`, `Residuals`, `NewtonSystem`, `RightSides`, `Refinement`),
/// every vector carved from one 64-byte aligned `Arena` that grows only when a larger n arrives: no heap allocation
/// per iteration or per solve. One solver per worker thread (not thread-safe).
public final class QPSolver {
    public enum Outcome: Equatable, Sendable {
        /// Converged; y, objective and the multipliers are set.
        case solved(iterations: Int)
        /// The coverage floor r is above the largest reachable coverage.
        case infeasible(maxCoverage: Double)
        /// Hit the iteration limit; y holds the last iterate (clipped into its bounds).
        case notConverged(iterations: Int, primalResidual: Double, dualResidual: Double, complementarity: Double)
        /// The Newton matrix could not be factorised even with regularisation, or the data are not finite.
        case numericalFailure(String)
    }

    // MARK: solution

    /// Size of the last problem solved.
    public private(set) var n = 0
    /// The solution (after `.solved`), within its bounds; n entries.
    public private(set) var y = Arena.placeholder
    /// Multiplier of the swap row (y-space stationarity: 2Py + ℓ − η·1 − ζ·g + (κ + ζk)∘ξ + N_box ∋ 0).
    public var eta: Double { x.eta }
    /// Multiplier of the coverage row (≥ 0; 0 without coverage).
    public var zeta: Double { x.zeta }
    /// Objective at y.
    public internal(set) var objective = 0.0
    /// The largest reachable coverage (computed by each solve that has a coverage row).
    public private(set) var maxCoverage = Double.nan
    public private(set) var iterations = 0

    /// Whether the last solve ended in an accepted active-set finish (diagnostics, tests).
    public internal(set) var finishedByActiveSet = false
    /// Try the active-set finish (tests turn it off to compare with the plain interior point).
    var activeSetFinishEnabled = true

    /// Debug hook: one line per iteration when set (tests only).
    public var trace: ((String) -> Void)?

    // MARK: state, by role
    //
    // Every vector below is carved from `arena` with `capacity` entries (the squares capacity², the border columns
    // 3 × capacity) and stays valid until the next growth, which replaces them all at once. Indexing them without a
    // check is safe because every loop of a solve runs over 0 ..< n (the squares 0 ..< n²) with n ≤ capacity, set by
    // `resize` before anything is read; `data` points into the caller's `QPProblem`, sized for the same n.

    private var capacity = -1
    private var arena = Arena(count: 0)
    /// The problem being solved: a copy of the caller's `QPProblem.data` (its pointers), set by `start`, and the
    /// problem itself, kept alive while those pointers are in use.
    private(set) var data = QPProblem.Data()
    private var problem: QPProblem?
    private(set) var boxes = Boxes()
    /// The iterate, the Newton direction, and the predictor's direction (kept for the corrector's second-order term).
    var x = SplitVector(), dx = SplitVector(), affine = SplitVector()
    private var best = BestIterate()
    private(set) var residuals = Residuals()
    private var newton = NewtonSystem()
    private var rhs = RightSides()
    private var refinement = Refinement()
    /// The active-set finish's workspace, its free count and the multipliers it solved for.
    private(set) var finishing = FinishWorkspace()
    var finishingFreeCount = 0
    var finishEta = 0.0, finishZeta = 0.0
    /// The coverage Σ g·y − Σ k·|y − c| at the finish's candidate.
    var finishCoverage = 0.0
    /// Scratch of the coverage LP (2n).
    private var order: [Int] = []
    private(set) var hasCoverage = false
    /// r − gᵀc: the coverage row's right side in the split variables.
    private(set) var r0 = 0.0
    /// Scale of the problem: max(1, 2·max|P_ii|, max|ℓ_i|, max κ_i) (tolerances and the regularisation).
    private(set) var scale = 1.0

    public init(capacity: Int = 0) { resize(capacity) }

    /// Sizes the workspace for n assets (growing it if needed).
    func resize(_ n: Int) {
        precondition(n >= 0, "QPSolver: negative size")
        self.n = n
        guard n > capacity else { return }
        capacity = max(n, 2 * capacity)
        let length = capacity
        arena = Arena.sized { carveWorkspace(from: $0, length: length) }
        order = [Int](repeating: 0, count: 2 * length)
    }

    private func carveWorkspace(from arena: Arena, length: Int) {
        y = arena.carve(length)
        boxes = Boxes(arena, length: length)
        x = SplitVector(arena, length: length)
        dx = SplitVector(arena, length: length)
        affine = SplitVector(arena, length: length)
        best = BestIterate(arena, length: length)
        residuals = Residuals(arena, length: length)
        newton = NewtonSystem(arena, length: length)
        rhs = RightSides(arena, length: length)
        refinement = Refinement(arena, length: length)
        finishing = FinishWorkspace(arena, length: length)
    }

    /// The solution as an array (tests).
    public var solution: [Double] { Array(UnsafeBufferPointer(start: y, count: n)) }

    // MARK: solve

    /// Solves `problem` (see the type's documentation); y, the multipliers, the objective, `maxCoverage` and
    /// `iterations` describe the outcome.
    public func solve(_ problem: QPProblem, maxIterations: Int = QPSolver.iterationLimit) -> Outcome {
        if let outcome = start(problem) { return outcome }
        return iterate(maxIterations: maxIterations)
    }

    /// Takes `problem` and moves to the starting point; an outcome when there is nothing to iterate (n = 0,
    /// invalid data, infeasible coverage).
    func start(_ problem: QPProblem) -> Outcome? {
        resize(problem.n)
        self.problem = problem
        data = problem.data
        iterations = 0
        finishedByActiveSet = false
        x.eta = 0
        x.zeta = 0
        if n == 0 {
            objective = 0
            maxCoverage = 0
            return data.coverageFloor > 0 ? .infeasible(maxCoverage: 0) : .solved(iterations: 0)
        }
        if let failure = prepare() { return failure }
        startingPoint()
        return nil
    }

    /// Checks the data, opens the boxes, decides feasibility (coverage LP) and forms 2P and the scale; an outcome
    /// when the problem cannot be iterated on.
    private func prepare() -> Outcome? {
        if let why = data.invalidity() { return .numericalFailure(why) }
        let n = self.n
        let current = data.current, upper = data.upper, value = data.coverageValue, cost = data.coverageCost
        // Room to buy and to sell; a side narrower than `closedBoxWidth` is closed.
        for i in 0 ..< n {
            let buy = upper[i] - current[i]
            boxes.roomP[i] = buy > QPSolver.closedBoxWidth ? buy : 0
            boxes.roomM[i] = current[i] > QPSolver.closedBoxWidth ? current[i] : 0
        }
        let floor = data.coverageFloor
        hasCoverage = floor > -Double.infinity
        if floor.isNaN { return .numericalFailure("coverage floor is NaN") }
        if hasCoverage {
            let y = self.y
            maxCoverage = order.withUnsafeMutableBufferPointer { o in
                CoverageLP.maximize(n: n, current: current, upper: upper, value: value, cost: cost, y: y,
                                    order: o.baseAddress!)
            }
            if maxCoverage < floor { return .infeasible(maxCoverage: maxCoverage) }
        } else {
            maxCoverage = .nan
        }
        var gc = 0.0
        for i in 0 ..< n { gc += value[i] * current[i] }
        r0 = hasCoverage ? floor - gc : 0
        formTwoP()
        scale = problemScale()
        return nil
    }

    /// 2P with the rows and columns of fixed assets zeroed (their rows of M are the identity), lower triangle in
    /// column-major order (P is symmetric: element (i, j), i ≥ j, of column j is quadratic[i·n + j]).
    private func formTwoP() {
        let n = self.n, quadratic = data.quadratic, twoP = newton.twoP
        for j in 0 ..< n {
            let fixedJ = boxes.isFixed(j)
            for i in j ..< n { twoP[j * n + i] = fixedJ || boxes.isFixed(i) ? 0 : 2 * quadratic[i * n + j] }
        }
    }

    /// max(1, 2·max|P_ii|, max|ℓ_i|, max κ_i): the size of the gradient's terms, for tolerances and the shift.
    private func problemScale() -> Double {
        var diagMax = 0.0, linMax = 0.0
        for i in 0 ..< n {
            diagMax = max(diagMax, abs(data.quadratic[i * n + i]))
            linMax = max(linMax, abs(data.linear[i]), data.costWeight[i])
        }
        return max(1, 2 * diagMax, linMax)
    }

    /// Interior fractions of the boxes that balance the swap row (Σp = Σm), unit bound duals, η = 0; with a
    /// coverage row, σ = max(its value, `minimumStartSlack`) and ζ = 1.
    private func startingPoint() {
        let n = self.n, roomP = boxes.roomP, roomM = boxes.roomM
        var totalBuyRoom = 0.0, totalSellRoom = 0.0
        for i in 0 ..< n { totalBuyRoom += roomP[i]; totalSellRoom += roomM[i] }
        var buyFraction = 0.5, sellFraction = 0.5
        if totalBuyRoom > 0 && totalSellRoom > 0 {
            // The larger side moves by the smaller side's half (at least `minimumStartFraction` of its box).
            if totalBuyRoom > totalSellRoom {
                buyFraction = max(0.5 * totalSellRoom / totalBuyRoom, QPSolver.minimumStartFraction)
            } else {
                sellFraction = max(0.5 * totalBuyRoom / totalSellRoom, QPSolver.minimumStartFraction)
            }
        }
        for i in 0 ..< n {
            let room = roomP[i]
            x.p[i] = room > 0 ? buyFraction * room : 0
            x.m[i] = roomM[i] > 0 ? sellFraction * roomM[i] : 0
            x.zpl[i] = room > 0 ? 1 : 0; x.zpu[i] = x.zpl[i]
            x.zml[i] = roomM[i] > 0 ? 1 : 0; x.zmu[i] = x.zml[i]
        }
        x.eta = 0
        if hasCoverage {
            var v = -r0
            for i in 0 ..< n {
                let g = data.coverageValue[i], k = data.coverageCost[i]
                v += (g - k) * x.p[i] - (g + k) * x.m[i]
            }
            x.sigma = max(v, QPSolver.minimumStartSlack)
            x.zeta = 1
        } else {
            x.sigma = 0
            x.zeta = 0
        }
    }

    /// The interior-point iterations from the starting point, then the outcome.
    func iterate(maxIterations: Int) -> Outcome {
        var regularisation = QPSolver.initialShift * scale
        best.merit = .infinity
        var last = ResidualNorms.unknown
        var gaps = GapHistory()
        for iteration in 0 ... maxIterations {
            iterations = iteration
            let r = computeResiduals()
            trace?("it \(iteration) primal \(r.primal) dual \(r.dual) comp \(r.complementarity) obj \(r.objective) "
                + "eta \(x.eta) zeta \(x.zeta) sigma \(x.sigma)")
            last = r
            if !r.isFinite {
                if best.isSet { break }
                return .numericalFailure("iterates became non-finite")
            }
            if r.isConverged(scale: scale) {
                finish()
                return .solved(iterations: iteration)
            }
            if activeSetFinishEnabled && n > QPSolver.finishMinimumSize
                && r.complementarity <= QPSolver.finishGap * (1 + abs(r.objective)) && tryActiveSetFinish() {
                finishedByActiveSet = true
                return .solved(iterations: iteration)
            }
            // Keep the best iterate that meets the acceptance level: returned if the strict criterion is never met
            // (stagnation at the limits of double precision).
            let merit = r.merit(scale: scale)
            if r.isAcceptable(scale: scale) && merit < best.merit { best.record(x, merit: merit, count: n) }
            // Past the acceptance level, an iterate that falls back out of it means the Newton systems have run
            // out of precision: stop with the best iterate.
            if best.isSet && merit > QPSolver.precisionLossFactor * best.merit { break }
            if iteration == maxIterations { break }
            formNewtonSystem()
            guard factorise(regularisation: &regularisation) else {
                if best.isSet { break }
                return .numericalFailure("Newton matrix not positive definite after regularisation")
            }
            solveBorderColumns()
            let alpha = predictorCorrector(r, iteration: iteration, gaps: &gaps)
            takeStep(alpha)
        }
        if best.isSet {
            best.restore(into: &x, count: n)
            finish()
            return .solved(iterations: iterations)
        }
        finish()
        return .notConverged(iterations: iterations, primalResidual: last.primal, dualResidual: last.dual,
                             complementarity: last.complementarity)
    }

    /// y from the split variables, clipped into the box; the objective at y.
    private func finish() {
        for i in 0 ..< n { y[i] = min(max(data.current[i] + x.p[i] - x.m[i], 0), data.upper[i]) }
        objective = data.objective(at: y)
    }

    // MARK: residuals

    /// y = c + p − m, the row residuals, the stationarity residuals r_p, r_m (in `residuals`), the total
    /// complementarity and the objective at the current iterate.
    func computeResiduals() -> ResidualNorms {
        let n = self.n, y = self.y, py = residuals.py, rp = residuals.rp, rm = residuals.rm
        let p = x.p, m = x.m, zpl = x.zpl, zpu = x.zpu, zml = x.zml, zmu = x.zmu
        let roomP = boxes.roomP, roomM = boxes.roomM, linear = data.linear, costWeight = data.costWeight
        let coverageValue = data.coverageValue, coverageCost = data.coverageCost
        let eta = x.eta, zeta = x.zeta
        for i in 0 ..< n { y[i] = data.current[i] + p[i] - m[i] }
        DenseKernels.symv(data.quadratic, n: n, lda: n, x: y, y: py)
        var re = 0.0, rc = hasCoverage ? -x.sigma - r0 : 0, dual = 0.0, comp = 0.0, count = 0
        var obj = 0.0, gradMax = 0.0
        for i in 0 ..< n {
            let g = 2 * py[i] + linear[i]
            gradMax = max(gradMax, abs(g))
            obj += y[i] * py[i] + linear[i] * y[i] + costWeight[i] * (p[i] + m[i])
            let kap = costWeight[i], gv = coverageValue[i], k = coverageCost[i]
            re += p[i] - m[i]
            if hasCoverage { rc += (gv - k) * p[i] - (gv + k) * m[i] }
            let room = roomP[i]
            if room > 0 {
                rp[i] = g + kap - eta - zeta * (gv - k) - zpl[i] + zpu[i]
                dual = max(dual, abs(rp[i]))
                comp += p[i] * zpl[i] + (room - p[i]) * zpu[i]
                count += 2
            } else { rp[i] = 0 }
            if roomM[i] > 0 {
                rm[i] = -g + kap + eta + zeta * (gv + k) - zml[i] + zmu[i]
                dual = max(dual, abs(rm[i]))
                comp += m[i] * zml[i] + (roomM[i] - m[i]) * zmu[i]
                count += 2
            } else { rm[i] = 0 }
        }
        if hasCoverage {
            comp += x.sigma * zeta
            count += 1
        }
        return ResidualNorms(primal: max(abs(re), abs(rc)), dual: dual, complementarity: comp, count: count,
                             objective: obj, gradientMax: gradMax)
    }

    // MARK: Newton system

    /// Barrier weights D_p, D_m and the reduced matrix's diagonal E⁻¹, border β and γ (in `newton`).
    func formNewtonSystem() {
        let n = self.n, roomP = boxes.roomP, roomM = boxes.roomM
        let p = x.p, m = x.m, zpl = x.zpl, zpu = x.zpu, zml = x.zml, zmu = x.zmu
        var gamma = 0.0
        for i in 0 ..< n {
            let bp = data.coverageValue[i] - data.coverageCost[i], bm = data.coverageValue[i] + data.coverageCost[i]
            let hasBuy = roomP[i] > 0, hasSell = roomM[i] > 0
            let dP = hasBuy ? zpl[i] / p[i] + zpu[i] / (roomP[i] - p[i]) : 0
            let dM = hasSell ? zml[i] / m[i] + zmu[i] / (roomM[i] - m[i]) : 0
            newton.wP[i] = dP
            newton.wM[i] = dM
            if hasBuy && hasSell {
                // E⁻¹ = D_p·D_m/(D_p + D_m), β = (b_p·D_m + b_m·D_p)/(D_p + D_m), γ_i = (b_p − b_m)²/(D_p + D_m).
                let sum = max(dP + dM, QPSolver.weightSumFloor)
                newton.invE[i] = dP * dM / sum
                newton.beta[i] = (bp * dM + bm * dP) / sum
                gamma += (bp - bm) * (bp - bm) / sum
            } else if hasBuy {
                newton.invE[i] = dP
                newton.beta[i] = bp
            } else if hasSell {
                newton.invE[i] = dM
                newton.beta[i] = bm
            } else {
                // Fixed asset (no room to buy, nothing to sell): its row of M is the identity and Δs_i = 0.
                newton.invE[i] = 0
                newton.beta[i] = 0
            }
        }
        newton.gamma = max(gamma, 0)
    }

    /// Cholesky of M = 2P + E⁻¹ + shift·I (fixed assets: identity rows) into `newton.factor`; on failure the shift
    /// grows by `shiftGrowth` (and stays raised for the rest of the solve), up to `factorisationAttempts` tries.
    func factorise(regularisation: inout Double) -> Bool {
        let n = self.n, factor = newton.factor, twoP = newton.twoP, invE = newton.invE
        for _ in 0 ..< QPSolver.factorisationAttempts {
            // M's lower triangle (column-major): 2P from the copy made before iterating, then the diagonal.
            for j in 0 ..< n {
                (factor + j * n + j).update(from: twoP + j * n + j, count: n - j)
                factor[j * n + j] = boxes.isFixed(j) ? 1 : factor[j * n + j] + invE[j] + regularisation
            }
            if DenseKernels.choleskyInPlace(factor, n: n) == 0 { return true }
            regularisation *= QPSolver.shiftGrowth
        }
        return false
    }

    /// The border columns M⁻¹·1 (fixed assets excluded) and M⁻¹·β, into columns 0 and 1 of `newton.cols`.
    func solveBorderColumns() {
        let n = self.n, cols = newton.cols
        for i in 0 ..< n {
            cols[i] = boxes.isFixed(i) ? 0 : 1
            cols[n + i] = newton.beta[i]
        }
        solveColumns(offset: 0, count: 2)
    }

    /// Solves M·X = cols[offset…] for `count` columns with the current factor.
    private func solveColumns(offset: Int, count: Int) {
        let n = self.n
        DenseKernels.choleskySolveInPlace(factor: newton.factor, n: n, rhs: newton.cols + offset * n, nrhs: count)
    }

    // MARK: predictor–corrector and step

    /// The predictor (affine scaling) direction, the centring it implies (Mehrotra's (μ_aff/μ)³, raised to
    /// `stagnationCentering` when the gap has stalled), and the corrector direction in `dx`; returns the step length.
    private func predictorCorrector(_ r: ResidualNorms, iteration: Int, gaps: inout GapHistory) -> Double {
        let mu = r.count > 0 ? r.complementarity / Double(r.count) : 0
        direction(tau: 0, corrector: false)
        let alphaAffine = maxStep()
        let compAffine = complementarity(afterStep: alphaAffine)
        let muAffine = r.count > 0 ? max(compAffine, 0) / Double(r.count) : 0
        var centering = mu > 0 ? min(1, pow3(muAffine / mu)) : 0
        // Stagnation guard: when the gap has not fallen below `stagnationRatio` of its value two iterations back
        // (iterates can cycle between two points when the coverage row is weakly active: slack and multiplier both
        // tending to 0), take a more centred step, which restores the decrease.
        if iteration >= 2 && r.complementarity > QPSolver.stagnationRatio * gaps.twoBack {
            centering = max(centering, QPSolver.stagnationCentering)
        }
        gaps.twoBack = gaps.oneBack
        gaps.oneBack = r.complementarity
        affine.copy(from: dx, count: n)
        direction(tau: centering * mu, corrector: true)
        return min(1, QPSolver.stepFactor * maxStep())
    }

    /// Total complementarity at the iterate moved by `alpha` along `dx` (the predictor's μ_aff before dividing).
    private func complementarity(afterStep alpha: Double) -> Double {
        let roomP = boxes.roomP, roomM = boxes.roomM
        var total = 0.0
        for i in 0 ..< n {
            let room = roomP[i]
            if room > 0 {
                let pn = x.p[i] + alpha * dx.p[i]
                total += pn * (x.zpl[i] + alpha * dx.zpl[i]) + (room - pn) * (x.zpu[i] + alpha * dx.zpu[i])
            }
            if roomM[i] > 0 {
                let mn = x.m[i] + alpha * dx.m[i]
                total += mn * (x.zml[i] + alpha * dx.zml[i]) + (roomM[i] - mn) * (x.zmu[i] + alpha * dx.zmu[i])
            }
        }
        if hasCoverage { total += (x.sigma + alpha * dx.sigma) * (x.zeta + alpha * dx.zeta) }
        return total
    }

    /// Largest step in (0, 1] along `dx` keeping every bound slack and dual non-negative.
    private func maxStep() -> Double {
        var alpha = 1.0
        @inline(__always) func limit(_ x: Double, _ dx: Double) {
            if dx < 0 { alpha = min(alpha, -x / dx) }
        }
        let roomP = boxes.roomP, roomM = boxes.roomM
        for i in 0 ..< n {
            let room = roomP[i]
            if room > 0 {
                limit(x.p[i], dx.p[i]); limit(room - x.p[i], -dx.p[i])
                limit(x.zpl[i], dx.zpl[i]); limit(x.zpu[i], dx.zpu[i])
            }
            if roomM[i] > 0 {
                limit(x.m[i], dx.m[i]); limit(roomM[i] - x.m[i], -dx.m[i])
                limit(x.zml[i], dx.zml[i]); limit(x.zmu[i], dx.zmu[i])
            }
        }
        if hasCoverage {
            limit(x.sigma, dx.sigma)
            limit(x.zeta, dx.zeta)
        }
        return alpha
    }

    /// x ← x + α·dx (σ and ζ only with a coverage row).
    private func takeStep(_ alpha: Double) {
        for i in 0 ..< n {
            x.p[i] += alpha * dx.p[i]; x.m[i] += alpha * dx.m[i]
            x.zpl[i] += alpha * dx.zpl[i]; x.zpu[i] += alpha * dx.zpu[i]
            x.zml[i] += alpha * dx.zml[i]; x.zmu[i] += alpha * dx.zmu[i]
        }
        x.eta += alpha * dx.eta
        if hasCoverage {
            x.sigma += alpha * dx.sigma
            x.zeta += alpha * dx.zeta
        }
    }

    @inline(__always) private func pow3(_ x: Double) -> Double { x * x * x }

    // MARK: one Newton direction

    /// One Newton direction into `dx` for complementarity target τ (with Mehrotra's second-order term from
    /// `affine` when `corrector`), followed by one step of iterative refinement on the reduced system (same
    /// factor): late iterations have barrier weights spanning 20+ orders of magnitude and the bordered solve alone
    /// loses the two rows' accuracy.
    func direction(tau: Double, corrector: Bool) {
        setComplementarityTargets(tau: tau, corrector: corrector)
        let rows = rowRightSides(tau: tau, corrector: corrector)
        reducedSolve(fEq: rows.swap, fCov: rows.coverage)
        refine(fEq: rows.swap, fCov: rows.coverage)
        boundDualSteps(slackTarget: rows.slack)
    }

    /// The complementarity targets (τ − x·z, less the corrector's Δx_aff·Δz_aff) of the four bounds in `rhs`, and
    /// the reduced stationarity right sides ρ_p = −r_p + r_pl/p − r_pu/(room − p), ρ_m likewise.
    private func setComplementarityTargets(tau: Double, corrector: Bool) {
        let roomP = boxes.roomP, roomM = boxes.roomM, a = affine
        for i in 0 ..< n {
            let room = roomP[i]
            var rhoPi = 0.0, rhoMi = 0.0
            if room > 0 {
                let xl = x.p[i], xu = room - x.p[i]
                rhs.rpl[i] = tau - xl * x.zpl[i] - (corrector ? a.p[i] * a.zpl[i] : 0)
                rhs.rpu[i] = tau - xu * x.zpu[i] - (corrector ? -a.p[i] * a.zpu[i] : 0)
                rhoPi = -residuals.rp[i] + rhs.rpl[i] / xl - rhs.rpu[i] / xu
            }
            if roomM[i] > 0 {
                let xl = x.m[i], xu = roomM[i] - x.m[i]
                rhs.rml[i] = tau - xl * x.zml[i] - (corrector ? a.m[i] * a.zml[i] : 0)
                rhs.rmu[i] = tau - xu * x.zmu[i] - (corrector ? -a.m[i] * a.zmu[i] : 0)
                rhoMi = -residuals.rm[i] + rhs.rml[i] / xl - rhs.rmu[i] / xu
            }
            rhs.rhoP[i] = rhoPi
            rhs.rhoM[i] = rhoMi
        }
    }

    /// Right sides of the two rows — swap 1ᵀΔs = −1ᵀs, coverage (with the slack's complementarity folded in) — and
    /// the slack's complementarity target.
    private func rowRightSides(tau: Double, corrector: Bool) -> (swap: Double, coverage: Double, slack: Double) {
        var re = 0.0, rc = -x.sigma - r0
        for i in 0 ..< n {
            re += x.p[i] - x.m[i]
            let gv = data.coverageValue[i], k = data.coverageCost[i]
            rc += (gv - k) * x.p[i] - (gv + k) * x.m[i]
        }
        let rSigma = hasCoverage ? tau - x.sigma * x.zeta - (corrector ? affine.sigma * affine.zeta : 0) : 0
        let fEq = -re
        let fCov = hasCoverage ? -rc + rSigma / x.zeta : 0
        return (fEq, fCov, rSigma)
    }

    /// Solves the reduced Newton system for the stationarity right sides ρ_p, ρ_m (in `rhs`) and the row right
    /// sides: 1ᵀΔs = fEq and (g − k)ᵀΔp − (g + k)ᵀΔm + (σ/ζ)·Δζ = fCov. Writes dx.p, dx.m, dx.eta, dx.zeta.
    /// Needs the factor of M and the columns M⁻¹·1, M⁻¹·β in `newton.cols`.
    private func reducedSolve(fEq: Double, fCov: Double) {
        let coverageTerm = formReducedRightSide()
        solveColumns(offset: 2, count: 1)
        solveBorder(fEq: fEq, fCov: fCov, coverageTerm: coverageTerm)
        recoverSplitStep()
    }

    /// The reduced system's right side u (column 2 of `newton.cols`), eliminating Δp, Δm in favour of Δs; returns
    /// the coverage row's share of that elimination, Σ (b_p − b_m)(ρ_p + ρ_m)/(D_p + D_m).
    private func formReducedRightSide() -> Double {
        let n = self.n, cols = newton.cols, wP = newton.wP, wM = newton.wM, rhoP = rhs.rhoP, rhoM = rhs.rhoM
        var coverageTerm = 0.0
        for i in 0 ..< n {
            let bp = data.coverageValue[i] - data.coverageCost[i], bm = data.coverageValue[i] + data.coverageCost[i]
            let hasBuy = boxes.roomP[i] > 0, hasSell = boxes.roomM[i] > 0
            var u = 0.0
            if hasBuy && hasSell {
                let sum = max(wP[i] + wM[i], QPSolver.weightSumFloor)
                u = (rhoP[i] * wM[i] - rhoM[i] * wP[i]) / sum
                coverageTerm += (bp - bm) * (rhoP[i] + rhoM[i]) / sum
            } else if hasBuy {
                u = rhoP[i]
            } else if hasSell {
                u = -rhoM[i]
            }
            cols[2 * n + i] = u
        }
        return coverageTerm
    }

    /// The 2 × 2 Schur complement of the two rows (from the three solved columns): dx.eta, dx.zeta.
    private func solveBorder(fEq: Double, fCov: Double, coverageTerm: Double) {
        let n = self.n, cols = newton.cols, beta = newton.beta
        var sum1 = 0.0, sum2 = 0.0, sum0 = 0.0, b1 = 0.0, b2 = 0.0, b0 = 0.0
        for i in 0 ..< n {
            sum1 += cols[i]; sum2 += cols[n + i]; sum0 += cols[2 * n + i]
            b1 += beta[i] * cols[i]; b2 += beta[i] * cols[n + i]; b0 += beta[i] * cols[2 * n + i]
        }
        if hasCoverage {
            let a11 = sum1, a12 = 0.5 * (sum2 + b1), a22 = b2 + newton.gamma + x.sigma / x.zeta
            let f1 = fEq - sum0
            let f2 = fCov - coverageTerm - b0
            let det = a11 * a22 - a12 * a12
            if det > QPSolver.singularDeterminant * max(1, abs(a11 * a22)) && det.isFinite {
                dx.eta = (f1 * a22 - a12 * f2) / det
                dx.zeta = (a11 * f2 - a12 * f1) / det
            } else {
                // The two rows are (numerically) parallel: keep the swap row, let the slack absorb coverage.
                dx.eta = f1 / a11
                dx.zeta = 0
            }
        } else {
            dx.eta = (fEq - sum0) / sum1
            dx.zeta = 0
        }
    }

    /// Δs = M⁻¹(u + Δη·1 + Δζ·β), then Δp, Δm from Δs per asset.
    private func recoverSplitStep() {
        let n = self.n, cols = newton.cols, wP = newton.wP, wM = newton.wM
        let dEta = dx.eta, dZeta = dx.zeta
        for i in 0 ..< n {
            let ds = cols[2 * n + i] + dEta * cols[i] + dZeta * cols[n + i]
            let bp = data.coverageValue[i] - data.coverageCost[i], bm = data.coverageValue[i] + data.coverageCost[i]
            let hasBuy = boxes.roomP[i] > 0, hasSell = boxes.roomM[i] > 0
            if hasBuy && hasSell {
                // Δp = (ρ_p + ρ_m + D_m·Δs + Δζ(b_p − b_m))/(D_p + D_m), Δm = Δp − Δs.
                let sum = max(wP[i] + wM[i], QPSolver.weightSumFloor)
                let d = (rhs.rhoP[i] + rhs.rhoM[i] + wM[i] * ds + dZeta * (bp - bm)) / sum
                dx.p[i] = d
                dx.m[i] = d - ds
            } else if hasBuy {
                dx.p[i] = ds; dx.m[i] = 0
            } else if hasSell {
                dx.p[i] = 0; dx.m[i] = -ds
            } else {
                dx.p[i] = 0; dx.m[i] = 0
            }
        }
    }

    /// One step of iterative refinement: the residuals of the unreduced linear system at (Δp, Δm, Δη, Δζ) replace
    /// ρ_p, ρ_m, and when they exceed `refinementThreshold` of the right side, the correction solved from them
    /// (same factor) is added to `dx`.
    private func refine(fEq: Double, fCov: Double) {
        let n = self.n, ds = refinement.ds, qds = refinement.qds, rhoP = rhs.rhoP, rhoM = rhs.rhoM
        for i in 0 ..< n { ds[i] = dx.p[i] - dx.m[i] }
        DenseKernels.symv(data.quadratic, n: n, lda: n, x: ds, y: qds)
        let dEta = dx.eta, dZeta = dx.zeta
        var eEq = fEq, eCov = fCov - (hasCoverage ? x.sigma / x.zeta * dZeta : 0)
        var rightSide = max(abs(fEq), abs(fCov)), residual = 0.0
        for i in 0 ..< n {
            let bp = data.coverageValue[i] - data.coverageCost[i], bm = data.coverageValue[i] + data.coverageCost[i]
            let hq = 2 * qds[i]
            let room = boxes.roomP[i], roomM = boxes.roomM[i]
            if room > 0 {
                let dpw = x.zpl[i] / x.p[i] + x.zpu[i] / (room - x.p[i])
                rightSide = max(rightSide, abs(rhoP[i]))
                rhoP[i] -= hq + dpw * dx.p[i] - dEta - bp * dZeta
                residual = max(residual, abs(rhoP[i]))
            } else { rhoP[i] = 0 }
            if roomM > 0 {
                let dmw = x.zml[i] / x.m[i] + x.zmu[i] / (roomM - x.m[i])
                rightSide = max(rightSide, abs(rhoM[i]))
                rhoM[i] -= -hq + dmw * dx.m[i] + dEta + bm * dZeta
                residual = max(residual, abs(rhoM[i]))
            } else { rhoM[i] = 0 }
            eEq -= ds[i]
            if hasCoverage { eCov -= bp * dx.p[i] - bm * dx.m[i] }
        }
        residual = max(residual, abs(eEq), abs(eCov))
        // The early, well-conditioned iterations pass as they are and save a solve; late ones always refine.
        if residual <= QPSolver.refinementThreshold * rightSide { return }
        // Keep the first solution while the correction lands in dx.
        for i in 0 ..< n { refinement.firstP[i] = dx.p[i]; refinement.firstM[i] = dx.m[i] }
        reducedSolve(fEq: eEq, fCov: eCov)
        dx.eta += dEta
        dx.zeta += dZeta
        for i in 0 ..< n {
            dx.p[i] += refinement.firstP[i]
            dx.m[i] += refinement.firstM[i]
        }
    }

    /// Bound-dual steps from the (refined) primal step — r_pl… hold the complementarity targets — and the slack's.
    private func boundDualSteps(slackTarget rSigma: Double) {
        let roomP = boxes.roomP, roomM = boxes.roomM
        for i in 0 ..< n {
            let room = roomP[i]
            if room > 0 {
                dx.zpl[i] = (rhs.rpl[i] - x.zpl[i] * dx.p[i]) / x.p[i]
                dx.zpu[i] = (rhs.rpu[i] + x.zpu[i] * dx.p[i]) / (room - x.p[i])
            } else { dx.zpl[i] = 0; dx.zpu[i] = 0 }
            if roomM[i] > 0 {
                dx.zml[i] = (rhs.rml[i] - x.zml[i] * dx.m[i]) / x.m[i]
                dx.zmu[i] = (rhs.rmu[i] + x.zmu[i] * dx.m[i]) / (roomM[i] - x.m[i])
            } else { dx.zml[i] = 0; dx.zmu[i] = 0 }
        }
        dx.sigma = hasCoverage ? (rSigma - x.sigma * dx.zeta) / x.zeta : 0
    }
}

// MARK: - Tolerances and limits

extension QPSolver {
    /// Interior-point iterations allowed in one solve (a working-set solve's budget).
    public static let iterationLimit = 120
    /// Width of a buy or sell box (units of C) below which that side is closed: rounding of the caps, so a box never
    /// degenerates to a width that doubles cannot split.
    static let closedBoxWidth = 1e-13
    /// Smallest fraction of its box at which the starting point puts the larger side (strictly inside).
    static let minimumStartFraction = 1e-3
    /// Smallest starting coverage slack σ (units of C).
    static let minimumStartSlack = 0.1
    /// Diagonal shift of the Newton matrix, relative to the problem's scale: guards the limit where a free asset's
    /// barrier weight vanishes and P is singular on the free set.
    static let initialShift = 1e-13
    /// Factor by which the shift grows after a failed factorisation.
    static let shiftGrowth = 1e4
    /// Factorisations tried per iteration (the shift growing between them) before giving up.
    static let factorisationAttempts = 4
    /// Convergence: swap and coverage residuals (units of C).
    static let rowTolerance = 1e-11
    /// Convergence: stationarity residual, relative to max(scale, largest gradient entry).
    static let stationarityTolerance = 1e-10
    /// Convergence: total complementarity (the duality gap, objective units), relative to 1 + |objective|.
    static let gapTolerance = 1e-12
    /// Acceptance level (the best iterate meeting it is returned when convergence is not reached): rows (units of C).
    static let acceptRowTolerance = 1e-9
    /// Acceptance level: stationarity, relative to max(scale, largest gradient entry).
    static let acceptStationarityTolerance = 1e-8
    /// Acceptance level: total complementarity, relative to 1 + |objective|.
    static let acceptGapTolerance = 1e-9
    /// Once an iterate was accepted, a merit this many times the best one means precision has run out: stop.
    static let precisionLossFactor = 1e3
    /// The gap has stalled when it is above this fraction of its value two iterations back.
    static let stagnationRatio = 0.9
    /// Smallest centring parameter after a stall.
    static let stagnationCentering = 0.5
    /// A Newton direction is refined when its residual exceeds this fraction of its right side.
    static let refinementThreshold = 1e-12
    /// Floor of D_p + D_m (barrier weights) where a division by it would otherwise be by zero.
    static let weightSumFloor = 1e-300
    /// The 2 × 2 border is singular when its determinant is below this fraction of max(1, |a11·a22|).
    static let singularDeterminant = 1e-300
    /// The active-set finish is tried once the total complementarity is below this fraction of 1 + |objective|
    /// (earlier guesses are almost never right: measured on tier I, 1e-1 … 1e-3 take the same iterations, and
    /// trying from the start costs more in failed attempts than it saves).
    static let finishGap = 1e-2
    /// … and only on problems of more than this many assets: below, an iteration (a Swift Cholesky of a few dozen
    /// rows) costs about as much as an attempt, so the finish saves nothing (retail working sets, ≈ 9 assets).
    static let finishMinimumSize = 48
    /// Revisions of one guess the active-set finish tries.
    static let finishRounds = 6
    /// Most free assets the active-set finish solves for (more: the iterations go on).
    static let finishMaxFree = 48
    /// A pivot of the finish's small system below this fraction of its largest entry means the system is singular.
    static let finishPivotFloor = 1e-13
    /// How far (units of C) a free asset solved by the finish may land outside its side of the box before the guess
    /// is rejected; within it, the value is clipped onto the bound.
    static let finishBoxSlack = 1e-12
    /// Fraction of the step to the boundary taken (measured: 0.999 saves about half an iteration per account
    /// against 0.995 on the tier-L and tier-I books, with the same objectives; 0.9999 gains little more).
    static let stepFactor = 0.999
}

// MARK: - State by role

extension QPSolver {
    /// Widths of the buy and sell boxes: 0 ≤ p ≤ roomP = u − c, 0 ≤ m ≤ roomM = c (0: that side is closed).
    struct Boxes {
        var roomP = Arena.placeholder, roomM = Arena.placeholder

        init() {}

        init(_ arena: Arena, length: Int) {
            roomP = arena.carve(length)
            roomM = arena.carve(length)
        }

        /// An asset with no room to buy and nothing to sell: y_i = c_i = u_i.
        @inline(__always) func isFixed(_ i: Int) -> Bool { !(roomP[i] > 0) && !(roomM[i] > 0) }
    }

    /// A point of the split form, or a step from one: primal part (buys p, sells m, coverage slack σ) and dual part
    /// (duals of p ≥ 0, p ≤ roomP, m ≥ 0, m ≤ roomM; swap multiplier η; coverage multiplier ζ).
    struct SplitVector {
        var p = Arena.placeholder, m = Arena.placeholder
        var zpl = Arena.placeholder, zpu = Arena.placeholder, zml = Arena.placeholder, zmu = Arena.placeholder
        var sigma = 0.0, eta = 0.0, zeta = 0.0

        init() {}

        init(_ arena: Arena, length: Int) {
            p = arena.carve(length); m = arena.carve(length)
            zpl = arena.carve(length); zpu = arena.carve(length); zml = arena.carve(length); zmu = arena.carve(length)
        }

        /// Copies the first n entries of every vector, σ, η and ζ.
        mutating func copy(from other: SplitVector, count n: Int) {
            for i in 0 ..< n {
                p[i] = other.p[i]; m[i] = other.m[i]
                zpl[i] = other.zpl[i]; zpu[i] = other.zpu[i]; zml[i] = other.zml[i]; zmu[i] = other.zmu[i]
            }
            sigma = other.sigma
            eta = other.eta
            zeta = other.zeta
        }
    }

    /// The best iterate meeting the acceptance level (its buys, sells and row multipliers) and its merit.
    struct BestIterate {
        var p = Arena.placeholder, m = Arena.placeholder
        var eta = 0.0, zeta = 0.0
        /// max(rows, relative stationarity, relative gap); +∞ while none was accepted.
        var merit = Double.infinity

        init() {}

        init(_ arena: Arena, length: Int) {
            p = arena.carve(length)
            m = arena.carve(length)
        }

        var isSet: Bool { merit < .infinity }

        mutating func record(_ x: SplitVector, merit: Double, count n: Int) {
            self.merit = merit
            for i in 0 ..< n { p[i] = x.p[i]; m[i] = x.m[i] }
            eta = x.eta
            zeta = x.zeta
        }

        func restore(into x: inout SplitVector, count n: Int) {
            for i in 0 ..< n { x.p[i] = p[i]; x.m[i] = m[i] }
            x.eta = eta
            x.zeta = zeta
        }
    }

    /// Residuals at the iterate: P·y and the stationarity residuals of the buy and sell sides (0 on a closed side).
    struct Residuals {
        var py = Arena.placeholder, rp = Arena.placeholder, rm = Arena.placeholder

        init() {}

        init(_ arena: Arena, length: Int) {
            py = arena.carve(length)
            rp = arena.carve(length)
            rm = arena.carve(length)
        }
    }

    /// The reduced Newton system (2P + E⁻¹)·Δs = u + Δη·1 + Δζ·β and its factor.
    struct NewtonSystem {
        /// Barrier weights D_p, D_m (written in terms of D, never D⁻¹: a side whose duals vanish has D → 0).
        var wP = Arena.placeholder, wM = Arena.placeholder
        /// E⁻¹ (the reduced matrix's diagonal term) and the border β.
        var invE = Arena.placeholder, beta = Arena.placeholder
        /// γ = Σ (b_p − b_m)²/(D_p + D_m): the coverage row's own diagonal term.
        var gamma = 0.0
        /// 2P with fixed assets' rows and columns zeroed, lower triangle column-major (formed once per solve).
        var twoP = Arena.placeholder
        /// M's Cholesky factor (handed to OpenBLAS above `DenseKernels.smallOrder`: 64-byte aligned).
        var factor = Arena.placeholder
        /// Three solve columns, one after another (column r at cols + r·n): M⁻¹·1, M⁻¹·β, M⁻¹·u.
        var cols = Arena.placeholder

        init() {}

        init(_ arena: Arena, length: Int) {
            wP = arena.carve(length); wM = arena.carve(length)
            invE = arena.carve(length); beta = arena.carve(length)
            cols = arena.carve(3 * ((length + Arena.alignment - 1) / Arena.alignment * Arena.alignment))
            twoP = arena.carve(length * length)
            factor = arena.carve(length * length)
        }
    }

    /// Right sides of one Newton direction: the four bounds' complementarity targets (r_pl, r_pu, r_ml, r_mu) and the
    /// reduced stationarity right sides ρ_p, ρ_m (replaced by the refinement's residuals).
    struct RightSides {
        var rpl = Arena.placeholder, rpu = Arena.placeholder, rml = Arena.placeholder, rmu = Arena.placeholder
        var rhoP = Arena.placeholder, rhoM = Arena.placeholder

        init() {}

        init(_ arena: Arena, length: Int) {
            rpl = arena.carve(length); rpu = arena.carve(length); rml = arena.carve(length); rmu = arena.carve(length)
            rhoP = arena.carve(length); rhoM = arena.carve(length)
        }
    }

    /// Workspace of the refinement step: Δs, P·Δs, and the first solution's Δp, Δm while the correction is solved.
    struct Refinement {
        var ds = Arena.placeholder, qds = Arena.placeholder, firstP = Arena.placeholder, firstM = Arena.placeholder

        init() {}

        init(_ arena: Arena, length: Int) {
            ds = arena.carve(length); qds = arena.carve(length)
            firstP = arena.carve(length); firstM = arena.carve(length)
        }
    }

    /// The norms of one iterate's residuals and what the stopping tests need.
    struct ResidualNorms {
        /// max(|swap residual|, |coverage residual|) (units of C).
        var primal: Double
        /// Largest stationarity residual.
        var dual: Double
        /// Total complementarity (the split form's duality gap) and the number of complementary pairs.
        var complementarity: Double
        var count: Int
        /// Objective at the iterate and the largest gradient entry |2Py + ℓ|.
        var objective: Double
        var gradientMax: Double

        static let unknown = ResidualNorms(primal: .infinity, dual: .infinity, complementarity: .infinity, count: 0,
                                           objective: 0, gradientMax: 0)

        var isFinite: Bool { primal.isFinite && dual.isFinite && complementarity.isFinite }

        func isConverged(scale: Double) -> Bool {
            primal <= QPSolver.rowTolerance && dual <= QPSolver.stationarityTolerance * max(scale, gradientMax)
                && complementarity <= QPSolver.gapTolerance * (1 + abs(objective))
        }

        func isAcceptable(scale: Double) -> Bool {
            primal <= QPSolver.acceptRowTolerance && dual <= QPSolver.acceptStationarityTolerance * max(scale, gradientMax)
                && complementarity <= QPSolver.acceptGapTolerance * (1 + abs(objective))
        }

        /// max(rows, relative stationarity, relative gap): how far from the strict criterion, as one number.
        func merit(scale: Double) -> Double {
            max(primal, dual / max(scale, gradientMax), complementarity / (1 + abs(objective)))
        }
    }

    /// The total complementarity one and two iterations back (the stagnation guard).
    struct GapHistory {
        var oneBack = Double.infinity
        var twoBack = Double.infinity
    }
}
