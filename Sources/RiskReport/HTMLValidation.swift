import RiskMetrics
import RiskModel
import RiskPipeline

/// The "Model validation" section of report.html: how the parametric and historical VaR forecasts held up over the
/// backtest days, for the book and for every account (METHODOLOGY "VaR backtesting").
extension HTMLReport {
    /// Rows of the "days with the most exceptions" and "accounts with the most exceptions" tables.
    static let validationDays = 10
    static let validationAccounts = 20

    static func validation(_ r: RunResult, into page: inout Page) {
        let b = r.backtest
        page.open("validation", lead: "Each day's 1-day VaR forecast at \(percentText(r.config.confidence)), made from the "
            + "\(r.config.window) returns before that day, against the loss today's holdings would have made on it: "
            + "an exception is a loss above the forecast. Kupiec tests the exception rate, Christoffersen also their "
            + "clustering; the Basel traffic light zones the count.")
        guard b.days > 0 else {
            page.note("<strong>Not computed in this run.</strong> " + (r.config.backtestDays == 0
                ? "The backtest is switched off (backtest_days = 0)."
                : "The price history is too short for a backtest after the \(r.config.window)-return window (see the warnings)."),
                id: "validation-not-computed")
            page.close()
            return
        }
        page.append("<p>\(b.days) days, \(HTML.escape(b.dates.first ?? "")) to \(HTML.escape(b.dates.last ?? "")).</p>\n")
        page.append("<div class=\"charts\"><div><h3>The book: daily loss against both VaR forecasts (exceptions marked)</h3>"
            + bookChart(b).render(label: "Book loss and VaR forecasts over the backtest days") + "</div></div>\n")
        zoneTable(b, into: &page)
        worstDays(b, into: &page)
        worstAccounts(r, into: &page)
        page.close()
    }

    static func bookChart(_ b: BacktestReport) -> LineChart {
        var markers: [LineChart.Marker] = []
        for d in 0 ..< b.days {
            let loss = b.book.losses[d]
            if loss > b.book.varParametric[d] || loss > b.book.varHistorical[d] {
                let methods = [loss > b.book.varParametric[d] ? "parametric" : nil,
                               loss > b.book.varHistorical[d] ? "historical" : nil].compactMap { $0 }
                markers.append(LineChart.Marker(day: d, value: loss, color: Palette.liquidatable,
                                                tooltip: "\(b.dates[d]): loss \(HumanNumber.usdFull(loss)) above the "
                                                    + methods.joined(separator: " and ") + " VaR"))
            }
        }
        return LineChart(days: b.dates, series: [
            LineChart.Series(name: "Loss", color: Palette.risk, values: b.book.losses, dashed: false),
            LineChart.Series(name: "Parametric VaR", color: Palette.collateral, values: b.book.varParametric, dashed: false),
            LineChart.Series(name: "Historical VaR", color: Palette.marginCall, values: b.book.varHistorical, dashed: true),
        ], markers: markers, valueTitle: "USD")
    }

    /// Accounts per zone and the book's own figures, per method.
    static func zoneTable(_ b: BacktestReport, into page: inout Page) {
        page.append("<table class=\"assets\" id=\"validation-zones\"><thead><tr><th>Method</th><th class=\"n\">Green</th>"
            + "<th class=\"n\">Yellow</th><th class=\"n\">Red</th><th class=\"n\">Book exceptions</th>"
            + "<th class=\"n\">Kupiec p</th><th class=\"n\">Christoffersen p</th><th>Book zone</th></tr></thead><tbody>\n")
        for (m, name, outcome) in [("param", "Parametric", b.book.parametric), ("hist", "Historical", b.book.historical)] {
            let counts = b.zoneCounts[m] ?? [:]
            var row = "<tr><td>\(name)</td>"
            for zone in BacktestZone.allCases { row += "<td class=\"n\">\(HumanNumber.count(counts[zone] ?? 0))</td>" }
            row += "<td class=\"n\">\(outcome.map { String($0.exceptions) } ?? "—")</td>"
            row += "<td class=\"n\">\(outcome.map { pValue($0.pofPValue) } ?? "—")</td>"
            row += "<td class=\"n\">\(outcome.map { pValue($0.ccPValue) } ?? "—")</td>"
            row += "<td>\(outcome.map { $0.zone.rawValue } ?? "—")</td></tr>\n"
            page.append(row)
        }
        page.append("</tbody></table>\n")
    }

    /// The days on which the most accounts broke their VaR (either method), latest first on ties.
    static func worstDays(_ b: BacktestReport, into page: inout Page) {
        let daily = b.dailyExceptions
        let days = (0 ..< b.days).sorted {
            let a = daily.parametric[$0] + daily.historical[$0], c = daily.parametric[$1] + daily.historical[$1]
            return a != c ? a > c : $0 > $1
        }.prefix(validationDays)
        page.append("<h3>Days on which the most accounts broke their VaR</h3><table class=\"assets\" id=\"validation-days\">"
            + "<thead><tr><th>Date</th><th class=\"n\">Accounts, parametric</th><th class=\"n\">Accounts, historical</th>"
            + "<th class=\"n\">Book loss</th></tr></thead><tbody>\n")
        for d in days {
            page.append("<tr><td>\(HTML.escape(b.dates[d]))</td><td class=\"n\">\(HumanNumber.count(daily.parametric[d]))</td>"
                + "<td class=\"n\">\(HumanNumber.count(daily.historical[d]))</td>" + moneyCell(b.book.losses[d]) + "</tr>\n")
        }
        page.append("</tbody></table>\n")
    }

    /// The accounts with the most exceptions (both methods together), file order on ties.
    static func worstAccounts(_ r: RunResult, into page: inout Page) {
        guard case .integers(let param)? = r.accountFigures.values(of: BacktestColumns.exceptions("param").name),
              case .integers(let hist)? = r.accountFigures.values(of: BacktestColumns.exceptions("hist").name),
              case .texts(let zoneP)? = r.accountFigures.values(of: BacktestColumns.zone("param").name),
              case .texts(let zoneH)? = r.accountFigures.values(of: BacktestColumns.zone("hist").name) else { return }
        let top = mostExceptions(r.accounts.inFileOrder, count: validationAccounts) { (param[$0] ?? 0) + (hist[$0] ?? 0) }
        guard !top.isEmpty else { return }
        page.append("<h3>Accounts with the most exceptions</h3><table class=\"assets\" id=\"validation-accounts\">"
            + "<thead><tr><th>Account</th><th class=\"n\">Parametric</th><th>Zone</th><th class=\"n\">Historical</th>"
            + "<th>Zone</th></tr></thead><tbody>\n")
        for a in top {
            page.append("<tr>" + idCell(r.book.accountIDs[a]) + "<td class=\"n\">\(param[a].map(String.init) ?? "—")</td>"
                + "<td>\(HTML.escape(zoneP[a]))</td><td class=\"n\">\(hist[a].map(String.init) ?? "—")</td>"
                + "<td>\(HTML.escape(zoneH[a]))</td></tr>\n")
        }
        page.append("</tbody></table>\n")
    }

    /// The `count` accounts of `accounts` (file order) with the largest `total` above 0, largest first, the earlier
    /// on ties: kept sorted in one scan (sorting a million accounts for twenty took half a second).
    static func mostExceptions(_ accounts: [Int], count: Int, total: (Int) -> Int) -> [Int] {
        var top: [(account: Int, total: Int)] = []
        top.reserveCapacity(count + 1)
        for a in accounts {
            let t = total(a)
            guard t > 0, count > 0, top.count < count || t > top[top.count - 1].total else { continue }
            var position = top.count
            while position > 0, t > top[position - 1].total { position -= 1 }
            top.insert((a, t), at: position)
            if top.count > count { top.removeLast() }
        }
        return top.map(\.account)
    }

    static func pValue(_ p: Double) -> String {
        guard p.isFinite else { return "—" }
        return p >= 0.001 ? String(format: "%.3f", p) : String(format: "%.1e", p)
    }
}
