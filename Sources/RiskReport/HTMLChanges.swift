import RiskMetrics
import RiskModel
import RiskPipeline

/// The "Changes since the previous run" section of report.html (and the page of `ballast diff`): the book's VaR change
/// split into prices, positions and the model; accounts by status before and after; the largest VaR increases; the
/// accounts newly margin call or liquidatable; the stored runs' history.
extension HTMLReport {
    /// Accounts listed as newly margin call or liquidatable (all of them are in changes.csv).
    static let changesListed = 50

    static func changes(_ r: RunResult, into page: inout Page) {
        guard let c = r.changes else {
            page.open("changes", lead: nil)
            page.note("<strong>Not computed in this run.</strong> The results store holds no earlier run of this book "
                + "(or no store is configured), so there is nothing to compare with.", id: "changes-not-computed")
            page.close()
            return
        }
        changesSection(c, into: &page)
    }

    /// changes.html: a page with the section alone.
    public static func renderChanges(_ c: RunChanges) -> String {
        var page = Page()
        page.head(title: "Ballast changes — \(HTML.escape(c.before.asOf)) to \(HTML.escape(c.after.asOf))")
        page.append("<header class=\"top\"><h1>Ballast: changes between two runs</h1><p>Book <code>"
            + "\(HTML.escape(c.after.bookName))</code> · \(runLabel(c.before)) → \(runLabel(c.after)) · engine "
            + "\(HTML.escape(EngineVersion.current))</p></header>\n<main>\n")
        changesSection(c, into: &page)
        page.append("</main>\n<footer>Ballast \(HTML.escape(EngineVersion.current)) · figures on this page are rounded; "
            + "changes.csv and changes.json hold them in full precision.</footer>\n</body>\n</html>\n")
        return page.text
    }

    static func changesSection(_ c: RunChanges, into page: inout Page) {
        page.open("changes", lead: "\(sentenceCase(runLabel(c.after))) against \(runLabel(c.before)), book "
            + "<code>\(HTML.escape(c.before.bookName))</code>. Each parametric VaR change is split into prices (the "
            + "previous holdings and model at today's prices), positions (today's holdings against the previous ones, "
            + "previous model) and the model (covariance, risk universe, confidence, horizon); the parts sum to the change.")
        changesBook(c, into: &page)
        transitionTable(c, into: &page)
        increasesTable(c, into: &page)
        newlyBreachingTable(c, into: &page)
        historyCharts(c.history, into: &page)
        page.close()
    }

    /// "run #12 of 2026-03-01", or "this run of …" for a run not stored yet (HTML).
    static func runLabel(_ run: RunChanges.RunInfo) -> String {
        (run.runID.map { "run #\($0)" } ?? "this run") + " of \(HTML.escape(run.asOf))"
    }

    static func changesBook(_ c: RunChanges, into page: inout Page) {
        let b = c.book
        page.append("<p>\(HumanNumber.count(c.accounts.count, "account")) compared: \(HumanNumber.count(c.newAccounts)) new, "
            + "\(HumanNumber.count(c.closedAccounts)) closed; \(HumanNumber.count(c.newlyMarginCall)) newly margin call, "
            + "\(HumanNumber.count(c.newlyLiquidatable)) newly liquidatable.</p>\n")
        page.append("<table class=\"var\" id=\"changes-book\"><thead><tr><th></th><th class=\"n\">VaR before</th>"
            + "<th class=\"n\">VaR now</th><th class=\"n\">Change</th><th class=\"n\">Prices</th><th class=\"n\">Positions</th>"
            + "<th class=\"n\">Model</th></tr></thead><tbody>\n<tr><td>Book (parametric)</td>"
            + moneyCell(b.varBefore) + moneyCell(b.varAfter) + moneyCell(b.varAfter - b.varBefore)
            + attributionCells(b.attribution) + "</tr>\n</tbody></table>\n")
    }

    static func attributionCells(_ a: VaRAttribution) -> String {
        moneyCell(a.price) + moneyCell(a.position) + moneyCell(a.model)
    }

    /// Accounts by status before (rows) and now (columns).
    static func transitionTable(_ c: RunChanges, into page: inout Page) {
        let statuses = ChangeStatus.allCases
        page.append("<h3>Accounts by status: before (rows) and now (columns)</h3>\n<table class=\"assets\" "
            + "id=\"changes-transitions\"><thead><tr><th>Before \\ now</th>"
            + statuses.map { "<th class=\"n\">\(changeStatusName($0, missing: "Not in run"))</th>" }.joined()
            + "</tr></thead><tbody>\n")
        for before in statuses {
            let cells = statuses.map { after in
                let n = HumanNumber.count(c.transitions[before, after])
                return "<td class=\"n\">" + (before == after ? "<strong>\(n)</strong>" : n) + "</td>"
            }
            page.append("<tr><th>\(changeStatusName(before, missing: "Not in run"))</th>" + cells.joined() + "</tr>\n")
        }
        page.append("</tbody></table>\n")
    }

    /// A status as a badge; out of range and not in the run (`missing`) as muted text.
    static func changeStatusBadge(_ s: ChangeStatus, missing: String) -> String {
        switch s {
        case .ok: return badge(.ok)
        case .marginCall: return badge(.marginCall)
        case .liquidatable: return badge(.liquidatable)
        case .outOfRange, .none: return "<span class=\"muted\">\(changeStatusName(s, missing: missing))</span>"
        }
    }

    static func changeStatusName(_ s: ChangeStatus, missing: String) -> String {
        switch s {
        case .ok: return statusName(.ok)
        case .marginCall: return statusName(.marginCall)
        case .liquidatable: return statusName(.liquidatable)
        case .outOfRange: return "Out of range"
        case .none: return missing
        }
    }

    static func increasesTable(_ c: RunChanges, into page: inout Page) {
        page.append("<h3>The \(RunChanges.largestIncreaseCount) largest VaR increases</h3>\n")
        guard !c.largestIncreases.isEmpty else {
            page.note("No account's parametric VaR increased.")
            return
        }
        page.append("<div class=\"wide\"><table class=\"riskiest\" id=\"changes-increases\"><thead><tr><th class=\"n\">#</th>"
            + "<th>Account</th><th>Before</th><th>Now</th><th class=\"n\">VaR before</th><th class=\"n\">VaR now</th>"
            + "<th class=\"n\">Increase</th><th class=\"n\">Prices</th><th class=\"n\">Positions</th><th class=\"n\">Model</th>"
            + "</tr></thead><tbody>\n")
        for (rank, row) in c.largestIncreases.enumerated() {
            let a = c.accounts[row]
            page.append("<tr><td class=\"n muted\">\(rank + 1)</td>" + idCell(a.account) + statusCells(a)
                + moneyCell(a.varBefore) + moneyCell(a.varAfter) + moneyCell(a.varIncrease)
                + attributionCells(a.attribution) + "</tr>\n")
        }
        page.append("</tbody></table></div>\n")
    }

    static func statusCells(_ a: AccountChange) -> String {
        "<td>\(changeStatusBadge(a.statusBefore, missing: "new"))</td>"
            + "<td>\(changeStatusBadge(a.statusAfter, missing: "closed"))</td>"
    }

    static func newlyBreachingTable(_ c: RunChanges, into page: inout Page) {
        let newly = c.newlyBreaching
        page.append("<h3>Accounts newly margin call or liquidatable</h3>\n")
        guard !newly.isEmpty else {
            page.note("No account became margin call or liquidatable since the previous run.")
            return
        }
        page.append("<p class=\"muted\">\(HumanNumber.count(newly.count, "account")): "
            + "\(HumanNumber.count(c.newlyLiquidatable)) newly liquidatable, \(HumanNumber.count(c.newlyMarginCall)) newly "
            + "margin call (worse than before, or new with that status)"
            + (newly.count > changesListed ? "; the first \(changesListed) below, every one in changes.csv" : "") + ".</p>\n")
        page.append("<table class=\"assets\" id=\"changes-newly\"><thead><tr><th>Account</th><th>Before</th><th>Now</th>"
            + "<th class=\"n\">VaR before</th><th class=\"n\">VaR now</th></tr></thead><tbody>\n")
        for row in newly.prefix(changesListed) {
            let a = c.accounts[row]
            page.append("<tr>" + idCell(a.account) + statusCells(a) + moneyCell(a.varBefore) + moneyCell(a.varAfter) + "</tr>\n")
        }
        page.append("</tbody></table>\n")
    }
}

/// The history of the stored runs of the book: book VaR by method, HCV and accounts by status, one point per run.
extension HTMLReport {
    static func historyCharts(_ runs: [StoredRun], into page: inout Page) {
        guard !runs.isEmpty else {
            page.note("The results store lists no runs of this book: no history to show.")
            return
        }
        let dates = runs.map(\.asOf)
        let usd = { (name: String, color: String, values: [Double], dashed: Bool) in
            HistorySeries(name: name, color: color, values: values, dashed: dashed, format: HumanNumber.usdFull)
        }
        let count = { (name: String, color: String, values: [Int]) in
            HistorySeries(name: name, color: color, values: values.map(Double.init), dashed: false,
                          format: { HumanNumber.count(Int($0)) })
        }
        let charts = [
            ("Book VaR by method", "USD", [usd("Parametric", Palette.collateral, runs.map(\.varParam), false),
                                            usd("Historical", Palette.marginCall, runs.map(\.varHist), true),
                                            usd("Monte Carlo", Palette.debt, runs.map(\.varMC), false)]),
            ("Haircut-adjusted collateral (HCV)", "USD", [usd("HCV", Palette.ok, runs.map(\.hcv), false)]),
            ("Accounts by status", "Accounts", [count(statusName(.ok), Palette.ok, runs.map(\.ok)),
                                                count(statusName(.marginCall), Palette.marginCall, runs.map(\.marginCall)),
                                                count(statusName(.liquidatable), Palette.liquidatable, runs.map(\.liquidatable))]),
        ]
        page.append("<p class=\"muted\">The stored runs of the book, one point per run by as-of date "
            + "(\(HumanNumber.count(runs.count, "run"))).</p>\n<div class=\"charts\" id=\"changes-history\">")
        for (title, axis, series) in charts {
            page.append("<div><h3>\(title)</h3>" + historyChart(dates, series, valueTitle: axis)
                .render(label: "\(title) over the stored runs") + "</div>")
        }
        page.append("</div>\n")
    }

    /// One line per series over the runs, a dot on every run (so a single run still shows) with its value as tooltip.
    struct HistorySeries {
        let name: String
        let color: String
        let values: [Double]
        let dashed: Bool
        let format: (Double) -> String
    }

    static func historyChart(_ dates: [String], _ series: [HistorySeries], valueTitle: String) -> LineChart {
        let markers = series.flatMap { s in
            s.values.indices.map { d in
                LineChart.Marker(day: d, value: s.values[d], color: s.color,
                                 tooltip: "\(dates[d]): \(s.name) \(s.format(s.values[d]))")
            }
        }
        return LineChart(days: dates, series: series.map {
            LineChart.Series(name: $0.name, color: $0.color, values: $0.values, dashed: $0.dashed)
        }, markers: markers, valueTitle: valueTitle, width: 640, plotHeight: 200, rightMargin: 44)
    }

    /// "this run of …" → "This run of …".
    static func sentenceCase(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }
}
