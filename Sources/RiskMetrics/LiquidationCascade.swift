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
/// falls since their last valuation cannot prove them safe (`CascadeState.provablySafe`); round 1 of a later book
/// takes the first book's valuations of the accounts both hold alike (`RoundOneValuations`).
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
        var candidates = prepared.indebted
        for round in 1 ... parameters.maxRounds {
            onRound(round)
            let liquidated = state.liquidate(candidates, book: prepared.book, round: round, market: market,
                                             parameters: parameters, roundOne: roundOne, outcome: &outcome)
            guard !liquidated.isEmpty else { break }
            outcome.rounds = round
            state.applySales(shocks: shocks, market: market, parameters: parameters, outcome: &outcome)
            candidates = state.nextRound(candidates, round: round)
            if round == parameters.maxRounds {
                // Stopped by the limit: flagged when a further round would still have liquidated someone.
                outcome.reachedRoundLimit = state.anyLiquidatable(candidates, book: prepared.book, round: round + 1,
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
/// first liquidation; per asset: the price relative to today's, and the sales. Never leaves its worker: a value type,
/// passed `inout`, so its arrays are accessed without run-time exclusivity checks.
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
    /// The last round that liquidated the account (0: none), and the price version (k for Pᵏ) of its last valuation.
    var lastLiquidated: [Int32]
    var valuedAt: [Int32]
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
        lastLiquidated = firstRound
        valuedAt = firstRound
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
            lastLiquidated[a] = 0
        }
        priceFloor = [1]
    }

    /// Relative margin by which a bound must clear the liquidation threshold for an account to be skipped: far above
    /// the rounding of a valuation's sums, far below any real change of a collateral ratio.
    static let skipMargin = 1e-9

    /// Whether account a provably stays above the liquidation ratio at the prices of round `round` (version round − 1)
    /// without re-valuing it: not liquidated last round (its quantities are those of its last valuation), and its
    /// last HCV, lowered by the largest possible price fall since, still covers liquidation_ratio·D.
    @inline(__always) func provablySafe(_ a: Int, round: Int, parameters: CascadeParameters) -> Bool {
        guard round > 1, lastLiquidated[a] != Int32(round - 1) else { return false }
        guard debt[a] > 0, collateral[a] > 0 else { return true }   // debt and collateral never grow back
        let fall = priceFloor[round - 1] / priceFloor[Int(valuedAt[a])]
        return hcv[a] * fall >= parameters.liquidationRatio * debt[a] * (1 + Self.skipMargin)
    }

    /// Values `accounts` at the current prices and liquidates those below the liquidation ratio (METHODOLOGY "Liquidation cascades under stress" step 2),
    /// adding their seized collateral to this round's sales. Returns the liquidated accounts, ascending.
    mutating func liquidate(_ accounts: [Int32], book: CascadeBook, round: Int, market: CascadeMarket,
                            parameters: CascadeParameters, roundOne: RoundOneValuations = .compute,
                            outcome: inout CascadeOutcome) -> [Int32] {
        for j in roundSales.indices { roundSales[j] = 0 }
        var reuse: [Bool] = [], record = false
        switch roundOne {
        case .compute: break
        case .record: record = true
        case .reuse(let same): reuse = same
        }
        var liquidated: [Int32] = []
        for a32 in accounts {
            let a = Int(a32)
            if provablySafe(a, round: round, parameters: parameters) { continue }
            if round == 1 { valueAtStressedPrices(a, book: book, market: market, reuse: reuse, record: record) } else {
                value(a, book: book, market: market, version: round - 1)
            }
            guard isLiquidatable(a, parameters) else { continue }
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
            lastLiquidated[a] = Int32(round)
            liquidated.append(a32)
        }
        return liquidated
    }

    /// Round 1's valuation of account a at P⁰ (`value` at version 0): taken from the scenario's first book when
    /// `reuse[a]` (empty: never), kept for the later books when `record`.
    @inline(__always) mutating func valueAtStressedPrices(_ a: Int, book: CascadeBook, market: CascadeMarket,
                                                          reuse: [Bool], record: Bool) {
        if !reuse.isEmpty && reuse[a] {
            collateral[a] = firstCollateral[a]
            debt[a] = firstDebt[a]
            hcv[a] = firstHCV[a]
            valuedAt[a] = 0
            return
        }
        value(a, book: book, market: market, version: 0)
        if record {
            firstCollateral[a] = collateral[a]
            firstDebt[a] = debt[a]
            firstHCV[a] = hcv[a]
        }
    }

    /// Whether any of `accounts` would be liquidated in round `round` (values them, liquidates nobody).
    mutating func anyLiquidatable(_ accounts: [Int32], book: CascadeBook, round: Int, market: CascadeMarket,
                         parameters: CascadeParameters) -> Bool {
        accounts.contains { a32 in
            let a = Int(a32)
            if provablySafe(a, round: round, parameters: parameters) { return false }
            value(a, book: book, market: market, version: round - 1)
            return isLiquidatable(a, parameters)
        }
    }

    /// METHODOLOGY "Liquidation cascades under stress" step 2, at account a's last valuation: debt, collateral to seize, and CR below the threshold.
    @inline(__always) func isLiquidatable(_ a: Int, _ parameters: CascadeParameters) -> Bool {
        debt[a] > 0 && collateral[a] > 0 && hcv[a] / debt[a] < parameters.liquidationRatio
    }

    /// C, D and HCV of account a at the current prices and quantities, summed in holding order (at round 1 exactly
    /// the stress test's figures).
    @inline(__always) mutating func value(_ a: Int, book: CascadeBook, market: CascadeMarket, version: Int) {
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
        valuedAt[a] = Int32(version)
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

    /// The accounts the next round must consider, ascending: this round's, less those that can never be liquidated
    /// again (no debt or no collateral left: neither grows back). Most are then skipped by `provablySafe`.
    func nextRound(_ accounts: [Int32], round: Int) -> [Int32] {
        accounts.filter { a in
            let a = Int(a)
            return lastLiquidated[a] == Int32(round) || (debt[a] > 0 && collateral[a] > 0)
        }
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
