import Foundation
import RiskMetrics
import RiskModel
import RiskPipeline

/// report.html (METHODOLOGY "Outputs"): one self-contained page for a person — inline CSS and inline SVG charts, no scripts, no
/// fonts, nothing fetched (a Content-Security-Policy forbids it). Every section is always present; a section whose
/// data this run did not produce says so. Numbers are rounded for reading; the CSV and JSON files keep full
/// precision. All user text (account ids, tickers, scenario names, warnings, paths, config text) is escaped with
/// `HTML.escape` (ids, tickers and scenario names also neutralised like CSV cells, `HTML.name`) and only ever written
/// as element content.
public enum HTMLReport {
    /// The page's sections in order: (anchor id, heading).
    public static let sections: [(id: String, title: String)] = [
        ("headline", "Headline"),
        ("changes", "Changes since the previous run"),
        ("status", "Account status today and under stress"),
        ("health", "Health factors"),
        ("riskiest", "Riskiest accounts"),
        ("assets", "Collateral and risk by asset"),
        ("stress", "Stress tests"),
        ("cascade", "Liquidation cascades"),
        ("rebalancing", "Rebalancing flows by asset"),
        ("validation", "Model validation"),
        ("warnings", "Warnings"),
        ("run", "Run metadata"),
    ]

    /// Accounts in the riskiest table (as summary.json).
    public static let riskiestCount = SummaryReport.riskiestCount
    /// Assets in the collateral chart, and rows of the asset table.
    public static let chartedAssets = 15
    public static let tabulatedAssets = 50
    /// Warnings listed on the page (all of them are in summary.json).
    public static let listedWarnings = 200

    public static func render(_ r: RunResult, inputChecksums: [(String, String)], wallSeconds: Double) -> String {
        let figures = HTMLReportFigures(r)
        var page = Page()
        page.head(title: "Ballast risk report — \(HTML.escape(r.asOfDate))")
        header(r, into: &page)
        page.append("<main>\n")
        headline(r, figures, into: &page)
        changes(r, into: &page)
        status(r, figures, into: &page)
        health(r, figures, into: &page)
        riskiest(r, into: &page)
        assets(r, figures, into: &page)
        stress(r, figures, into: &page)
        cascade(r, into: &page)
        rebalancing(r, figures, into: &page)
        validation(r, into: &page)
        warnings(r, into: &page)
        metadata(r, inputChecksums: inputChecksums, wallSeconds: wallSeconds, into: &page)
        page.append("</main>\n<footer>Ballast \(HTML.escape(EngineVersion.current)) · figures on this page are rounded; "
            + "accounts.csv, holdings.csv, stress.csv, cascade.csv, backtest.csv and summary.json hold them in full precision.</footer>\n")
        page.append("</body>\n</html>\n")
        return page.text
    }

    // MARK: - Sections

    static func header(_ r: RunResult, into page: inout Page) {
        page.append("<header class=\"top\"><h1>Ballast collateral risk report</h1>")
        page.append("<p>As of <strong>\(HTML.escape(r.asOfDate))</strong> · book <code>\(HTML.escape(r.input.directory.relativePath))</code>"
            + " · \(riskBasis(r.config)) · engine \(HTML.escape(EngineVersion.current))</p></header>\n<nav>")
        for s in sections {
            let extra = s.id == "warnings" && !r.warnings.isEmpty ? " (\(HumanNumber.count(r.warnings.count)))" : ""
            page.append("<a href=\"#\(s.id)\">\(HTML.escape(s.title))\(extra)</a>")
        }
        page.append("</nav>\n")
    }

    static func headline(_ r: RunResult, _ f: HTMLReportFigures, into page: inout Page) {
        let t = f.totals, c = r.config
        page.open("headline", lead: "The book as one portfolio, as of \(HTML.escape(r.asOfDate)). "
            + "VaR and ES are losses at \(percentText(c.confidence)) confidence over \(horizonText(c.horizonDays)), in USD.")
        page.append("<div class=\"kpis\">")
        var accountNote = "\(HumanNumber.count(t.withDebt)) with debt"
        if t.invalid > 0 { accountNote += "; \(HumanNumber.count(t.invalid)) invalid, left out of totals" }
        page.kpi("accounts", "Accounts", HumanNumber.count(t.accounts), note: accountNote)
        page.kpi("collateral", "Collateral", HumanNumber.usd(t.collateral), full: t.collateral, note: "market value")
        page.kpi("debt", "Debt", HumanNumber.usd(t.debt), full: t.debt, note: "market value")
        let averageHaircut = t.collateral > 0 ? 1 - t.hcv / t.collateral : .nan
        page.kpi("hcv", "HCV", HumanNumber.usd(t.hcv), full: t.hcv,
                 note: "haircut-adjusted; average haircut \(HumanNumber.percent(averageHaircut))")
        page.kpi("equity", "Equity", HumanNumber.usd(t.equity), full: t.equity, note: "collateral − debt")
        if let w = f.worstScenario {
            let row = r.stress.scenarios[w]
            page.kpi("worst-stress", "Worst stress loss", HumanNumber.usd(row.totalLossUSD), full: row.totalLossUSD,
                     note: "\(HTML.name(row.name)); \(HumanNumber.count(row.newlyLiquidatable)) newly liquidatable")
        } else {
            page.kpi("worst-stress", "Worst stress loss", HumanNumber.missing, note: "no stress scenarios in this run")
        }
        page.kpi("topup", "Top-ups to target", HumanNumber.usd(t.topup), full: t.topup,
                 note: "\(HumanNumber.count(t.topupAccounts, "account")) below \(HumanNumber.ratio(c.targetRatio)) CR, in \(HTML.escape(c.settlementAsset))")
        page.append("</div>\n")
        let p = r.parametric, h = r.historical, m = r.monteCarlo
        page.append("<h3>Book VaR and Expected Shortfall</h3>\n<table class=\"var\"><thead><tr><th>Method</th>"
            + "<th class=\"n\">VaR</th><th class=\"n\">ES</th><th class=\"n\">VaR / equity</th><th>Basis</th></tr></thead><tbody>\n")
        let rows: [(String, String, Double, Double, String)] = [
            ("param", "Parametric", p.bookValueAtRisk, p.bookExpectedShortfall,
             "delta-normal, \(HTML.escape(c.covariance.rawValue)) covariance over \(HumanNumber.count(c.window)) daily returns"),
            ("hist", "Historical", h.bookValueAtRisk, h.bookExpectedShortfall,
             "full revaluation over \(HumanNumber.count(h.scenarioCount)) daily returns, tail of \(HumanNumber.count(h.tailCount))"
                + (c.horizonDays != 1 ? ", √h scaling" : "")),
            ("mc", "Monte Carlo", m.bookValueAtRisk, m.bookExpectedShortfall,
             "full revaluation over \(HumanNumber.count(m.scenarioCount)) \(HTML.escape(c.monteCarloDistribution.rawValue)) paths, "
                + "tail of \(HumanNumber.count(m.tailCount)), seed \(c.monteCarloSeed)"),
        ]
        for (key, name, v, es, basis) in rows {
            let share = t.equity > 0 ? v / t.equity : .nan
            page.append("<tr><td>\(name)</td>\(moneyCell(v, id: "var-\(key)"))\(moneyCell(es, id: "es-\(key)"))"
                + "<td class=\"n\">\(HumanNumber.percent(share, decimals: 2))</td><td class=\"muted\">\(basis)</td></tr>\n")
        }
        page.append("</tbody></table>\n")
        page.close()
    }

    static func status(_ r: RunResult, _ f: HTMLReportFigures, into page: inout Page) {
        let t = f.totals, c = r.config
        page.open("status", lead: "Status by collateral ratio CR = HCV / debt: liquidatable below "
            + "\(HumanNumber.ratio(c.liquidationRatio)), margin call below \(HumanNumber.ratio(c.marginCallRatio)), "
            + "ok otherwise (accounts without debt are ok).")
        page.append("<div class=\"kpis\">")
        for s in AccountStatus.allCases {
            let n = t.count(s)
            let share = t.valid > 0 ? Double(n) / Double(t.valid) : .nan
            page.kpi("status-\(s.rawValue)", statusName(s), HumanNumber.count(n),
                     note: "\(HumanNumber.percent(share)) of \(HumanNumber.count(t.valid)) accounts", tone: s.rawValue)
        }
        page.append("</div>\n")
        var rows = [StackedBarChart.Row(label: "Today", values: AccountStatus.allCases.map { Double(t.count($0)) },
                                        emphasised: true)]
        for s in f.chartedScenarios {
            let row = r.stress.scenarios[s]
            rows.append(StackedBarChart.Row(label: CSVText.neutralised(row.name),
                                            values: [row.accountsOK, row.accountsMarginCall, row.accountsLiquidatable].map(Double.init)))
        }
        page.append("<h3>Accounts by status: today, then under each stress scenario</h3>\n")
        if f.chartedScenarios.count < r.stress.scenarios.count {
            page.append("<p class=\"muted\">The \(f.chartedScenarios.count) scenarios with the largest total loss of "
                + "\(r.stress.scenarios.count); the stress table lists all of them.</p>\n")
        }
        let chart = StackedBarChart(series: statusSeries, rows: rows, axisTitle: "Accounts",
                                    format: { HumanNumber.count(Int($0.rounded())) })
        page.append(chart.render(label: "Accounts by status today and under each stress scenario"))
        if r.stress.scenarios.isEmpty {
            page.note("No stress scenarios in this run, so only today's statuses are shown. \(noScenarioReason(r))")
        }
        page.close()
    }

    static func health(_ r: RunResult, _ f: HTMLReportFigures, into page: inout Page) {
        let c = r.config, hist = f.histogram
        page.open("health", lead: "Health factor HF = CR / liquidation ratio of the \(HumanNumber.count(hist.accounts)) "
            + "accounts with debt: an account is liquidatable below 1.00. Bars are split by today's status; "
            + "health factors of \(HumanNumber.compact(hist.upper, trimmed: true)) and above share the last bar.")
        guard hist.accounts > 0 else {
            page.note("No account has debt in this run: there are no health factors to show.")
            page.close()
            return
        }
        let markers = [
            StackedHistogram.Marker(value: 1, label: "liquidation 1.00", color: Palette.liquidatable),
            StackedHistogram.Marker(value: c.marginCallRatio / c.liquidationRatio,
                                    label: "margin call \(HumanNumber.ratio(c.marginCallRatio / c.liquidationRatio))",
                                    color: Palette.marginCall),
            StackedHistogram.Marker(value: c.targetRatio / c.liquidationRatio,
                                    label: "target \(HumanNumber.ratio(c.targetRatio / c.liquidationRatio))",
                                    color: Palette.target),
        ]
        let chart = StackedHistogram(lower: 0, binWidth: hist.binWidth, counts: hist.counts, series: statusSeries,
                                     markers: markers, xTitle: "Health factor", yTitle: "Accounts",
                                     overflowLabel: "≥ \(HumanNumber.compact(hist.upper, trimmed: true))")
        page.append(chart.render(label: "Histogram of health factors"))
        page.append("<p class=\"muted\">\(HumanNumber.count(hist.belowOne, "account")) below 1.00; "
            + "\(HumanNumber.count(hist.overflow)) at or above \(HumanNumber.compact(hist.upper, trimmed: true)); "
            + "\(HumanNumber.count(f.totals.valid - hist.accounts, "account")) without debt (no health factor).</p>\n")
        page.close()
    }

    static func riskiest(_ r: RunResult, into page: inout Page) {
        let a = r.assessment, p = r.parametric, c = r.config
        let ranked = r.bookFigures.riskiest
        page.open("riskiest", lead: "The \(riskiestCount) accounts with debt and the lowest health factor (ties: larger "
            + "parametric VaR first). VaR at \(percentText(c.confidence)), \(horizonText(c.horizonDays)); P(liq.) is the "
            + "Monte Carlo probability of being liquidatable at the horizon; σ to liq. the distance to liquidation in "
            + "standard deviations, with the most likely move that gets there.")
        guard !ranked.isEmpty else {
            page.note("No account has debt in this run: no account can be liquidated.")
            page.close()
            return
        }
        page.append("<div class=\"wide\"><table class=\"riskiest\"><thead><tr><th class=\"n\">#</th><th>Account</th><th>Status</th>"
            + "<th class=\"n\">CR</th><th class=\"n\">HF</th><th class=\"n\">Collateral</th><th class=\"n\">Debt</th>"
            + "<th class=\"n\">VaR param</th><th class=\"n\">VaR hist</th><th class=\"n\">VaR MC</th>"
            + "<th class=\"n\">P(liq.)</th><th class=\"n\">σ to liq.</th><th>Liquidation move</th>"
            + "<th class=\"n\">Top-up</th><th>Worst scenario</th><th class=\"n\">Its loss</th></tr></thead><tbody>\n")
        let names = r.stressScenarios.names
        for (rank, i) in ranked.enumerated() {
            var row = "<tr><td class=\"n muted\">\(rank + 1)</td>\(idCell(r.book.accountIDs[i]))"
            row += "<td>\(badge(a.status[i]))</td>"
            row += "<td class=\"n\">\(HumanNumber.ratio(a.collateralRatio[i]))</td>"
            row += "<td class=\"n\"><strong>\(HumanNumber.ratio(a.healthFactor(i, config: c)))</strong></td>"
            row += moneyCell(a.collateral[i]) + moneyCell(a.debt[i])
            row += moneyCell(p.valueAtRisk[i]) + moneyCell(r.historical.valueAtRisk[i]) + moneyCell(r.monteCarlo.valueAtRisk[i])
            row += "<td class=\"n\">\(HumanNumber.percent(r.monteCarlo.liquidationProbability[i]))</td>"
            row += "<td class=\"n\">\(HumanNumber.ratio(p.liquidationSigma[i]))</td>"
            let move = p.liquidationScenario[i].components(separatedBy: "; ").filter { !$0.isEmpty }
                .map { "<span class=\"nw\">\(HTML.name($0))</span>" }
            row += "<td class=\"move\">\(move.isEmpty ? HumanNumber.missing : move.joined(separator: " · "))</td>"
            row += moneyCell(a.topup[i])
            let w = r.stress.worstScenario[i]
            if w >= 0 && w < names.count {
                row += idCell(names[w]) + moneyCell(r.stress.worstScenarioLoss[i])
            } else {
                row += "<td class=\"muted\">no scenarios</td><td class=\"n\">\(HumanNumber.missing)</td>"
            }
            page.append(row + "</tr>\n")
        }
        page.append("</tbody></table></div>\n")
        page.close()
    }

    static func assets(_ r: RunResult, _ f: HTMLReportFigures, into page: inout Page) {
        page.open("assets", lead: "Each asset summed over every account: collateral and debt at market value, HCV, and "
            + "component VaR (each holding's Euler contribution to its account's parametric VaR; negative where a "
            + "holding hedges its account).")
        guard !f.assets.isEmpty else {
            page.note("No holdings with exposure in this run.")
            page.close()
            return
        }
        let top = Array(f.assets.prefix(chartedAssets))
        let usdTick = { (x: Double) in HumanNumber.compact(x, trimmed: true) }
        let exposure = HorizontalBarChart(
            series: [ChartSeries(name: "Collateral", color: Palette.collateral), ChartSeries(name: "Debt", color: Palette.debt)],
            rows: top.map { HorizontalBarChart.Row(label: CSVText.neutralised($0.ticker), values: [$0.collateral, $0.debt]) },
            axisTitle: "USD", format: { HumanNumber.compact($0) }, tickFormat: usdTick)
        let risk = HorizontalBarChart(
            series: [ChartSeries(name: "Component VaR", color: Palette.risk)],
            rows: top.map { HorizontalBarChart.Row(label: CSVText.neutralised($0.ticker), values: [$0.componentVaR]) },
            axisTitle: "Component VaR, USD (\(percentText(r.config.confidence)), \(horizonText(r.config.horizonDays)))",
            format: { HumanNumber.compact($0) }, tickFormat: usdTick)
        page.append("<div class=\"charts\"><div><h3>Collateral and debt, top \(top.count) assets by collateral</h3>"
            + exposure.render(label: "Collateral and debt by asset") + "</div>")
        page.append("<div><h3>Component VaR of the same assets</h3>"
            + risk.render(label: "Component VaR by asset") + "</div></div>\n")
        let totalCollateral = f.totals.collateral
        let totalComponent = f.book.assetComponentVaR
        page.append("<table class=\"assets\"><thead><tr><th>Asset</th><th class=\"n\">Collateral</th><th class=\"n\">Share</th>"
            + "<th class=\"n\">HCV</th><th class=\"n\">Avg haircut</th><th class=\"n\">Debt</th><th class=\"n\">Net</th>"
            + "<th class=\"n\">Component VaR</th><th class=\"n\">Share of VaR</th><th class=\"n\">Accounts</th></tr></thead><tbody>\n")
        for asset in f.assets.prefix(tabulatedAssets) {
            var row = "<tr>" + idCell(asset.ticker) + moneyCell(asset.collateral)
            row += "<td class=\"n\">\(HumanNumber.percent(totalCollateral > 0 ? asset.collateral / totalCollateral : .nan))</td>"
            row += moneyCell(asset.hcv)
            row += "<td class=\"n\">\(HumanNumber.percent(asset.collateral > 0 ? 1 - asset.hcv / asset.collateral : .nan))</td>"
            row += moneyCell(asset.debt) + moneyCell(asset.collateral - asset.debt) + moneyCell(asset.componentVaR)
            row += "<td class=\"n\">\(HumanNumber.percent(totalComponent != 0 ? asset.componentVaR / totalComponent : .nan))</td>"
            row += "<td class=\"n\">\(HumanNumber.count(asset.holders))</td></tr>\n"
            page.append(row)
        }
        page.append("</tbody></table>\n")
        if f.assets.count > tabulatedAssets {
            page.append("<p class=\"muted\">\(HumanNumber.count(f.assets.count - tabulatedAssets)) more assets with exposure "
                + "are in holdings.csv.</p>\n")
        }
        page.close()
    }

    static func stress(_ r: RunResult, _ f: HTMLReportFigures, into page: inout Page) {
        let rows = r.stress.scenarios
        page.open("stress", lead: "Each scenario shocks prices (hypothetical shocks from scenarios.csv, then replays of "
            + "historical episodes) and re-evaluates every account, haircuts included. Loss: fall in equity "
            + "(negative = gain); shortfall: debt exceeding collateral at stressed prices (bad debt if liquidated).")
        guard !rows.isEmpty else {
            page.note("No stress scenarios in this run: stress tests were not computed. \(noScenarioReason(r))")
            page.close()
            return
        }
        let bars = f.chartedScenarios.map { s in
            let row = rows[s]
            return BarChart.Bar(label: CSVText.neutralised(row.name), value: row.totalLossUSD,
                         color: row.totalLossUSD > 0 ? Palette.risk : Palette.gain,
                         tooltip: "\(CSVText.neutralised(row.name)): total loss \(HumanNumber.usdFull(row.totalLossUSD)), shortfall "
                            + "\(HumanNumber.usdFull(row.shortfallUSD))")
        }
        let chart = BarChart(bars: bars, valueTitle: "Total loss, USD", format: { HumanNumber.compact($0) },
                             tickFormat: { HumanNumber.compact($0, trimmed: true) },
                             legend: [ChartSeries(name: "Loss", color: Palette.risk), ChartSeries(name: "Gain", color: Palette.gain)])
        page.append("<h3>Total loss per scenario</h3>\n")
        if f.chartedScenarios.count < rows.count {
            page.append("<p class=\"muted\">The \(f.chartedScenarios.count) scenarios with the largest total loss of "
                + "\(rows.count); the table below lists all of them.</p>\n")
        }
        page.append(chart.render(label: "Total loss per stress scenario"))
        page.append("<div class=\"wide\"><table class=\"stress\"><thead><tr><th>Scenario</th><th>Source</th>"
            + "<th class=\"n\">Total loss</th><th class=\"n\">Shortfall</th><th class=\"n\">OK</th>"
            + "<th class=\"n\">Margin call</th><th class=\"n\">Liquidatable</th><th class=\"n\">Newly liquidatable</th>"
            + "<th class=\"n\">Worst for</th></tr></thead><tbody>\n")
        for (s, row) in rows.enumerated() {
            let source: String
            switch r.stressScenarios.sources[s] {
            case .hypothetical: source = "scenarios.csv"
            case .replay(let start, let end): source = "replay \(HTML.escape(start))..\(HTML.escape(end))"
            }
            var line = s == f.worstScenario ? "<tr class=\"worst\">" : "<tr>"
            line += idCell(row.name, after: s == f.worstScenario ? " <span class=\"tag\">worst</span>" : "")
            line += "<td class=\"muted\">\(source)</td>" + moneyCell(row.totalLossUSD) + moneyCell(row.shortfallUSD)
            line += "<td class=\"n\">\(HumanNumber.count(row.accountsOK))</td>"
            line += "<td class=\"n\">\(HumanNumber.count(row.accountsMarginCall))</td>"
            line += "<td class=\"n\">\(HumanNumber.count(row.accountsLiquidatable))</td>"
            line += "<td class=\"n\"><strong>\(HumanNumber.count(row.newlyLiquidatable))</strong></td>"
            line += "<td class=\"n\">\(HumanNumber.count(f.worstScenarioAccounts[s], "account"))</td></tr>\n"
            page.append(line)
        }
        page.append("</tbody></table></div>\n")
        page.close()
    }

    static func rebalancing(_ r: RunResult, _ f: HTMLReportFigures, into page: inout Page) {
        let c = r.config, rb = r.rebalancing
        page.open("rebalancing", lead: "Net collateral bought and sold per asset by the optimized rebalancing of "
            + "the accounts in scope (see docs/METHODOLOGY.md, \"Rebalancing\").")
        guard c.rebalance != .none, rb.inScope > 0 else {
            page.note("<strong>Not computed in this run.</strong> "
                + (c.rebalance == .none ? "Rebalancing is switched off (rebalance = none)."
                                        : "No account is in scope (rebalance = \(HTML.escape(c.rebalance.rawValue))).")
                + " Restoring the target ratio by top-ups alone takes \(HumanNumber.usd(f.totals.topup)) of "
                + "\(HTML.escape(c.settlementAsset)) across \(HumanNumber.count(f.totals.topupAccounts, "account")).",
                id: "rebalancing-not-computed")
            page.close()
            return
        }
        let flows = f.book.flows
        let scope = HTML.escape(c.rebalance.rawValue), objective = HTML.escape(c.objective.rawValue)
        let inScope = HumanNumber.count(rb.inScope, "account")
        let rebalanced = HumanNumber.count(rb.counts[.rebalanced] ?? 0)
        let unchanged = HumanNumber.count(rb.counts[.unchanged] ?? 0)
        let topups = HumanNumber.count(rb.counts[.topupRequired] ?? 0)
        let failed = HumanNumber.count(rb.counts[.failed] ?? 0)
        let turnover = HumanNumber.usd(rb.totalTurnover), costs = HumanNumber.usd(rb.totalCost)
        var summary = "<p>Scope <strong>\(scope)</strong>, objective <strong>\(objective)</strong>: \(inScope) in scope — "
        summary += "\(rebalanced) rebalanced, \(unchanged) unchanged, \(topups) still need a top-up, \(failed) failed. "
        summary += "Turnover \(turnover), trading costs \(costs).</p>\n"
        page.append(summary)
        guard !flows.isEmpty else {
            page.note("The optimized targets trade nothing.")
            page.close()
            return
        }
        let top = Array(flows.prefix(chartedAssets))
        let chart = HorizontalBarChart(
            series: [ChartSeries(name: "Bought", color: Palette.collateral), ChartSeries(name: "Sold", color: Palette.debt)],
            rows: top.map { HorizontalBarChart.Row(label: CSVText.neutralised($0.ticker), values: [$0.bought, $0.sold]) },
            axisTitle: "USD", format: { HumanNumber.compact($0) }, tickFormat: { HumanNumber.compact($0, trimmed: true) })
        page.append("<div class=\"charts\"><div><h3>Bought and sold, top \(top.count) assets by traded value</h3>"
            + chart.render(label: "Rebalancing flows by asset") + "</div></div>\n")
        page.append("<table class=\"assets\"><thead><tr><th>Asset</th><th class=\"n\">Bought</th><th class=\"n\">Sold</th>"
            + "<th class=\"n\">Net flow</th></tr></thead><tbody>\n")
        for flow in flows.prefix(tabulatedAssets) {
            page.append("<tr>" + idCell(flow.ticker) + moneyCell(flow.bought) + moneyCell(flow.sold)
                + moneyCell(flow.net) + "</tr>\n")
        }
        page.append("</tbody></table>\n")
        page.close()
    }

    static func warnings(_ r: RunResult, into page: inout Page) {
        page.open("warnings", lead: nil)
        if r.warnings.isEmpty {
            page.append("<p>No warnings.</p>\n")
        } else {
            page.append("<ul class=\"warnings\">")
            for w in r.warnings.prefix(listedWarnings) { page.append("<li>\(HTML.escape(w))</li>") }
            page.append("</ul>\n")
            if r.warnings.count > listedWarnings {
                page.append("<p class=\"muted\">… and \(HumanNumber.count(r.warnings.count - listedWarnings)) more in summary.json.</p>\n")
            }
        }
        page.close()
    }

    static func metadata(_ r: RunResult, inputChecksums: [(String, String)], wallSeconds: Double, into page: inout Page) {
        page.open("run", lead: nil)
        page.append("<div class=\"meta\"><div><h3>Run</h3><table class=\"kv\"><tbody>")
        let dates = r.input.prices.dates
        var facts: [(String, String)] = [
            ("Engine version", HTML.escape(EngineVersion.current)),
            ("As of", HTML.escape(r.asOfDate)),
            ("Book directory", "<code>\(HTML.escape(r.input.directory.relativePath))</code>"),
            ("Price rows", "\(HumanNumber.count(r.input.prices.rowCount))"
                + (dates.isEmpty ? "" : " (\(HTML.escape(dates[0])) to \(HTML.escape(dates[dates.count - 1])))")),
            ("Accounts / holdings / assets", "\(HumanNumber.count(r.book.accountCount)) / "
                + "\(HumanNumber.count(r.book.holdingCount)) / \(HumanNumber.count(r.schedule.count))"),
            ("Stress scenarios", HumanNumber.count(r.stressScenarios.count)),
            ("Threads", HumanNumber.count(r.threads)),
            ("Wall time", HumanNumber.seconds(wallSeconds)),
            ("Peak RSS", HumanNumber.bytes(ProcessStatistics.peakResidentBytes)),
            ("Covariance", HTML.escape(r.config.covariance.rawValue)
                + (r.covariance.shrinkage.map { ", shrinkage \(String(format: "%.4f", $0))" } ?? "")
                + (r.covariance.clippedEigenvalues > 0 ? ", \(r.covariance.clippedEigenvalues) eigenvalues clipped" : "")),
            ("Monte Carlo factor", HTML.escape(SummaryReport.factorDescription(r.monteCarloFactor))),
        ]
        if r.bookFigures.totals.invalid > 0 {
            facts.append(("Invalid accounts", HumanNumber.count(r.bookFigures.totals.invalid)))
        }
        for (key, value) in facts { page.append("<tr><th>\(key)</th><td>\(value)</td></tr>") }
        page.append("</tbody></table>\n<h3>Phases</h3><table class=\"kv phases\"><tbody>")
        let phases = Phase.summaryOrder.map { ($0.rawValue, r.timings.seconds[$0] ?? 0) }
        let longest = max(phases.map(\.1).max() ?? 0, 1e-9)
        for (name, seconds) in phases {
            let width = Int((seconds / longest * 100).rounded())
            page.append("<tr><th>\(name)</th><td class=\"n\">\(HumanNumber.seconds(seconds))</td>"
                + "<td class=\"barcell\"><span class=\"bar\" style=\"width:\(width)%\"></span></td></tr>")
        }
        page.append("</tbody></table></div>\n<div><h3>Configuration</h3><table class=\"kv\"><tbody>")
        for entry in r.config.effectiveEntries {
            let value: String
            switch entry.value {
            case .number(let x): value = HTML.escape(x.description)
            case .integer(let i): value = String(i)
            case .text(let s): value = HTML.escape(s)
            case .boolean(let b): value = b ? "true" : "false"
            case .replays(let replays):
                value = replays.isEmpty ? "none"
                    : replays.map { "\(HTML.escape($0.name)): \(HTML.escape($0.startDate))..\(HTML.escape($0.endDate))" }
                        .joined(separator: "<br>")
            }
            page.append("<tr><th>\(HTML.escape(entry.key))</th><td>\(value)</td></tr>")
        }
        page.append("</tbody></table></div></div>\n<h3>Input files (SHA-256)</h3><table class=\"kv\"><tbody>")
        for (file, digest) in inputChecksums {
            page.append("<tr><th>\(HTML.escape(file))</th><td><code>\(HTML.escape(digest))</code></td></tr>")
        }
        page.append("</tbody></table>\n")
        page.close()
    }

    // MARK: - Pieces

    /// The page under construction, with the small repeated structures of its sections.
    struct Page {
        var text = ""

        init() { text.reserveCapacity(1 << 18) }

        mutating func append(_ s: String) { text += s }

        /// The document up to `<body>`: charset, the Content-Security-Policy (no scripts, nothing fetched), viewport,
        /// `title` (HTML, already escaped) and the stylesheet.
        mutating func head(title: String) {
            append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n")
            append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            append("<link rel=\"icon\" href=\"data:,\">\n")
            append("<title>\(title)</title>\n")
            append("<style>\n\(HTMLReport.stylesheet)</style>\n</head>\n<body>\n")
        }

        /// Opens section `id` with its heading and an optional lead paragraph (`lead` is HTML, already escaped).
        mutating func open(_ id: String, lead: String?) {
            let title = HTMLReport.sections.first { $0.id == id }?.title ?? id
            append("<section id=\"\(id)\"><h2>\(HTML.escape(title))</h2>\n")
            if let lead { append("<p class=\"lead\">\(lead)</p>\n") }
        }

        mutating func close() { append("</section>\n") }

        /// A boxed note for data this run did not produce (`html` already escaped).
        mutating func note(_ html: String, id: String? = nil) {
            append("<div class=\"na\"\(id.map { " id=\"\($0)\"" } ?? "")>\(html)</div>\n")
        }

        /// A headline figure; `value` and `note` are HTML (already escaped); `full` adds the exact USD as a tooltip.
        mutating func kpi(_ id: String, _ label: String, _ value: String, full: Double? = nil, note: String,
                          tone: String? = nil) {
            let tip = full.map { " title=\"\(HumanNumber.usdFull($0))\"" } ?? ""
            append("<div class=\"kpi\(tone.map { " " + $0 } ?? "")\"><div class=\"label\">\(label)</div>"
                + "<div class=\"value\" id=\"kpi-\(id)\"\(tip)>\(value)</div><div class=\"note\">\(note)</div></div>")
        }
    }

    static let statusSeries = AccountStatus.allCases.map { ChartSeries(name: statusName($0), color: Palette.status($0)) }

    static func statusName(_ s: AccountStatus) -> String {
        switch s {
        case .ok: return "OK"
        case .marginCall: return "Margin call"
        case .liquidatable: return "Liquidatable"
        }
    }

    static func badge(_ s: AccountStatus) -> String {
        "<span class=\"badge \(s.rawValue)\">\(statusName(s).lowercased())</span>"
    }

    /// A cell holding an id, ticker or scenario name (then `after`, our HTML); a long name may break anywhere
    /// instead of widening the table.
    static func idCell(_ text: String, after: String = "") -> String {
        "<td class=\"id\(text.count > 24 ? " long" : "")\">\(HTML.name(text))\(after)</td>"
    }

    /// A right-aligned USD cell, rounded, with the exact amount as a tooltip.
    static func moneyCell(_ x: Double, id: String? = nil) -> String {
        let idAttribute = id.map { " id=\"\($0)\"" } ?? ""
        guard x.isFinite else { return "<td class=\"n\"\(idAttribute)>\(HumanNumber.missing)</td>" }
        return "<td class=\"n\"\(idAttribute) title=\"\(HumanNumber.usdFull(x))\">\(HumanNumber.compact(x))</td>"
    }

    /// "99%", "97.5%".
    static func percentText(_ confidence: Double) -> String { String(format: "%g%%", confidence * 100) }

    /// "1 day", "10 days".
    static func horizonText(_ days: Double) -> String { days == 1 ? "1 day" : String(format: "%g days", days) }

    static func riskBasis(_ c: RiskConfig) -> String {
        "VaR \(percentText(c.confidence)), \(horizonText(c.horizonDays))"
    }

    /// Why a run has no stress scenarios (said only when it has none).
    static func noScenarioReason(_ r: RunResult) -> String {
        "The book has no scenarios.csv (or it lists no scenario), and "
            + (r.config.historicalScenarios.isEmpty
                ? "no historical replays are configured (historical_scenarios)."
                : "none of the configured historical replays is covered by prices.csv (see Warnings).")
    }

    static let stylesheet = """
    :root{--ok:\(Palette.ok);--mc:\(Palette.marginCall);--liq:\(Palette.liquidatable);--text:\(Palette.text);\
    --muted:\(Palette.muted);--line:#e3e7ec;--bg:#f4f6f9}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--text);\
    font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
    header.top{background:#1f2d3d;color:#fff;padding:18px 32px 16px}
    header.top h1{margin:0;font-size:22px;font-weight:600}
    header.top p{margin:4px 0 0;color:#c9d3de}
    header.top code{color:#fff}
    nav{background:#fff;border-bottom:1px solid var(--line);padding:9px 32px;font-size:13px}
    nav a{margin-right:18px;color:#31589a;text-decoration:none;white-space:nowrap}
    main{max-width:1320px;margin:0 auto;padding:4px 24px 32px}
    section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 22px 14px;margin:18px 0}
    h2{font-size:19px;margin:0 0 4px}
    h3{font-size:14px;margin:16px 0 6px}
    p.lead{color:var(--muted);margin:0 0 14px;max-width:980px}
    .kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px}
    .kpi{border:1px solid var(--line);border-left:5px solid #9aa6b5;border-radius:6px;padding:9px 13px}
    .kpi .label{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
    .kpi .value{font-size:25px;font-weight:650;margin:1px 0;font-variant-numeric:tabular-nums}
    .kpi .note{font-size:12px;color:var(--muted)}
    .kpi.ok{border-left-color:var(--ok)}.kpi.ok .value{color:var(--ok)}
    .kpi.margin_call{border-left-color:var(--mc)}.kpi.margin_call .value{color:#b37400}
    .kpi.liquidatable{border-left-color:var(--liq)}.kpi.liquidatable .value{color:var(--liq)}
    table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
    th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
    thead th{font-size:12px;color:var(--muted);font-weight:600;background:#f7f9fb;white-space:nowrap}
    .n{text-align:right;white-space:nowrap}
    td.id{unicode-bidi:isolate;white-space:nowrap}td.long{white-space:normal;max-width:240px;overflow-wrap:anywhere}
    td.move{font-size:12px;color:#3a4552;min-width:230px}
    table.riskiest{font-size:12.5px}table.riskiest td,table.riskiest th{padding:4px 6px}
    table.var{max-width:980px}
    .wide{overflow-x:auto}
    .muted{color:var(--muted)}.nw{white-space:nowrap}
    .badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;color:#fff;white-space:nowrap}
    .badge.ok{background:var(--ok)}.badge.margin_call{background:var(--mc)}.badge.liquidatable{background:var(--liq)}
    .tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:11px;background:#3d4b5c;color:#fff}
    tr.worst td{background:#fbf1ef}
    .na{border:1px dashed #b9c2cd;background:#fafbfc;border-radius:6px;padding:12px 16px;margin:10px 0;color:#3a4552}
    .na strong{color:#a2461a}
    svg.chart{max-width:100%;height:auto;display:block;margin:6px 0 10px;\
    font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
    .charts{display:flex;flex-wrap:wrap;gap:8px 24px}
    .charts>div{flex:1 1 500px;min-width:0}
    .meta{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:8px 28px}
    table.kv th{width:38%;font-weight:600;color:var(--muted);font-size:12.5px;background:none}
    table.phases td.barcell{width:45%}
    .bar{display:inline-block;height:10px;background:#8fa7c6;border-radius:2px}
    ul.warnings{margin:0;padding-left:20px}ul.warnings li{margin:3px 0;overflow-wrap:anywhere}
    code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12px;overflow-wrap:anywhere}
    footer{text-align:center;color:var(--muted);font-size:12px;padding:0 0 28px}
    @media print{body{background:#fff}section{break-inside:avoid;border:none}nav{display:none}}

    """
}
