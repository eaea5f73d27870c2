import Foundation
import Testing

/// The backtest as a user sees it (accounts.csv columns, backtest.csv, summary.json), checked against plain loops over
/// the book's own CSV files: the book's daily losses, its sample-covariance and historical VaR forecasts, its
/// exception count and Kupiec p-value, and the zone tallies.
@Suite(.serialized) struct BacktestReportTests {
    static let window = 120
    static let days = 60

    /// One run of the shared test book with a short window, so that W + B fits its history.
    static let report: URL = {
        let out = try! CLI.temporaryDirectory("backtest").appendingPathComponent("report")
        let outcome = try! CLI.run(["run", EndToEndTests.book.path, "--out", out.path, "--quiet", "--set",
                                    "window=\(window)", "--set", "backtest_days=\(days)", "--set", "covariance=sample"])
        precondition(outcome.status == 0, outcome.stderr)
        return out
    }()

    /// prices.csv as columns of doubles (the generated book has no gaps in the rows used here).
    static func prices() throws -> (dates: [String], tickers: [String], columns: [[Double]]) {
        let (header, rows) = try SimpleCSV.read(EndToEndTests.book.appendingPathComponent("prices.csv"))
        let tickers = Array(header.dropFirst())
        var columns = [[Double]](repeating: [], count: tickers.count)
        for row in rows { for j in tickers.indices { columns[j].append(Double(row[j + 1]) ?? .nan) } }
        return (rows.map { $0[0] }, tickers, columns)
    }

    /// The book's exposure per ticker: holdings.csv exposures of valid accounts (those with a status).
    static func bookExposures() throws -> [String: Double] {
        let accounts = try SimpleCSV.records(report.appendingPathComponent("accounts.csv"))
        let valid = Set(accounts.filter { $0["status"] != "" }.map { $0["account"]! })
        var total: [String: Double] = [:]
        for h in try SimpleCSV.records(report.appendingPathComponent("holdings.csv")) where valid.contains(h["account"]!) {
            total[h["asset"]!, default: 0] += Double(h["exposure_usd"]!)!
        }
        return total
    }

    @Test func bookSeriesMatchPlainLoops() throws {
        let (dates, tickers, columns) = try Self.prices()
        let exposure = try Self.bookExposures()
        let rows = try SimpleCSV.records(Self.report.appendingPathComponent("backtest.csv"))
        #expect(rows.map { $0["date"]! } == Array(dates.suffix(Self.days)))
        let assets = tickers.indices.filter { (exposure[tickers[$0]] ?? 0) != 0 }
        // Log returns of the assets held; return d is between price rows d and d + 1.
        let returns = assets.map { j in (1 ..< columns[j].count).map { log(columns[j][$0] / columns[j][$0 - 1]) } }
        let e = assets.map { exposure[tickers[$0]]! }
        let returnCount = returns[0].count
        func loss(_ d: Int) -> Double { -zip(e, returns).reduce(0) { $0 + $1.0 * (exp($1.1[d]) - 1) } }
        let z = 2.3263478740408408  // Φ⁻¹(0.99), mpmath
        let k = Int((Double(Self.window) * 0.01).rounded(.up))
        for (b, row) in rows.enumerated() {
            let t = returnCount - Self.days + b
            #expect(relative(Double(row["book_loss_usd"]!)!, loss(t)) < 1e-9, "loss of \(row["date"]!)")
            let past = (t - Self.window ..< t)
            let historical = past.map(loss).sorted(by: >)[k - 1]
            #expect(relative(Double(row["book_var_hist"]!)!, historical) < 1e-9, "historical VaR of \(row["date"]!)")
            #expect(relative(Double(row["book_var_param"]!)!, z * sampleSigma(e, returns, past)) < 1e-8,
                    "parametric VaR of \(row["date"]!)")
        }
    }

    @Test func summaryAgreesWithTheSeriesAndTheAccounts() throws {
        let rows = try SimpleCSV.records(Self.report.appendingPathComponent("backtest.csv"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.report.appendingPathComponent("summary.json"))) as! [String: Any]
        let backtest = summary["backtest"] as! [String: Any]
        #expect(backtest["days"] as? Int == Self.days)
        let accounts = try SimpleCSV.records(Self.report.appendingPathComponent("accounts.csv"))
        for (m, column) in [("param", "book_var_param"), ("hist", "book_var_hist")] {
            let method = backtest[m] as! [String: Any]
            let x = rows.filter { Double($0["book_loss_usd"]!)! > Double($0[column]!)! }.count
            #expect(method["book_exceptions"] as? Int == x)
            #expect(relative(method["book_pof_pvalue"] as! Double, kupiecPValue(x: x, days: Self.days, p: 0.01)) < 1e-9)
            #expect(method["book_zone"] as? String == zone(x: x, days: Self.days, p: 0.01))
            let zones = method["zone_counts"] as! [String: Int]
            for name in ["green", "yellow", "red"] {
                #expect(zones[name] == accounts.filter { $0["bt_zone_\(m)"] == name }.count)
            }
            // Every account's zone follows from its exception count.
            for a in accounts where a["bt_zone_\(m)"] != "" {
                #expect(a["bt_zone_\(m)"] == zone(x: Int(a["bt_exceptions_\(m)"]!)!, days: Self.days, p: 0.01))
            }
            // The daily counts add up to the accounts' exception totals.
            let daily = rows.map { Int($0["accounts_exceptions_\(m)"]!)! }.reduce(0, +)
            #expect(daily == accounts.compactMap { Int($0["bt_exceptions_\(m)"]!) }.reduce(0, +))
        }
    }

    @Test func backtestDaysZeroLeavesEmptyColumnsAndAHeaderOnlyFile() throws {
        let out = try CLI.temporaryDirectory("backtest-off").appendingPathComponent("report")
        let outcome = try CLI.run(["run", EndToEndTests.book.path, "--out", out.path, "--quiet", "--set", "backtest_days=0"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let text = try String(contentsOf: out.appendingPathComponent("backtest.csv"), encoding: .utf8)
        #expect(text == "date,book_loss_usd,book_var_param,book_var_hist,accounts_exceptions_param,accounts_exceptions_hist\n")
        let accounts = try SimpleCSV.records(out.appendingPathComponent("accounts.csv"))
        #expect(accounts.allSatisfy { $0["bt_exceptions_param"] == "" && $0["bt_zone_hist"] == "" })
    }

    // MARK: independent formulas

    func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

    /// √(eᵀΣe) with Σ the sample covariance (÷ (W − 1)) of the returns in `days`, by plain loops.
    func sampleSigma(_ e: [Double], _ returns: [[Double]], _ days: Range<Int>) -> Double {
        let n = e.count, w = Double(days.count)
        let means = (0 ..< n).map { i in days.reduce(0) { $0 + returns[i][$1] } / w }
        var variance = 0.0
        for i in 0 ..< n {
            for j in 0 ..< n {
                let c = days.reduce(0) { $0 + (returns[i][$1] - means[i]) * (returns[j][$1] - means[j]) } / (w - 1)
                variance += e[i] * c * e[j]
            }
        }
        return variance.squareRoot()
    }

    /// Kupiec's p-value: P(χ²₁ > LR) = erfc(√(LR/2)).
    func kupiecPValue(x: Int, days: Int, p: Double) -> Double {
        let b = Double(days), xd = Double(x), rate = xd / b
        func xlog(_ n: Double, _ q: Double) -> Double { n == 0 ? 0 : n * log(q) }
        let lr = -2 * (xlog(b - xd, 1 - p) + xlog(xd, p) - xlog(b - xd, 1 - rate) - xlog(xd, rate))
        return erfc((max(lr, 0) / 2).squareRoot())
    }

    /// The Basel zone from P(X ≤ x), X ~ Binomial(B, p), summed term by term.
    func zone(x: Int, days: Int, p: Double) -> String {
        var term = pow(1 - p, Double(days)), cumulative = term
        for i in stride(from: 0, to: x, by: 1) {
            term *= Double(days - i) / Double(i + 1) * p / (1 - p)
            cumulative += term
        }
        return cumulative < 0.95 ? "green" : cumulative < 0.9999 ? "yellow" : "red"
    }
}
