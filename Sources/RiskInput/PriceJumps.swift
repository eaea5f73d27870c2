import Foundation
import RiskModel

/// Input warnings for price series that jump by orders of magnitude from one quoted day to the next: almost always
/// a data error (a price in cents, a missing decimal point, a redenominated token), and one such jump dominates
/// every volatility, VaR and haircut of the assets it touches.
enum PriceJumps {
    /// At most this many jump warnings are listed; the rest are counted in one line.
    static let listedWarnings = 20

    /// `prices.csv:LINE: price of BTC jumps by a factor of 1.0e+06 from 2024-01-02 to 2024-01-03 (…)`, one per jump
    /// whose ratio between consecutive quoted prices of an asset exceeds `Limits.suspiciousDailyPriceRatio`.
    static func warnings(_ history: PriceHistory, schedule: CollateralSchedule, file: String) -> [String] {
        var found: [String] = []
        var count = 0
        for asset in 0 ..< history.assetCount {
            var previous: (row: Int, price: Double)?
            for row in 0 ..< history.rowCount {
                let price = history.price(row: row, asset: asset)
                guard !price.isNaN else { continue }
                if let previous {
                    let ratio = max(price / previous.price, previous.price / price)
                    if ratio > Limits.suspiciousDailyPriceRatio {
                        count += 1
                        if found.count < listedWarnings {
                            found.append(message(history, schedule: schedule, file: file, asset: asset,
                                                 from: previous, to: (row, price), ratio: ratio))
                        }
                    }
                }
                previous = (row, price)
            }
        }
        if count > found.count { found.append("\(file): ... and \(count - found.count) more price jumps") }
        return found
    }

    private static func message(_ history: PriceHistory, schedule: CollateralSchedule, file: String, asset: Int,
                                from: (row: Int, price: Double), to: (row: Int, price: Double), ratio: Double) -> String {
        let direction = to.price > from.price ? "jumps up" : "falls"
        return "\(file):\(history.lineNumbers[to.row]): price of \(schedule.assets[asset].ticker) \(direction) by a factor of "
            + String(format: "%.3g", ratio) + " from \(history.dates[from.row]) (\(from.price)) to \(history.dates[to.row]) "
            + "(\(to.price)); check the data (a jump beyond \(Int(Limits.suspiciousDailyPriceRatio))× dominates every "
            + "volatility, VaR and haircut of this asset)"
    }
}
