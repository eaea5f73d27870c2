import BookGenerator
import Dispatch
import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import RiskPipeline
@testable import RiskReport
import Testing

/// Two real runs of one generated book, the second with one account's quantity changed: the comparison recomputes
/// both runs' var_param, puts the whole change of that account (and of the book) in positions, and its report parts
/// (changes.csv, summary.json `changes`, the report's section) are written from it.
@Suite(.serialized) struct RunChangesPipelineTests {
    static let quick = ["window=300", "mc_paths=200", "rebalance=none", "cascade=off", "backtest_days=0"]

    /// Run A of a generated book; run B of a copy whose first positions.csv row holds 3 × the quantity.
    static let runs: (a: RunResult, b: RunResult, changed: String) = {
        let dir = try! CLI.temporaryDirectory("changes-pipeline")
        let bookA = dir.appendingPathComponent("a"), bookB = dir.appendingPathComponent("b")
        _ = try! BookGenerator.generate(BookSpec(accounts: 300, assets: 10, days: 500, seed: 5, profile: .retail), into: bookA)
        try! FileManager.default.copyItem(at: bookA, to: bookB)
        let positions = bookB.appendingPathComponent("positions.csv")
        var lines = try! String(contentsOf: positions, encoding: .utf8).components(separatedBy: "\n")
        var cells = lines[1].components(separatedBy: ",")
        cells[2] = String(Double(cells[2])! * 3)
        lines[1] = cells.joined(separator: ",")
        try! lines.joined(separator: "\n").write(to: positions, atomically: true, encoding: .utf8)
        let a = try! RiskPipeline.run(RunOptions(bookDirectory: bookA, overrides: quick, threads: 2))
        let b = try! RiskPipeline.run(RunOptions(bookDirectory: bookB, overrides: quick, threads: 2))
        return (a, b, cells[0])
    }()

    static func close(_ x: Double, _ y: Double, _ relative: Double, scale: Double? = nil) -> Bool {
        abs(x - y) <= relative * (scale ?? max(abs(x), abs(y), 1e-300))
    }

    @Test func positionVaRRecomputesEveryAccountsVarParam() {
        for r in [Self.runs.a, Self.runs.b] {
            let s = RunSnapshot(r, bookName: "gen")
            var checked = 0
            for i in 0 ..< s.accountCount where s.status[i] != nil {
                let holdings = s.holdings(of: i)
                let v = PositionVaR.value(assets: holdings.map { Int(s.holdingAsset[$0]) },
                                          quantities: holdings.map { s.holdingQuantity[$0] }, prices: s.prices,
                                          covariance: s.covariance, inUniverse: s.inUniverse, varPerSigma: s.varPerSigma)
                #expect(Self.close(v, s.varParam[i], 1e-12), "\(s.accountIDs[i]): \(v) against var_param \(s.varParam[i])")
                checked += 1
            }
            #expect(checked == 300)
        }
    }

    @Test func theChangedQuantityIsAllPositionAndTheRestIsUnchanged() throws {
        let (a, b, changed) = Self.runs
        let c = RunChanges.compare(before: RunSnapshot(a, bookName: "gen"), after: RunSnapshot(b, bookName: "gen"),
                                   history: [], workers: 2)
        #expect(c.accounts.count == 300 && c.newAccounts == 0 && c.closedAccounts == 0)
        let largest = c.accounts.map { max($0.varBefore, $0.varAfter) }.max()!
        for row in c.accounts {
            #expect(abs(row.attribution.price) <= 1e-12 * largest && abs(row.attribution.model) <= 1e-12 * largest, "\(row.account)")
            if row.account != changed {
                #expect(abs(row.attribution.position) <= 1e-12 * largest && row.statusBefore == row.statusAfter)
            }
        }
        let row = try #require(c.accounts.first { $0.account == changed })
        #expect(row.varAfter > row.varBefore)
        #expect(Self.close(row.attribution.position, row.varAfter - row.varBefore, 1e-12))
        let book = c.book.attribution, bookScale = max(c.book.varBefore, c.book.varAfter)
        #expect(abs(book.price) <= 1e-9 * bookScale && abs(book.model) <= 1e-9 * bookScale)
        #expect(Self.close(book.position, c.book.varAfter - c.book.varBefore, 1e-9, scale: bookScale))
        #expect(c.book.varBefore == a.parametric.bookValueAtRisk && c.book.varAfter == b.parametric.bookValueAtRisk)
    }

    static func storedRun(_ r: RunResult, id: Int64) -> StoredRun {
        let t = r.bookFigures.totals
        return StoredRun(id: id, bookName: "gen", asOf: r.asOfDate, storedAt: "2026-01-01T00:00:00Z", engineVersion: "1.0.0",
                         accounts: r.book.accountCount, collateral: t.collateral, debt: t.debt, hcv: t.hcv,
                         varParam: r.parametric.bookValueAtRisk, varHist: r.historical.bookValueAtRisk,
                         varMC: r.monteCarlo.bookValueAtRisk, ok: t.count(.ok), marginCall: t.count(.marginCall),
                         liquidatable: t.count(.liquidatable))
    }

    /// Run B with its changes since run A (run A stored as #1, run B as #2).
    static func runWithChanges() -> RunResult {
        var b = runs.b
        var before = RunSnapshot(runs.a, bookName: "gen"), after = RunSnapshot(runs.b, bookName: "gen")
        before.runID = 1
        after.runID = 2
        b.changes = RunChanges.compare(before: before, after: after,
                                       history: [storedRun(runs.a, id: 1), storedRun(runs.b, id: 2)], workers: 2)
        return b
    }

    @Test func theSummaryWithChangesValidatesAgainstTheSchema() throws {
        let r = Self.runWithChanges()
        let text = SummaryReport.render(r, inputChecksums: SummaryReport.checksums(of: r.input), wallSeconds: 1)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: SummarySchemaTests.schemaURL)) as! [String: Any]
        let validator = MiniSchemaValidator(root: schema)
        // The whole summary is SummarySchemaTests' subject; here: the changes object, and that it is allowed there.
        let definition = try #require((schema["properties"] as? [String: Any])?["changes"] as? [String: Any])
        #expect(validator.validate(summary["changes"] as Any, against: definition) == [])
        #expect(validator.validate(summary, against: schema).filter { $0.contains("changes") } == [])
        let changes = try #require(summary["changes"] as? [String: Any])
        #expect((changes["before"] as? [String: Any])?["run_id"] as? Int == 1)
        #expect(changes["accounts"] as? Int == 300)
        // Without a previous run: null, still valid.
        let plain = SummaryReport.render(Self.runs.a, inputChecksums: SummaryReport.checksums(of: Self.runs.a.input), wallSeconds: 1)
        let plainSummary = try #require(try JSONSerialization.jsonObject(with: Data(plain.utf8)) as? [String: Any])
        #expect(plainSummary["changes"] is NSNull)
        #expect(validator.validate(NSNull(), against: definition) == [])
        #expect(validator.validate(plainSummary, against: schema).filter { $0.contains("changes") } == [])
    }

    @Test func theReportWritesChangesOnlyWithAPreviousRun() throws {
        let dir = try CLI.temporaryDirectory("changes-report")
        try ReportWriter.write(Self.runWithChanges(), to: dir.appendingPathComponent("with"), runStarted: DispatchTime.now())
        try ReportWriter.write(Self.runs.a, to: dir.appendingPathComponent("without"), runStarted: DispatchTime.now())
        let with = try SimpleCSV.read(dir.appendingPathComponent("with/changes.csv"))
        #expect(with.header == ChangesColumns.columns(nil).map(\.name) && with.rows.count == 300)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("without/changes.csv").path))
        let html = try String(contentsOf: dir.appendingPathComponent("with/report.html"), encoding: .utf8)
        let section = HTMLReportTests.section("changes", of: html)
        #expect(section.contains("id=\"changes-transitions\"") && section.contains("id=\"changes-book\""))
        #expect(section.components(separatedBy: "<svg").count - 1 == 3)
        let without = try String(contentsOf: dir.appendingPathComponent("without/report.html"), encoding: .utf8)
        #expect(HTMLReportTests.section("changes", of: without).contains("id=\"changes-not-computed\""))
    }

    @Test func theTableOfTheRunHoldsTheChangesRows() throws {
        let r = Self.runWithChanges()
        let file = try #require(ColumnReference.files.first { $0.name == "changes.csv" })
        let table = try #require(file.table(r))
        #expect(table.rowCount == 300 && table.name == "changes")
        #expect(file.table(Self.runs.a) == nil)
    }
}

/// The writers on hand-built runs with hostile ids: changes.csv read back equals the rows, changes.json is the
/// summary's object and valid, changes.html holds the section with every id escaped.
@Suite struct ChangesReportTests {
    static let hostile = "<b>&\""

    static let changes: RunChanges = {
        typealias Account = ChangesFixture.Account
        let sigma = Matrix([[4e-4, 3e-4], [3e-4, 9e-4]])
        let a = ChangesFixture.snapshot(runID: 3, asOf: "2026-02-02", tickers: ["X", "Y"], prices: [10, 5], covariance: sigma,
                                        varPerSigma: 2.5, accounts: [
                                            Account(id: hostile, status: .ok, varParam: 0.875, holdings: [("X", 2), ("Y", -1)]),
                                            Account(id: "=cmd", status: .marginCall, varParam: 0.5, holdings: [("X", 1)]),
                                            Account(id: "gone, with comma", status: .ok, varParam: 0.5, holdings: [("X", 1)]),
                                        ], bookVaR: 1.5)
        let b = ChangesFixture.snapshot(runID: 4, asOf: "2026-02-03", tickers: ["X", "Y"], prices: [12, 4], covariance: sigma,
                                        varPerSigma: 2.5, accounts: [
                                            Account(id: "=cmd", status: .liquidatable, varParam: 0.7, holdings: [("X", 1.2)]),
                                            Account(id: hostile, status: .marginCall, varParam: 1.1, holdings: [("X", 2), ("Y", -1)]),
                                            Account(id: "fresh", status: nil, varParam: 1, holdings: [("X", 1)]),
                                        ], bookVaR: 1.9)
        return RunChanges.compare(before: a, after: b, history: [], workers: 1)
    }()

    @Test func theFolderOfADiff() throws {
        let dir = try CLI.temporaryDirectory("changes-diff").appendingPathComponent("diff")
        try ChangesReportWriter.write(Self.changes, to: dir, workers: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }
        #expect(Set(names) == Set(ChangesReportWriter.files))

        let csv = try SimpleCSV.read(dir.appendingPathComponent("changes.csv"))
        #expect(csv.header == ["account", "status_before", "status_after", "var_param_before", "var_param_after",
                               "d_var_price", "d_var_position", "d_var_model"])
        #expect(csv.rows.count == Self.changes.accounts.count)
        for (cells, row) in zip(csv.rows, Self.changes.accounts) {
            #expect(cells[0] == CSVText.neutralised(row.account))
            #expect(cells[1] == (row.statusBefore == .none ? "" : row.statusBefore.name))
            #expect(cells[2] == (row.statusAfter == .none ? "" : row.statusAfter.name))
            let numbers = [row.varBefore, row.varAfter, row.attribution.price, row.attribution.position, row.attribution.model]
            for (cell, x) in zip(cells[3...], numbers) {
                #expect(x.isNaN ? cell.isEmpty : Double(cell)?.bitPattern == x.bitPattern, "\(row.account): \(cell) vs \(x)")
            }
        }

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("changes.json")))
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: SummarySchemaTests.schemaURL)) as! [String: Any]
        let definition = try #require((schema["properties"] as? [String: Any])?["changes"] as? [String: Any])
        #expect(MiniSchemaValidator(root: schema).validate(json, against: definition) == [])
        let object = try #require(json as? [String: Any])
        #expect(object["new_accounts"] as? Int == 1 && object["closed_accounts"] as? Int == 1)
        #expect(object["newly_liquidatable"] as? Int == 1 && object["newly_margin_call"] as? Int == 1)
        let transitions = try #require(object["transitions"] as? [String: [String: Int]])
        #expect(transitions["ok"]?["margin_call"] == 1 && transitions["none"]?["out_of_range"] == 1)
        #expect(transitions["ok"]?["none"] == 1 && transitions["margin_call"]?["liquidatable"] == 1)
        let increases = try #require(object["largest_increases"] as? [[String: Any]])
        #expect(increases.map { $0["account"] as? String } == [Self.hostile, "=cmd"])
        #expect(increases.first?["status_before"] as? String == "ok")

        let html = try String(contentsOf: dir.appendingPathComponent("changes.html"), encoding: .utf8)
        #expect(html.contains("<section id=\"changes\"><h2>Changes since the previous run</h2>"))
        #expect(html.contains("&lt;b&gt;&amp;&quot;") && !html.contains(Self.hostile))
        #expect(html.contains("&#39;=cmd") && html.contains("Content-Security-Policy"))
        #expect(html.contains("id=\"changes-newly\"") && html.contains("id=\"changes-increases\""))
    }

    /// The section lists the first 50 accounts newly in breach and counts them all.
    @Test func theNewlyBreachingListIsCappedAndCounted() {
        typealias Account = ChangesFixture.Account
        let sigma = Matrix([[4e-4]])
        let accounts = (0 ..< 70).map { Account(id: "n\($0)", status: .liquidatable, varParam: 1, holdings: [("X", 1)]) }
        let a = ChangesFixture.snapshot(runID: 1, asOf: "2026-02-02", tickers: ["X"], prices: [1], covariance: sigma,
                                        varPerSigma: 2, accounts: [])
        let b = ChangesFixture.snapshot(runID: 2, asOf: "2026-02-03", tickers: ["X"], prices: [1], covariance: sigma,
                                        varPerSigma: 2, accounts: accounts)
        let c = RunChanges.compare(before: a, after: b, history: [], workers: 1)
        #expect(c.newlyLiquidatable == 70)
        let html = HTMLReport.renderChanges(c)
        let table = html.components(separatedBy: "id=\"changes-newly\"")[1].components(separatedBy: "</table>")[0]
        #expect(table.components(separatedBy: "<tr>").count - 1 == 1 + HTMLReport.changesListed)
        #expect(html.contains("70 accounts") && html.contains("the first 50 below"))
    }
}
