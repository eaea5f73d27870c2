import LinearAlgebra
/// The convex QP of SPEC §3.6 in units of the account's collateral (y = x/C), over n assets:
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
/// optimum in units of C (the SPEC asks for 1e-6 relative; the tight gap keeps the point itself within ~1e-10 of
/// the bounds and kinks it sits on, so snapping and the no-trade test see them). Late iterations can run out of double precision (barrier weights spanning 25+ orders
/// of magnitude); each direction gets one step of iterative refinement, and the best iterate that met an
/// acceptance level (rows ≤ 1e-9, stationarity ≤ 1e-8·scale, gap ≤ 1e-9·(1 + |objective|)) is returned as
/// solved when the strict level is not reached (stagnation, a failed factorisation or non-finite iterates).
///
/// All storage lives in the solver object and grows only when a larger n arrives: no heap allocation per
/// iteration or per solve. One solver per worker thread (not thread-safe).
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

    // MARK: problem (set by the caller after `resize`; first n entries used, P with leading dimension n)

    public private(set) var n = 0
    /// P, n×n row-major (leading dimension n), symmetric PSD.
    public private(set) var quadratic = QPSolver.unallocated
    /// ℓ.
    public private(set) var linear = QPSolver.unallocated
    /// c ≥ 0 (today's holdings).
    public private(set) var current = QPSolver.unallocated
    /// u ≥ c (caps; u = c: may only be sold).
    public private(set) var upper = QPSolver.unallocated
    /// κ ≥ 0: cost of trading one unit in the objective.
    public private(set) var costWeight = QPSolver.unallocated
    /// g: coverage value of one unit held.
    public private(set) var coverageValue = QPSolver.unallocated
    /// k ≥ 0: coverage lost per unit traded.
    public private(set) var coverageCost = QPSolver.unallocated
    /// r; `-.infinity` drops the coverage constraint.
    public var coverageFloor = -Double.infinity

    // MARK: solution

    /// The solution (after `.solved`), within its bounds.
    public private(set) var y = QPSolver.unallocated
    /// Multiplier of the swap row (y-space stationarity: 2Py + ℓ − η·1 − ζ·g + (κ + ζk)∘ξ + N_box ∋ 0).
    public private(set) var eta = 0.0
    /// Multiplier of the coverage row (≥ 0; 0 without coverage).
    public private(set) var zeta = 0.0
    /// Objective at y.
    public private(set) var objective = 0.0
    /// The largest reachable coverage (computed by each solve that has a coverage row).
    public private(set) var maxCoverage = Double.nan
    public private(set) var iterations = 0

    // MARK: workspace

    private var capacity = 0
    /// Owns every vector below (the pointers are views into it, valid until the next growth).
    private var arena = AlignedBuffer(count: 0)
    private var p = QPSolver.unallocated, m = QPSolver.unallocated
    private var zpl = QPSolver.unallocated, zpu = QPSolver.unallocated, zml = QPSolver.unallocated, zmu = QPSolver.unallocated
    private var grad = QPSolver.unallocated, rp = QPSolver.unallocated, rm = QPSolver.unallocated
    /// Barrier weights D_p, D_m (written in terms of D, never D⁻¹: a side whose duals vanish has D → 0).
    private var wP = QPSolver.unallocated, wM = QPSolver.unallocated, invE = QPSolver.unallocated, beta = QPSolver.unallocated
    private var uvec = QPSolver.unallocated, rhoP = QPSolver.unallocated, rhoM = QPSolver.unallocated
    private var rpl = QPSolver.unallocated, rpu = QPSolver.unallocated, rml = QPSolver.unallocated, rmu = QPSolver.unallocated
    private var dp = QPSolver.unallocated, dm = QPSolver.unallocated, dzpl = QPSolver.unallocated, dzpu = QPSolver.unallocated, dzml = QPSolver.unallocated, dzmu = QPSolver.unallocated
    private var roomP = QPSolver.unallocated, roomM = QPSolver.unallocated
    private var bestP = QPSolver.unallocated, bestM = QPSolver.unallocated
    private var dp2 = QPSolver.unallocated, dm2 = QPSolver.unallocated
    private var ap = QPSolver.unallocated, am = QPSolver.unallocated, azpl = QPSolver.unallocated, azpu = QPSolver.unallocated, azml = QPSolver.unallocated, azmu = QPSolver.unallocated
    /// Three solve columns: M⁻¹·1, M⁻¹·β, M⁻¹·u.
    private var cols = QPSolver.unallocated
    /// Buffers handed to OpenBLAS are 64-byte aligned: OpenBLAS kernels round differently with the alignment
    /// of their operands, and results must not depend on which worker (allocation history) solved an account.
    private var qA = QPSolver.unallocated, twoP = QPSolver.unallocated, factor = QPSolver.unallocated
    private var yA = QPSolver.unallocated, py = QPSolver.unallocated, ds = QPSolver.unallocated, qds = QPSolver.unallocated
    private var order: [Int] = []
    private var sigma = 0.0, dSigma = 0.0, aSigma = 0.0
    private var dEta = 0.0, dZeta = 0.0, aZeta = 0.0
    private var hasCoverage = false
    private var r0 = 0.0

    /// Debug hook: one line per iteration when set (tests only).
    public var trace: ((String) -> Void)?

    /// Fraction of the step to the boundary taken (measured: 0.999 saves about half an iteration per account
    /// against 0.995 on the tier-L and tier-I books, with the same objectives; 0.9999 gains little more).
    static let stepFactor = 0.999
    /// Placeholder before the first `resize` (never dereferenced: n = 0).
    nonisolated(unsafe) static let unallocated = UnsafeMutablePointer<Double>.allocate(capacity: 1)

    public init(capacity: Int = 0) { resize(capacity) }

    /// Sets the problem size to n (growing storage if needed). Problem arrays keep stale values: set all of them.
    public func resize(_ n: Int) {
        precondition(n >= 0, "QPSolver: negative size")
        self.n = n
        guard n > capacity else { return }
        capacity = max(n, 2 * capacity)
        let c = capacity
        // One 64-byte aligned arena; every vector starts on a 64-byte boundary (OpenBLAS rounds differently with its
        // operands' alignment, and results must not depend on which worker solved an account).
        let stride = (c + 7) / 8 * 8, square = (c * c + 7) / 8 * 8
        arena = AlignedBuffer(count: 4 * square + 52 * stride)
        var next = arena.pointer
        func carve(_ count: Int) -> UnsafeMutablePointer<Double> {
            defer { next += count }
            return next
        }
        quadratic = carve(square)
        linear = carve(stride)
        current = carve(stride)
        upper = carve(stride)
        costWeight = carve(stride)
        coverageValue = carve(stride)
        coverageCost = carve(stride)
        y = carve(stride)
        p = carve(stride)
        m = carve(stride)
        zpl = carve(stride)
        zpu = carve(stride)
        zml = carve(stride)
        zmu = carve(stride)
        grad = carve(stride)
        rp = carve(stride)
        rm = carve(stride)
        wP = carve(stride)
        wM = carve(stride)
        invE = carve(stride)
        beta = carve(stride)
        uvec = carve(stride)
        rhoP = carve(stride)
        rhoM = carve(stride)
        rpl = carve(stride)
        rpu = carve(stride)
        rml = carve(stride)
        rmu = carve(stride)
        dp = carve(stride)
        dm = carve(stride)
        dzpl = carve(stride)
        dzpu = carve(stride)
        dzml = carve(stride)
        dzmu = carve(stride)
        roomP = carve(stride)
        roomM = carve(stride)
        bestP = carve(stride)
        bestM = carve(stride)
        dp2 = carve(stride)
        dm2 = carve(stride)
        ap = carve(stride)
        am = carve(stride)
        azpl = carve(stride)
        azpu = carve(stride)
        azml = carve(stride)
        azmu = carve(stride)
        cols = carve(3 * stride)
        qA = carve(square)
        twoP = carve(square)
        factor = carve(square)
        yA = carve(stride)
        py = carve(stride)
        ds = carve(stride)
        qds = carve(stride)
        order = [Int](repeating: 0, count: 2 * c)
    }

    /// Convenience for tests: sets every problem array from Swift arrays.
    public func setProblem(quadratic q: [Double], linear l: [Double], current c: [Double], upper u: [Double],
                           costWeight kappa: [Double], coverageValue g: [Double], coverageCost k: [Double],
                           coverageFloor r: Double) {
        let n = c.count
        precondition(q.count == n * n && l.count == n && u.count == n && kappa.count == n && g.count == n && k.count == n)
        resize(n)
        for i in 0 ..< n * n { quadratic[i] = q[i] }
        for i in 0 ..< n {
            linear[i] = l[i]; current[i] = c[i]; upper[i] = u[i]; costWeight[i] = kappa[i]
            coverageValue[i] = g[i]; coverageCost[i] = k[i]
        }
        coverageFloor = r
    }

    /// The solution as an array (tests).
    public var solution: [Double] { Array(UnsafeBufferPointer(start: y, count: n)) }

    /// Objective of the problem at any point y (first n entries).
    public func objective(at point: UnsafePointer<Double>) -> Double {
        var total = 0.0
        for i in 0 ..< n {
            var row = 0.0
            for j in 0 ..< n { row += quadratic[i * n + j] * point[j] }
            total += point[i] * row + linear[i] * point[i] + costWeight[i] * abs(point[i] - current[i])
        }
        return total
    }

    /// Coverage Σ g y − Σ k |y − c| at any point.
    public func coverage(at point: UnsafePointer<Double>) -> Double {
        var total = 0.0
        for i in 0 ..< n { total += coverageValue[i] * point[i] - coverageCost[i] * abs(point[i] - current[i]) }
        return total
    }

    // MARK: solve

    public func solve(maxIterations: Int = 120) -> Outcome {
        let n = self.n
        iterations = 0
        eta = 0
        zeta = 0
        if n == 0 {
            objective = 0
            maxCoverage = 0
            return coverageFloor > 0 ? .infeasible(maxCoverage: 0) : .solved(iterations: 0)
        }
        for i in 0 ..< n {
            let ok = current[i].isFinite && upper[i].isFinite && linear[i].isFinite && costWeight[i].isFinite
                && coverageValue[i].isFinite && coverageCost[i].isFinite
            if !ok { return .numericalFailure("non-finite problem data") }
            precondition(current[i] >= 0 && upper[i] >= current[i] && costWeight[i] >= 0 && coverageCost[i] >= 0,
                         "QPSolver: bounds or costs out of range at \(i)")
        }
        for i in 0 ..< n * n where !quadratic[i].isFinite { return .numericalFailure("non-finite quadratic term") }
        // Room to buy and to sell; below 1e-13 (units of C, i.e. rounding of the caps) a side is closed, so the
        // box never degenerates to a width that doubles cannot split.
        for i in 0 ..< n {
            let buy = upper[i] - current[i]
            roomP[i] = buy > 1e-13 ? buy : 0
            roomM[i] = current[i] > 1e-13 ? current[i] : 0
        }
        hasCoverage = coverageFloor > -Double.infinity
        if coverageFloor.isNaN { return .numericalFailure("coverage floor is NaN") }
        if hasCoverage {
            maxCoverage = order.withUnsafeMutableBufferPointer { o in
                CoverageLP.maximize(n: n, current: current, upper: upper, value: coverageValue, cost: coverageCost,
                                    y: y, order: o.baseAddress!)
            }
            if maxCoverage < coverageFloor { return .infeasible(maxCoverage: maxCoverage) }
        } else {
            maxCoverage = .nan
        }
        var gc = 0.0
        for i in 0 ..< n { gc += coverageValue[i] * current[i] }
        r0 = hasCoverage ? coverageFloor - gc : 0

        for i in 0 ..< n * n { qA[i] = quadratic[i] }
        // 2P with the rows and columns of fixed assets zeroed (their rows of M are the identity), lower triangle in
        // column-major order (P is symmetric: element (i, j), i ≥ j, of column j is quadratic[i·n + j]).
        for j in 0 ..< n {
            let fixedJ = isFixed(j)
            for i in j ..< n { twoP[j * n + i] = fixedJ || isFixed(i) ? 0 : 2 * quadratic[i * n + j] }
        }
        // Scale of the problem (for tolerances and the regularisation).
        var diagMax = 0.0, linMax = 0.0
        for i in 0 ..< n {
            diagMax = max(diagMax, abs(quadratic[i * n + i]))
            linMax = max(linMax, abs(linear[i]), costWeight[i])
        }
        let scale = max(1, 2 * diagMax, linMax)

        // Starting point: interior fractions of the boxes that balance the swap row (Σp = Σm), unit duals.
        var totalBuyRoom = 0.0, totalSellRoom = 0.0
        for i in 0 ..< n { totalBuyRoom += roomP[i]; totalSellRoom += roomM[i] }
        var buyFraction = 0.5, sellFraction = 0.5
        if totalBuyRoom > 0 && totalSellRoom > 0 {
            // The larger side moves by the smaller side's half (at least a thousandth of its box: strictly inside).
            if totalBuyRoom > totalSellRoom {
                buyFraction = max(0.5 * totalSellRoom / totalBuyRoom, 1e-3)
            } else {
                sellFraction = max(0.5 * totalBuyRoom / totalSellRoom, 1e-3)
            }
        }
        for i in 0 ..< n {
            let room = roomP[i]
            p[i] = room > 0 ? buyFraction * room : 0
            m[i] = roomM[i] > 0 ? sellFraction * roomM[i] : 0
            zpl[i] = room > 0 ? 1 : 0; zpu[i] = zpl[i]
            zml[i] = roomM[i] > 0 ? 1 : 0; zmu[i] = zml[i]
        }
        eta = 0
        if hasCoverage {
            var v = -r0
            for i in 0 ..< n {
                let g = coverageValue[i], k = coverageCost[i]
                v += (g - k) * p[i] - (g + k) * m[i]
            }
            sigma = max(v, 0.1)
            zeta = 1
        } else {
            sigma = 0
            zeta = 0
        }
        var regularisation = 1e-13 * scale
        var bestMerit = Double.infinity, bestEta = 0.0, bestZeta = 0.0
        var lastPrimal = Double.infinity, lastDual = Double.infinity, lastComp = Double.infinity
        var compOneBack = Double.infinity, compTwoBack = Double.infinity

        for iteration in 0 ... maxIterations {
            iterations = iteration
            // Residuals at the current iterate.
            for i in 0 ..< n {
                y[i] = current[i] + p[i] - m[i]
                yA[i] = y[i]
            }
            DenseKernels.symv(qA, n: n, lda: n, x: yA, y: py)
            var re = 0.0, rc = hasCoverage ? -sigma - r0 : 0, dual = 0.0, comp = 0.0, count = 0
            var obj = 0.0, gradMax = 0.0
            for i in 0 ..< n {
                let g = 2 * py[i] + linear[i]
                grad[i] = g
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
                comp += sigma * zeta
                count += 1
            }
            let primal = max(abs(re), abs(rc))
            trace?("it \(iteration) primal \(primal) dual \(dual) comp \(comp) obj \(obj) eta \(eta) zeta \(zeta) sigma \(sigma)")
            lastPrimal = primal; lastDual = dual; lastComp = comp
            if !(primal.isFinite && dual.isFinite && comp.isFinite) {
                if bestMerit < .infinity { break }
                return .numericalFailure("iterates became non-finite")
            }
            if primal <= 1e-11 && dual <= 1e-10 * max(scale, gradMax) && comp <= 1e-12 * (1 + abs(obj)) {
                finish()
                return .solved(iterations: iteration)
            }
            // Keep the best iterate that meets the looser acceptance level (1e-9 of C on the rows): returned if
            // the strict criterion is never met (stagnation at the limits of double precision).
            let merit = max(primal, dual / max(scale, gradMax), comp / (1 + abs(obj)))
            if primal <= 1e-9 && dual <= 1e-8 * max(scale, gradMax) && comp <= 1e-9 * (1 + abs(obj)) && merit < bestMerit {
                bestMerit = merit
                for i in 0 ..< n { bestP[i] = p[i]; bestM[i] = m[i] }
                bestEta = eta
                bestZeta = zeta
            }
            // Past the acceptance level, an iterate that falls back out of it means the Newton systems have run
            // out of precision: stop with the best iterate.
            if bestMerit < .infinity && merit > 1e3 * bestMerit { break }
            if iteration == maxIterations { break }
            let mu = count > 0 ? comp / Double(count) : 0

            // Barrier weights, reduced matrix M = 2P + E⁻¹ (+ shift), β and γ.
            var gamma = 0.0
            for i in 0 ..< n {
                let bp = coverageValue[i] - coverageCost[i], bm = coverageValue[i] + coverageCost[i]
                let hasBuy = roomP[i] > 0, hasSell = roomM[i] > 0
                let dP = hasBuy ? zpl[i] / p[i] + zpu[i] / (roomP[i] - p[i]) : 0
                let dM = hasSell ? zml[i] / m[i] + zmu[i] / (roomM[i] - m[i]) : 0
                wP[i] = dP
                wM[i] = dM
                if hasBuy && hasSell {
                    // E⁻¹ = D_p·D_m/(D_p + D_m), β = (b_p·D_m + b_m·D_p)/(D_p + D_m), γ_i = (b_p − b_m)²/(D_p + D_m).
                    let sum = max(dP + dM, 1e-300)
                    invE[i] = dP * dM / sum
                    beta[i] = (bp * dM + bm * dP) / sum
                    gamma += (bp - bm) * (bp - bm) / sum
                } else if hasBuy {
                    invE[i] = dP
                    beta[i] = bp
                } else if hasSell {
                    invE[i] = dM
                    beta[i] = bm
                } else {
                    // Fixed asset (no room to buy, nothing to sell): its row of M is the identity and Δs_i = 0.
                    invE[i] = 0
                    beta[i] = 0
                }
            }
            gamma = max(gamma, 0)
            var factored = false
            for _ in 0 ..< 4 {
                // M's lower triangle (column-major): 2P from the copy made before iterating, then the diagonal.
                for j in 0 ..< n {
                    (factor + j * n + j).update(from: twoP + j * n + j, count: n - j)
                    factor[j * n + j] = isFixed(j) ? 1 : factor[j * n + j] + invE[j] + regularisation
                }
                let info = DenseKernels.choleskyInPlace(factor, n: n)
                if info == 0 { factored = true; break }
                regularisation *= 1e4
            }
            if !factored {
                if bestMerit < .infinity { break }
                return .numericalFailure("Newton matrix not positive definite after regularisation")
            }
            for i in 0 ..< n {
                cols[i] = isFixed(i) ? 0 : 1
                cols[n + i] = beta[i]
            }
            solveColumns(offset: 0, count: 2)

            // Predictor (affine scaling), then Mehrotra's corrector.
            direction(tau: 0, corrector: false, gamma: gamma)
            let alphaAffine = maxStep()
            var compAffine = 0.0
            for i in 0 ..< n {
                let room = roomP[i]
                if room > 0 {
                    let pn = p[i] + alphaAffine * dp[i]
                    compAffine += pn * (zpl[i] + alphaAffine * dzpl[i]) + (room - pn) * (zpu[i] + alphaAffine * dzpu[i])
                }
                if roomM[i] > 0 {
                    let mn = m[i] + alphaAffine * dm[i]
                    compAffine += mn * (zml[i] + alphaAffine * dzml[i]) + (roomM[i] - mn) * (zmu[i] + alphaAffine * dzmu[i])
                }
            }
            if hasCoverage { compAffine += (sigma + alphaAffine * dSigma) * (zeta + alphaAffine * dZeta) }
            let muAffine = count > 0 ? max(compAffine, 0) / Double(count) : 0
            var centering = mu > 0 ? min(1, pow3(muAffine / mu)) : 0
            // Stagnation guard: when the gap has not fallen by a tenth over the last two iterations (iterates can cycle
            // between two points when the coverage row is weakly active: slack and multiplier both tending to 0),
            // take a more centred step, which restores the decrease.
            if iteration >= 2 && comp > 0.9 * compTwoBack { centering = max(centering, 0.5) }
            compTwoBack = compOneBack
            compOneBack = comp
            for i in 0 ..< n {
                ap[i] = dp[i]; am[i] = dm[i]
                azpl[i] = dzpl[i]; azpu[i] = dzpu[i]; azml[i] = dzml[i]; azmu[i] = dzmu[i]
            }
            aSigma = dSigma
            aZeta = dZeta
            direction(tau: centering * mu, corrector: true, gamma: gamma)
            let alpha = min(1, QPSolver.stepFactor * maxStep())
            for i in 0 ..< n {
                p[i] += alpha * dp[i]; m[i] += alpha * dm[i]
                zpl[i] += alpha * dzpl[i]; zpu[i] += alpha * dzpu[i]
                zml[i] += alpha * dzml[i]; zmu[i] += alpha * dzmu[i]
            }
            eta += alpha * dEta
            if hasCoverage {
                sigma += alpha * dSigma
                zeta += alpha * dZeta
            }
        }
        if bestMerit < .infinity {
            for i in 0 ..< n { p[i] = bestP[i]; m[i] = bestM[i] }
            eta = bestEta
            zeta = bestZeta
            finish()
            return .solved(iterations: iterations)
        }
        finish()
        return .notConverged(iterations: iterations, primalResidual: lastPrimal, dualResidual: lastDual, complementarity: lastComp)
    }

    /// An asset with no room to buy and nothing to sell: y_i = c_i = u_i.
    @inline(__always) private func isFixed(_ i: Int) -> Bool { !(roomP[i] > 0) && !(roomM[i] > 0) }

    @inline(__always) private func pow3(_ x: Double) -> Double { x * x * x }

    /// y from the split variables, clipped into the box; the objective at y.
    private func finish() {
        for i in 0 ..< n { y[i] = min(max(current[i] + p[i] - m[i], 0), upper[i]) }
        objective = objective(at: y)
    }

    /// Solves M·X = cols[offset…] for `count` columns with the current factor.
    private func solveColumns(offset: Int, count: Int) {
        let n = self.n
        DenseKernels.choleskySolveInPlace(factor: factor, n: n, rhs: cols + offset * n, nrhs: count)
    }

    /// One Newton direction for complementarity target τ (with Mehrotra's second-order term when `corrector`),
    /// followed by one step of iterative refinement on the reduced system (same factor): late iterations have
    /// barrier weights spanning 20+ orders of magnitude and the bordered solve alone loses the two rows' accuracy.
    private func direction(tau: Double, corrector: Bool, gamma: Double) {
        let n = self.n
        for i in 0 ..< n {
            let room = roomP[i]
            var rhoPi = 0.0, rhoMi = 0.0
            if room > 0 {
                let xl = p[i], xu = room - p[i]
                rpl[i] = tau - xl * zpl[i] - (corrector ? ap[i] * azpl[i] : 0)
                rpu[i] = tau - xu * zpu[i] - (corrector ? -ap[i] * azpu[i] : 0)
                rhoPi = -rp[i] + rpl[i] / xl - rpu[i] / xu
            }
            if roomM[i] > 0 {
                let xl = m[i], xu = roomM[i] - m[i]
                rml[i] = tau - xl * zml[i] - (corrector ? am[i] * azml[i] : 0)
                rmu[i] = tau - xu * zmu[i] - (corrector ? -am[i] * azmu[i] : 0)
                rhoMi = -rm[i] + rml[i] / xl - rmu[i] / xu
            }
            rhoP[i] = rhoPi
            rhoM[i] = rhoMi
        }
        var re = 0.0, rc = -sigma - r0
        for i in 0 ..< n {
            re += p[i] - m[i]
            let gv = coverageValue[i], k = coverageCost[i]
            rc += (gv - k) * p[i] - (gv + k) * m[i]
        }
        let rSigma = hasCoverage ? tau - sigma * zeta - (corrector ? aSigma * aZeta : 0) : 0
        let fEq = -re
        let fCov = hasCoverage ? -rc + rSigma / zeta : 0
        reducedSolve(fEq: fEq, fCov: fCov, gamma: gamma, into: 0)
        // Refinement: residuals of the unreduced linear system at (Δp, Δm, Δη, Δζ), solved again and added.
        for i in 0 ..< n { ds[i] = dp[i] - dm[i] }
        DenseKernels.symv(qA, n: n, lda: n, x: ds, y: qds)
        var eEq = fEq, eCov = fCov - (hasCoverage ? sigma / zeta * dZeta : 0)
        var rightSide = max(abs(fEq), abs(fCov)), residual = 0.0
        for i in 0 ..< n {
            let bp = coverageValue[i] - coverageCost[i], bm = coverageValue[i] + coverageCost[i]
            let hq = 2 * qds[i]
            let room = roomP[i]
            if room > 0 {
                let dpw = zpl[i] / p[i] + zpu[i] / (room - p[i])
                rightSide = max(rightSide, abs(rhoP[i]))
                rhoP[i] -= hq + dpw * dp[i] - dEta - bp * dZeta
                residual = max(residual, abs(rhoP[i]))
            } else { rhoP[i] = 0 }
            if roomM[i] > 0 {
                let dmw = zml[i] / m[i] + zmu[i] / (roomM[i] - m[i])
                rightSide = max(rightSide, abs(rhoM[i]))
                rhoM[i] -= -hq + dmw * dm[i] + dEta + bm * dZeta
                residual = max(residual, abs(rhoM[i]))
            } else { rhoM[i] = 0 }
            eEq -= ds[i]
            if hasCoverage { eCov -= bp * dp[i] - bm * dm[i] }
        }
        residual = max(residual, abs(eEq), abs(eCov))
        // Refine only a direction whose residual is above 1e-12 of its right side (the early, well-conditioned
        // iterations pass as they are and save a solve; late ones always refine).
        if !(residual <= 1e-12 * rightSide) {
            // Keep the first solution in (dp2, dm2) while the correction lands in (dp, dm, dEta, dZeta).
            for i in 0 ..< n { dp2[i] = dp[i]; dm2[i] = dm[i] }
            let eta1 = dEta, zeta1 = dZeta
            reducedSolve(fEq: eEq, fCov: eCov, gamma: gamma, into: 0)
            dEta += eta1
            dZeta += zeta1
            for i in 0 ..< n {
                dp[i] += dp2[i]
                dm[i] += dm2[i]
            }
        }
        // Bound duals and the coverage slack from the refined primal step (rpl… hold the complementarity targets).
        for i in 0 ..< n {
            let room = roomP[i]
            if room > 0 {
                dzpl[i] = (rpl[i] - zpl[i] * dp[i]) / p[i]
                dzpu[i] = (rpu[i] + zpu[i] * dp[i]) / (room - p[i])
            } else { dzpl[i] = 0; dzpu[i] = 0 }
            if roomM[i] > 0 {
                dzml[i] = (rml[i] - zml[i] * dm[i]) / m[i]
                dzmu[i] = (rmu[i] + zmu[i] * dm[i]) / (roomM[i] - m[i])
            } else { dzml[i] = 0; dzmu[i] = 0 }
        }
        dSigma = hasCoverage ? (rSigma - sigma * dZeta) / zeta : 0
    }

    /// Solves the reduced Newton system for the stationarity right sides ρ_p, ρ_m (in `rhoP`, `rhoM`) and the
    /// row right sides: 1ᵀΔs = fEq and (g − k)ᵀΔp − (g + k)ᵀΔm + (σ/ζ)·Δζ = fCov. Writes dp, dm, dEta, dZeta.
    /// Needs the factor of M and the columns M⁻¹·1, M⁻¹·β in `cols`.
    private func reducedSolve(fEq: Double, fCov: Double, gamma: Double, into _: Int) {
        let n = self.n
        var coverageTerm = 0.0
        for i in 0 ..< n {
            let bp = coverageValue[i] - coverageCost[i], bm = coverageValue[i] + coverageCost[i]
            let hasBuy = roomP[i] > 0, hasSell = roomM[i] > 0
            var u = 0.0
            if hasBuy && hasSell {
                let sum = max(wP[i] + wM[i], 1e-300)
                u = (rhoP[i] * wM[i] - rhoM[i] * wP[i]) / sum
                coverageTerm += (bp - bm) * (rhoP[i] + rhoM[i]) / sum
            } else if hasBuy {
                u = rhoP[i]
            } else if hasSell {
                u = -rhoM[i]
            }
            uvec[i] = u
            cols[2 * n + i] = u
        }
        solveColumns(offset: 2, count: 1)
        var sum1 = 0.0, sum2 = 0.0, sum0 = 0.0, b1 = 0.0, b2 = 0.0, b0 = 0.0
        for i in 0 ..< n {
            sum1 += cols[i]; sum2 += cols[n + i]; sum0 += cols[2 * n + i]
            b1 += beta[i] * cols[i]; b2 += beta[i] * cols[n + i]; b0 += beta[i] * cols[2 * n + i]
        }
        if hasCoverage {
            let a11 = sum1, a12 = 0.5 * (sum2 + b1), a22 = b2 + gamma + sigma / zeta
            let f1 = fEq - sum0
            let f2 = fCov - coverageTerm - b0
            let det = a11 * a22 - a12 * a12
            if det > 1e-300 * max(1, abs(a11 * a22)) && det.isFinite {
                dEta = (f1 * a22 - a12 * f2) / det
                dZeta = (a11 * f2 - a12 * f1) / det
            } else {
                // The two rows are (numerically) parallel: keep the swap row, let the slack absorb coverage.
                dEta = f1 / a11
                dZeta = 0
            }
        } else {
            dEta = (fEq - sum0) / sum1
            dZeta = 0
        }
        for i in 0 ..< n {
            let ds = cols[2 * n + i] + dEta * cols[i] + dZeta * cols[n + i]
            let bp = coverageValue[i] - coverageCost[i], bm = coverageValue[i] + coverageCost[i]
            let u = uvec[i]
            _ = u
            let hasBuy = roomP[i] > 0, hasSell = roomM[i] > 0
            if hasBuy && hasSell {
                // Δp = (ρ_p + ρ_m + D_m·Δs + Δζ(b_p − b_m))/(D_p + D_m), Δm = Δp − Δs.
                let sum = max(wP[i] + wM[i], 1e-300)
                let d = (rhoP[i] + rhoM[i] + wM[i] * ds + dZeta * (bp - bm)) / sum
                dp[i] = d
                dm[i] = d - ds
            } else if hasBuy {
                dp[i] = ds; dm[i] = 0
            } else if hasSell {
                dp[i] = 0; dm[i] = -ds
            } else {
                dp[i] = 0; dm[i] = 0
            }
        }
    }

    /// Largest step in (0, 1] keeping every bound slack and dual non-negative.
    private func maxStep() -> Double {
        var alpha = 1.0
        @inline(__always) func limit(_ x: Double, _ dx: Double) {
            if dx < 0 { alpha = min(alpha, -x / dx) }
        }
        for i in 0 ..< n {
            let room = roomP[i]
            if room > 0 {
                limit(p[i], dp[i]); limit(room - p[i], -dp[i])
                limit(zpl[i], dzpl[i]); limit(zpu[i], dzpu[i])
            }
            if roomM[i] > 0 {
                limit(m[i], dm[i]); limit(roomM[i] - m[i], -dm[i])
                limit(zml[i], dzml[i]); limit(zmu[i], dzmu[i])
            }
        }
        if hasCoverage {
            limit(sigma, dSigma)
            limit(zeta, dZeta)
        }
        return alpha
    }
}

/// A 64-byte aligned, zero-initialised buffer of doubles owned by one solver.
final class AlignedBuffer {
    let pointer: UnsafeMutablePointer<Double>
    let count: Int

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Double>.stride, alignment: 64)
        pointer = raw.initializeMemory(as: Double.self, repeating: 0, count: max(1, count))
    }

    deinit { pointer.deallocate() }

    @inline(__always) subscript(index: Int) -> Double {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}
