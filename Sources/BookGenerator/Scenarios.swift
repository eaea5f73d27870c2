// scenarios.csv: hypothetical shocks with meaningful names (the historical replays live in
// the engine's config, METHODOLOGY "Stress tests"). Scenarios that would shock no asset of the book are left out.

struct HypotheticalScenario {
    var name: String
    /// (asset index, relative shock > −1), in assets.csv order.
    var shocks: [(Int, Double)]
}

func hypotheticalScenarios(_ universe: Universe) -> [HypotheticalScenario] {
    let assets = universe.assets
    let all = Array(assets.indices)
    let risky = all.filter { !assets[$0].isStable }
    func ticker(_ i: Int) -> String { assets[i].ticker }
    func only(_ t: String, _ shock: Double) -> [(Int, Double)] {
        universe.index(of: t).map { [($0, shock)] } ?? []
    }

    var list: [HypotheticalScenario] = []
    list.append(HypotheticalScenario(name: "crypto_crash_30", shocks: risky.map { ($0, -0.30) }))
    list.append(HypotheticalScenario(name: "btc_minus_50", shocks: only("BTC", -0.50)))
    list.append(HypotheticalScenario(name: "eth_minus_40", shocks: only("ETH", -0.40)))
    list.append(HypotheticalScenario(name: "usdc_depeg_10", shocks: only("USDC", -0.10)))
    list.append(HypotheticalScenario(name: "stablecoin_run", shocks: all.compactMap { i -> (Int, Double)? in
        switch ticker(i) {
        case "USDT": return (i, -0.15)
        case "DAI": return (i, -0.08)
        case "USDC": return (i, -0.03)
        case "BTC": return (i, -0.10)
        case "ETH": return (i, -0.12)
        default: return nil
        }
    }))
    list.append(HypotheticalScenario(name: "alt_winter", shocks: risky.compactMap { i -> (Int, Double)? in
        switch assets[i].kind {
        case .alt: return (i, -0.60)
        case .major: return ticker(i) == "BTC" ? (i, -0.20) : (ticker(i) == "ETH" ? (i, -0.30) : (i, -0.40))
        case .stable: return nil
        }
    }))
    list.append(HypotheticalScenario(name: "mild_down_5", shocks: risky.map { ($0, -0.05) }))
    list.append(HypotheticalScenario(name: "rates_up_rally", shocks: all.compactMap { i -> (Int, Double)? in
        let a = assets[i]
        if a.isStable { return a.ticker == "DAI" ? (i, -0.01) : nil }
        switch a.ticker {
        case "BTC": return (i, 0.12)
        case "ETH": return (i, 0.15)
        default: return (i, a.kind == .major ? 0.20 : 0.25)
        }
    }))
    let defi = risky.filter { assets[$0].sector == .defi }
    if !defi.isEmpty {
        var shocks = defi.map { ($0, -0.45) }
        if let eth = universe.index(of: "ETH") { shocks.append((eth, -0.10)) }
        shocks.sort { $0.0 < $1.0 }
        list.append(HypotheticalScenario(name: "defi_exploit", shocks: shocks))
    }
    let exchange = risky.filter { assets[$0].sector == .exchange }
    if !exchange.isEmpty {
        let shocks = risky.map { i -> (Int, Double) in
            if assets[i].sector == .exchange { return (i, -0.50) }
            switch ticker(i) {
            case "BTC": return (i, -0.12)
            case "ETH": return (i, -0.15)
            default: return (i, -0.20)
            }
        }
        list.append(HypotheticalScenario(name: "exchange_failure", shocks: shocks))
    }
    return list.filter { !$0.shocks.isEmpty }
}
