// Simulated daily prices: a market factor and sector factors with GARCH(1,1) variance and
// Student-t(4) innovations, idiosyncratic GARCH noise, mean-reverting stablecoins, crashes on
// the product's replay episodes, late listings and short gaps.

struct CrashEpisode: Sendable {
    var name: String
    var start: Int  // row of the start date
    var end: Int  // row of the end date
    var majors: ClosedRange<Double>  // total relative move start→end for BTC and majors
    var alts: ClosedRange<Double>
    var collapse: Int?  // asset index with a special move
    var collapseMove: ClosedRange<Double>
}

func crashEpisodes(universe: Universe) -> [CrashEpisode] {
    [
        CrashEpisode(name: "covid_crash", start: CivilDate.rowIndex(2020, 3, 11), end: CivilDate.rowIndex(2020, 3, 13),
                     majors: -0.40 ... -0.35, alts: -0.45 ... -0.38, collapse: nil, collapseMove: 0...0),
        CrashEpisode(name: "china_ban", start: CivilDate.rowIndex(2021, 5, 18), end: CivilDate.rowIndex(2021, 5, 20),
                     majors: -0.31 ... -0.26, alts: -0.36 ... -0.28, collapse: nil, collapseMove: 0...0),
        CrashEpisode(name: "luna_collapse", start: CivilDate.rowIndex(2022, 5, 7), end: CivilDate.rowIndex(2022, 5, 12),
                     majors: -0.27 ... -0.22, alts: -0.33 ... -0.25,
                     collapse: universe.lunaCollapse, collapseMove: -0.995 ... -0.985),
        CrashEpisode(name: "ftx_collapse", start: CivilDate.rowIndex(2022, 11, 7), end: CivilDate.rowIndex(2022, 11, 9),
                     majors: -0.22 ... -0.17, alts: -0.28 ... -0.20,
                     collapse: universe.ftxCollapse, collapseMove: -0.78 ... -0.72),
    ]
}

/// Prices row-major (`days × assets`), NaN where missing.
struct PriceTable: Sendable {
    var days: Int
    var assets: Int
    var values: [Double]

    @inline(__always)
    subscript(day: Int, asset: Int) -> Double {
        get { values[day * assets + asset] }
        set { values[day * assets + asset] = newValue }
    }
}

enum PriceSimulator {
    static let garchAlpha = 0.07
    static let garchBeta = 0.91
    /// Cap on the conditional variance (× the long-run one): t(4) shocks have no fourth
    /// moment, and an uncapped GARCH occasionally spends a whole year at several times its
    /// long-run volatility.
    static let garchCap = 3.0

    /// One GARCH(1,1) path of unit unconditional variance with t(4) innovations; `forced`
    /// overrides the shock on given rows (crash days), which feeds volatility clustering.
    static func garchPath(days: Int, rng: inout Xoshiro, forced: [Int: Double] = [:]) -> [Double] {
        var eps = [Double](repeating: 0, count: days)
        let omega = 1 - garchAlpha - garchBeta
        var h = 1.0
        var prev = 0.0
        for t in 0..<days {
            h = min(garchCap, omega + garchAlpha * prev * prev + garchBeta * h)
            let z = rng.studentT4()
            var e = h.squareRoot() * z
            if let f = forced[t] { e = f }
            eps[t] = e
            prev = e
        }
        return eps
    }

    static func simulate(universe: Universe, days: Int, seed: UInt64) -> PriceTable {
        let n = universe.count
        var table = PriceTable(days: days, assets: n, values: [Double](repeating: .nan, count: days * n))
        let episodes = crashEpisodes(universe: universe).filter { $0.start >= 0 && $0.end < days }

        // Crash rows (returns on start+1 ... end) shock the market factor for clustering.
        var forcedMarket: [Int: Double] = [:]
        for ep in episodes {
            for t in (ep.start + 1)...ep.end { forcedMarket[t] = -3.0 }
        }
        var factorRng = Xoshiro(seed: deriveSeed(seed, 0x21))
        let market = garchPath(days: days, rng: &factorRng, forced: forcedMarket)
        var sectors: [[Double]] = []
        for _ in Sector.allCases {
            sectors.append(garchPath(days: days, rng: &factorRng))
        }

        for i in 0..<n {
            let a = universe.assets[i]
            var rng = Xoshiro(seed: deriveSeed(seed, 0x22, UInt64(i)))
            let start = a.listing
            if a.isStable {
                // Ornstein–Uhlenbeck log deviation from the 1.0 peg.
                let phi = 0.6
                var x = 0.0
                for t in start..<days {
                    if t > start { x = phi * x + a.vol * rng.normal() }
                    table[t, i] = DetMath.exp(x)
                }
                continue
            }
            // Per-episode crash moves (log), decided up front in episode order.
            var crashLog = [Double](repeating: 0, count: episodes.count)
            for (k, ep) in episodes.enumerated() {
                let range: ClosedRange<Double>
                if ep.collapse == i {
                    range = ep.collapseMove
                } else {
                    range = a.kind == .alt ? ep.alts : ep.majors
                }
                let move = rng.uniform(range.lowerBound, range.upperBound)
                crashLog[k] = start <= ep.start ? DetMath.log(1 + move) : 0
            }
            let idio = garchPath(days: days, rng: &rng)
            let sector = sectors[a.sector.rawValue]
            let b = a.marketLoading, s = a.sectorLoading
            let c = max(0, 1 - b * b - s * s).squareRoot()
            var lp = DetMath.log(a.startPrice)
            var volScale = 1.0
            var drift = a.drift
            var collapseRow = Int.max / 2
            for t in start..<days {
                if t > start {
                    var r: Double
                    if let k = episodes.firstIndex(where: { t > $0.start && t <= $0.end }), crashLog[k] != 0 {
                        let ep = episodes[k]
                        r = crashLog[k] / Double(ep.end - ep.start) + 0.15 * a.vol * rng.normal()
                        if ep.collapse == i && t == ep.end {
                            // After its collapse the asset trades thin and falls further.
                            volScale = 1.6
                            drift = -0.003
                            collapseRow = t
                        }
                    } else {
                        // Trends fade after four years and the post-collapse slide after half a year,
                        // so that very long books keep sane price levels.
                        let mu = t - collapseRow > 180 && drift < 0 ? 0 : (t < 1460 ? drift : 0.1 * drift)
                        r = mu + a.vol * volScale * (b * market[t] + s * sector[t] + c * idio[t])
                    }
                    lp += r
                }
                table[t, i] = DetMath.exp(lp)
            }
        }
        return table
    }

    /// Sprinkles short gaps (1–3 empty cells) into some non-stable assets: never on the last
    /// row, never on or next to a replay episode, never in the last 366 rows of BTC or ETH,
    /// always separated from other gaps by at least one price.
    static func addGaps(_ table: inout PriceTable, universe: Universe, seed: UInt64) {
        let days = table.days
        guard days >= 12 else { return }
        var rng = Xoshiro(seed: deriveSeed(seed, 0x23))
        let episodes = crashEpisodes(universe: universe)
        for i in 0..<universe.count {
            let a = universe.assets[i]
            guard !a.isStable, rng.bernoulli(0.25) else { continue }
            let protectedTail = (a.ticker == "BTC" || a.ticker == "ETH") ? 367 : 1
            let lo = a.listing + 2
            let hi = days - protectedTail - 4  // last possible gap start
            guard hi > lo else { continue }
            let gaps = rng.int(in: 1...3)
            for _ in 0..<gaps {
                for _ in 0..<10 {
                    let len = rng.int(in: 1...3)
                    let s = rng.int(in: lo...hi)
                    let e = s + len - 1
                    if episodes.contains(where: { s <= $0.end + 1 && e >= $0.start - 1 }) { continue }
                    // Neighbours must be present so gaps never merge.
                    var clear = true
                    for t in (s - 1)...(e + 1) where table[t, i].isNaN {
                        clear = false
                        break
                    }
                    if !clear { continue }
                    for t in s...e { table[t, i] = .nan }
                    break
                }
            }
        }
    }
}
