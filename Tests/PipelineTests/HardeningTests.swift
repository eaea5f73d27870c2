import Foundation
import RiskInput
import RiskModel
import RiskPipeline
import RiskReport
import Sharding
import Testing

/// Regression tests of the hostile-input defects: values that overflowed or exhausted memory, inputs that are not
/// regular files, checksums of bytes other than those parsed, damaged part files, extreme prices (issue 12).
@Suite struct HardeningTests {
    /// A small generated book of our own, to break.
    static func freshBook(_ name: String) throws -> URL {
        let dir = try CLI.temporaryDirectory(name).appendingPathComponent("book")
        let outcome = try CLI.run(["generate", "--accounts", "40", "--assets", "6", "--days", "400", "--seed", "3",
                                   "--out", dir.path])
        precondition(outcome.status == 0, outcome.stderr)
        return dir
    }

    /// Runs `ballast ARGS`, killing it after `seconds` (a hang is a failure, not a stuck suite).
    static func runBounded(_ arguments: [String], seconds: Double = 60) throws -> (status: Int32, stderr: String, timedOut: Bool) {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        let timedOut = process.isRunning
        if timedOut { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text, timedOut)
    }

    /// Exit 2, a message naming `expected`, and no trap, backtrace or Foundation text.
    static func expectCleanRefusal(_ outcome: (status: Int32, stderr: String, timedOut: Bool), _ expected: String,
                                   _ comment: String) {
        #expect(!outcome.timedOut, "\(comment): still running")
        #expect(outcome.status == 2, "\(comment): exit \(outcome.status): \(outcome.stderr)")
        #expect(outcome.stderr.contains(expected), "\(comment): \(outcome.stderr)")
        for leak in ["Fatal error", "backtrace", "Stack dump", "could not be completed", "NSCocoaErrorDomain"] {
            #expect(!outcome.stderr.contains(leak), "\(comment): \(outcome.stderr)")
        }
    }

    @Test func extremeOptionValuesAreRefusedBeforeAnyCompute() throws {
        let book = try Self.freshBook("extreme-options")
        let out = book.deletingLastPathComponent().appendingPathComponent("report").path
        let cases: [([String], String)] = [
            (["--set", "window=9223372036854775807"], "window"),
            (["--set", "mc_paths=1000000000"], "mc_paths"),
            (["--set", "horizon_days=1e300"], "horizon_days"),
            (["--set", "target_ratio=1e308"], "target_ratio"),
            (["--set", "liquidation_ratio=1e-308"], "liquidation_ratio"),
            (["--set", "cost_aversion=1e300"], "cost_aversion"),
            (["--shard", "0/9223372036854775807"], "--shard"),
            (["--threads", "9223372036854775807"], "--threads"),
        ]
        for (arguments, expected) in cases {
            let outcome = try Self.runBounded(["run", book.path, "--out", out, "--quiet"] + arguments, seconds: 30)
            Self.expectCleanRefusal(outcome, expected, arguments.joined(separator: " "))
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func validateEnforcesTheSameRanges() throws {
        let book = try Self.freshBook("validate-ranges")
        let outcome = try Self.runBounded(["validate", book.path, "--set", "target_ratio=1e308"], seconds: 30)
        Self.expectCleanRefusal(outcome, "target_ratio", "validate")
    }

    @Test func theWidestAllowedRatiosStillRenderTheReport() throws {
        // The health-factor histogram's axis at the extremes of the documented ranges (it looped forever at 1e308).
        let book = try Self.freshBook("wide-ratios")
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        let outcome = try Self.runBounded(["run", book.path, "--out", out.path, "--quiet", "--set", "liquidation_ratio=0.001",
                                           "--set", "margin_call_ratio=1000", "--set", "target_ratio=1000"], seconds: 120)
        #expect(outcome.status == 0 && !outcome.timedOut, "\(outcome.stderr)")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Histogram of health factors"))
    }

    @Test func aRunThatCannotFitInMemoryIsRefusedUpFront() throws {
        let book = try Self.freshBook("memory")
        // 10⁷ paths need an 8 × 128 × 10⁷-byte block buffer per worker: 10 GB each, far beyond any machine at 512.
        let outcome = try Self.runBounded(["run", book.path, "--out", book.appendingPathComponent("r").path, "--quiet",
                                           "--set", "mc_paths=10000000", "--threads", "512"], seconds: 30)
        Self.expectCleanRefusal(outcome, "of memory", "memory estimate")
        #expect(outcome.stderr.contains("lower mc_paths"))
    }

    @Test func memoryEstimateCountsTheMonteCarloTable() throws {
        let loaded = try BookLoader.load(directory: try Self.freshBook("budget"), configFile: nil,
                                         overrides: ["mc_paths=20000"])
        let budget = RunBudget(loaded: loaded, workers: 2)
        // The move table alone: assets × paths doubles.
        #expect(budget.monteCarloBytes == 8 * loaded.schedule.count * 20_000)
        #expect(budget.estimatedBytes > budget.monteCarloBytes)
        #expect(budget.check(available: Int64(budget.estimatedBytes) - 1) != nil)
        #expect(budget.check(available: Int64(budget.estimatedBytes)) == nil)
    }

    @Test func inputsMustBeRegularFilesOfBoundedSize() throws {
        let book = try Self.freshBook("special-files")
        let report = book.deletingLastPathComponent().appendingPathComponent("r").path
        // A device as the config: /dev/zero never ends.
        Self.expectCleanRefusal(try Self.runBounded(["run", book.path, "--config", "/dev/zero", "--out", report, "--quiet"],
                                                    seconds: 30), "is a device, not a regular file", "/dev/zero")
        // A config file above its limit.
        let big = book.deletingLastPathComponent().appendingPathComponent("big.yaml")
        try Data(repeating: UInt8(ascii: "#"), count: Int(Limits.maxConfigBytes) + 1).write(to: big)
        Self.expectCleanRefusal(try Self.runBounded(["run", book.path, "--config", big.path, "--out", report, "--quiet"],
                                                    seconds: 30), "above the limit", "large config")
        // A FIFO without a writer as positions.csv (the read used to block forever).
        let positions = book.appendingPathComponent("positions.csv")
        try FileManager.default.removeItem(at: positions)
        #expect(mkfifo(positions.path, 0o600) == 0)
        Self.expectCleanRefusal(try Self.runBounded(["run", book.path, "--out", report, "--quiet"], seconds: 30),
                                "is a FIFO (named pipe), not a regular file", "FIFO")
    }

    @Test func summaryRecordsTheHashOfTheBytesParsedNotOfTheFileAtReportTime() throws {
        let book = try Self.freshBook("hash")
        let positions = book.appendingPathComponent("positions.csv")
        let parsedDigest = try Self.sha256sum(positions)
        let result = try RiskPipeline.run(RunOptions(bookDirectory: book, threads: 2))
        // The file changes (then disappears) after the load: the summary must keep the parsed bytes' hash.
        try Data("account,asset,quantity\nx,USDC,1\n".utf8).write(to: positions)
        let changedDigest = try Self.sha256sum(positions)
        try FileManager.default.removeItem(at: positions)
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        try ReportWriter.write(result, to: out, runStarted: .now())
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json")))
        let text = String(decoding: try JSONSerialization.data(withJSONObject: summary), as: UTF8.self)
        #expect(text.contains(parsedDigest))
        #expect(!text.contains(changedDigest))
    }

    @Test func mergeRefusesAPartWithOneFlippedByte() throws {
        let book = try Self.freshBook("flipped")
        let root = book.deletingLastPathComponent()
        var parts: [String] = []
        for i in 0 ..< 2 {
            let part = root.appendingPathComponent("part-\(i)").path
            let outcome = try CLI.run(["run", book.path, "--shard", "\(i)/2", "--out", part, "--quiet"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            parts.append(part)
        }
        let archive = URL(fileURLWithPath: parts[0]).appendingPathComponent(ShardReport.archiveName)
        var bytes = try Data(contentsOf: archive)
        let middle = bytes.count / 2 + 3  // inside the numbers, past the header
        bytes[middle] ^= 0x10
        try bytes.write(to: archive)
        let merged = root.appendingPathComponent("merged").path
        let outcome = try CLI.run(["merge"] + parts + ["--out", merged, "--quiet"])
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains(archive.path) && outcome.stderr.contains("damaged"), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: merged))
    }

    @Test func pricesOutsideTheDocumentedRangeAreInputErrors() throws {
        let book = try Self.freshBook("huge-price")
        try Self.setPrice(book, rowFromEnd: 50, column: 2, to: "1e308")
        let outcome = try Self.runBounded(["run", book.path, "--out", book.appendingPathComponent("r").path, "--quiet"])
        Self.expectCleanRefusal(outcome, "must be a price in [1e-15, 1e+15]", "1e308")
        #expect(outcome.stderr.contains("prices.csv:"))
    }

    @Test func priceJumpsAreWarningsAndOverflowingFiguresAreNamed() throws {
        // Prices within the range but jumping by 10³⁰ over two days at the end of the window: a warning per jump
        // naming the asset and date, and every figure the jump makes non-finite is named in a warning.
        let book = try Self.freshBook("jumps")
        let ticker = try Self.setPrice(book, rowFromEnd: 3, column: 2, to: "1e15")
        try Self.setPrice(book, rowFromEnd: 2, column: 2, to: "1e-15")
        let out = book.deletingLastPathComponent().appendingPathComponent("report")
        let outcome = try CLI.run(["run", book.path, "--out", out.path, "--quiet", "--set", "window=5",
                                   "--set", "horizon_days=365"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        let warnings = summary["warnings"] as! [String]
        #expect(warnings.filter { $0.contains("price of \(ticker)") && $0.contains("by a factor of") }.count == 3, "\(warnings)")
        let rows = try SimpleCSV.records(out.appendingPathComponent("accounts.csv"))
        for column in ["var_param", "var_hist", "var_mc", "es_mc"] {
            let empty = rows.filter { $0[column] == "" && $0["status"] != "" }.count
            let named = warnings.first { $0.hasPrefix("\(column) is not finite for \(empty) account") }
            #expect(empty == 0 || named != nil, "\(column): \(empty) empty cells, warnings \(warnings)")
        }
        #expect(rows.contains { $0["var_mc"] == "" }, "the test's jump no longer overflows the Monte Carlo moves")
    }

    @Test func aDeeplyNestedConfigIsAnErrorNotAStackOverflow() throws {
        let book = try Self.freshBook("deep-yaml")
        let config = book.deletingLastPathComponent().appendingPathComponent("deep.yaml")
        try ("window: " + String(repeating: "[", count: 5000) + "\n").write(to: config, atomically: true, encoding: .utf8)
        let outcome = try Self.runBounded(["validate", book.path, "--config", config.path], seconds: 30)
        Self.expectCleanRefusal(outcome, "nested more than 64 levels", "deep YAML")
    }

    @Test func mergeRefusesAPartHeaderWithAnImpossibleShardCount() throws {
        let book = try Self.freshBook("shard-count")
        let part = book.deletingLastPathComponent().appendingPathComponent("part")
        #expect(try CLI.run(["run", book.path, "--shard", "0/1", "--out", part.path, "--quiet"]).status == 0)
        let file = part.appendingPathComponent(ShardReport.archiveName)
        for count in [0, -1] {
            let body = try #require(PartChecksum.verified(Data(contentsOf: file)))
            var archive = try ResultArchive(serialized: body, path: file.path)
            var header = try JSONSerialization.jsonObject(with: archive.header) as! [String: Any]
            header["shard_count"] = count
            archive.header = try JSONSerialization.data(withJSONObject: header)
            let bytes = archive.serialized()
            try (bytes + PartChecksum.trailer(of: bytes)).write(to: file)
            let merged = book.deletingLastPathComponent().appendingPathComponent("merged-\(count)").path
            let outcome = try Self.runBounded(["merge", part.path, "--out", merged, "--quiet"], seconds: 30)
            Self.expectCleanRefusal(outcome, "not a part Ballast wrote", "shard_count \(count)")
        }
    }

    // MARK: helpers

    /// Sets the price of file column `column` (1 = first ticker) on the row `rowFromEnd` rows before the last
    /// (1 = last); returns the ticker.
    @discardableResult
    static func setPrice(_ book: URL, rowFromEnd: Int, column: Int, to value: String) throws -> String {
        let url = book.appendingPathComponent("prices.csv")
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        var cells = lines[lines.count - rowFromEnd].components(separatedBy: ",")
        cells[column] = value
        lines[lines.count - rowFromEnd] = cells.joined(separator: ",")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return lines[0].components(separatedBy: ",")[column]
    }

    /// SHA-256 by the system's `sha256sum` (an implementation independent of the engine's).
    static func sha256sum(_ url: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [url.path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }
}
