import Foundation
import LinearAlgebra
import RiskModel

/// One scenario's cascade (METHODOLOGY "Liquidation cascades under stress"): the figures of a cascade.csv row and, per asset, those of cascade_assets.csv.
/// USD; losses positive.
public struct CascadeOutcome: Sendable, Equatable {
    /// Rounds that liquidated at least one account.
    public var rounds = 0
    /// Accounts liquidated at least once.
    public var accountsLiquidated = 0
    /// Liquidated accounts that were not liquidatable at the stressed prices P⁰ (first liquidated after round 1).
    public var liquidatedByCascade = 0
    /// Σ over rounds and assets of the seized collateral sold, each at its round's prices.
    public var collateralSoldUSD = 0.0
    /// Σ of the debt repaid by every liquidation.
    public var debtRepaidUSD = 0.0
    /// Σ over accounts of max(0, D − C) at the final state: bad debt.
    public var shortfallUSD = 0.0
    /// Σ over accounts of today's equity minus the final state's (penalties included; no floor).
    public var totalLossUSD = 0.0
    /// The cascade stopped at `CascadeParameters.maxRounds` with accounts still liquidatable: it had not ended.
    public var reachedRoundLimit = false
    /// Per asset (schedule order), V: USD of it sold over all rounds.
    public var soldUSD: [Double] = []
    /// Per asset, P_final/P⁰ − 1: the price impact of the sales (0 when unsold or without ADV).
    public var priceImpact: [Double] = []

    public init() {}
}

/// What the cascade needs of the market besides the shocks: per asset σ (daily), ADV, and the haircut model that
/// re-evaluates haircuts at each round's values.
public struct CascadeMarket: Sendable {
    let haircuts: HaircutTable
    let assets: Int

    public init(haircuts: HaircutCalculator) {
        self.haircuts = HaircutTable(haircuts)
        assets = haircuts.volatilities.count
    }

    /// The fall of asset j's price after V USD of it were sold in total: min(0.99, η·σ_j·√(V/ADV_j)); 0 without ADV.
    func impact(asset j: Int, sold: Double, coefficient: Double) -> Double {
        guard let adv = haircuts.calculator.averageDailyVolumes[j] else { return 0 }
        return min(CascadeParameters.maxImpact,
                   coefficient * haircuts.calculator.volatilities[j] * (sold / adv).squareRoot())
    }
}

/// Liquidation cascades of METHODOLOGY "Liquidation cascades under stress" over whole books.
///
/// Each (book, scenario) cascade is a sequence of rounds over the accounts in ascending order, each summing its
/// per-asset sales in that order: one worker runs one scenario's cascades (its books in order) at a time, and the
/// scenarios are spread over the workers, so every figure is the same for any thread count. A round re-values only
/// the accounts it can change: those liquidated in the previous round, and the others only when a bound on the price
/// falls since their last valuation cannot prove them safe (`CascadeState.safeFloor`); round 1 of a later book
/// takes the first book's valuations of the accounts both hold alike (`RoundOneValuations`). Skipping is sound, so
/// which accounts are skipped never changes an outcome: only an account's fresh valuation can liquidate it.
public enum LiquidationCascade {
    /// Runs every scenario of `scenarios` on every book of `books`: result[b][s] is book b under scenario s.
    /// `onRound(book, scenario, round)` is called as each round starts (progress).
    public static func run(books: [CascadeBook], scenarios: StressScenarios, market: CascadeMarket,
                           parameters: CascadeParameters, workers: Int,
                           onRound: @escaping @Sendable (Int, Int, Int) -> Void = { _, _, _ in }) -> [[CascadeOutcome]] {
        let scenarioCount = scenarios.count, n = scenarios.assetCount
        precondition(n == market.assets, "cascade: scenarios and market have different assets")
        let prepared = books.indices.map { PreparedBook(books[$0], first: $0 > 0 ? books[0] : nil) }
        let maxAccounts = books.map(\.accountCount).max() ?? 0
        var flat = [CascadeOutcome](repeating: CascadeOutcome(), count: books.count * scenarioCount)
        BLASThreads.with(1) {
            flat.withSharedOutput { out in
                // One task per scenario, its books in order: the later books reuse the first one's round-1 valuations
                // of the accounts they hold alike (`PreparedBook.sameAsFirst`).
                Parallel.forEachBlock(blockCount: scenarioCount, workers: workers,
                                      makeWorkspace: { CascadeState(accounts: maxAccounts, assets: n) }) { s, state in
                    let shocks = Array(scenarios.shocks.elements[s * n ..< (s + 1) * n])
                    for b in prepared.indices {
                        let roundOne: RoundOneValuations = b == 0 ? (prepared.count > 1 ? .record : .compute)
                            : prepared[b].sameAsFirst.map { .reuse($0) } ?? .compute
                        out[b * scenarioCount + s] = simulate(prepared[b], shocks: shocks, market: market,
                                                              parameters: parameters, state: &state,
                                                              roundOne: roundOne) { onRound(b, s, $0) }
                    }
                }
            }
        }
        return (0 ..< books.count).map { Array(flat[$0 * scenarioCount ..< ($0 + 1) * scenarioCount]) }
    }

    /// One cascade: rounds until one liquidates nobody or `maxRounds` is reached, then the final state's figures.
    static func simulate(_ prepared: PreparedBook, shocks: [Double], market: CascadeMarket,
                         parameters: CascadeParameters, state: inout CascadeState,
                         roundOne: RoundOneValuations = .compute,
                         onRound: (Int) -> Void = { _ in }) -> CascadeOutcome {
        var outcome = CascadeOutcome()
        state.start(shocks: shocks, indebted: prepared.indebted)
        for round in 1 ... parameters.maxRounds {
            onRound(round)
            let liquidated = state.liquidate(book: prepared.book, round: round, market: market,
                                             parameters: parameters, roundOne: roundOne, outcome: &outcome)
            guard liquidated > 0 else { break }
            outcome.rounds = round
            state.applySales(shocks: shocks, market: market, parameters: parameters, outcome: &outcome)
            if round == parameters.maxRounds {
                // Stopped by the limit: flagged when a further round would still have liquidated someone.
                outcome.reachedRoundLimit = state.anyLiquidatable(book: prepared.book, round: round + 1,
                                                                  market: market, parameters: parameters)
            }
        }
        state.finish(prepared, outcome: &outcome)
        return outcome
    }
}

/// A cascade book with what every scenario reuses: its indebted accounts, and which accounts it holds exactly as the
/// run's first book does.
struct PreparedBook: Sendable {
    let book: CascadeBook
    /// Included accounts with debt today, ascending: the only ones a cascade can liquidate.
    let indebted: [Int32]
    /// Per account: whether it is in `indebted`.
    let isIndebted: [Bool]
    /// Per account: the same rows (assets and values, in order) and inclusion as in the first book — its round-1
    /// valuation at the same stressed prices is then the same, bit for bit. Nil for the first book itself, or when
    /// the books' accounts differ.
    let sameAsFirst: [Bool]?

    init(_ book: CascadeBook, first: CascadeBook? = nil) {
        self.book = book
        indebted = book.indebtedAccounts()
        var isIndebted = [Bool](repeating: false, count: book.accountCount)
        for a in indebted { isIndebted[Int(a)] = true }
        self.isIndebted = isIndebted
        if let first, first.accountCount == book.accountCount {
            sameAsFirst = (0 ..< book.accountCount).map { a in
                let rows = book.rows(of: a), firstRows = first.rows(of: a)
                return book.excluded[a] == first.excluded[a] && rows.count == firstRows.count
                    && book.asset[rows] == first.asset[firstRows] && book.value[rows] == first.value[firstRows]
            }
        } else {
            sameAsFirst = nil
        }
    }
}

/// What round 1 of a cascade does with its valuations at the stressed prices: compute them, compute and keep them
/// (the first book of a scenario), or take the kept ones for the accounts marked (a later book of the same scenario).
enum RoundOneValuations {
    case compute
    case record
    case reuse([Bool])
}

/// A worker's state of the cascade it is running, reused from one cascade to the next. Per account: the share of
/// today's collateral and debt quantities it still holds, its valuation at the current prices and the round of its
/// first liquidation; the accounts still watched, each with the price floor that proves it safe; per asset: the price
/// relative to today's, and the sales. Never leaves its worker: a value type, passed `inout`, so its arrays are
/// accessed without run-time exclusivity checks.
struct CascadeState {
    /// Fraction of today's collateral (debt) quantities the account still holds: every collateral (debt) quantity
    /// is scaled alike by a liquidation.
    var collateralScale: [Double]
    var debtScale: [Double]
    /// C, D and HCV at the current prices, USD (indebted accounts, as of their last valuation).
    var collateral: [Double]
    var debt: [Double]
    var hcv: [Double]
    /// Round of the account's first liquidation, 0 when never liquidated.
    var firstRound: [Int32]
    /// The accounts a later round may liquidate, ascending: indebted accounts that still hold debt and collateral
    /// (neither grows back), and those liquidated in the last round.
    var watched: [Int32] = []
    /// Per entry of `watched`: the price floor at or above which the account provably stays above the liquidation
    /// ratio (`safeFloor`); +∞ when it must be re-valued (liquidated last round, or not valued yet).
    var safeAbove: [Double] = []
    /// Per price version k: a lower bound on the ratio of any asset's price in Pᵏ to its price in P⁰, the product of
    /// each round's smallest new/old price ratio. Prices only fall in a cascade (sales only add up), and an
    /// account's HCV falls at most in proportion (a smaller holding never gets a larger haircut) while its debt
    /// does not grow, so HCV·floor[k]/floor[v] ≥ liquidation_ratio·D at its version-v valuation proves it is not
    /// liquidatable at Pᵏ, without re-valuing it.
    var priceFloor: [Double] = [1]
    /// Per asset: current price / today's price, (1 + δ)·(1 − impact).
    var growth: [Double]
    /// Per asset: V, the USD sold so far; this round's sales Sᵏ; the current impact.
    var sold: [Double]
    var roundSales: [Double]
    var impact: [Double]
    /// C, D and HCV at the stressed prices P⁰ of the scenario's first book, per account (kept by `.record`).
    var firstCollateral: [Double]
    var firstDebt: [Double]
    var firstHCV: [Double]

    init(accounts: Int, assets: Int) {
        collateralScale = [Double](repeating: 1, count: accounts)
        debtScale = collateralScale
        collateral = [Double](repeating: 0, count: accounts)
        debt = collateral
        hcv = collateral
        firstRound = [Int32](repeating: 0, count: accounts)
        watched.reserveCapacity(accounts)
        safeAbove.reserveCapacity(accounts)
        growth = [Double](repeating: 1, count: assets)
        sold = [Double](repeating: 0, count: assets)
        roundSales = sold
        impact = sold
        firstCollateral = collateral
        firstDebt = collateral
        firstHCV = collateral
    }

    /// Today's quantities at the stressed prices P⁰ = p·(1 + δ).
    mutating func start(shocks: [Double], indebted: [Int32]) {
        for j in shocks.indices {
            growth[j] = 1 + shocks[j]
            sold[j] = 0
            impact[j] = 0
        }
        for a in indebted.lazy.map(Int.init) {
            collateralScale[a] = 1
            debtScale[a] = 1
            firstRound[a] = 0
        }
        watched.removeAll(keepingCapacity: true)
        watched.append(contentsOf: indebted)
        safeAbove.removeAll(keepingCapacity: true)
        safeAbove.append(contentsOf: repeatElement(.infinity, count: indebted.count))
        priceFloor = [1]
    }

    /// Relative margin by which a bound must clear the liquidation threshold for an account to be skipped: far above
    /// the rounding of a valuation's sums, far below any real change of a collateral ratio.
    static let skipMargin = 1e-9

    /// The price floor at or above which account a, valued at price version v and not liquidatable there, provably
    /// stays above the liquidation ratio: HCV·floor[k]/floor[v] ≥ liquidation_ratio·D·(1 + margin) ⇔ floor[k] ≥ the
    /// value returned. +∞ when its HCV is 0.
    @inline(__always) func safeFloor(_ a: Int, version v: Int, parameters: CascadeParameters) -> Double {
        parameters.liquidationRatio * debt[a] * (1 + Self.skipMargin) * priceFloor[v] / hcv[a]
    }

    /// Values the watched accounts that the price floor of round `round` (version round − 1) cannot prove safe and
    /// liquidates those below the liquidation ratio (METHODOLOGY "Liquidation cascades under stress" step 2), adding
    /// their seized collateral to this round's sales; drops the accounts that can never be liquidated again. Returns
    /// how many accounts it liquidated.
    mutating func liquidate(book: CascadeBook, round: Int, market: CascadeMarket, parameters: CascadeParameters,
                            roundOne: RoundOneValuations = .compute, outcome: inout CascadeOutcome) -> Int {
        for j in roundSales.indices { roundSales[j] = 0 }
        var reuse: [Bool] = [], record = false
        switch roundOne {
        case .compute: break
        case .record: record = true
        case .reuse(let same): reuse = same
        }
        let floor = priceFloor[round - 1]
        var liquidated = 0, kept = 0
        for i in watched.indices {
            let a32 = watched[i], a = Int(a32)
            var safe = safeAbove[i]
            if !(floor >= safe) {
                if round == 1 { valueAtStressedPrices(a, book: book, market: market, reuse: reuse, record: record) } else {
                    value(a, book: book, market: market)
                }
                if isLiquidatable(a, parameters) {
                    seize(a, book: book, round: round, parameters: parameters, outcome: &outcome)
                    liquidated += 1
                    safe = .infinity
                } else if debt[a] > 0 && collateral[a] > 0 {
                    safe = safeFloor(a, version: round - 1, parameters: parameters)
                } else {
                    continue   // no debt or no collateral left: never liquidatable again
                }
            }
            watched[kept] = a32
            safeAbove[kept] = safe
            kept += 1
        }
        watched.removeLast(watched.count - kept)
        safeAbove.removeLast(safeAbove.count - kept)
        return liquidated
    }

    /// Liquidates account a at its valuation: repays min(φ·D, C/(1 + ℓ)), seizes (1 + ℓ) USD of collateral per USD
    /// repaid (all of it when the collateral runs out) and adds the seized holdings to this round's sales.
    @inline(__always) mutating func seize(_ a: Int, book: CascadeBook, round: Int, parameters: CascadeParameters,
                                          outcome: inout CascadeOutcome) {
        let c = collateral[a], d = debt[a]
        let repaid = min(parameters.closeFactor * d, c / (1 + parameters.penalty))
        let exhausted = parameters.closeFactor * d >= c / (1 + parameters.penalty)
        // Share of each collateral holding seized: all of it when the collateral runs out.
        let seized = exhausted ? 1 : (1 + parameters.penalty) * repaid / c
        for k in book.rows(of: a) where book.value[k] > 0 {
            let j = Int(book.asset[k])
            roundSales[j] += book.value[k] * growth[j] * collateralScale[a] * seized
        }
        collateralScale[a] = exhausted ? 0 : collateralScale[a] * (1 - seized)
        debtScale[a] *= 1 - repaid / d
        outcome.debtRepaidUSD += repaid
        if firstRound[a] == 0 { firstRound[a] = Int32(round) }
    }

    /// Round 1's valuation of account a at P⁰ (`value` at version 0): taken from the scenario's first book when
    /// `reuse[a]` (empty: never), kept for the later books when `record`.
    @inline(__always) mutating func valueAtStressedPrices(_ a: Int, book: CascadeBook, market: CascadeMarket,
                                                          reuse: [Bool], record: Bool) {
        if !reuse.isEmpty && reuse[a] {
            collateral[a] = firstCollateral[a]
            debt[a] = firstDebt[a]
            hcv[a] = firstHCV[a]
            return
        }
        value(a, book: book, market: market)
        if record {
            firstCollateral[a] = collateral[a]
            firstDebt[a] = debt[a]
            firstHCV[a] = hcv[a]
        }
    }

    /// Whether any watched account would be liquidated in round `round` (values them, liquidates nobody).
    mutating func anyLiquidatable(book: CascadeBook, round: Int, market: CascadeMarket,
                                  parameters: CascadeParameters) -> Bool {
        let floor = priceFloor[round - 1]
        for i in watched.indices where !(floor >= safeAbove[i]) {
            let a = Int(watched[i])
            value(a, book: book, market: market)
            if isLiquidatable(a, parameters) { return true }
        }
        return false
    }

    /// METHODOLOGY "Liquidation cascades under stress" step 2, at account a's last valuation: debt, collateral to seize, and CR below the threshold.
    @inline(__always) func isLiquidatable(_ a: Int, _ parameters: CascadeParameters) -> Bool {
        debt[a] > 0 && collateral[a] > 0 && hcv[a] / debt[a] < parameters.liquidationRatio
    }

    /// C, D and HCV of account a at the current prices and quantities, summed in holding order (at round 1 exactly
    /// the stress test's figures).
    @inline(__always) mutating func value(_ a: Int, book: CascadeBook, market: CascadeMarket) {
        var c = 0.0, d = 0.0, h = 0.0
        let cs = collateralScale[a], ds = debtScale[a]
        for k in book.rows(of: a) {
            let e = book.value[k]
            guard e != 0 else { continue }
            let j = Int(book.asset[k])
            if e < 0 {
                d -= e * growth[j] * ds
            } else {
                let v = e * growth[j] * cs
                c += v
                h += v * (1 - market.haircuts.haircut(asset: j, value: v))
            }
        }
        collateral[a] = c
        debt[a] = d
        hcv[a] = h
    }

    /// Adds the round's sales to V, moves the prices of the assets sold (step 3) and extends `priceFloor`.
    mutating func applySales(shocks: [Double], market: CascadeMarket, parameters: CascadeParameters,
                    outcome: inout CascadeOutcome) {
        var smallestRatio = 1.0
        for j in roundSales.indices where roundSales[j] > 0 {
            outcome.collateralSoldUSD += roundSales[j]
            sold[j] += roundSales[j]
            let m = market.impact(asset: j, sold: sold[j], coefficient: parameters.impactCoefficient)
            guard m != impact[j] else { continue }
            let before = growth[j]
            impact[j] = m
            growth[j] = (1 + shocks[j]) * (1 - m)
            smallestRatio = min(smallestRatio, growth[j] / before)
        }
        priceFloor.append(priceFloor[priceFloor.count - 1] * smallestRatio)
    }

    /// The final state's totals over every included account (accounts without debt lose value too), the tallies of
    /// liquidated accounts, and the per-asset sales and impacts.
    func finish(_ prepared: PreparedBook, outcome: inout CascadeOutcome) {
        let book = prepared.book
        for a in 0 ..< book.accountCount where !book.excluded[a] {
            // Only indebted accounts have a state in this cascade; the others keep today's quantities.
            let indebted = prepared.isIndebted[a]
            let cs = indebted ? collateralScale[a] : 1, ds = indebted ? debtScale[a] : 1
            var today = 0.0, finalC = 0.0, finalD = 0.0
            for k in book.rows(of: a) {
                let e = book.value[k], j = Int(book.asset[k])
                today += e
                if e < 0 { finalD -= e * growth[j] * ds } else { finalC += e * growth[j] * cs }
            }
            outcome.shortfallUSD += max(0, finalD - finalC)
            outcome.totalLossUSD += today - (finalC - finalD)
        }
        for a in prepared.indebted.lazy.map(Int.init) where firstRound[a] != 0 {
            outcome.accountsLiquidated += 1
            if firstRound[a] > 1 { outcome.liquidatedByCascade += 1 }
        }
        outcome.soldUSD = sold
        outcome.priceImpact = impact.map { (1 - $0) - 1 }
    }
}
