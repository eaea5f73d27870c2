import Foundation
import RiskPipeline
@testable import RiskReport
import Testing

/// report.html: escaping of every piece of user text, sections that say when their data is absent, and figures that
/// match the run. The books are written by hand so the ids, tickers and scenario names can be hostile and the
/// statuses known: schedule haircuts, as-of prices BTC 100, ETH 10, USDC 1, `A&B<i>` 5.
@Suite struct HTMLReportTests {
    static let scriptID = "<script>alert(1)</script>"
    static let quoteID = "a\"b'c&d"
    static let unicodeID = "Ωmega–账户"
    static let formulaID = "=SUM(1+1)"
    static let hostileTicker = "A&B<i>"
    static let hostileScenario = "<img src=x onerror=alert(1)>"
    static let quotedScenario = "crash \"50\" & co"
    static let hostileReplay = "<b>replay</b>"

    /// (account, asset, quantity): liquidatable, margin call, ok, ok, no debt, ok, plus plain accounts.
    static let positions: [(String, String, Double)] = [
        (scriptID, "BTC", 1), (scriptID, "USDC", -95),          // HCV 90 / 95: liquidatable
        (quoteID, "BTC", 1), (quoteID, "USDC", -85),            // 90 / 85 = 1.06: margin call
        (unicodeID, "ETH", 10), (unicodeID, "USDC", -50),       // 88 / 50: ok
        (formulaID, hostileTicker, 20), (formulaID, "USDC", -40), // 80 / 40: ok
        ("no-debt", "USDC", 100),                               // no ratio: ok
        ("acct-6", "BTC", 2), ("acct-6", "ETH", -10),           // 180 / 100: ok
        ("acct-7", "ETH", 3), ("acct-7", "BTC", 0.5), ("acct-7", "USDC", -60), // 71.4 / 60: ok
        ("acct-8", hostileTicker, 10), ("acct-8", "ETH", -4.1), // 40 / 41: liquidatable
    ]

    /// A book directory with hostile ids, a hostile ticker and (optionally) hostile scenario names.
    static func writeBook(scenarios: Bool, manyScenarios: Int = 0) throws -> URL {
        let dir = try CLI.temporaryDirectory("html-book")
        let tickers = ["BTC", "ETH", "USDC", hostileTicker]
        let last: [Double] = [100, 10, 1, 5]
        let vols: [Double] = [0.03, 0.04, 0.0005, 0.05]
        let days = 140
        // Prices walk back from the as-of row with deterministic returns.
        var rows = [[Double]](repeating: last, count: days)
        var state: UInt64 = 7
        for t in stride(from: days - 2, through: 0, by: -1) {
            for j in tickers.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let u = Double(state >> 11) / Double(1 << 53) - 0.5
                rows[t][j] = rows[t + 1][j] * exp(-vols[j] * u * 3.4)
            }
        }
        var prices = "date," + tickers.map(csv).joined(separator: ",") + "\n"
        let start = Date(timeIntervalSince1970: 1_546_300_800)   // 2019-01-01
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        for t in 0 ..< days {
            let date = formatter.string(from: start.addingTimeInterval(Double(t) * 86_400))
            prices += date + "," + rows[t].map { "\($0)" }.joined(separator: ",") + "\n"
        }
        try prices.write(to: dir.appendingPathComponent("prices.csv"), atomically: true, encoding: .utf8)
        let haircuts = [0.1, 0.12, 0.02, 0.2]
        var assets = "asset,haircut,eligible,max_weight,adv_usd,cost_bps\n"
        for (j, t) in tickers.enumerated() { assets += "\(csv(t)),\(haircuts[j]),true,1,,10\n" }
        try assets.write(to: dir.appendingPathComponent("assets.csv"), atomically: true, encoding: .utf8)
        var book = "account,asset,quantity\n"
        for (account, asset, quantity) in positions { book += "\(csv(account)),\(csv(asset)),\(quantity)\n" }
        try book.write(to: dir.appendingPathComponent("positions.csv"), atomically: true, encoding: .utf8)
        if scenarios {
            let text = "scenario,asset,shock\n\(csv(hostileScenario)),BTC,-0.3\n\(csv(quotedScenario)),BTC,-0.5\n"
                + "\(csv(quotedScenario)),ETH,-0.5\n\(csv(quotedScenario)),\(csv(hostileTicker)),0.1\n"
            try text.write(to: dir.appendingPathComponent("scenarios.csv"), atomically: true, encoding: .utf8)
        } else if manyScenarios > 0 {
            // Scenario k shocks BTC by −k %: losses grow with k.
            let text = "scenario,asset,shock\n" + (1 ... manyScenarios).map { "s\($0),BTC,\(-Double($0) / 100)\n" }.joined()
            try text.write(to: dir.appendingPathComponent("scenarios.csv"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// An RFC 4180 cell: quoted, quotes doubled.
    static func csv(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static let quickRun = ["window=100", "mc_paths=500", "haircut_model=schedule"]

    /// The hostile book with scenarios, and a replay whose hostile name ends up in a warning (it is not covered).
    static let hostile: RunResult = {
        let dir = try! writeBook(scenarios: true)
        return try! RiskPipeline.run(RunOptions(bookDirectory: dir, overrides: quickRun + [
            "historical_scenarios=none", "historical_scenarios.\(hostileReplay)=2030-01-01..2030-01-05",
        ], threads: 2))
    }()

    static let hostilePage = HTMLReport.render(hostile, inputChecksums: [("positions.csv", "<sha>")], wallSeconds: 1.5)

    // MARK: escaping

    @Test func escapeReplacesTheFiveSpecialCharactersAndKeepsUnicode() {
        #expect(HTML.escape("<a href='x'>&\"</a>") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;")
        #expect(HTML.escape("Ωmega–账户 🚀") == "Ωmega–账户 🚀")
        #expect(HTML.escape("a\u{0}b\u{7}c\td\ne\u{85}") == "a\u{FFFD}b\u{FFFD}c\td\ne\u{FFFD}")
        #expect(HTML.escape("&amp;") == "&amp;amp;")
        #expect(HTML.name("=1+1") == "&#39;=1+1")
        #expect(HTML.name("-x<") == "&#39;-x&lt;")
        #expect(HTML.name("acct-1") == "acct-1")
    }

    @Test func hostileIdsTickersScenarioNamesAndWarningsAreEscaped() throws {
        let html = Self.hostilePage
        let lower = html.lowercased()
        #expect(!lower.contains("<script"))
        #expect(!lower.contains("<img"))
        #expect(!lower.contains("<b>"))
        #expect(!lower.contains("<i>"))
        #expect(!html.contains(Self.quoteID))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("a&quot;b&#39;c&amp;d"))
        #expect(html.contains(Self.unicodeID))
        #expect(html.contains("&#39;=SUM(1+1)"))
        #expect(html.contains("A&amp;B&lt;i&gt;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("crash &quot;50&quot; &amp; co"))
        #expect(html.contains("&lt;b&gt;replay&lt;/b&gt;"))   // the skipped replay's warning and the config table
        #expect(html.contains("&lt;sha&gt;"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
        #expect(Self.hostile.warnings.contains { $0.contains(Self.hostileReplay) })
    }

    /// Every `<` of the page opens one of the report's own tags, with its own attributes: user text never opened
    /// a tag or an attribute, and nothing can run or fetch (no script, no event handler, no external reference).
    @Test func markupIsOnlyTheReportsOwn() throws {
        let html = Self.hostilePage
        let tags: Set<String> = ["html", "head", "meta", "link", "title", "style", "body", "header", "h1", "h2", "h3", "p",
                                 "strong", "code", "nav", "a", "main", "section", "div", "table", "thead", "tbody", "tr",
                                 "th", "td", "span", "br", "ul", "li", "svg", "rect", "line", "text", "footer", "polyline",
                                 "circle"]
        let attributes: Set<String> = ["lang", "charset", "http-equiv", "content", "name", "rel", "href", "id", "class",
                                       "title", "style", "xmlns", "width", "height", "viewBox", "role", "aria-label",
                                       "x", "y", "x1", "y1", "x2", "y2", "fill", "stroke", "stroke-width",
                                       "stroke-dasharray", "font-size", "text-anchor", "font-weight", "transform",
                                       "points", "cx", "cy", "r"]
        #expect(html.hasPrefix("<!DOCTYPE html>\n"))
        let body = html.dropFirst("<!DOCTYPE html>\n".count)
        var index = body.startIndex
        var tagCount = 0
        while let open = body[index...].firstIndex(of: "<") {
            let close = try #require(body[open...].firstIndex(of: ">"))
            var inside = body[body.index(after: open) ..< close]
            if inside.hasPrefix("/") { inside = inside.dropFirst() }
            if inside.hasSuffix("/") { inside = inside.dropLast() }
            let name = String(inside.prefix { $0.isLetter || $0.isNumber })
            #expect(tags.contains(name), "unexpected tag <\(inside.prefix(40))>")
            var rest = inside.dropFirst(name.count)
            while let first = rest.first, first == " " {
                rest = rest.dropFirst()
                let attribute = String(rest.prefix { $0 != "=" && $0 != " " })
                #expect(attributes.contains(attribute), "unexpected attribute \(attribute) in <\(name)>")
                rest = rest.dropFirst(attribute.count)
                if rest.first == "=" {
                    rest = rest.dropFirst()
                    #expect(rest.first == "\"", "unquoted value of \(attribute)")
                    rest = rest.dropFirst()
                    let value = rest.prefix { $0 != "\"" }
                    #expect(!value.contains("<") && !value.contains("\"") && !value.contains("'") || attribute == "content")
                    if attribute == "href" { #expect(value.hasPrefix("#") || value == "data:,") }
                    rest = rest.dropFirst(value.count + 1)
                }
            }
            #expect(rest.isEmpty, "unparsed rest of <\(name)>: \(rest.prefix(40))")
            tagCount += 1
            index = body.index(after: close)
        }
        #expect(tagCount > 500)
        // The only <style> holds the report's own stylesheet.
        let styles = html.components(separatedBy: "<style>")
        #expect(styles.count == 2)
        #expect(styles[1].hasPrefix("\n" + HTMLReport.stylesheet + "</style>"))
        #expect(html.contains("Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""))
    }

    // MARK: sections

    @Test func everySectionIsPresentInOrder() {
        let html = Self.hostilePage
        var previous = html.startIndex
        for section in HTMLReport.sections {
            let heading = "<section id=\"\(section.id)\"><h2>\(section.title)</h2>"
            let found = html.range(of: heading)
            #expect(found != nil, "missing \(heading)")
            if let found {
                #expect(found.lowerBound > previous, "\(section.id) out of order")
                previous = found.lowerBound
            }
        }
        // Rebalancing (scope breaching by default) reports its counts; a flows chart is drawn when anything trades.
        let rebalancing = Self.section("rebalancing", of: html)
        #expect(rebalancing.contains("in scope") || rebalancing.contains("Not computed in this run"))
        // status, health, 2 × assets, stress, 2 × cascade, validation (+ flows)
        let charts = html.components(separatedBy: "<svg").count - 1
        #expect(Self.section("validation", of: html).contains("<svg"))
        #expect(Self.section("cascade", of: html).components(separatedBy: "<svg").count - 1 == 2)
        #expect(charts == 8 || (charts == 9 && rebalancing.contains("<svg")))
    }

    @Test func aBookWithoutScenariosStillRendersEverySectionAndSaysSo() throws {
        let dir = try Self.writeBook(scenarios: false)
        let r = try RiskPipeline.run(RunOptions(bookDirectory: dir,
                                                overrides: Self.quickRun + ["historical_scenarios=none", "rebalance=none",
                                                                            "backtest_days=0"],
                                                threads: 1))
        #expect(r.stress.scenarios.isEmpty)
        let html = HTMLReport.render(r, inputChecksums: [], wallSeconds: 0.5)
        for section in HTMLReport.sections {
            #expect(html.contains("<section id=\"\(section.id)\"><h2>\(section.title)</h2>"))
        }
        let stress = Self.section("stress", of: html)
        #expect(stress.contains("No stress scenarios in this run"))
        #expect(stress.contains("no scenarios.csv"))
        #expect(stress.contains("no historical replays are configured"))
        #expect(!stress.contains("<table"))
        #expect(Self.section("status", of: html).contains("No stress scenarios in this run"))
        #expect(Self.section("rebalancing", of: html).contains("Not computed in this run"))
        #expect(Self.section("validation", of: html).contains("backtest_days = 0"))
        #expect(Self.section("warnings", of: html).contains("No warnings."))
        #expect(Self.value("kpi-worst-stress", in: html) == "—")
        // Today's bar is still drawn.
        #expect(Self.section("status", of: html).contains("<svg"))
    }

    @Test func manyScenariosChartTheLargestLossesAndTableThemAll() throws {
        let dir = try Self.writeBook(scenarios: false, manyScenarios: 45)
        let r = try RiskPipeline.run(RunOptions(bookDirectory: dir,
                                                overrides: Self.quickRun + ["historical_scenarios=none", "rebalance=none",
                                                                            "backtest_days=0"],
                                                threads: 1))
        #expect(r.stress.scenarios.count == 45)
        let f = HTMLReportFigures(r)
        #expect(f.chartedScenarios == Array(5 ..< 45))   // s6 … s45, the largest losses, in scenario order
        let html = HTMLReport.render(r, inputChecksums: [], wallSeconds: 0.5)
        let stress = Self.section("stress", of: html)
        #expect(stress.contains("The 40 scenarios with the largest total loss of 45"))
        #expect(stress.components(separatedBy: "<tr").count - 2 == 45)
        #expect(Self.section("status", of: html).contains("The 40 scenarios with the largest total loss of 45"))
    }

    // MARK: numbers

    @Test func headlineAndStatusCountsMatchTheRun() throws {
        let r = Self.hostile, html = Self.hostilePage
        #expect(Self.value("kpi-accounts", in: html) == HumanNumber.count(r.book.accountCount))
        #expect(r.book.accountCount == 8)
        let statuses = r.assessment.status.map(\.rawValue)
        #expect(Self.value("kpi-status-ok", in: html) == "\(statuses.filter { $0 == "ok" }.count)")
        #expect(Self.value("kpi-status-margin_call", in: html) == "\(statuses.filter { $0 == "margin_call" }.count)")
        #expect(Self.value("kpi-status-liquidatable", in: html) == "\(statuses.filter { $0 == "liquidatable" }.count)")
        #expect(statuses.filter { $0 == "ok" }.count == 5)
        #expect(statuses.filter { $0 == "margin_call" }.count == 1)
        #expect(statuses.filter { $0 == "liquidatable" }.count == 2)
        let collateral = r.assessment.collateral.reduce(0, +), debt = r.assessment.debt.reduce(0, +)
        #expect(Self.value("kpi-collateral", in: html) == HumanNumber.usd(collateral))
        #expect(Self.value("kpi-debt", in: html) == HumanNumber.usd(debt))
        #expect(Self.value("kpi-hcv", in: html) == HumanNumber.usd(r.assessment.hcv.reduce(0, +)))
        #expect(Self.value("var-param", in: html) == HumanNumber.compact(r.parametric.bookValueAtRisk))
        #expect(Self.value("es-hist", in: html) == HumanNumber.compact(r.historical.bookExpectedShortfall))
        #expect(Self.value("var-mc", in: html) == HumanNumber.compact(r.monteCarlo.bookValueAtRisk))
        // Riskiest: the 7 accounts with debt, lowest health factor first.
        let riskiest = Self.section("riskiest", of: html)
        #expect(riskiest.components(separatedBy: "<tr>").count - 2 == 7)
        let first = try #require(riskiest.range(of: "&lt;script&gt;"))
        let second = try #require(riskiest.range(of: "acct-8"))
        #expect(first.lowerBound < second.lowerBound)   // CR 0.947 before 0.976
        // Stress table: one row per scenario, numbers as in the result.
        let stress = Self.section("stress", of: html)
        #expect(r.stress.scenarios.count == 2)
        #expect(stress.components(separatedBy: "<tr").count - 2 == 2)
        for row in r.stress.scenarios {
            #expect(stress.contains(">\(HumanNumber.compact(row.totalLossUSD))</td>"))
        }
    }

    @Test func healthHistogramCountsEveryAccountWithDebtOnce() {
        let r = Self.hostile
        let histogram = HTMLReportFigures.histogram(r)
        let withDebt = r.assessment.debt.filter { $0 > 0 }.count
        #expect(histogram.accounts == withDebt)
        #expect(histogram.upper == 3)
        #expect(histogram.counts.count == HTMLReportFigures.histogramBins + 1)
        // Liquidatable accounts (HF < 1) only in bins below 1; margin calls only in [1, 1.1).
        for (bin, stack) in histogram.counts.enumerated().dropLast() {
            let lower = Double(bin) * histogram.binWidth
            if lower >= 1 { #expect(stack[2] == 0) }
            if lower + histogram.binWidth <= 1 || lower >= 1.1 { #expect(stack[1] == 0) }
        }
    }

    @Test func assetFiguresSumTheHoldings() {
        let r = Self.hostile
        let f = HTMLReportFigures(r)
        #expect(f.assets.map(\.ticker) == ["BTC", "A&B<i>", "ETH", "USDC"])   // by collateral: 450, 150, 130, 100
        let btc = f.assets[0]
        #expect(abs(btc.collateral - 450) < 1e-9)
        #expect(btc.debt == 0)
        #expect(btc.holders == 4)
        let total = f.assets.reduce(0) { $0 + $1.componentVaR }
        #expect(abs(total - r.parametric.valueAtRisk.reduce(0, +)) <= 1e-9 * total)
    }

    // MARK: formatting and axes

    @Test func numbersAreFormattedForPeople() {
        #expect(HumanNumber.compact(12_345_678) == "12.3M")
        #expect(HumanNumber.compact(999_960) == "1.00M")
        #expect(HumanNumber.compact(1_250) == "1.25k")
        #expect(HumanNumber.compact(512.4) == "512")
        #expect(HumanNumber.compact(5.123) == "5.12")
        #expect(HumanNumber.compact(0) == "0")
        #expect(HumanNumber.compact(-450_000) == "-450k")
        #expect(HumanNumber.compact(1.5e9) == "1.50B")
        #expect(HumanNumber.compact(2_500_000, trimmed: true) == "2.5M")
        #expect(HumanNumber.compact(10_000_000, trimmed: true) == "10M")
        #expect(HumanNumber.compact(.nan) == "—")
        #expect(HumanNumber.usd(-1_234) == "-$1.23k")
        #expect(HumanNumber.usdFull(1_234_567.891) == "$1,234,567.89")
        #expect(HumanNumber.count(1_234_567) == "1,234,567")
        #expect(HumanNumber.count(1, "account") == "1 account")
        #expect(HumanNumber.count(1_000, "account") == "1,000 accounts")
        #expect(HumanNumber.ratio(1.254) == "1.25")
        #expect(HumanNumber.percent(0.0321) == "3.2%")
        #expect(HumanNumber.percent(1e-5) == "<0.1%")
        #expect(HumanNumber.percent(-1e-5) == "0.0%")
        #expect(HumanNumber.percent(.nan) == "—")
    }

    @Test func axesHaveNiceTicks() {
        let losses = LinearAxis(from: -7.55e6, to: 17.1e6)
        #expect(losses.step == 5e6)
        #expect(losses.ticks == [-10e6, -5e6, 0, 5e6, 10e6, 15e6, 20e6])
        let counts = LinearAxis(from: 0, to: 3, tickCount: 6, integer: true)
        #expect(counts.ticks == [0, 1, 2, 3])
        // A tiny negative value among large ones does not cost a whole step of axis.
        let risk = LinearAxis(from: -55.7, to: 243e3, tickCount: 4)
        #expect(risk.lower == -55.7)
        #expect(risk.ticks.first == 0)
        let empty = LinearAxis(from: 0, to: 0)
        #expect(empty.lower == 0 && empty.upper > 0)
    }

    // MARK: helpers

    /// The text of `<section id="ID">` up to its end.
    static func section(_ id: String, of html: String) -> String {
        guard let start = html.range(of: "<section id=\"\(id)\">") else { return "" }
        let end = html[start.upperBound...].range(of: "</section>")?.lowerBound ?? html.endIndex
        return String(html[start.lowerBound ..< end])
    }

    /// The content of the element with `id="ID"` (up to the next tag).
    static func value(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: "id=\"\(id)\"") else { return nil }
        guard let open = html[start.upperBound...].firstIndex(of: ">") else { return nil }
        let rest = html[html.index(after: open)...]
        return String(rest.prefix { $0 != "<" })
    }
}
