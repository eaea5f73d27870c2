import Foundation
import RiskPipeline
@testable import RiskReport
import Testing

/// SPEC §4's `@` formula prefix beyond `CSVText.neutralised` alone (issue 18): through the CSV cell writer (alone and
/// combined with RFC 4180 quoting), and through a whole run whose account ids and scenario name start with `@`, read
/// back from accounts.csv, holdings.csv, stress.csv and report.html.
@Suite struct FormulaPrefixTests {
    @Test func atSignCellsGetTheQuotePrefixInTheWriterAndInTheHTMLNames() {
        let columns: [Column<Int>] = [Column("id", unit: "text", meaning: "an id") { .text(["@SUM(A1)", "@a,b", "a@b", "@"][$0]) }]
        let text = String(decoding: CSVWriter.render(columns: columns, rows: 0 ..< 4), as: UTF8.self)
        #expect(text == "id\n'@SUM(A1)\n\"'@a,b\"\na@b\n'@\n")
        #expect(HTML.name("@cmd|' /C calc'!A0") == "&#39;@cmd|&#39; /C calc&#39;!A0")
        #expect(HTML.name("x@y") == "x@y")
    }

    @Test func aRunWithAtSignIdsAndScenarioWritesThemNeutralised() throws {
        let dir = try HTMLReportTests.writeBook(scenarios: false)
        defer { try? FileManager.default.removeItem(at: dir) }
        let positions = dir.appendingPathComponent("positions.csv")
        var text = try String(contentsOf: positions, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"acct-6\"", with: "\"@SUM(A1)\"")
            .replacingOccurrences(of: "\"acct-7\"", with: "\"@x,y\"")
        try text.write(to: positions, atomically: true, encoding: .utf8)
        try "scenario,asset,shock\n@crash,BTC,-0.4\n".write(to: dir.appendingPathComponent("scenarios.csv"),
                                                           atomically: true, encoding: .utf8)
        let result = try RiskPipeline.run(RunOptions(bookDirectory: dir, overrides: HTMLReportTests.quickRun
            + ["historical_scenarios=none"], threads: 1))
        let out = dir.appendingPathComponent("report")
        try ReportWriter.write(result, to: out, runStarted: .now())
        let accounts = try String(contentsOf: out.appendingPathComponent("accounts.csv"), encoding: .utf8)
        let lines = accounts.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("'@SUM(A1),") }, "accounts.csv: \(lines.map { $0.prefix(12) })")
        #expect(lines.contains { $0.hasPrefix("\"'@x,y\",") })
        #expect(!lines.contains { $0.hasPrefix("@") || $0.hasPrefix("\"@") })
        // Every account's worst scenario is the only one, neutralised.
        let records = try SimpleCSV.records(out.appendingPathComponent("accounts.csv"))
        #expect(!records.isEmpty && records.allSatisfy { $0["worst_scenario"] == "'@crash" })
        let holdings = try SimpleCSV.records(out.appendingPathComponent("holdings.csv"))
        #expect(holdings.filter { $0["account"] == "'@SUM(A1)" }.count == 2)
        #expect(holdings.filter { $0["account"] == "'@x,y" }.count == 3)
        #expect(!holdings.contains { $0["account"]!.hasPrefix("@") })
        let stress = try SimpleCSV.records(out.appendingPathComponent("stress.csv"))
        #expect(stress.map { $0["scenario"] } == ["'@crash"])
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("&#39;@crash"))
        // Every occurrence carries the prefix, tooltips (<title>) included.
        let visible = html
        for name in ["@crash", "@SUM(A1)"] {
            let all = visible.components(separatedBy: name).count - 1
            let prefixed = visible.components(separatedBy: "&#39;" + name).count - 1
            #expect(all == prefixed, "\(name): \(all) occurrences, \(prefixed) with the prefix")
        }
        #expect(visible.contains("&#39;@crash"))
    }
}
