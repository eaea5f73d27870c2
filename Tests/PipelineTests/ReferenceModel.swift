import Foundation

/// An independent, deliberately plain implementation of SPEC §3.1–3.4 used to check the engine's report
/// through its files alone: dictionaries and double loops, no BLAS, no engine code.
struct ReferenceModel {
    struct Settings {
        var covariance = "ewma"
        var lambda = 0.94
        var window = 365
        var confidence = 0.99
        /// Φ⁻¹(confidence), from mpmath at 40 digits (the engine computes its own).
        var z = 2.3263478740408408
        var horizon = 1.0
        var haircutModel = "volatility"
        var liquidationDays = 1.0
        var participation = 0.1
        var liquidationRatio = 1.0
        var marginCallRatio = 1.1
        var targetRatio = 1.25
        var settlement = "USDC"
        /// Cascades (SPEC §3.8): φ, ℓ, η, the round limit.
        var closeFactor = 0.5
        var penalty = 0.05
        var impact = 1.0
        var maxRounds = 50
        var replays = [("covid_crash", "2020-03-11", "2020-03-13"), ("china_ban", "2021-05-18", "2021-05-20"),
                       ("luna_collapse", "2022-05-07", "2022-05-12"), ("ftx_collapse", "2022-11-07", "2022-11-09")]
    }

    struct Account {
        var collateral = 0.0, debt = 0.0, hcv = 0.0
        var ratio: Double? = nil
        var status = "ok"
        var varParam = 0.0, esParam = 0.0
        var buffer = 0.0
        var sigma: Double? = nil
        var scenario = ""
        var topup = 0.0, excess = 0.0
        var varHist = 0.0, esHist = 0.0
        var worstScenario: String? = nil
        var worstLoss: Double? = nil
    }

    struct StressRow {
        var name = ""
        var totalLoss = 0.0
        var ok = 0, marginCall = 0, liquidatable = 0, newlyLiquidatable = 0
        var shortfall = 0.0
    }

    struct Holding {
        var haircut: Double? = nil
        var hcv = 0.0
        var component = 0.0
    }

    var accounts: [String: Account] = [:]
    /// What the cascade reference (`ReferenceCascade`) needs: each account's holdings as (asset, USD value at today's
    /// prices, + collateral, − debt) in positions.csv order, the scenarios, and the market.
    var positions: [(id: String, holdings: [(asset: Int, value: Double)])] = []
    var scenarioNames: [String] = []
    var shocks: [[Double]] = []
    var tickers: [String] = []
    var volatility: [Double] = []
    var scheduleHaircut: [Double] = []
    var adv: [Double?] = []
    var settings = Settings()
    var stress: [StressRow] = []
    var bookVarHist = 0.0, bookEsHist = 0.0
    /// Keyed by "account|asset".
    var holdings: [String: Holding] = [:]

    init(book: URL, settings s: Settings) throws {
        let (priceHeader, priceRows) = try SimpleCSV.read(book.appendingPathComponent("prices.csv"))
        let assetRecords = try SimpleCSV.records(book.appendingPathComponent("assets.csv"))
        let positions = try SimpleCSV.records(book.appendingPathComponent("positions.csv"))
        let tickers = assetRecords.map { $0["asset"]! }
        let n = tickers.count
        // Price series per asset with the 3-day forward fill.
        var series: [[Double?]] = []
        for ticker in tickers {
            let column = priceHeader.firstIndex(of: ticker)!
            var values: [Double?] = priceRows.map { $0[column].isEmpty ? nil : Double($0[column])! }
            var last: Double? = nil
            var t = 0
            while t < values.count {
                if values[t] != nil {
                    last = values[t]
                    t += 1
                    continue
                }
                var end = t
                while end < values.count && values[end] == nil { end += 1 }
                if end - t <= 3, let fill = last { for u in t ..< end { values[u] = fill } }
                t = end
            }
            series.append(values)
        }
        let rows = priceRows.count
        let w = s.window
        // r[t][i], t = 0 oldest.
        var r = [[Double]](repeating: [Double](repeating: 0, count: n), count: w)
        for t in 0 ..< w {
            for i in 0 ..< n {
                let p0 = series[i][rows - w - 1 + t]!, p1 = series[i][rows - w + t]!
                r[t][i] = log(p1 / p0)
            }
        }
        var cov = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var mean = [Double](repeating: 0, count: n)
        for i in 0 ..< n { for t in 0 ..< w { mean[i] += r[t][i] / Double(w) } }
        switch s.covariance {
        case "ewma":
            for i in 0 ..< n {
                for j in 0 ..< n {
                    for k in 0 ..< w {
                        let weight = (1 - s.lambda) * pow(s.lambda, Double(k)) / (1 - pow(s.lambda, Double(w)))
                        cov[i][j] += weight * r[w - 1 - k][i] * r[w - 1 - k][j]
                    }
                }
            }
        case "sample":
            for i in 0 ..< n { for j in 0 ..< n { for t in 0 ..< w { cov[i][j] += (r[t][i] - mean[i]) * (r[t][j] - mean[j]) / Double(w - 1) } } }
        default:   // ledoit_wolf, observation-wise formula
            var emp = cov
            for i in 0 ..< n { for j in 0 ..< n { for t in 0 ..< w { emp[i][j] += (r[t][i] - mean[i]) * (r[t][j] - mean[j]) / Double(w) } } }
            let mu = (0 ..< n).map { emp[$0][$0] }.reduce(0, +) / Double(n)
            var delta = 0.0, beta = 0.0
            for i in 0 ..< n { for j in 0 ..< n { delta += pow(emp[i][j] - (i == j ? mu : 0), 2) } }
            delta /= Double(n)
            for t in 0 ..< w {
                for i in 0 ..< n { for j in 0 ..< n { beta += pow((r[t][i] - mean[i]) * (r[t][j] - mean[j]) - emp[i][j], 2) } }
            }
            beta /= Double(w * w * n)
            let shrink = min(beta, delta) / delta
            for i in 0 ..< n { for j in 0 ..< n { cov[i][j] = (1 - shrink) * emp[i][j] + (i == j ? shrink * mu : 0) } }
        }
        let vol = (0 ..< n).map { cov[$0][$0].squareRoot() }
        self.settings = s
        self.tickers = tickers
        volatility = vol
        scheduleHaircut = assetRecords.map { Double($0["haircut"]!)! }
        adv = assetRecords.map { $0["adv_usd"].flatMap(Double.init) }
        let price = (0 ..< n).map { series[$0][rows - 1]! }
        let index = Dictionary(uniqueKeysWithValues: tickers.enumerated().map { ($1, $0) })
        func haircut(_ i: Int, _ value: Double) -> Double {
            let scheduled = Double(assetRecords[i]["haircut"]!)!
            if s.haircutModel == "schedule" { return scheduled }
            var horizon = s.liquidationDays
            if let advText = assetRecords[i]["adv_usd"], let adv = Double(advText) {
                horizon = max(s.liquidationDays, value / (s.participation * adv))
            }
            return max(scheduled, 1 - exp(-s.z * vol[i] * horizon.squareRoot()))
        }
        let hSettlement = haircut(index[s.settlement]!, 0)
        // Stress scenarios: scenarios.csv in first-appearance order, then the default replays whose dates exist.
        var scenarioNames: [String] = []
        var shocks: [[Double]] = []
        let scenarioFile = book.appendingPathComponent("scenarios.csv")
        if FileManager.default.fileExists(atPath: scenarioFile.path) {
            for row in try SimpleCSV.records(scenarioFile) {
                let name = row["scenario"]!
                if !scenarioNames.contains(name) {
                    scenarioNames.append(name)
                    shocks.append([Double](repeating: 0, count: n))
                }
                shocks[scenarioNames.firstIndex(of: name)!][index[row["asset"]!]!] = Double(row["shock"]!)!
            }
        }
        let dates = priceRows.map { $0[0] }
        for (name, start, end) in s.replays {
            guard let r0 = dates.firstIndex(of: start), let r1 = dates.firstIndex(of: end) else { continue }
            scenarioNames.append(name)
            shocks.append((0 ..< n).map { i in
                guard let p0 = series[i][r0], let p1 = series[i][r1] else { return 0 }
                return p1 / p0 - 1
            })
        }
        stress = scenarioNames.map { StressRow(name: $0) }
        self.scenarioNames = scenarioNames
        self.shocks = shocks
        // k = ⌈round(W·(1−α), 9)⌉
        let tail = max(1, min(w, Int(ceil((Double(w) * (1 - s.confidence) * 1e9).rounded() / 1e9))))
        var bookExposure = [Double](repeating: 0, count: n)
        // Net quantities per account, first appearance order.
        var order: [String] = []
        var quantity: [String: [Int: Double]] = [:]
        var assetOrder: [String: [Int]] = [:]
        for p in positions {
            let id = p["account"]!, i = index[p["asset"]!]!
            if quantity[id] == nil {
                order.append(id)
                quantity[id] = [:]
                assetOrder[id] = []
            }
            if quantity[id]![i] == nil { assetOrder[id]!.append(i) }
            quantity[id]![i, default: 0] += Double(p["quantity"]!)!
        }
        let phi = exp(-0.5 * s.z * s.z) / (2 * Double.pi).squareRoot()
        for id in order {
            var a = Account()
            var e = [Double](repeating: 0, count: n), b = [Double](repeating: 0, count: n)
            self.positions.append((id, assetOrder[id]!.map { ($0, quantity[id]![$0]! * price[$0]) }))
            for i in assetOrder[id]! {
                e[i] = quantity[id]![i]! * price[i]
                var h = Holding()
                if e[i] > 0 {
                    let cut = haircut(i, e[i])
                    h.haircut = cut
                    h.hcv = e[i] * (1 - cut)
                    a.collateral += e[i]
                    a.hcv += h.hcv
                    b[i] = h.hcv
                } else {
                    a.debt -= e[i]
                    b[i] = s.liquidationRatio * e[i]
                }
                holdings["\(id)|\(tickers[i])"] = h
            }
            var se = [Double](repeating: 0, count: n), sb = [Double](repeating: 0, count: n)
            var variance = 0.0, bsb = 0.0
            for i in 0 ..< n {
                for j in 0 ..< n {
                    se[i] += cov[i][j] * e[j]
                    sb[i] += cov[i][j] * b[j]
                }
                variance += e[i] * se[i]
                bsb += b[i] * sb[i]
            }
            let sigma = variance.squareRoot()
            a.varParam = s.z * sigma * s.horizon.squareRoot()
            a.esParam = sigma * s.horizon.squareRoot() * phi / (1 - s.confidence)
            for i in assetOrder[id]! {
                holdings["\(id)|\(tickers[i])"]!.component = sigma > 0 ? e[i] * se[i] / sigma * s.z * s.horizon.squareRoot() : 0
            }
            a.buffer = a.hcv - s.liquidationRatio * a.debt
            if a.debt > 0 {
                let ratio = a.hcv / a.debt
                a.ratio = ratio
                a.status = ratio < s.liquidationRatio ? "liquidatable" : ratio < s.marginCallRatio ? "margin_call" : "ok"
                if bsb > 0 {
                    a.sigma = a.buffer / (s.horizon * bsb).squareRoot()
                    // SPEC §3.2: an account already past the threshold has no liquidation scenario.
                    let moves = a.buffer < 0 ? [] : assetOrder[id]!.map { ($0, expm1(-a.buffer * sb[$0] / bsb)) }
                        .sorted { abs($0.1) != abs($1.1) ? abs($0.1) > abs($1.1) : $0.0 < $1.0 }
                    a.scenario = moves.prefix(3).map { m in
                        var text = String(format: "%.1f", 100 * m.1)
                        if text == "-0.0" { text = "0.0" }
                        return "\(tickers[m.0]) \(text)%"
                    }.joined(separator: "; ")
                }
            }
            a.topup = max(0, s.targetRatio * a.debt - a.hcv) / (1 - hSettlement)
            a.excess = max(0, a.hcv - s.targetRatio * a.debt) / (1 - hSettlement)
            // Historical: full revaluation over the window, sort-based order statistic.
            var losses: [Double] = (0 ..< w).map { t in -(0 ..< n).map { e[$0] * (exp(r[t][$0]) - 1) }.reduce(0, +) }
            losses.sort(by: >)
            a.varHist = losses[tail - 1] * s.horizon.squareRoot()
            a.esHist = losses[0 ..< tail].reduce(0, +) / Double(tail) * s.horizon.squareRoot()
            for i in 0 ..< n { bookExposure[i] += e[i] }
            // Stress: every scenario, haircuts re-evaluated at the stressed collateral values.
            for (si, shock) in shocks.enumerated() {
                var c2 = 0.0, d2 = 0.0, h2 = 0.0, loss = 0.0
                for i in assetOrder[id]! {
                    let stressed = e[i] * (1 + shock[i])
                    loss -= e[i] * shock[i]
                    if e[i] > 0 {
                        c2 += stressed
                        h2 += stressed * (1 - haircut(i, stressed))
                    } else {
                        d2 -= stressed
                    }
                }
                var status2 = "ok"
                if d2 > 0 {
                    let ratio = h2 / d2
                    status2 = ratio < s.liquidationRatio ? "liquidatable" : ratio < s.marginCallRatio ? "margin_call" : "ok"
                }
                stress[si].totalLoss += loss
                stress[si].shortfall += max(0, d2 - c2)
                switch status2 {
                case "ok": stress[si].ok += 1
                case "margin_call": stress[si].marginCall += 1
                default:
                    stress[si].liquidatable += 1
                    if a.status != "liquidatable" { stress[si].newlyLiquidatable += 1 }
                }
                if let best = a.worstLoss, abs(loss - best) <= 1e-12 * max(abs(loss), abs(best)) || loss < best {
                    continue
                }
                a.worstLoss = loss
                a.worstScenario = scenarioNames[si]
            }
            accounts[id] = a
        }
        var bookLosses: [Double] = (0 ..< w).map { t in -(0 ..< n).map { bookExposure[$0] * (exp(r[t][$0]) - 1) }.reduce(0, +) }
        bookLosses.sort(by: >)
        bookVarHist = bookLosses[tail - 1] * s.horizon.squareRoot()
        bookEsHist = bookLosses[0 ..< tail].reduce(0, +) / Double(tail) * s.horizon.squareRoot()
    }
}
