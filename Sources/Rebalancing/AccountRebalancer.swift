import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel

/// Outcome of rebalancing one account (METHODOLOGY "Rebalancing", `rebalance_status`).
public enum RebalanceStatus: String, Sendable, CaseIterable {
    case rebalanced
    case unchanged
    case topupRequired = "topup_required"
    case failed
    case notInScope = "not_in_scope"
}

/// Everything the per-account problems share: market data, schedule terms, configuration. Immutable.
public struct RebalancingContext: Sendable {
    public let covariance: Matrix
    public let haircuts: HaircutCalculator
    public let prices: [Double]
    public let settlementAsset: Int
    public let scale: NormalRiskScale
    public let config: RiskConfig
    /// May be bought: eligible in the schedule and in the risk universe.
    public let buyable: [Bool]
    /// Assets that may be bought, in schedule order (the candidates beyond an account's own holdings).
    public let buyableAssets: [Int32]
    /// The buyable assets by decreasing coverage value net of cost, (1 − marginal haircut) − k, ties in schedule
    /// order: the coverage LP's buying order for every asset an account does not hold.
    public let buyOrder: [Int32]
    public let maxWeight: [Double]
    /// k_i = cost_bps / 10⁴.
    public let costFraction: [Double]
    /// Haircut of a marginal unit per asset (T = T₀).
    public let marginalHaircut: [Double]
    /// Normalisation of Σ inside the solver: mean of its diagonal (1 when Σ = 0).
    public let varianceScale: Double
    /// Solve every problem on the account's full universe (tests; the working set is the default).
    public var fullUniverse = false

    public init(covariance: Matrix, haircuts: HaircutCalculator, schedule: CollateralSchedule, prices: [Double],
                settlementAsset: Int, inUniverse: [Bool], scale: NormalRiskScale, config: RiskConfig) {
        let n = schedule.count
        precondition(covariance.rows == n && covariance.columns == n && prices.count == n && inUniverse.count == n,
                     "rebalancing inputs must cover the schedule")
        self.covariance = covariance
        self.haircuts = haircuts
        self.prices = prices
        self.settlementAsset = settlementAsset
        self.scale = scale
        self.config = config
        buyable = (0 ..< n).map { schedule[$0].eligible && inUniverse[$0] }
        buyableAssets = (0 ..< n).filter { schedule[$0].eligible && inUniverse[$0] }.map { Int32($0) }
        maxWeight = schedule.assets.map(\.maxWeight)
        costFraction = schedule.assets.map(\.costFraction)
        marginalHaircut = (0 ..< n).map { haircuts.marginalHaircut(asset: $0) }
        let netValue = (0 ..< n).map { [marginalHaircut, costFraction] in (1 - marginalHaircut[$0]) - costFraction[$0] }
        // A stable order: decreasing value, ties by schedule index.
        buyOrder = buyableAssets.sorted { a, b in
            let va = netValue[Int(a)], vb = netValue[Int(b)]
            return va > vb || (va == vb && a < b)
        }
        var trace = 0.0
        for i in 0 ..< n { trace += covariance[i, i] }
        varianceScale = n > 0 && trace > 0 ? trace / Double(n) : 1
    }
}

/// One account's result; its target rows are appended to the caller's `TargetRows`.
public struct AccountTarget: Sendable {
    public var status: RebalanceStatus
    public var reason: String = ""
    public var targetVaR = Double.nan
    public var targetHCV = Double.nan
    public var targetRatio = Double.nan
    public var targetTopup = Double.nan
    public var turnover = Double.nan
    public var cost = Double.nan
    /// Assets in the final solve (diagnostics).
    public var problemSize = 0
    /// Working-set rounds (diagnostics).
    public var rounds = 0
    /// Interior-point iterations over all rounds (diagnostics).
    public var iterations = 0

    public init(status: RebalanceStatus) { self.status = status }
}

/// Target rows in compressed form: one entry per (account, asset) held or traded, accounts' rows contiguous.
public struct TargetRows: Sendable {
    public var asset: [Int32] = []
    public var targetUSD: [Double] = []
    public var weight: [Double] = []
    public var tradeUSD: [Double] = []
    public var tradeQuantity: [Double] = []
    public init() {}
    public var count: Int { asset.count }

    mutating func append(asset j: Int, target: Double, weight w: Double, trade: Double, quantity: Double) {
        asset.append(Int32(j)); targetUSD.append(target); weight.append(w); tradeUSD.append(trade); tradeQuantity.append(quantity)
    }

    mutating func append(contentsOf other: TargetRows) {
        asset += other.asset; targetUSD += other.targetUSD; weight += other.weight
        tradeUSD += other.tradeUSD; tradeQuantity += other.tradeQuantity
    }
}

/// The problem builder and per-account solve of METHODOLOGY "Rebalancing", with reusable buffers (one per worker thread).
///
/// Universe U of an account: its collateral holdings (holding order), then every buyable asset it does not hold
/// as collateral (schedule order). Debt assets enter the objective through the anchor only (unless buyable).
/// Scaled units y = x/C. Bounds u_i = max(max_weight_i·C, c_i)/C for buyable assets, c_i/C otherwise (sell only).
/// Coverage values g_i = 1 − h_i with h_i the account's current haircut (held) or the marginal one (not held).
/// The solver's objective is the product's divided by H·C·s (s = mean variance): (y − ã)ᵀ(Σ/s)(y − ã) +
/// θ/(H·s)·Σ k_i|y_i − c̃_i| — the same minimiser, numbers of order one.
///
/// Working set: the QP is first solved on the held collateral, the buyable debt assets and the support of the
/// coverage LP's maximiser; an excluded asset j (not held, so y_j = 0 at its lower bound) enters when its bound
/// multiplier 2(Py)_j + ℓ_j + κ_j − η − ζ(g_j − k_j) is below −`kktTolerance`·(1 + |η|) — the KKT condition of the
/// full problem — and the problem is solved again, until no excluded asset violates it. The final point is then a KKT
/// point of the full universe, hence its optimum.
///
/// One account, as named steps: `unsolvedTarget` (accounts that need no solve), `buildProblem` (universe, scaled
/// data, coverage LP, anchor, first working set), `solveWorkingSets` (rounds and the retry), `placeTargets` (USD
/// targets, `snapTargets`), `preferNoTrade`, `reportFigures` and `appendRows`.
public struct AccountRebalancer {
    public let context: RebalancingContext
    public let solver = QPSolver()
    /// The problem handed to the solver (reused for every working set and account).
    let problem = QPProblem()
    /// Universe of the current account: schedule index, USD holdings, caps, haircuts.
    private var universe: [Int] = []
    private var held: [Double] = []
    private var cap: [Double] = []
    private var haircut: [Double] = []
    /// Scaled data over U: holdings, caps, coverage values, coverage costs, the linear term.
    private var cS: [Double] = [], uS: [Double] = [], gS: [Double] = [], kS: [Double] = [], linearU: [Double] = []
    /// The coverage LP's maximiser over U and its scratch (buyers' order, merged buyers).
    private var lpY: [Double] = [], lpOrder: [Int] = [], lpBuyers: [Int] = []
    /// Universe position of each schedule asset, −1 outside (reset after each account).
    private var position: [Int]
    /// The first `heldCount` universe entries are the account's collateral holdings.
    private var heldCount = 0
    private var inWorkingSet: [Bool] = []
    /// Universe positions of the working set last solved (solver index a ↦ universe position).
    private var working: [Int] = []
    /// Targets in USD over U.
    private var x: [Double] = []
    /// Sparse vector over schedule assets (the anchor, then net target exposures for the VaR).
    private var anchorAssets: [Int] = [], anchorValues: [Double] = []
    /// Today's holdings on the working set (the no-trade test's objective).
    private var scratch: [Double] = []

    public init(context: RebalancingContext) {
        self.context = context
        position = [Int](repeating: -1, count: context.prices.count)
    }

    /// What the steps after building need of one account (C, the rows' right sides, the objective's cost weight).
    struct Setup {
        /// Universe size.
        let n: Int
        /// C and D (USD).
        let collateral: Double
        let debt: Double
        /// target_ratio·D (USD).
        let required: Double
        /// 1 − haircut of the settlement asset.
        let settlementValue: Double
        /// Whether the target coverage is reachable, and the solver's coverage floor (units of C).
        let feasible: Bool
        let floor: Double
        /// θ/(H·s): κ_i = kappaScale·k_i.
        let kappaScale: Double
    }

    /// Solves account `a` and appends its target rows to `rows`.
    public mutating func rebalance(account a: Int, book: Book, assessment: CollateralAssessment, rows: inout TargetRows) -> AccountTarget {
        if let target = unsolvedTarget(account: a, book: book, assessment: assessment, rows: &rows) { return target }
        defer { for j in universe { position[j] = -1 } }
        let setup = buildProblem(account: a, book: book, assessment: assessment)
        let (outcome, rounds, iterations) = solveWorkingSets(setup)
        var result = AccountTarget(status: .rebalanced)
        result.rounds = rounds
        result.iterations = iterations
        result.problemSize = working.count
        if let reason = Self.failureReason(outcome, collateral: setup.collateral) {
            result.status = .failed
            result.reason = reason
            return result
        }
        placeTargets(setup)
        let turnover = preferNoTrade(setup)
        result.status = !setup.feasible ? .topupRequired : (turnover == 0 ? .unchanged : .rebalanced)
        reportFigures(&result, setup: setup, turnover: turnover, account: a, book: book, assessment: assessment)
        appendRows(setup, account: a, book: book, rows: &rows)
        return result
    }

    // MARK: accounts without a solve

    /// The target of an account that is not solved: `failed` on non-finite exposures; without collateral,
    /// `topup_required` (with debt) or `unchanged`, every holding's row at 0. Nil when the account is to be solved.
    private mutating func unsolvedTarget(account a: Int, book: Book, assessment: CollateralAssessment,
                                rows: inout TargetRows) -> AccountTarget? {
        let collateral = assessment.collateral[a], debt = assessment.debt[a]
        if assessment.invalid[a] || !collateral.isFinite || !debt.isFinite {
            var result = AccountTarget(status: .failed)
            result.reason = "non-finite exposures"
            return result
        }
        guard !(collateral > 0) else { return nil }
        var result = AccountTarget(status: debt > 0 ? .topupRequired : .unchanged)
        result.targetHCV = 0
        result.targetRatio = debt > 0 ? 0 : .nan
        result.targetTopup = max(0, context.config.targetRatio * debt) / (1 - assessment.settlementHaircut)
        result.turnover = 0
        result.cost = 0
        result.targetVaR = valueAtRisk(book: book, account: a, assessment: assessment, targets: nil)
        for k in book.holdings(of: a) {
            rows.append(asset: Int(book.assetIndex[k]), target: 0, weight: 0, trade: 0, quantity: 0)
        }
        return result
    }

    // MARK: builder

    /// The universe, its scaled data, the coverage LP (feasibility and floor), the anchor's linear term and the
    /// first working set.
    private mutating func buildProblem(account a: Int, book: Book, assessment: CollateralAssessment) -> Setup {
        let config = context.config
        let collateral = assessment.collateral[a], debt = assessment.debt[a]
        let required = config.targetRatio * debt
        buildUniverse(book: book, account: a, assessment: assessment)
        let n = universe.count
        let C = collateral
        // Scaled data and the coverage LP over the whole universe.
        let perC = 1 / C
        for i in 0 ..< n {
            let j = universe[i]
            cS[i] = held[i] * perC
            uS[i] = cap[i] * perC
            gS[i] = 1 - haircut[i]
            kS[i] = context.costFraction[j]
        }
        let maxCoverage = coverageLP(n: n)
        let rhs = required / C
        let floor = min(rhs, maxCoverage - Self.infeasibleFloorMargin)
        formLinearTerm(account: a, book: book, assessment: assessment, collateral: C, count: n)
        startWorkingSet(account: a, book: book, assessment: assessment, count: n)
        return Setup(n: n, collateral: C, debt: debt, required: required,
                     settlementValue: 1 - assessment.settlementHaircut, feasible: maxCoverage >= rhs, floor: floor,
                     kappaScale: config.costAversion / (config.horizonDays * context.varianceScale))
    }

    /// Anchor ã (scaled) on the account's own holdings, and ℓ = −2(Σã)_U / s into `linearU`.
    private mutating func formLinearTerm(account a: Int, book: Book, assessment: CollateralAssessment, collateral C: Double,
                                count n: Int) {
        anchorAssets.removeAll(keepingCapacity: true)
        anchorValues.removeAll(keepingCapacity: true)
        for k in book.holdings(of: a) {
            let e = assessment.exposure[k]
            let v = context.config.objective == .minVariance ? max(-e, 0) : max(e, 0)
            if v > 0 {
                anchorAssets.append(Int(book.assetIndex[k]))
                anchorValues.append(v / C)
            }
        }
        let s = context.varianceScale
        let sigma = context.covariance
        // Locals: the loops then read them without a run-time exclusivity check per access of a class property.
        let universe = self.universe, anchorAssets = self.anchorAssets, anchorValues = self.anchorValues
        for i in 0 ..< n {
            let j = universe[i]
            var acc = 0.0
            for t in anchorAssets.indices { acc += sigma.elements[j * sigma.columns + anchorAssets[t]] * anchorValues[t] }
            linearU[i] = -2 * acc / s
        }
    }

    /// The first working set: held collateral and the coverage LP's support (everything with `fullUniverse`), and
    /// the buyable debt assets.
    private mutating func startWorkingSet(account a: Int, book: Book, assessment: CollateralAssessment, count n: Int) {
        for i in 0 ..< n { inWorkingSet[i] = context.fullUniverse || cS[i] > 0 || lpY[i] > 0 }
        for k in book.holdings(of: a) where assessment.exposure[k] < 0 {
            let i = position[Int(book.assetIndex[k])]
            if i >= 0 { inWorkingSet[i] = true }
        }
    }

    /// The coverage LP over the whole universe (maximiser in `lpY`). Its buyers must come by decreasing g − k, ties
    /// by universe position: the held ones are sorted here (a handful), the others merged in from the context's
    /// account-independent order — the same order an insertion sort of the universe gives, without its O(n²).
    private mutating func coverageLP(n: Int) -> Double {
        let heldBuyers = CoverageLP.sortedBuyers(0 ..< heldCount, current: cS, upper: uS, value: gS, cost: kS,
                                                 into: &lpOrder)
        // Merge: lpOrder[0 ..< heldBuyers] (held, sorted) with the context order (not held), into lpBuyers.
        var count = 0, h = 0
        for j32 in context.buyOrder {
            let i = position[Int(j32)]
            guard i >= heldCount, uS[i] > cS[i] else { continue }
            let v = gS[i] - kS[i]
            // A held buyer of equal value comes first: its universe position is lower.
            while h < heldBuyers, gS[lpOrder[h]] - kS[lpOrder[h]] >= v { lpBuyers[count] = lpOrder[h]; count += 1; h += 1 }
            lpBuyers[count] = i
            count += 1
        }
        while h < heldBuyers { lpBuyers[count] = lpOrder[h]; count += 1; h += 1 }
        return CoverageLP.maximize(n: n, current: cS, upper: uS, value: gS, cost: kS, buyers: lpBuyers,
                                   buyerCount: count, y: &lpY, sellerScratch: &lpOrder)
    }

    private func heldAsDebt(_ j: Int, book: Book, account a: Int) -> Bool {
        for k in book.holdings(of: a) where Int(book.assetIndex[k]) == j { return true }
        return false
    }

    private mutating func buildUniverse(book: Book, account a: Int, assessment: CollateralAssessment) {
        universe.removeAll(keepingCapacity: true)
        held.removeAll(keepingCapacity: true)
        cap.removeAll(keepingCapacity: true)
        haircut.removeAll(keepingCapacity: true)
        let C = assessment.collateral[a]
        for k in book.holdings(of: a) {
            let e = assessment.exposure[k]
            guard e > 0 else { continue }
            let j = Int(book.assetIndex[k])
            position[j] = universe.count
            universe.append(j)
            held.append(e)
            cap.append(context.buyable[j] ? max(context.maxWeight[j] * C, e) : e)
            haircut.append(assessment.haircut[k])
        }
        heldCount = universe.count
        for j32 in context.buyableAssets {
            let j = Int(j32)
            guard position[j] < 0 else { continue }
            position[j] = universe.count
            universe.append(j)
            held.append(0)
            cap.append(context.maxWeight[j] * C)
            haircut.append(context.marginalHaircut[j])
        }
        let n = universe.count
        if cS.count < n {
            let grow = max(n, 2 * cS.count)
            for buffer in [\AccountRebalancer.cS, \.uS, \.gS, \.kS, \.linearU, \.lpY, \.x, \.scratch] as
                [WritableKeyPath<AccountRebalancer, [Double]>] {
                self[keyPath: buffer] = [Double](repeating: 0, count: grow)
            }
            lpOrder = [Int](repeating: 0, count: 2 * grow)
            lpBuyers = [Int](repeating: 0, count: grow)
            inWorkingSet = [Bool](repeating: false, count: grow)
        }
    }

    // MARK: working-set loop

    /// Solves on the working set, admitting KKT violators, for up to `workingSetRounds` rounds (then on the whole
    /// universe); a stalled or failed solve is retried once on the whole universe with `retryIterationLimit`.
    /// Returns the final outcome, the rounds and the interior-point iterations over all of them.
    private mutating func solveWorkingSets(_ setup: Setup) -> (outcome: QPSolver.Outcome, rounds: Int, iterations: Int) {
        var rounds = 0, iterations = 0
        var outcome = QPSolver.Outcome.solved(iterations: 0)
        while true {
            rounds += 1
            outcome = solveWorkingSet(setup, maxIterations: QPSolver.iterationLimit)
            iterations += solver.iterations
            guard case .solved = outcome else { break }
            if !admitViolators(setup) { break }
            // After `workingSetRounds` rounds, include everything: the next solve is the last.
            if rounds >= Self.workingSetRounds { for i in 0 ..< setup.n { inWorkingSet[i] = true } }
        }
        // A rare interior-point stall (complementarity stuck while the residuals are zero): retry once on the full
        // universe with a longer iteration budget before declaring the account failed.
        switch outcome {
        case .notConverged, .numericalFailure:
            for i in 0 ..< setup.n { inWorkingSet[i] = true }
            rounds += 1
            outcome = solveWorkingSet(setup, maxIterations: Self.retryIterationLimit)
            iterations += solver.iterations
        default: break
        }
        return (outcome, rounds, iterations)
    }

    /// Loads the working set into `problem` (Σ/s on it, ℓ, scaled holdings, caps, κ, g, k, the floor) and solves.
    private mutating func solveWorkingSet(_ setup: Setup, maxIterations: Int) -> QPSolver.Outcome {
        working.removeAll(keepingCapacity: true)
        for i in 0 ..< setup.n where inWorkingSet[i] { working.append(i) }
        let w = working.count
        let s = context.varianceScale, sigma = context.covariance
        // Locals: the w² loop reads them without a run-time exclusivity check per access of a class property.
        let working = self.working, universe = self.universe, linearU = self.linearU
        let cS = self.cS, uS = self.uS, gS = self.gS, kS = self.kS
        problem.resize(w)
        for a in 0 ..< w {
            let i = working[a], ja = universe[i]
            let rowBase = ja * sigma.columns
            for b in 0 ..< w { problem.quadratic[a * w + b] = sigma.elements[rowBase + universe[working[b]]] / s }
            problem.linear[a] = linearU[i]
            problem.current[a] = cS[i]
            problem.upper[a] = uS[i]
            problem.costWeight[a] = setup.kappaScale * kS[i]
            problem.coverageValue[a] = gS[i]
            problem.coverageCost[a] = kS[i]
        }
        problem.coverageFloor = setup.floor
        return solver.solve(problem, maxIterations: maxIterations)
    }

    /// KKT check of the excluded assets at the solver's point: adds every asset whose bound multiplier is below
    /// −`kktTolerance`·(1 + |η|) to the working set; whether any was added.
    private mutating func admitViolators(_ setup: Setup) -> Bool {
        var added = false
        let eta = solver.eta, zeta = solver.zeta
        let s = context.varianceScale, sigma = context.covariance
        // Locals: the inner loop reads them without a run-time exclusivity check per access of a class property.
        let working = self.working, universe = self.universe, y = solver.y
        for i in 0 ..< setup.n where !inWorkingSet[i] {
            let ji = universe[i]
            let rowBase = ji * sigma.columns
            var py = 0.0
            for a in 0 ..< working.count { py += sigma.elements[rowBase + universe[working[a]]] * y[a] }
            let multiplier = 2 * py / s + linearU[i] + setup.kappaScale * kS[i] - eta - zeta * (gS[i] - kS[i])
            if multiplier < -Self.kktTolerance * (1 + abs(eta)) {
                inWorkingSet[i] = true
                added = true
            }
        }
        return added
    }

    /// The account's `rebalance_reason` for an outcome that is not `.solved`; nil when solved.
    static func failureReason(_ outcome: QPSolver.Outcome, collateral C: Double) -> String? {
        switch outcome {
        case .solved: return nil
        case .infeasible(let best): return "coverage infeasible in the solver (max \(best * C) USD)"
        case .notConverged(let iterations, let primal, let dual, let comp):
            return "QP did not converge in \(iterations) iterations (residuals \(primal), \(dual), \(comp))"
        case .numericalFailure(let why): return "QP numerical failure: \(why)"
        }
    }

    // MARK: snapping

    /// Targets in USD over the universe: the solver's y on the working set times C (0 elsewhere), snapped.
    private mutating func placeTargets(_ setup: Setup) {
        let C = setup.collateral
        for i in 0 ..< setup.n { x[i] = 0 }
        for a in working.indices { x[working[a]] = solver.y[a] * C }
        Self.snapTargets(&x, cap: cap, held: held, count: setup.n, collateral: C)
    }

    /// Snaps each of the n targets within `snapTolerance`·C of 0, of its cap or of its holding (tried in that
    /// order) onto it, then adds C − Σx to the largest target left strictly inside its box and off its holding
    /// (the first of equals), so that Σx = C again. No target is moved when none is free.
    static func snapTargets(_ x: inout [Double], cap: [Double], held: [Double], count n: Int, collateral C: Double) {
        let snap = snapTolerance * C
        var total = 0.0, largestFree = -1
        for i in 0 ..< n {
            var v = x[i]
            if abs(v) <= snap { v = 0 } else if abs(v - cap[i]) <= snap { v = cap[i] } else if abs(v - held[i]) <= snap { v = held[i] }
            x[i] = v
            total += v
            if v > 0 && v < cap[i] && v != held[i] && (largestFree < 0 || v > x[largestFree]) { largestFree = i }
        }
        if largestFree >= 0 { x[largestFree] += C - total }
    }

    /// Prefers no trade when it is (numerically) as good: the turnover is below `noTradeTurnover`·C, or today's
    /// holdings meet the floor and their objective is within `noTradeObjectiveRelative`·|objective| +
    /// `noTradeObjectiveAbsolute` of the solver's. Then x = today's holdings. Returns the turnover Σ|x − c| (USD).
    private mutating func preferNoTrade(_ setup: Setup) -> Double {
        let n = setup.n
        var turnover = 0.0
        for i in 0 ..< n { turnover += abs(x[i] - held[i]) }
        guard turnover > 0 else { return turnover }
        var coverageNow = 0.0
        for i in 0 ..< n { coverageNow += gS[i] * cS[i] }
        var noTrade = turnover < Self.noTradeTurnover * setup.collateral
        if !noTrade && coverageNow >= setup.floor {
            for a in working.indices { scratch[a] = cS[working[a]] }
            let objectiveNow = scratch.withUnsafeBufferPointer { problem.objective(at: $0.baseAddress!) }
            noTrade = objectiveNow <= solver.objective + Self.noTradeObjectiveRelative * abs(solver.objective)
                + Self.noTradeObjectiveAbsolute
        }
        guard noTrade else { return turnover }
        for i in 0 ..< n { x[i] = held[i] }
        return 0
    }

    // MARK: figures and rows

    /// turnover, cost, target HCV (haircuts re-evaluated at the targets), ratio, top-up and target VaR.
    private mutating func reportFigures(_ result: inout AccountTarget, setup: Setup, turnover: Double, account a: Int,
                               book: Book, assessment: CollateralAssessment) {
        var cost = 0.0, hcvSolve = 0.0, hcvNew = 0.0
        for i in 0 ..< setup.n {
            let j = universe[i]
            let t = abs(x[i] - held[i])
            cost += context.costFraction[j] * t
            hcvSolve += (1 - haircut[i]) * x[i]
            if x[i] > 0 { hcvNew += (1 - context.haircuts.haircut(asset: j, collateralUSD: x[i])) * x[i] }
        }
        result.turnover = turnover
        result.cost = cost
        result.targetHCV = hcvNew - cost
        result.targetRatio = setup.debt > 0 ? result.targetHCV / setup.debt : .nan
        result.targetTopup = result.status == .topupRequired
            ? max(0, setup.required - (hcvSolve - cost)) / setup.settlementValue : 0
        result.targetVaR = valueAtRisk(book: book, account: a, assessment: assessment, targets: setup.n)
    }

    /// Rows: every holding (debt rows carry the target of a bought debt asset), then assets only bought.
    private mutating func appendRows(_ setup: Setup, account a: Int, book: Book, rows: inout TargetRows) {
        let C = setup.collateral
        for k in book.holdings(of: a) {
            let j = Int(book.assetIndex[k])
            let i = position[j]
            let target = i >= 0 ? x[i] : 0
            let trade = i >= 0 ? x[i] - held[i] : 0
            rows.append(asset: j, target: target, weight: target / C, trade: trade, quantity: trade / context.prices[j])
        }
        for i in 0 ..< setup.n where held[i] == 0 && x[i] > 0 && !heldAsDebt(universe[i], book: book, account: a) {
            let j = universe[i]
            rows.append(asset: j, target: x[i], weight: x[i] / C, trade: x[i], quantity: x[i] / context.prices[j])
        }
    }

    /// z·√h·√((x − d)ᵀΣ(x − d)) over the account's own assets and its targets (`targets` = universe size, or nil
    /// for x = 0).
    private mutating func valueAtRisk(book: Book, account a: Int, assessment: CollateralAssessment, targets: Int?) -> Double {
        // Net target exposure per asset: x over the universe, minus debts.
        anchorAssets.removeAll(keepingCapacity: true)
        anchorValues.removeAll(keepingCapacity: true)
        if let n = targets {
            for i in 0 ..< n where x[i] != 0 {
                anchorAssets.append(universe[i])
                anchorValues.append(x[i])
            }
        }
        for k in book.holdings(of: a) where assessment.exposure[k] < 0 {
            let j = Int(book.assetIndex[k])
            if let t = anchorAssets.firstIndex(of: j) { anchorValues[t] += assessment.exposure[k] } else {
                anchorAssets.append(j)
                anchorValues.append(assessment.exposure[k])
            }
        }
        let sigma = context.covariance
        let anchorAssets = self.anchorAssets, anchorValues = self.anchorValues
        var variance = 0.0
        for s in anchorAssets.indices {
            let row = anchorAssets[s] * sigma.columns
            var acc = 0.0
            for t in anchorAssets.indices { acc += sigma.elements[row + anchorAssets[t]] * anchorValues[t] }
            variance += anchorValues[s] * acc
        }
        return context.scale.varPerSigma * max(variance, 0).squareRoot()
    }
}

// MARK: - Tolerances and limits

extension AccountRebalancer {
    /// Margin (units of C) below the largest reachable coverage that becomes the coverage floor when the target is
    /// out of reach: the solver's own greedy then still finds the floor reachable.
    static let infeasibleFloorMargin = 1e-10
    /// An excluded asset violates the KKT conditions when its bound multiplier (objective units per unit of C) is
    /// below −kktTolerance·(1 + |η|).
    static let kktTolerance = 1e-9
    /// Working-set rounds before the whole universe is taken (the next solve is then the last).
    static let workingSetRounds = 3
    /// Interior-point iterations of the retry on the whole universe after a stalled or failed solve.
    static let retryIterationLimit = 250
    /// Snapping distance, relative to C (USD per USD of collateral).
    static let snapTolerance = 1e-10
    /// A turnover below this fraction of C is no trade.
    static let noTradeTurnover = 1e-9
    /// Today's holdings are kept when their objective is at most the solver's plus this fraction of |objective| …
    static let noTradeObjectiveRelative = 1e-9
    /// … plus this absolute amount (objective units: variance per mean variance, i.e. of order one).
    static let noTradeObjectiveAbsolute = 1e-15
}
