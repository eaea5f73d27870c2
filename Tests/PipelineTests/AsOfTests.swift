import BookGenerator
import Foundation
import RiskModel
import RiskPipeline
import RiskReport
import Testing

/// `as_of` = D against its definition: the run must equal a run of the same book whose prices.csv the test itself cut
/// after D (the independent reference), file by file and byte for byte; only the inputs' SHA-256 (the whole files),
/// the configuration and the book's path may differ in summary.json.
@Suite(.serialized) struct AsOfTests {
    /// 800 daily rows from 2019-01-01 (to 2021-03-10): covid_crash (2020-03-11..13) is the only default replay inside.
    static let book: URL = {
        let dir = try! CLI.temporaryDirectory("asof").appendingPathComponent("book")
        _ = try! BookGenerator.generate(BookSpec(accounts: 160, assets: 10, days: 800, seed: 11, profile: .retail), into: dir)
        return dir
    }()

    static let quick = ["mc_paths=800", "backtest_days=120", "rebalance=all"]
    static let reportFiles = ["accounts.csv", "holdings.csv", "stress.csv", "backtest.csv", "cascade.csv", "cascade_assets.csv"]

    struct Case: Sendable, CustomStringConvertible {
        /// The as_of value given to the run.
        let asOf: String
        /// Rows removed from the run's prices.csv first (to put D between two rows).
        var removed: [String] = []
        /// The reference keeps the rows dated ≤ this; the as-of date the report must show.
        let cutAfter: String
        var description: String { "as_of=\(asOf)" + (removed.isEmpty ? "" : " without \(removed)") }
    }

    static let cases: [Case] = [
        // The covid replay straddles D: skipped, as a replay outside prices.csv is.
        Case(asOf: "2020-03-12", cutAfter: "2020-03-12"),
        // D between two rows: the earlier row is the as-of date.
        Case(asOf: "2020-07-01", removed: ["2020-07-01", "2020-07-02"], cutAfter: "2020-06-30"),
        // D on and after the last row: nothing changes.
        Case(asOf: "2021-03-10", cutAfter: "2021-03-10"),
        Case(asOf: "2030-01-01", cutAfter: "2030-01-01"),
    ]

    /// A copy of the shared book whose prices.csv keeps the header and the rows `keep` accepts.
    static func copy(to dir: URL, keeping keep: (String) -> Bool) throws -> URL {
        try FileManager.default.copyItem(at: book, to: dir)
        let prices = dir.appendingPathComponent("prices.csv")
        let lines = try String(contentsOf: prices, encoding: .utf8).split(separator: "\n").map(String.init)
        let kept = [lines[0]] + lines.dropFirst().filter { keep(String($0.prefix(10))) }
        try (kept.joined(separator: "\n") + "\n").write(to: prices, atomically: true, encoding: .utf8)
        return dir
    }

    /// summary.json without what legitimately differs: run metadata, the inputs' hashes, the config, the book path
    /// (also inside warnings that name a file).
    static func comparableSummary(_ report: URL, book: URL) throws -> NSDictionary {
        var json = try summary(report)
        for key in ["phases_s", "wall_s", "peak_rss_bytes", "threads", "inputs_sha256", "config", "book_directory"] {
            json.removeValue(forKey: key)
        }
        json["warnings"] = (json["warnings"] as? [String]).map { withoutPath($0, of: book) }
        return json as NSDictionary
    }

    static func withoutPath(_ lines: [String], of book: URL) -> [String] {
        lines.map { $0.replacingOccurrences(of: book.path, with: "BOOK") }
    }

    static func summary(_ report: URL) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: report.appendingPathComponent("summary.json"))) as! [String: Any]
    }

    /// SHA-256 of a file by the system's sha256sum (independent of the engine's hashing).
    static func sha256sum(_ file: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }

    @Test(arguments: cases)
    func asOfEqualsTheBookCutByHand(_ c: Case) throws {
        let root = try CLI.temporaryDirectory("asof-case")
        defer { try? FileManager.default.removeItem(at: root) }
        let removed = Set(c.removed)
        let dated = try Self.copy(to: root.appendingPathComponent("dated")) { !removed.contains($0) }
        let cut = try Self.copy(to: root.appendingPathComponent("cut")) { $0 <= c.cutAfter }

        let asOfRun = try RiskPipeline.run(RunOptions(bookDirectory: dated, overrides: Self.quick + ["as_of=\(c.asOf)"], threads: 2))
        let reference = try RiskPipeline.run(RunOptions(bookDirectory: cut, overrides: Self.quick, threads: 2))
        let last = try String(contentsOf: cut.appendingPathComponent("prices.csv"), encoding: .utf8)
            .split(separator: "\n").last.map { String($0.prefix(10)) }
        #expect(asOfRun.asOfDate == last && reference.asOfDate == last)
        #expect(asOfRun.prices.map(\.bitPattern) == reference.prices.map(\.bitPattern))
        #expect(Self.withoutPath(asOfRun.warnings, of: dated) == Self.withoutPath(reference.warnings, of: cut))

        let a = root.appendingPathComponent("report-asof"), b = root.appendingPathComponent("report-cut")
        try ReportWriter.write(asOfRun, to: a, runStarted: .now())
        try ReportWriter.write(reference, to: b, runStarted: .now())
        for file in Self.reportFiles {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)),
                    "\(c): \(file) differs from the cut book's")
        }
        #expect(try Self.comparableSummary(a, book: dated) == Self.comparableSummary(b, book: cut), "\(c): summary.json differs")

        // The report's as-of date is the row's; the config shows the date given; the hashes are the whole files'.
        let json = try Self.summary(a)
        #expect(json["as_of"] as? String == last)
        #expect((json["config"] as? [String: Any])?["as_of"] as? String == c.asOf)
        let hashes = try #require(json["inputs_sha256"] as? [String: String])
        #expect(hashes["prices.csv"] == (try Self.sha256sum(dated.appendingPathComponent("prices.csv"))))
    }

    @Test func aReplayAfterTheAsOfDateIsSkippedLikeOneOutsideThePrices() throws {
        let early = try RiskPipeline.run(RunOptions(bookDirectory: Self.book, overrides: Self.quick + ["as_of=2020-03-01"], threads: 2))
        let late = try RiskPipeline.run(RunOptions(bookDirectory: Self.book, overrides: Self.quick + ["as_of=2020-06-30"], threads: 2))
        #expect(!early.stressScenarios.names.contains("covid_crash"))
        #expect(early.warnings.contains(
            "historical scenario covid_crash (2020-03-11..2020-03-13) is not covered by prices.csv (2019-01-01..2020-03-01): skipped"))
        #expect(late.stressScenarios.names.contains("covid_crash"))
        // Replays wholly after the book's last row are skipped the same way with or without as_of.
        #expect(late.warnings.contains { $0.hasPrefix("historical scenario ftx_collapse") && $0.hasSuffix("(2019-01-01..2020-06-30): skipped") })
    }

    @Test func backtestAndReturnWindowEndOnTheAsOfDate() throws {
        let r = try RiskPipeline.run(RunOptions(bookDirectory: Self.book, overrides: Self.quick + ["as_of=2020-06-30"], threads: 2))
        #expect(r.asOfDate == "2020-06-30")
        #expect(r.backtest.dates.last == "2020-06-30")
        #expect(r.input.prices.dates.last == "2020-06-30")
    }

    @Test func aDateBeforeTheBookIsAnInputErrorWithExitCode2() throws {
        let root = try CLI.temporaryDirectory("asof-early")
        defer { try? FileManager.default.removeItem(at: root) }
        do {
            _ = try RiskPipeline.run(RunOptions(bookDirectory: Self.book, overrides: ["as_of=2018-12-31"], threads: 2))
            Issue.record("as_of before the first row was accepted")
        } catch {
            guard case .input(let issues) = error else { Issue.record("not an input error: \(error)"); return }
            #expect(issues.map(\.description) == ["--set as_of=2018-12-31: as_of 2018-12-31 is before the first row of "
                + "prices.csv (2019-01-01); set a date from 2019-01-01 on, or leave as_of empty for the last row (2021-03-10)"])
        }
        let out = root.appendingPathComponent("report")
        let cli = try CLI.run(["run", Self.book.path, "--set", "as_of=2018-12-31", "--out", out.path, "--quiet"])
        #expect(cli.status == 2)
        #expect(cli.stderr.contains("as_of 2018-12-31 is before the first row of prices.csv"), "\(cli.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}
