import Foundation
import Testing

/// Exit codes and error text of the CLI on broken books (SPEC §1: one line per problem, exit 2, no report).
@Suite struct CLIErrorTests {
    /// A copy of the shared generated book whose files can be broken.
    func copyOfBook(_ name: String) throws -> URL {
        let dir = try CLI.temporaryDirectory(name).appendingPathComponent("book")
        try FileManager.default.copyItem(at: EndToEndTests.book, to: dir)
        return dir
    }

    /// Replaces 1-based line `line` of `file` by `transform(line)`.
    func edit(_ dir: URL, _ file: String, line: Int, _ transform: (String) -> String) throws {
        let url = dir.appendingPathComponent(file)
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        lines[line - 1] = transform(lines[line - 1])
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    func cells(_ line: String) -> [String] { line.components(separatedBy: ",") }

    @Test func brokenBookGetsOneLinePerProblemExitTwoAndNoReport() throws {
        let book = try copyOfBook("broken")
        let path = book.path
        var brokenTicker = ""
        try edit(book, "prices.csv", line: 3) { line in
            var c = cells(line)
            c[1] = "-5"
            return c.joined(separator: ",")
        }
        try edit(book, "prices.csv", line: 1) { line in
            brokenTicker = cells(line)[1]
            return line
        }
        try edit(book, "assets.csv", line: 3) { line in
            var c = cells(line)
            c[1] = "1.5"
            return c.joined(separator: ",")
        }
        var secondAsset = ""
        try edit(book, "assets.csv", line: 3) { line in
            secondAsset = cells(line)[0]
            return line
        }
        try edit(book, "positions.csv", line: 4) { line in
            var c = cells(line)
            c[2] = "1,5e3"
            return c.joined(separator: ",")
        }
        try edit(book, "positions.csv", line: 6) { line in
            var c = cells(line)
            c[1] = "NOPE"
            return c.joined(separator: ",")
        }
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        let run = try CLI.run(["run", path, "--out", out.path, "--quiet"])
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("\(path)/prices.csv:3: price \"-5\" of \(brokenTicker) must be > 0"))
        #expect(lines.contains("\(path)/assets.csv:3: haircut \"1.5\" of \(secondAsset) is out of range; expected 0 ≤ haircut < 1"))
        #expect(lines.contains("\(path)/positions.csv:4: expected 3 cells, found 4"))
        #expect(lines.contains("\(path)/positions.csv:6: unknown asset NOPE (not in assets.csv)"))
        #expect(lines.count == 4, "\(lines)")
        #expect(!run.stderr.contains("Fatal error"), "no stack traces")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let validate = try CLI.run(["validate", path])
        #expect(validate.status == 2)
        #expect(validate.stderr == run.stderr)
    }

    @Test func failedRunLeavesThePreviousReportUntouched() throws {
        let book = try copyOfBook("atomic")
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        #expect(try CLI.run(["run", book.path, "--out", out.path, "--quiet"]).status == 0)
        let before = try Data(contentsOf: out.appendingPathComponent("accounts.csv"))
        try edit(book, "positions.csv", line: 2) { line in
            var c = cells(line)
            c[2] = "abc"
            return c.joined(separator: ",")
        }
        let failed = try CLI.run(["run", book.path, "--out", out.path, "--quiet"])
        #expect(failed.status == 2)
        #expect(failed.stderr == "\(book.path)/positions.csv:2: quantity \"abc\" is not a number\n")
        #expect(try Data(contentsOf: out.appendingPathComponent("accounts.csv")) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)
        #expect(leftovers.sorted() == ["book", "report"], "no temporary folder is left behind")
    }

    @Test func missingFilesAndShortHistoryAreInputErrors() throws {
        let book = try copyOfBook("missing")
        try FileManager.default.removeItem(at: book.appendingPathComponent("assets.csv"))
        let missing = try CLI.run(["validate", book.path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("\(book.path)/assets.csv: file not found"))

        let short = try copyOfBook("short")
        let result = try CLI.run(["validate", short.path, "--set", "window=100000"])
        #expect(result.status == 2)
        #expect(result.stderr == "\(short.path)/prices.csv: has 500 price rows but window=100000 needs 100001 (the latest 100000 returns); supply more history or lower window\n")
    }

    @Test func badOverridesAreReportedTogether() throws {
        let result = try CLI.run(["run", EndToEndTests.book.path, "--set", "foo=1", "--set", "window=abc", "--set", "covariance", "--quiet"])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("--set foo=1: unknown config key \"foo\"") })
        #expect(lines.contains("--set window=abc: window: \"abc\" is not valid; expected a whole number of returns from 2 to 100000"))
    }

    @Test func helpVersionAndUsage() throws {
        for args in [["--help"], ["run", "--help"], ["generate", "--help"], ["validate", "--help"]] {
            let r = try CLI.run(args)
            #expect(r.status == 0, "\(args)")
            #expect(r.stdout.contains("USAGE"), "\(args)")
        }
        let version = try CLI.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let usage = try CLI.run(["run", "--bogus"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("Unknown option '--bogus'"))
        let threads = try CLI.run(["run", "--threads", "0"])
        #expect(threads.status == 2)
        let ok = try CLI.run(["validate", EndToEndTests.book.path])
        #expect(ok.status == 0)
        #expect(ok.stdout == "\(EndToEndTests.book.path): ok\n")
    }

    @Test func generateRejectsImpossibleBooks() throws {
        let r = try CLI.run(["generate", "--accounts", "0", "--assets", "10", "--days", "10", "--out", "/tmp/never"])
        #expect(r.status == 2)
        #expect(!r.stderr.isEmpty)
    }
}

extension CLIErrorTests {
    /// One broken account never stops the run: it is flagged in the summary, its cells are empty, and the book
    /// totals are those of the other accounts.
    @Test func anOverflowingAccountIsFlaggedAndTheRunGoesOn() throws {
        let book = try copyOfBook("overflow")
        var brokenAccount = ""
        try edit(book, "positions.csv", line: 2) { line in
            var c = cells(line)
            brokenAccount = c[0]
            c[2] = "1e307"
            return c.joined(separator: ",")
        }
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        let run = try CLI.run(["run", book.path, "--out", out.path, "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try SimpleCSV.records(out.appendingPathComponent("accounts.csv"))
        let broken = try #require(rows.first { $0["account"] == brokenAccount })
        #expect(broken["status"] == "" && broken["var_param"] == "")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        let warnings = json["warnings"] as! [String]
        #expect(warnings.contains { $0.hasPrefix("account \(brokenAccount): collateral or debt above 1e30 USD or not finite") })
        let total = rows.filter { $0["account"] != brokenAccount }.map { Double($0["collateral_usd"]!)! }.reduce(0, +)
        let bookCollateral = (json["book"] as! [String: Any])["collateral_usd"] as! Double
        #expect(abs(bookCollateral - total) <= 1e-9 * total)
        #expect(((json["book"] as! [String: Any])["var_param"] as? Double)?.isFinite == true)
    }
}

extension CLIErrorTests {
    /// Off a terminal, progress is one log line per phase in order, then the timings; `--quiet` prints nothing.
    @Test func progressLinesOffATerminalAndSilenceWithQuiet() throws {
        let out = try CLI.temporaryDirectory("progress").appendingPathComponent("r")
        let loud = try CLI.run(["run", EndToEndTests.book.path, "--out", out.path, "--set", "mc_paths=200"])
        #expect(loud.status == 0)
        let steps = loud.stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: #"\[[0-9]+/11\] [a-z_]+"#, options: .regularExpression) else { return nil }
            return String(line[range])
        }
        #expect(steps == ["[1/11] load", "[2/11] covariance", "[3/11] haircuts", "[4/11] parametric", "[5/11] historical",
                          "[6/11] monte_carlo", "[7/11] backtest", "[8/11] stress", "[9/11] rebalance", "[10/11] cascade",
                          "[11/11] report"])
        #expect(loud.stderr.contains("done: 150 accounts in"))
        let quiet = try CLI.run(["run", EndToEndTests.book.path, "--out", out.path, "--set", "mc_paths=200", "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty && quiet.stdout.isEmpty)
    }
}

extension CLIErrorTests {
    /// Hostile account ids stay inert text: formula cells get a leading `'`, quotes are RFC 4180-escaped, and the
    /// JSON escapes `<` so nothing can run when a report is opened in a spreadsheet or embedded in a page.
    @Test func hostileAccountIdsStayInertInEveryOutput() throws {
        let book = try copyOfBook("hostile")
        let url = book.appendingPathComponent("positions.csv")
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        let first = cells(lines[1])[0], second = cells(lines.first { cells($0)[0] != first && $0.contains(",") && $0 != lines[0] }!)[0]
        lines = lines.enumerated().map { i, line in
            guard i > 0, !line.isEmpty else { return line }
            var c = cells(line)
            if c[0] == first { c[0] = "<script>alert(1)</script>" }
            if c[0] == second { c[0] = "\"=HYPERLINK(\"\"x\"\")\"" }
            return c.joined(separator: ",")
        }
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        let run = try CLI.run(["run", book.path, "--out", out.path, "--quiet", "--set", "mc_paths=200"])
        #expect(run.status == 0, "\(run.stderr)")
        let accounts = try String(contentsOf: out.appendingPathComponent("accounts.csv"), encoding: .utf8)
        #expect(accounts.contains("\n<script>alert(1)</script>,"))
        #expect(accounts.contains("\n\"'=HYPERLINK(\"\"x\"\")\","))
        #expect(!accounts.contains("\n=HYPERLINK"))
        let holdings = try String(contentsOf: out.appendingPathComponent("holdings.csv"), encoding: .utf8)
        #expect(holdings.contains("\n\"'=HYPERLINK(\"\"x\"\")\","))
        // Parsed back, the ids are the neutralised texts.
        let ids = Set(try SimpleCSV.records(out.appendingPathComponent("accounts.csv")).map { $0["account"]! })
        #expect(ids.contains("<script>alert(1)</script>") && ids.contains("'=HYPERLINK(\"x\")"))
        let summary = try String(contentsOf: out.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(!summary.contains("<script>"))
    }
}
