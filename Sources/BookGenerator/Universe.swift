// The asset universe of a generated book: tickers, price-model parameters and the
// collateral schedule (assets.csv).

enum AssetKind: Sendable {
    case stable, major, alt
}

enum Sector: Int, Sendable, CaseIterable {
    case store, platform, exchange, payments, defi, meme, gaming
}

struct CatalogEntry: Sendable {
    var ticker: String
    var kind: AssetKind
    var sector: Sector
    /// Price on 2019-01-01, or on the listing date for assets listed later.
    var price: Double
    /// Real listing date (year, month, day) when after 2019-01-01.
    var listed: (Int, Int, Int)?

    init(_ ticker: String, _ kind: AssetKind, _ sector: Sector, _ price: Double, _ listed: (Int, Int, Int)? = nil) {
        self.ticker = ticker
        self.kind = kind
        self.sector = sector
        self.price = price
        self.listed = listed
    }
}

/// Realistic tickers, most popular first; synthetic `TKnnnn` tickers follow.
let assetCatalog: [CatalogEntry] = [
    CatalogEntry("BTC", .major, .store, 3_800),
    CatalogEntry("ETH", .major, .platform, 135),
    CatalogEntry("USDC", .stable, .payments, 1),
    CatalogEntry("USDT", .stable, .payments, 1),
    CatalogEntry("DAI", .stable, .defi, 1),
    CatalogEntry("SOL", .major, .platform, 0.95, (2020, 4, 10)),
    CatalogEntry("BNB", .major, .exchange, 6.1),
    CatalogEntry("XRP", .major, .payments, 0.36),
    CatalogEntry("ADA", .major, .platform, 0.042),
    CatalogEntry("DOGE", .alt, .meme, 0.0024),
    CatalogEntry("AVAX", .alt, .platform, 4.5, (2020, 9, 22)),
    CatalogEntry("DOT", .alt, .platform, 2.9, (2020, 8, 19)),
    CatalogEntry("MATIC", .alt, .platform, 0.0046, (2019, 4, 26)),
    CatalogEntry("LINK", .alt, .defi, 0.30),
    CatalogEntry("LTC", .alt, .payments, 31),
    CatalogEntry("UNI", .alt, .defi, 3.4, (2020, 9, 17)),
    CatalogEntry("ATOM", .alt, .platform, 4.6, (2019, 3, 14)),
    CatalogEntry("LUNA", .alt, .platform, 1.3, (2019, 7, 26)),
    CatalogEntry("FTT", .alt, .exchange, 1.0, (2019, 7, 29)),
    CatalogEntry("TRX", .alt, .payments, 0.020),
    CatalogEntry("BCH", .alt, .payments, 160),
    CatalogEntry("XLM", .alt, .payments, 0.11),
    CatalogEntry("ETC", .alt, .payments, 5.1),
    CatalogEntry("FIL", .alt, .platform, 30, (2020, 10, 15)),
    CatalogEntry("NEAR", .alt, .platform, 1.2, (2020, 10, 14)),
    CatalogEntry("ALGO", .alt, .platform, 1.0, (2019, 6, 20)),
    CatalogEntry("AAVE", .alt, .defi, 40, (2020, 10, 2)),
    CatalogEntry("MKR", .alt, .defi, 470),
    CatalogEntry("XTZ", .alt, .platform, 0.45),
    CatalogEntry("EOS", .alt, .platform, 2.6),
    CatalogEntry("CRV", .alt, .defi, 3.0, (2020, 8, 14)),
    CatalogEntry("COMP", .alt, .defi, 200, (2020, 6, 16)),
    CatalogEntry("SNX", .alt, .defi, 0.08),
    CatalogEntry("SAND", .alt, .gaming, 0.04, (2020, 8, 14)),
    CatalogEntry("MANA", .alt, .gaming, 0.05),
    CatalogEntry("AXS", .alt, .gaming, 0.15, (2020, 11, 4)),
    CatalogEntry("GRT", .alt, .defi, 0.30, (2020, 12, 17)),
    CatalogEntry("FTM", .alt, .platform, 0.020),
    CatalogEntry("THETA", .alt, .platform, 0.08),
    CatalogEntry("VET", .alt, .platform, 0.004),
    CatalogEntry("HBAR", .alt, .platform, 0.03, (2019, 9, 17)),
    CatalogEntry("ICP", .alt, .platform, 400, (2021, 5, 10)),
    CatalogEntry("LDO", .alt, .defi, 1.5, (2020, 12, 17)),
    CatalogEntry("CRO", .alt, .exchange, 0.03),
    CatalogEntry("OKB", .alt, .exchange, 1.5),
    CatalogEntry("XMR", .alt, .payments, 48),
    CatalogEntry("ZEC", .alt, .payments, 55),
    CatalogEntry("DASH", .alt, .payments, 80),
    CatalogEntry("NEO", .alt, .platform, 8),
    CatalogEntry("QNT", .alt, .platform, 4),
    CatalogEntry("KSM", .alt, .platform, 1.0, (2019, 9, 1)),
    CatalogEntry("EGLD", .alt, .platform, 20, (2020, 9, 1)),
    CatalogEntry("CAKE", .alt, .defi, 0.7, (2020, 9, 25)),
    CatalogEntry("YFI", .alt, .defi, 1_000, (2020, 7, 18)),
    CatalogEntry("SUSHI", .alt, .defi, 1.0, (2020, 8, 28)),
    CatalogEntry("RUNE", .alt, .defi, 0.10, (2019, 7, 23)),
    CatalogEntry("ENJ", .alt, .gaming, 0.03),
    CatalogEntry("CHZ", .alt, .gaming, 0.01),
    CatalogEntry("BAT", .alt, .platform, 0.12),
    CatalogEntry("ZRX", .alt, .defi, 0.30),
    CatalogEntry("ZIL", .alt, .platform, 0.02),
    CatalogEntry("ONE", .alt, .platform, 0.003, (2019, 6, 1)),
    CatalogEntry("KAVA", .alt, .defi, 0.6, (2019, 10, 24)),
    CatalogEntry("CELO", .alt, .platform, 1.5, (2020, 5, 22)),
    CatalogEntry("FLOW", .alt, .gaming, 10, (2021, 1, 27)),
    CatalogEntry("GALA", .alt, .gaming, 0.005, (2020, 9, 15)),
    CatalogEntry("IMX", .alt, .gaming, 0.3, (2021, 6, 24)),
    CatalogEntry("APT", .alt, .platform, 9, (2022, 10, 19)),
    CatalogEntry("OP", .alt, .platform, 1.4, (2022, 5, 31)),
    CatalogEntry("ARB", .alt, .platform, 1.2, (2023, 3, 23)),
]

struct AssetModel: Sendable {
    var ticker: String
    var kind: AssetKind
    var sector: Sector
    var startPrice: Double
    /// First row with a price (0 unless listed late).
    var listing: Int = 0
    /// Target daily log-return volatility.
    var vol: Double = 0
    var marketLoading: Double = 0
    var sectorLoading: Double = 0
    var drift: Double = 0
    // Collateral schedule.
    var haircut: Double = 0
    var eligible: Bool = true
    var maxWeight: Double = 1
    var adv: Double? = nil
    var costBps: Double = 10
    var isThin = false

    var isStable: Bool { kind == .stable }
}

struct Universe: Sendable {
    var assets: [AssetModel]
    /// The asset that collapses ~99 % in the LUNA episode, and the one that falls ~75 % in FTX.
    var lunaCollapse: Int?
    var ftxCollapse: Int?

    var count: Int { assets.count }

    func index(of ticker: String) -> Int? {
        assets.firstIndex { $0.ticker == ticker }
    }
}

/// Rounds to a multiple of `step`.
@inline(__always)
func roundTo(_ x: Double, _ step: Double) -> Double {
    (x / step).rounded() * step
}

func decimalWidth(_ n: Int) -> Int {
    var w = 1
    var v = n
    while v >= 10 {
        v /= 10
        w += 1
    }
    return w
}

enum UniverseBuilder {
    static func build(assetCount: Int, days: Int, seed: UInt64) -> Universe {
        var rng = Xoshiro(seed: deriveSeed(seed, 0x11))
        let latestLateListing = days - 400  // listings at or before this keep the last 366 rows complete
        let tickerWidth = max(4, decimalWidth(assetCount))
        var assets: [AssetModel] = []
        assets.reserveCapacity(assetCount)

        for i in 0..<assetCount {
            var a: AssetModel
            if i < assetCatalog.count {
                let e = assetCatalog[i]
                a = AssetModel(ticker: e.ticker, kind: e.kind, sector: e.sector, startPrice: e.price)
                if let (y, m, d) = e.listed {
                    let row = CivilDate.rowIndex(y, m, d)
                    if row >= 1 && row <= latestLateListing { a.listing = row }
                }
            } else {
                var t: [UInt8] = Array("TK".utf8)
                t.appendUInt(UInt64(i + 1), width: tickerWidth)
                let sectors: [Sector] = [.platform, .platform, .defi, .defi, .gaming, .exchange, .payments, .meme]
                a = AssetModel(ticker: String(decoding: t, as: UTF8.self), kind: .alt,
                               sector: sectors[rng.int(below: sectors.count)],
                               startPrice: rng.logUniform(0.01, 50))
                if latestLateListing >= 30 && rng.bernoulli(0.08) {
                    a.listing = rng.int(in: 30...latestLateListing)
                }
            }
            assets.append(a)
        }

        // Price-model parameters.
        for i in assets.indices {
            switch assets[i].ticker {
            case "USDC": assets[i].vol = 0.000_25
            case "USDT": assets[i].vol = 0.000_30
            case "DAI": assets[i].vol = 0.000_40
            case "BTC":
                assets[i].vol = 0.024; assets[i].marketLoading = 0.92; assets[i].sectorLoading = 0.20
                assets[i].drift = 0.0018
            case "ETH":
                assets[i].vol = 0.031; assets[i].marketLoading = 0.86; assets[i].sectorLoading = 0.30
                assets[i].drift = 0.0022
            default:
                switch assets[i].kind {
                case .stable:
                    assets[i].vol = 0.000_35
                case .major:
                    assets[i].vol = rng.uniform(0.036, 0.045)
                    assets[i].marketLoading = rng.uniform(0.78, 0.85)
                    assets[i].sectorLoading = rng.uniform(0.30, 0.40)
                    assets[i].drift = rng.uniform(0.0015, 0.0028)
                case .alt:
                    assets[i].vol = assets[i].sector == .meme ? rng.uniform(0.050, 0.062) : rng.uniform(0.038, 0.058)
                    assets[i].marketLoading = rng.uniform(0.55, 0.72)
                    assets[i].sectorLoading = rng.uniform(0.30, 0.50)
                    assets[i].drift = rng.uniform(0.0003, 0.0025)
                }
            }
        }

        // Collapse assets: LUNA and FTT when present, else the last alts of the catalog part.
        var luna = assets.firstIndex { $0.ticker == "LUNA" }
        var ftx = assets.firstIndex { $0.ticker == "FTT" }
        let catalogAlts = assets.indices.filter { $0 < assetCatalog.count && assets[$0].kind == .alt && assets[$0].listing == 0 }
        if luna == nil, catalogAlts.count >= 3 { luna = catalogAlts[catalogAlts.count - 1] }
        if ftx == nil, catalogAlts.count >= 4 { ftx = catalogAlts[catalogAlts.count - 2] }

        // Collateral schedule.
        let alts = assets.indices.filter { assets[$0].kind == .alt }
        var thin = Set<Int>()
        if alts.count >= 6 {
            let wanted = max(alts.count >= 12 ? 2 : 1, Int((Double(alts.count) * 0.06).rounded()))
            let tail = alts.filter { $0 >= 20 && $0 != luna && $0 != ftx }
            let pool = tail.count >= wanted ? tail : alts.filter { $0 != luna && $0 != ftx }
            var pick = pool
            for k in 0..<min(wanted, pick.count) {
                let j = k + rng.int(below: pick.count - k)
                pick.swapAt(k, j)
                thin.insert(pick[k])
            }
        }
        for i in assets.indices {
            var a = assets[i]
            switch a.ticker {
            case "USDC":
                a.haircut = 0.02; a.adv = nil; a.costBps = 1
            case "USDT":
                a.haircut = 0.03; a.adv = roundSignificant(rng.logUniform(1.5e10, 3e10), 3); a.costBps = 1
            case "DAI":
                a.haircut = 0.05; a.adv = roundSignificant(rng.logUniform(1e8, 5e8), 3); a.costBps = 2
            case "BTC":
                a.haircut = 0.10; a.adv = roundSignificant(rng.logUniform(1.5e10, 3e10), 3); a.costBps = 1
            case "ETH":
                a.haircut = 0.12; a.adv = roundSignificant(rng.logUniform(8e9, 1.5e10), 3); a.costBps = 2
            default:
                switch a.kind {
                case .stable:
                    a.haircut = roundTo(rng.uniform(0.02, 0.05), 0.005)
                    a.adv = roundSignificant(rng.logUniform(5e7, 5e8), 3); a.costBps = 2
                case .major:
                    a.haircut = roundTo(rng.uniform(0.15, 0.20), 0.01)
                    a.maxWeight = roundTo(rng.uniform(0.5, 0.8), 0.05)
                    a.adv = roundSignificant(rng.logUniform(1e9, 5e9), 3)
                    a.costBps = Double(rng.int(in: 3...5))
                case .alt:
                    let volScore = min(1, max(0, (a.vol - 0.038) / 0.024))
                    a.haircut = roundTo(min(0.5, 0.2 + 0.25 * volScore + rng.uniform(0, 0.06)), 0.01)
                    a.maxWeight = roundTo(rng.uniform(0.2, 0.5), 0.05)
                    // Liquidity falls with popularity rank.
                    let rank = min(1, Double(i) / 120)
                    let logAdv = 8 - 2 * rank * rng.uniform(0.5, 1.0) - rng.uniform(0, 0.4)
                    let adv = min(1e8, max(1e6, pow10(logAdv)))
                    a.adv = roundSignificant(adv, 3)
                    let liquidityScore = (8 - DetMath.log(adv) / DetMath.log(10)) / 2  // 0 (1e8) ... 1 (1e6)
                    a.costBps = min(100, max(10, (10 + 80 * liquidityScore + rng.uniform(0, 10)).rounded()))
                    if thin.contains(i) {
                        a.isThin = true
                        a.adv = roundSignificant(rng.logUniform(5e4, 5e5), 3)
                        a.costBps = Double(rng.int(in: 60...100))
                        a.haircut = roundTo(min(0.5, a.haircut + 0.1), 0.01)
                    }
                }
            }
            if a.kind == .stable || a.ticker == "BTC" || a.ticker == "ETH" { a.maxWeight = 1 }
            assets[i] = a
        }
        // One or two assets at 0.9: the collapsing ones.
        for c in [luna, ftx].compactMap({ $0 }) {
            assets[c].haircut = 0.9
            assets[c].maxWeight = 0.2
            assets[c].eligible = false
        }
        // About 10 % of the non-stable assets are not eligible (alts only, never majors).
        let nonStable = assets.indices.filter { !assets[$0].isStable }
        let wantedIneligible = Int((Double(nonStable.count) * 0.10).rounded())
        var ineligible = assets.indices.filter { !assets[$0].eligible }.count
        var pool = nonStable.filter { assets[$0].eligible && assets[$0].kind == .alt }
        while ineligible < wantedIneligible && !pool.isEmpty {
            let j = rng.int(below: pool.count)
            assets[pool[j]].eligible = false
            pool.remove(at: j)
            ineligible += 1
        }
        return Universe(assets: assets, lunaCollapse: luna, ftxCollapse: ftx)
    }
}

/// 10^x by the deterministic exponential.
func pow10(_ x: Double) -> Double {
    DetMath.exp(x * 2.302_585_092_994_045_7)
}

/// x rounded to `digits` significant digits (the value the written text denotes).
func roundSignificant(_ x: Double, _ digits: Int) -> Double {
    var scratch: [UInt8] = []
    return scratch.appendSignificant(x, digits: digits)
}
