import Foundation

/// An independent, deliberately plain implementation of SPEC §3.8 for `ReferenceModel`: every round re-values every
/// account from its remaining quantities (kept as USD values at today's prices, per holding) and the round's prices,
/// exactly as the SPEC's steps read. No engine code.
struct ReferenceCascade {
    struct Row: Equatable {
        var rounds = 0
        var liquidated = 0
        var byCascade = 0
        var sold = 0.0
        var repaid = 0.0
        var shortfall = 0.0
        var totalLoss = 0.0
        /// Per asset, V.
        var soldByAsset: [Double] = []
        /// Per asset, P_final / P⁰ − 1.
        var impact: [Double] = []
    }

    let model: ReferenceModel

    func haircut(_ i: Int, _ value: Double) -> Double {
        let s = model.settings
        if s.haircutModel == "schedule" { return model.scheduleHaircut[i] }
        var horizon = s.liquidationDays
        if let adv = model.adv[i] { horizon = max(s.liquidationDays, value / (s.participation * adv)) }
        return max(model.scheduleHaircut[i], 1 - exp(-s.z * model.volatility[i] * horizon.squareRoot()))
    }

    /// The cascade of scenario `scenario` on `book` (accounts with holdings as (asset, USD at today's prices)).
    func run(_ book: [(id: String, holdings: [(asset: Int, value: Double)])], scenario: Int) -> Row {
        let s = model.settings, n = model.tickers.count
        let start = model.shocks[scenario].map { 1 + $0 }   // P⁰ / p
        var price = start                                   // Pᵏ / p
        var held = book.map(\.holdings)                     // remaining quantity × today's price
        var sold = [Double](repeating: 0, count: n)
        var first = [Int?](repeating: nil, count: book.count)
        var row = Row()
        for round in 1 ... s.maxRounds {
            var sales = [Double](repeating: 0, count: n)
            var any = false
            for a in book.indices {
                var c = 0.0, d = 0.0, h = 0.0
                for (i, v) in held[a] {
                    if v > 0 { c += v * price[i]; h += v * price[i] * (1 - haircut(i, v * price[i])) } else { d -= v * price[i] }
                }
                guard d > 0, c > 0, h / d < s.liquidationRatio else { continue }
                let repaid = min(s.closeFactor * d, c / (1 + s.penalty))
                let everything = s.closeFactor * d >= c / (1 + s.penalty)
                for k in held[a].indices {
                    let (i, v) = held[a][k]
                    if v > 0 {
                        let part = everything ? 1 : (1 + s.penalty) * repaid / c
                        sales[i] += v * price[i] * part
                        held[a][k].value = everything ? 0 : v * (1 - part)
                    } else {
                        held[a][k].value = v * (1 - repaid / d)
                    }
                }
                row.repaid += repaid
                first[a] = first[a] ?? round
                any = true
            }
            guard any else { break }
            row.rounds = round
            for i in 0 ..< n where sales[i] > 0 {
                row.sold += sales[i]
                sold[i] += sales[i]
                if let adv = model.adv[i] {
                    price[i] = start[i] * (1 - min(0.99, s.impact * model.volatility[i] * (sold[i] / adv).squareRoot()))
                }
            }
        }
        for a in book.indices {
            let today = book[a].holdings.map(\.value).reduce(0, +)
            let c = held[a].filter { $0.value > 0 }.map { $0.value * price[$0.asset] }.reduce(0, +)
            let d = held[a].filter { $0.value < 0 }.map { -$0.value * price[$0.asset] }.reduce(0, +)
            row.shortfall += max(0, d - c)
            row.totalLoss += today - (c - d)
        }
        row.liquidated = first.compactMap { $0 }.count
        row.byCascade = first.compactMap { $0 }.filter { $0 > 1 }.count
        row.soldByAsset = sold
        row.impact = (0 ..< n).map { price[$0] / start[$0] - 1 }
        return row
    }
}
