import LinearAlgebra

/// The active-set finish of `QPSolver` (METHODOLOGY "Rebalancing"): from an interior iterate, guess which bound or
/// kink each asset ends on, solve the equality-constrained QP on the few assets left free exactly, and return that
/// point when it meets the solver's own convergence criteria on the whole problem.
///
/// Why: at the optimum of this family nearly every asset sits on a bound or on its kink |y − c| = 0 (tier I: 1.8
/// free assets of 193 on average, at most 6), and the interior point identifies them many iterations before its
/// gap reaches 1e-12. Each of those iterations is an n × n Cholesky; the finish is an f × f solve (f free assets)
/// and one mat-vec.
///
/// The guess, per side of the split form (buys p ∈ [0, roomP], sells m ∈ [0, roomM]): at the lower bound when the
/// slack to it is below its dual (p < z_pl), at the upper bound likewise, otherwise interior. An asset with both
/// sides at their lower bounds stays at c; buy side at its cap: y = u; sell side at its cap: y = 0; one side interior
/// (the other at its lower bound): free, y = c ± its step. The coverage row is taken as active when its slack is
/// below its multiplier (σ < ζ). On the free assets F, with the pinned values y_B fixed, stationarity and the active
/// rows are linear:
///
///     2·P_FF·y_F − η·1 − ζ·a_F = −(ℓ_F ± κ_F + 2·P_FB·y_B)      (a_i = g_i ∓ k_i: the row's slope on i's side)
///     1ᵀy_F = 1ᵀc − 1ᵀy_B,   a_Fᵀy_F = r − (the pinned and constant parts of the coverage)   (when active)
///
/// solved by Gaussian elimination with partial pivoting. The candidate is accepted only when, evaluated on the
/// whole problem, it meets `ResidualNorms.isConverged`: rows within `rowTolerance`, every bound multiplier implied by
/// stationarity of the right sign within `stationarityTolerance` (its wrong-signed part counted as the stationarity
/// residual), ζ ≥ 0, and complementarity (zero by construction, but for the coverage row's slack) within the gap
/// tolerance. Those are the conditions the interior point itself stops on, so a finished point is a solution of the
/// same accuracy (in fact exact up to rounding when the guess is right); when it is not accepted the iterations go on.
extension QPSolver {
    /// Where the finish puts asset i (its kind), the free assets' positions, and the small system.
    struct FinishWorkspace {
        /// Per asset, a `Placement` raw value.
        var placement = Arena.placeholderIndices
        /// Positions of the free assets (first `freeCount` entries).
        var free = Arena.placeholderIndices
        /// The candidate point y, the free assets' values before clipping, and P·y at the candidate (n each).
        var candidate = Arena.placeholder, solved = Arena.placeholder, quadraticTerm = Arena.placeholder
        /// Stationarity of the buy side (z_pl − z_pu) and of the sell side (z_ml − z_mu) at the candidate.
        var buyMultiplier = Arena.placeholder, sellMultiplier = Arena.placeholder
        /// The (f + 2) × (f + 2) system, row-major, and its right side / solution.
        var system = Arena.placeholder, solution = Arena.placeholder

        init() {}

        init(_ arena: Arena, length: Int) {
            placement = arena.carveIndices(length)
            free = arena.carveIndices(length)
            candidate = arena.carve(length)
            solved = arena.carve(length)
            quadraticTerm = arena.carve(length)
            buyMultiplier = arena.carve(length)
            sellMultiplier = arena.carve(length)
            let order = min(length, QPSolver.finishMaxFree) + 2
            system = arena.carve(order * order)
            solution = arena.carve(order)
        }
    }

    /// Where an asset ends in the guessed active set.
    enum Placement: Int {
        /// y = c (no trade; also an asset with both sides closed).
        case atCurrent
        /// y = u (bought up to its cap).
        case atCap
        /// y = 0 (sold out).
        case atZero
        /// c < y < u: solved for.
        case freeBuy
        /// 0 < y < c: solved for.
        case freeSell
    }

    /// Tries the finish at the current iterate; true when it was accepted (then y, η, ζ and the objective hold the
    /// finished point). The guess is revised up to `finishRounds` times, primal–dual active-set style: free assets
    /// that left their box are pinned at the bound they crossed, pinned ones whose multiplier has the wrong sign
    /// are freed towards it, and the coverage row is dropped when ζ < 0 or taken when it is violated.
    func tryActiveSetFinish() -> Bool {
        guard var coverageActive = guessActiveSet() else { return false }
        for _ in 0 ..< QPSolver.finishRounds {
            guard let underdetermined = solveFreeAssets(coverageActive: coverageActive) else { return false }
            let outside = clipFreeAssets()
            DenseKernels.symv(data.quadratic, n: n, lda: n, x: finishing.candidate, y: finishing.quadraticTerm)
            let norms = candidateNorms(eta: finishEta, zeta: finishZeta)
            if outside <= QPSolver.finishBoxSlack && finishZeta >= 0 && norms.isConverged(scale: scale) {
                acceptCandidate()
                return true
            }
            let dualTolerance = QPSolver.stationarityTolerance * max(scale, norms.gradientMax)
            // An active coverage row left to the acceptance test must hold with equality.
            let rowsMissed = norms.primal > QPSolver.rowTolerance
                || coverageActive && abs(finishCoverage - data.coverageFloor) > QPSolver.rowTolerance
            guard reviseActiveSet(coverageActive: &coverageActive, dualTolerance: dualTolerance,
                                  rowsMissed: underdetermined && rowsMissed) else { return false }
        }
        return false
    }

    /// The guess from the iterate: placements, the free list and the pinned values (`collectFreeAssets`); whether
    /// the coverage row is active. Nil when the iterate does not suggest one (a side at both bounds, both sides
    /// interior where trading costs something, or more than `finishMaxFree` free assets).
    private func guessActiveSet() -> Bool? {
        let n = self.n, roomP = boxes.roomP, roomM = boxes.roomM, placement = finishing.placement
        let p = x.p, m = x.m, zpl = x.zpl, zpu = x.zpu, zml = x.zml, zmu = x.zmu
        let costWeight = data.costWeight, coverageCost = data.coverageCost
        for i in 0 ..< n {
            let buy = Self.boundSide(roomP[i], p[i], zpl[i], zpu[i])
            let sell = Self.boundSide(roomM[i], m[i], zml[i], zmu[i])
            let place: Placement
            switch (buy, sell) {
            case (.lower, .lower): place = .atCurrent
            case (.upper, .lower): place = .atCap
            case (.lower, .upper): place = .atZero
            case (.interior, .lower): place = .freeBuy
            case (.lower, .interior): place = .freeSell
            case (.interior, .interior) where costWeight[i] == 0 && coverageCost[i] == 0:
                // Trading costs nothing: both sides have the same slope, one free variable.
                place = p[i] >= m[i] ? .freeBuy : .freeSell
            default: return nil
            }
            placement[i] = place.rawValue
        }
        guard collectFreeAssets() else { return nil }
        return hasCoverage && x.sigma < x.zeta
    }

    /// From the placements: the free list, and the pinned assets' values in the candidate (free ones 0). False when
    /// more than `finishMaxFree` assets are free.
    private func collectFreeAssets() -> Bool {
        let n = self.n, placement = finishing.placement, candidate = finishing.candidate, current = data.current
        let free = finishing.free, roomP = boxes.roomP, roomM = boxes.roomM
        var freeCount = 0
        for i in 0 ..< n {
            switch Placement(rawValue: placement[i])! {
            case .atCurrent: candidate[i] = current[i]
            case .atCap: candidate[i] = current[i] + roomP[i]
            case .atZero: candidate[i] = current[i] - roomM[i]
            case .freeBuy, .freeSell:
                guard freeCount < QPSolver.finishMaxFree else { return false }
                free[freeCount] = i
                freeCount += 1
                candidate[i] = 0
            }
        }
        finishingFreeCount = freeCount
        return true
    }

    /// Which bound a side of the split form is guessed at (a closed side is at its lower bound).
    private enum BoundSide { case lower, upper, interior }

    @inline(__always) private static func boundSide(_ room: Double, _ v: Double, _ zLower: Double,
                                                    _ zUpper: Double) -> BoundSide {
        guard room > 0 else { return .lower }
        let lowerSlack = v, upperSlack = room - v
        if lowerSlack < zLower && lowerSlack <= upperSlack { return .lower }
        if upperSlack < zUpper { return .upper }
        return .interior
    }

    /// The range of a free asset's value on its side of the kink: [c, u] buying, [0, c] selling.
    @inline(__always) private func freeRange(_ i: Int) -> (low: Double, high: Double) {
        let c = data.current[i]
        return finishing.placement[i] == Placement.freeBuy.rawValue ? (c, c + boxes.roomP[i]) : (c - boxes.roomM[i], c)
    }

    /// Clips the free assets' values into their ranges; returns the largest distance clipped (units of C).
    private func clipFreeAssets() -> Double {
        let candidate = finishing.candidate
        var outside = 0.0
        for r in 0 ..< finishingFreeCount {
            let i = finishing.free[r], range = freeRange(i), v = candidate[i]
            finishing.solved[i] = v
            outside = max(outside, range.low - v, v - range.high)
            candidate[i] = min(max(v, range.low), range.high)
        }
        return outside
    }

    /// The primal–dual active-set revision of the guess, from the candidate before clipping (`finishing.solved`)
    /// and the implied multipliers: returns false when nothing changes (or too many assets would be free). With
    /// `rowsMissed` (the rows left to the acceptance test are not met: too few free assets to move them), the pinned
    /// asset whose move costs least is freed as well.
    private func reviseActiveSet(coverageActive: inout Bool, dualTolerance: Double, rowsMissed: Bool) -> Bool {
        let n = self.n, placement = finishing.placement, solved = finishing.solved
        let buy = finishing.buyMultiplier, sell = finishing.sellMultiplier, roomP = boxes.roomP, roomM = boxes.roomM
        var changed = false, cheapest = -1, cheapestCost = Double.infinity, cheapestPlace = Placement.atCurrent
        for i in 0 ..< n {
            let place = Placement(rawValue: placement[i])!
            var next = place
            switch place {
            case .freeBuy, .freeSell:
                let range = freeRange(i), v = solved[i]
                if v > range.high + QPSolver.finishBoxSlack { next = place == .freeBuy ? .atCap : .atCurrent }
                if v < range.low - QPSolver.finishBoxSlack { next = place == .freeBuy ? .atCurrent : .atZero }
            case .atCurrent, .atCap, .atZero:
                // The multiplier of the bound the asset would leave, and the side it would move to.
                let moves = Self.moves(place, buy: buy[i], sell: sell[i], buyOpen: roomP[i] > 0, sellOpen: roomM[i] > 0)
                if moves.cost < -dualTolerance {
                    next = moves.to
                } else if moves.cost < cheapestCost {
                    cheapest = i; cheapestCost = moves.cost; cheapestPlace = moves.to
                }
            }
            if next != place { placement[i] = next.rawValue; changed = true }
        }
        if rowsMissed && cheapest >= 0 && cheapestCost.isFinite {
            placement[cheapest] = cheapestPlace.rawValue
            changed = true
        }
        if hasCoverage {
            if coverageActive && finishZeta < 0 { coverageActive = false; changed = true }
            if !coverageActive && finishCoverage < data.coverageFloor - QPSolver.rowTolerance {
                coverageActive = true; changed = true
            }
        }
        return changed && collectFreeAssets()
    }

    /// For a pinned asset: the multiplier of the bound it would leave (negative: leaving improves the objective) and
    /// where it goes; +∞ when no side can move.
    @inline(__always) private static func moves(_ place: Placement, buy: Double, sell: Double, buyOpen: Bool,
                                                sellOpen: Bool) -> (cost: Double, to: Placement) {
        switch place {
        case .atCurrent:
            let buyCost = buyOpen ? buy : .infinity, sellCost = sellOpen ? sell : .infinity
            return buyCost <= sellCost ? (buyCost, .freeBuy) : (sellCost, .freeSell)
        case .atCap: return (-buy, .freeBuy)
        case .atZero: return (-sell, .freeSell)
        case .freeBuy, .freeSell: return (.infinity, place)
        }
    }

    /// Slope of the coverage row on a free asset's side: g − k buying, g + k selling.
    @inline(__always) private func coverageSlope(_ i: Int, buying: Bool) -> Double {
        buying ? data.coverageValue[i] - data.coverageCost[i] : data.coverageValue[i] + data.coverageCost[i]
    }

    /// Solves the free assets' stationarity with the swap row (and the coverage row when active) for y_F, η, ζ:
    /// y_F into `finishing.candidate`, η and ζ into `finishEta`, `finishZeta`. At a degenerate vertex the rows fix
    /// y_F (or there is no free asset) and leave the multipliers undetermined by these equations: then ζ, and if
    /// need be η too, are taken from the iterate (which tends to the centre of their optimal set) and the rows they
    /// no longer solve are left to the acceptance test. False when even that system is singular.
    /// Returns whether a multiplier was taken from the iterate (nil: singular).
    private func solveFreeAssets(coverageActive: Bool) -> Bool? {
        if coverageActive && solveFreeSystem(solvingEta: true, solvingZeta: true, coverageActive: true) { return false }
        if solveFreeSystem(solvingEta: true, solvingZeta: false, coverageActive: coverageActive) {
            return coverageActive
        }
        return solveFreeSystem(solvingEta: false, solvingZeta: false, coverageActive: coverageActive) ? true : nil
    }

    /// One system of `solveFreeAssets`: the f free stationarity rows, plus the swap row when solving for η and the
    /// coverage row when solving for ζ; a multiplier not solved for is the iterate's (ζ = 0 when the coverage row is
    /// guessed inactive).
    private func solveFreeSystem(solvingEta: Bool, solvingZeta: Bool, coverageActive: Bool) -> Bool {
        // Local copies of the state's pointers: the loops then access no class property (no exclusivity checks).
        let data = self.data, finishing = self.finishing
        let n = self.n, f = finishingFreeCount
        let etaColumn = f, zetaColumn = f + (solvingEta ? 1 : 0), order = zetaColumn + (solvingZeta ? 1 : 0)
        let free = finishing.free, placement = finishing.placement, candidate = finishing.candidate
        let a = finishing.system, b = finishing.solution, quadratic = data.quadratic
        let eta = solvingEta ? 0 : x.eta, zeta = solvingZeta || !coverageActive ? 0 : x.zeta
        for entry in 0 ..< order * order { a[entry] = 0 }
        for r in 0 ..< f {
            let i = free[r], buying = placement[i] == Placement.freeBuy.rawValue
            let base = i * n
            // P_iB·y_B over the pinned assets (free ones hold 0 in the candidate).
            var pinned = 0.0
            for j in 0 ..< n { pinned += quadratic[base + j] * candidate[j] }
            for c in 0 ..< f { a[r * order + c] = 2 * quadratic[base + free[c]] }
            let slope = coverageSlope(i, buying: buying)
            if solvingEta { a[r * order + etaColumn] = -1 }
            if solvingZeta { a[r * order + zetaColumn] = -slope }
            b[r] = -(data.linear[i] + (buying ? 1 : -1) * data.costWeight[i] + 2 * pinned) + eta + zeta * slope
        }
        if solvingEta {
            var swapRight = 0.0
            for i in 0 ..< n { swapRight += data.current[i] - candidate[i] }
            for c in 0 ..< f { a[etaColumn * order + c] = 1 }
            b[etaColumn] = swapRight
        }
        if solvingZeta {
            for c in 0 ..< f {
                a[zetaColumn * order + c] = coverageSlope(free[c], buying: placement[free[c]] == Placement.freeBuy.rawValue)
            }
            b[zetaColumn] = coverageRightSide()
        }
        guard Self.gaussianSolve(a, b, order: order) else { return false }
        for r in 0 ..< f { candidate[free[r]] = b[r] }
        finishEta = solvingEta ? b[etaColumn] : eta
        finishZeta = solvingZeta ? b[zetaColumn] : zeta
        return true
    }

    /// The coverage row's right side on the free assets' part a_Fᵀy_F: r less the pinned assets' coverage and the
    /// free assets' constant terms (+k·c buying, −k·c selling).
    private func coverageRightSide() -> Double {
        let data = self.data, finishing = self.finishing
        let placement = finishing.placement, candidate = finishing.candidate
        var right = data.coverageFloor
        for i in 0 ..< n {
            let p = placement[i], c = data.current[i], k = data.coverageCost[i]
            if p == Placement.freeBuy.rawValue {
                right -= k * c
            } else if p == Placement.freeSell.rawValue {
                right += k * c
            } else {
                right -= data.coverageValue[i] * candidate[i] - k * abs(candidate[i] - c)
            }
        }
        return right
    }

    /// Solves A·x = b in place (A row-major, order × order; x into b) by Gaussian elimination with partial pivoting.
    /// False when a pivot is below `finishPivotFloor` of A's largest entry or not finite (singular: the guess leaves
    /// a row or a multiplier undetermined). An order of 0 is solved trivially.
    static func gaussianSolve(_ a: UnsafeMutablePointer<Double>, _ b: UnsafeMutablePointer<Double>, order m: Int) -> Bool {
        var entryMax = 0.0
        for entry in 0 ..< m * m { entryMax = max(entryMax, abs(a[entry])) }
        for k in 0 ..< m {
            var pivotRow = k, largest = abs(a[k * m + k])
            for r in k + 1 ..< m where abs(a[r * m + k]) > largest { pivotRow = r; largest = abs(a[r * m + k]) }
            guard largest > QPSolver.finishPivotFloor * entryMax, largest.isFinite else { return false }
            if pivotRow != k {
                for c in 0 ..< m { let t = a[k * m + c]; a[k * m + c] = a[pivotRow * m + c]; a[pivotRow * m + c] = t }
                let t = b[k]; b[k] = b[pivotRow]; b[pivotRow] = t
            }
            let inverse = 1 / a[k * m + k]
            for r in k + 1 ..< m {
                let factor = a[r * m + k] * inverse
                guard factor != 0 else { continue }
                for c in k + 1 ..< m { a[r * m + c] -= factor * a[k * m + c] }
                b[r] -= factor * b[k]
            }
        }
        var k = m - 1
        while k >= 0 {
            var total = b[k]
            for c in k + 1 ..< m { total -= a[k * m + c] * b[c] }
            b[k] = total / a[k * m + k]
            k -= 1
        }
        for k in 0 ..< m where !b[k].isFinite { return false }
        return true
    }

    /// How far an asset's side stationarities (buy = z_pl − z_pu, sell = z_ml − z_mu) are from what its placement
    /// allows: a bound's multiplier must be ≥ 0, a free side's stationarity 0; a closed side has no condition.
    @inline(__always) static func stationarityViolation(_ place: Placement, buy: Double, sell: Double, buyOpen: Bool,
                                                        sellOpen: Bool) -> Double {
        let buyAtLower = buyOpen ? max(-buy, 0) : 0, sellAtLower = sellOpen ? max(-sell, 0) : 0
        switch place {
        case .atCurrent: return max(buyAtLower, sellAtLower)
        case .atCap: return max(max(buy, 0), sellAtLower)
        case .atZero: return max(max(sell, 0), buyAtLower)
        case .freeBuy: return max(abs(buy), sellAtLower)
        case .freeSell: return max(abs(sell), buyAtLower)
        }
    }

    /// Makes the candidate the solution: y (clipped into [0, u] like every solution: a cap reached as c + (u − c)
    /// may round one ulp past u), η, ζ, and the objective at y.
    private func acceptCandidate() {
        let candidate = finishing.candidate, upper = data.upper
        for i in 0 ..< n { y[i] = min(max(candidate[i], 0), upper[i]) }
        x.eta = finishEta
        x.zeta = finishZeta
        objective = data.objective(at: y)
    }

    /// The residual norms of the candidate (P·y already in `finishing.quadraticTerm`): rows, the wrong-signed
    /// parts of the implied bound multipliers and the residuals of the free assets' stationarity, the coverage
    /// slack's complementarity, the objective.
    private func candidateNorms(eta: Double, zeta: Double) -> ResidualNorms {
        // Local copies of the state's pointers: the loops then access no class property (no exclusivity checks).
        let data = self.data, boxes = self.boxes, finishing = self.finishing
        let n = self.n, candidate = finishing.candidate, py = finishing.quadraticTerm, placement = finishing.placement
        var swap = 0.0, coverage = -data.coverageFloor, dual = 0.0, objective = 0.0, gradientMax = 0.0
        for i in 0 ..< n {
            let y = candidate[i], c = data.current[i], kappa = data.costWeight[i]
            let gv = data.coverageValue[i], k = data.coverageCost[i]
            let g = 2 * py[i] + data.linear[i]
            gradientMax = max(gradientMax, abs(g))
            objective += y * py[i] + data.linear[i] * y + kappa * abs(y - c)
            swap += y - c
            coverage += gv * y - k * abs(y - c)
            // Stationarity of each side: buy = z_pl − z_pu, sell = z_ml − z_mu at the candidate.
            let buy = g + kappa - eta - zeta * (gv - k), sell = -g + kappa + eta + zeta * (gv + k)
            finishing.buyMultiplier[i] = buy
            finishing.sellMultiplier[i] = sell
            let violation = Self.stationarityViolation(Placement(rawValue: placement[i])!, buy: buy, sell: sell,
                                                       buyOpen: boxes.roomP[i] > 0, sellOpen: boxes.roomM[i] > 0)
            dual = max(dual, violation)
        }
        finishCoverage = coverage + data.coverageFloor
        var primal = abs(swap)
        var complementarity = 0.0
        if hasCoverage {
            // The slack σ = coverage − r must be ≥ 0; with ζ > 0 its complementarity σ·ζ counts in the gap.
            primal = max(primal, max(-coverage, 0))
            complementarity = max(coverage, 0) * zeta
        }
        return ResidualNorms(primal: primal, dual: dual, complementarity: complementarity, count: 0,
                             objective: objective, gradientMax: gradientMax)
    }
}
