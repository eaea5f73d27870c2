import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import RiskPipeline

/// Hand-built runs for the comparison tests, and a plain reference of V(q, p, Σ, s) written here with dictionaries
/// and double loops (no code of the engine).
enum ChangesFixture {
    /// One account of a hand-built run: id, status (nil out of range), stored var_param and holdings by ticker.
    struct Account {
        var id: String
        var status: AccountStatus?
        var varParam: Double
        var holdings: [(ticker: String, quantity: Double)]
    }

    /// A run's snapshot from tickers, prices, universe, Σ, s and accounts (holdings by ticker).
    static func snapshot(runID: Int64?, asOf: String, tickers: [String], prices: [Double], inUniverse: [Bool]? = nil,
                         covariance: Matrix, varPerSigma: Double, accounts: [Account], bookVaR: Double = 0) -> RunSnapshot {
        let index = Dictionary(uniqueKeysWithValues: tickers.enumerated().map { ($1, Int32($0)) })
        var starts = [0], assets: [Int32] = [], quantities: [Double] = []
        for a in accounts {
            for h in a.holdings {
                assets.append(index[h.ticker]!)
                quantities.append(h.quantity)
            }
            starts.append(assets.count)
        }
        return RunSnapshot(runID: runID, bookName: "book", asOf: asOf, tickers: tickers, prices: prices,
                           inUniverse: inUniverse ?? tickers.map { _ in true }, covariance: covariance,
                           varPerSigma: varPerSigma, accountIDs: accounts.map(\.id), status: accounts.map(\.status),
                           varParam: accounts.map(\.varParam), holdingStart: starts, holdingAsset: assets,
                           holdingQuantity: quantities, bookVaR: bookVaR)
    }

    /// Quantities by ticker of account `a` of `run` (lots summed).
    static func quantities(_ run: RunSnapshot, _ a: Int) -> [String: Double] {
        var q: [String: Double] = [:]
        for k in run.holdings(of: a) { q[run.tickers[Int(run.holdingAsset[k])], default: 0] += run.holdingQuantity[k] }
        return q
    }

    /// Reference V(q, p, Σ_run, s_run): Σ_{t,u} q_t·p_t·Σ[t,u]·q_u·p_u over the tickers of `run`'s risk universe,
    /// plain double loop; `prices` by ticker.
    static func referenceVaR(_ q: [String: Double], prices: [String: Double], under run: RunSnapshot) -> Double {
        let index = Dictionary(uniqueKeysWithValues: run.tickers.enumerated().map { ($1, $0) })
        let risky = q.keys.sorted().compactMap { t -> (Int, Double)? in
            guard let i = index[t], run.inUniverse[i] else { return nil }
            return (i, q[t]! * prices[t]!)
        }
        var form = 0.0
        for (i, ei) in risky {
            for (j, ej) in risky { form += ei * run.covariance[i, j] * ej }
        }
        return run.varPerSigma * max(form, 0).squareRoot()
    }

    /// Run B's prices on every ticker of either run: B's price, or A's for a ticker not in B.
    static func afterPrices(_ a: RunSnapshot, _ b: RunSnapshot) -> [String: Double] {
        var p = Dictionary(uniqueKeysWithValues: zip(a.tickers, a.prices))
        for (t, x) in zip(b.tickers, b.prices) { p[t] = x }
        return p
    }

    /// A deterministic stream of uniforms in [0, 1).
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        mutating func int(_ n: Int) -> Int { min(Int(next() * Double(n)), n - 1) }
    }

    /// A random PSD covariance L·Lᵀ (daily scale ≈ 1e-4), with zero rows and columns outside `inUniverse`.
    static func covariance(_ n: Int, inUniverse: [Bool], random: inout Random) -> Matrix {
        let factors = 4
        let l = (0 ..< n).map { _ in (0 ..< factors).map { _ in (random.next() - 0.3) * 0.02 } }
        var s = Matrix(rows: n, columns: n)
        for i in 0 ..< n where inUniverse[i] {
            for j in 0 ..< n where inUniverse[j] {
                s[i, j] = zip(l[i], l[j]).reduce(0) { $0 + $1.0 * $1.1 } + (i == j ? 1e-5 : 0)
            }
        }
        return s
    }

    /// Two random runs of one book: run B drops two of run A's assets, adds two, moves prices, has its own Σ and
    /// scale, keeps most accounts (some with other quantities or assets), closes some and opens others; some
    /// accounts are out of range; an asset of each run is outside its risk universe. var_param is the reference V
    /// of the run (a finite placeholder for accounts out of range, which the comparison must ignore).
    static func randomRuns(accounts: Int, seed: UInt64, assets n: Int = 12) -> (RunSnapshot, RunSnapshot) {
        var random = Random(state: seed)
        let tickersA = (0 ..< n).map { "T\($0)" }, tickersB = (2 ..< n + 2).map { "T\($0)" }
        let universeA = tickersA.map { $0 != "T\(n - 1)" }, universeB = tickersB.map { $0 != "T4" }
        let pricesA = tickersA.map { _ in 1 + 100 * random.next() }
        let pricesB = pricesA.dropFirst(2).map { $0 * (0.8 + 0.4 * random.next()) } + [7, 0.5]
        let covA = covariance(n, inUniverse: universeA, random: &random)
        let covB = covariance(n, inUniverse: universeB, random: &random)
        var listA: [Account] = [], listB: [Account] = []
        for a in 0 ..< accounts {
            let id = "acct-\(a)"
            let holdingsA = randomHoldings(tickersA, &random)
            if a >= accounts / 10 { listA.append(Account(id: id, status: randomStatus(&random), varParam: 0, holdings: holdingsA)) }
            guard a < accounts - accounts / 10 else { continue }
            var holdingsB = holdingsA.filter { tickersB.contains($0.ticker) }
            if random.next() < 0.5 { holdingsB = randomHoldings(tickersB, &random) }
            listB.append(Account(id: id, status: randomStatus(&random), varParam: 0, holdings: holdingsB))
        }
        listB.swapAt(0, listB.count - 1)
        var a = snapshot(runID: 4, asOf: "2026-01-05", tickers: tickersA, prices: pricesA, inUniverse: universeA,
                         covariance: covA, varPerSigma: 2.326, accounts: listA)
        var b = snapshot(runID: 7, asOf: "2026-01-06", tickers: tickersB, prices: Array(pricesB), inUniverse: universeB,
                         covariance: covB, varPerSigma: 2.576 * 10.0.squareRoot(), accounts: listB)
        fillVaR(&a)
        fillVaR(&b)
        return (a, b)
    }

    static func randomHoldings(_ tickers: [String], _ random: inout Random) -> [(ticker: String, quantity: Double)] {
        var chosen: [String] = []
        for _ in 0 ..< 1 + random.int(6) {
            let t = tickers[random.int(tickers.count)]
            if !chosen.contains(t) { chosen.append(t) }
        }
        return chosen.map { ($0, (random.next() - 0.3) * 50) }
    }

    static func randomStatus(_ random: inout Random) -> AccountStatus? {
        let u = random.next()
        return u < 0.05 ? nil : u < 0.6 ? .ok : u < 0.8 ? .marginCall : .liquidatable
    }

    /// var_param = the reference V of each account in range (1234.5 out of range), bookVaR over those in range.
    static func fillVaR(_ run: inout RunSnapshot) {
        let prices = Dictionary(uniqueKeysWithValues: zip(run.tickers, run.prices))
        var book: [String: Double] = [:]
        for a in 0 ..< run.accountCount {
            let q = quantities(run, a)
            run.varParam[a] = run.status[a] == nil ? 1234.5 : referenceVaR(q, prices: prices, under: run)
            if run.status[a] != nil { for (t, x) in q { book[t, default: 0] += x } }
        }
        run.bookVaR = referenceVaR(book, prices: prices, under: run)
    }
}
