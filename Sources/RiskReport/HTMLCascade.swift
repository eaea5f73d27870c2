import RiskMetrics
import RiskModel
import RiskPipeline

/// The "Liquidation cascades" section of report.html (METHODOLOGY "Liquidation cascades under stress"): per scenario, the liquidations and bad debt
/// without the cascade, with it, and with it after the recommended rebalancing; the assets whose prices the
/// liquidation sales moved most.
extension HTMLReport {
    /// Rows of the table of assets with the largest price impact.
    static let cascadeImpactRows = 15

    static func cascade(_ r: RunResult, into page: inout Page) {
        let c = r.config, report = r.cascade
        page.open("cascade", lead: "A stress scenario is only the first move: accounts below the liquidation ratio are "
            + "liquidated (\(HumanNumber.percent(c.closeFactor, decimals: 0)) of their debt repaid per round, collateral "
            + "seized with a \(HumanNumber.percent(c.liquidationPenalty, decimals: 1)) penalty), the seized collateral is "
            + "sold, the sales push thin assets down (square-root impact, η = \(HTML.escape(SVGCanvas.number(c.impactCoefficient)))), "
            + "and more accounts fall, round after round. The same cascade is run again on the book as it would be "
            + "after the recommended rebalancing and top-ups.")
        guard report.ran else {
            page.note("<strong>Not computed in this run.</strong> " + (c.cascade == .off
                ? "Cascades are switched off (cascade = off)." : "There are no stress scenarios to cascade. \(noScenarioReason(r))"),
                id: "cascade-not-computed")
            page.close()
            return
        }
        cascadeCharts(r, into: &page)
        cascadeTable(r, into: &page)
        impactTable(r, into: &page)
        page.close()
    }

    /// The three series of the charts: before the cascade, with it, with it after rebalancing (when it ran).
    static func cascadeSeries(_ r: RunResult) -> [ChartSeries] {
        [ChartSeries(name: "Stress only", color: Palette.marginCall),
         ChartSeries(name: "With cascade", color: Palette.liquidatable)]
            + (r.config.rebalance == .none ? [] : [ChartSeries(name: "Cascade after rebalancing", color: Palette.ok)])
    }

    static func cascadeCharts(_ r: RunResult, into page: inout Page) {
        let rows = r.cascade.scenarios, series = cascadeSeries(r)
        let liquidations = rows.map { row in
            HorizontalBarChart.Row(label: CSVText.neutralised(row.scenario), values: [
                Double(row.liquidatableWithoutCascade), Double(row.outcome.accountsLiquidated),
            ] + (row.rebalanced.map { [Double($0.accountsLiquidated)] } ?? []))
        }
        let shortfall = rows.map { row in
            HorizontalBarChart.Row(label: CSVText.neutralised(row.scenario), values: [
                row.shortfallWithoutCascadeUSD, row.outcome.shortfallUSD,
            ] + (row.rebalanced.map { [$0.shortfallUSD] } ?? []))
        }
        let group = 8.0 * Double(series.count)
        let accountsChart = HorizontalBarChart(series: series, rows: liquidations, axisTitle: "Accounts liquidated",
                                               format: { HumanNumber.count(Int($0)) },
                                               tickFormat: { HumanNumber.compact($0, trimmed: true) }, groupHeight: group)
        let shortfallChart = HorizontalBarChart(series: series, rows: shortfall, axisTitle: "Shortfall (bad debt), USD",
                                                format: { HumanNumber.compact($0) },
                                                tickFormat: { HumanNumber.compact($0, trimmed: true) }, groupHeight: group)
        page.append("<div class=\"charts\"><div><h3>Accounts liquidated</h3>"
            + accountsChart.render(label: "Accounts liquidated per scenario, without and with the cascade")
            + "</div><div><h3>Shortfall</h3>"
            + shortfallChart.render(label: "Shortfall per scenario, without and with the cascade") + "</div></div>\n")
    }

    static func cascadeTable(_ r: RunResult, into page: inout Page) {
        let rebalanced = r.config.rebalance != .none
        page.append("<div class=\"wide\"><table class=\"stress\" id=\"cascade-table\"><thead><tr><th>Scenario</th>"
            + "<th class=\"n\">Liquidatable (stress only)</th><th class=\"n\">Liquidated (cascade)</th>"
            + "<th class=\"n\">of which by the cascade</th><th class=\"n\">Rounds</th>"
            + "<th class=\"n\">Collateral sold</th><th class=\"n\">Shortfall (stress only)</th>"
            + "<th class=\"n\">Shortfall (cascade)</th><th class=\"n\">Total loss (cascade)</th>"
            + (rebalanced ? "<th class=\"n\">Liquidated after rebalancing</th><th class=\"n\">Shortfall after rebalancing</th>" : "")
            + "</tr></thead><tbody>\n")
        for row in r.cascade.scenarios {
            let o = row.outcome
            var line = "<tr>" + idCell(row.scenario, after: o.reachedRoundLimit ? " <span class=\"tag\">round limit</span>" : "")
            line += "<td class=\"n\">\(HumanNumber.count(row.liquidatableWithoutCascade))</td>"
            line += "<td class=\"n\"><strong>\(HumanNumber.count(o.accountsLiquidated))</strong></td>"
            line += "<td class=\"n\">\(HumanNumber.count(o.liquidatedByCascade))</td><td class=\"n\">\(o.rounds)</td>"
            line += moneyCell(o.collateralSoldUSD) + moneyCell(row.shortfallWithoutCascadeUSD) + moneyCell(o.shortfallUSD)
            line += moneyCell(o.totalLossUSD)
            if rebalanced, let after = row.rebalanced {
                line += "<td class=\"n\">\(HumanNumber.count(after.accountsLiquidated))</td>" + moneyCell(after.shortfallUSD)
            }
            page.append(line + "</tr>\n")
        }
        page.append("</tbody></table></div>\n")
    }

    /// The assets whose price the liquidation sales moved most, over all scenarios (largest fall first).
    static func impactTable(_ r: RunResult, into page: inout Page) {
        let assets = r.cascade.assets.sorted {
            $0.priceImpact != $1.priceImpact ? $0.priceImpact < $1.priceImpact : $0.soldUSD > $1.soldUSD
        }.prefix(cascadeImpactRows)
        guard !assets.isEmpty else {
            page.note("No collateral was sold in any scenario: no account was liquidated.")
            return
        }
        let tickers = r.schedule.tickers
        page.append("<h3>Largest price impact of liquidation sales</h3>\n<table class=\"assets\" id=\"cascade-impact\">"
            + "<thead><tr><th>Asset</th><th>Scenario</th><th class=\"n\">Sold</th><th class=\"n\">Price impact</th>"
            + "</tr></thead><tbody>\n")
        for a in assets {
            page.append("<tr>" + idCell(tickers[a.asset]) + "<td>\(HTML.name(r.cascade.scenarios[a.scenario].scenario))</td>"
                + moneyCell(a.soldUSD) + "<td class=\"n\">\(HumanNumber.percent(a.priceImpact))</td></tr>\n")
        }
        page.append("</tbody></table>\n")
    }
}
