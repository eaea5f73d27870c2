import Foundation
import RiskMetrics
import RiskPipeline
@testable import RunMetrics
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The metrics file of a run on a small generated book: read back with the tests' own parser, its figures are the run's
/// (counted here from the run's arrays), every metric has HELP and TYPE, label values are escaped, and the file is
/// replaced atomically with typed errors a user can act on.
@Suite struct RunMetricsTests {
    static let finishedAt = Date(timeIntervalSince1970: 1_764_766_800.25)
    /// Run wall time passed to the renderer, seconds.
    static let wallSeconds = 12.375
    static let families = [
        "ballast_run_duration_seconds", "ballast_phase_duration_seconds", "ballast_accounts", "ballast_holdings",
        "ballast_accounts_by_status", "ballast_invalid_accounts", "ballast_book_value_at_risk_usd",
        "ballast_book_expected_shortfall_usd", "ballast_warnings", "ballast_last_success_timestamp_seconds",
    ]

    static func rendered(book: String = "nightly", timings: PhaseTimings? = nil) -> String {
        RunMetricsFile.render(result: TestRun.result, bookName: book, wallSeconds: wallSeconds, finishedAt: finishedAt,
                              timings: timings)
    }

    /// Every series the file must hold (name, labels but `book`, value), computed here from the run.
    static func expectedSeries(_ r: RunResult) -> [(name: String, labels: [String: String], value: Double)] {
        var valid: [String: Int] = [:]
        var invalid = 0
        for i in r.assessment.status.indices {
            if r.assessment.invalid[i] { invalid += 1 } else { valid[r.assessment.status[i].rawValue, default: 0] += 1 }
        }
        var series: [(name: String, labels: [String: String], value: Double)] = [
            ("ballast_run_duration_seconds", [:], wallSeconds),
            ("ballast_accounts", [:], Double(r.book.accountCount)),
            ("ballast_holdings", [:], Double(r.book.holdingCount)),
            ("ballast_invalid_accounts", [:], Double(invalid)),
            ("ballast_warnings", [:], Double(r.warnings.count)),
            ("ballast_last_success_timestamp_seconds", [:], 1_764_766_800.25),
        ]
        series += Phase.allCases.map { ("ballast_phase_duration_seconds", ["phase": $0.rawValue], r.timings.seconds[$0] ?? 0) }
        series += ["ok", "margin_call", "liquidatable"].map {
            ("ballast_accounts_by_status", ["status": $0], Double(valid[$0] ?? 0))
        }
        let risks = [("param", r.parametric.bookValueAtRisk, r.parametric.bookExpectedShortfall),
                     ("hist", r.historical.bookValueAtRisk, r.historical.bookExpectedShortfall),
                     ("mc", r.monteCarlo.bookValueAtRisk, r.monteCarlo.bookExpectedShortfall)]
        for (method, valueAtRisk, shortfall) in risks {
            series.append(("ballast_book_value_at_risk_usd", ["method": method], valueAtRisk))
            series.append(("ballast_book_expected_shortfall_usd", ["method": method], shortfall))
        }
        return series
    }

    @Test func readBackTheFileGivesExactlyTheRunsFigures() throws {
        let r = TestRun.result
        let file = try Exposition(Self.rendered())
        let expected = Self.expectedSeries(r)
        #expect(file.samples.count == expected.count)
        for (name, labels, value) in expected {
            let read = file.value(name, labels.merging(["book": "nightly"]) { $1 })
            #expect(read == value, "\(name) \(labels)")
        }
        // The book is spread over every status, and its VaR/ES are positive: the comparisons above mean something.
        for status in ["ok", "margin_call", "liquidatable"] {
            #expect((file.value("ballast_accounts_by_status", ["book": "nightly", "status": status]) ?? 0) > 0)
        }
        for sample in file.samples where sample.name.hasPrefix("ballast_book_") { #expect(sample.value > 0) }
    }

    @Test func timingsGivenReplaceTheResultsOnes() throws {
        var timings = TestRun.result.timings
        timings.add(.report, seconds: 0.5)
        let file = try Exposition(Self.rendered(timings: timings))
        #expect(file.value("ballast_phase_duration_seconds", ["book": "nightly", "phase": "report"])
                == timings.seconds[.report])
        #expect(TestRun.result.timings.seconds[.report] == nil)
    }

    @Test func everyMetricHasHelpAndTypeOnceThenItsSamplesInOrder() throws {
        let text = Self.rendered()
        let file = try Exposition(text)
        #expect(file.names == Self.families)  // each family once, contiguous, in the file's order
        for name in Self.families {
            #expect(!(file.help[name] ?? "").isEmpty, "\(name) has no help")
            #expect(file.type[name] == "gauge")
            let first = try #require(file.lines.firstIndex { !$0.hasPrefix("#") && $0.hasPrefix(name + "{") })
            #expect(file.lines[first - 2] == "# HELP \(name) \(file.help[name]!)")
            #expect(file.lines[first - 1] == "# TYPE \(name) gauge")
        }
        #expect(file.lines.filter { $0.hasPrefix("# HELP ") }.count == Self.families.count)
        #expect(file.lines.filter { $0.hasPrefix("# TYPE ") }.count == Self.families.count)
        let labels = { (name: String, label: String) in file.samples.filter { $0.name == name }.compactMap { $0.labels[label] } }
        #expect(labels("ballast_phase_duration_seconds", "phase") == Phase.summaryOrder.map(\.rawValue))
        #expect(labels("ballast_accounts_by_status", "status") == AccountStatus.allCases.map(\.rawValue))
        #expect(labels("ballast_book_value_at_risk_usd", "method") == ["param", "hist", "mc"])
        #expect(file.samples.allSatisfy { $0.labels["book"] == "nightly" })
        #expect(text == Self.rendered())
    }

    @Test func bookNameIsEscapedInLabelValues() throws {
        let name = "desk \"A\" \\ west\nnight"
        let text = Self.rendered(book: name)
        #expect(text.contains(#"ballast_accounts{book="desk \"A\" \\ west\nnight"} "#))
        let file = try Exposition(text)
        #expect(file.samples.count == Self.expectedSeries(TestRun.result).count)
        #expect(file.samples.allSatisfy { $0.labels["book"] == name })
        #expect(file.lines.count == (try Exposition(Self.rendered())).lines.count)
    }

    @Test func nonFiniteValuesAreSpelledAsTheFormatSaysAndReadBack() throws {
        let family = MetricFamily("test", unit: "usd", "A test metric.", [
            (labels: [("method", "a")], value: .infinity), (labels: [("method", "b")], value: -.infinity),
            (labels: [("method", "c")], value: .nan), (labels: [("method", "d")], value: 1e-5),
        ])
        let text = family.rendered(book: "b")
        #expect(text == """
            # HELP ballast_test_usd A test metric.
            # TYPE ballast_test_usd gauge
            ballast_test_usd{book="b",method="a"} +Inf
            ballast_test_usd{book="b",method="b"} -Inf
            ballast_test_usd{book="b",method="c"} NaN
            ballast_test_usd{book="b",method="d"} 1e-05

            """)
        let values = try Exposition(text).samples.map(\.value)
        #expect(values[0] == .infinity && values[1] == -.infinity && values[2].isNaN && values[3] == 1e-5)
    }

    @Test func writeReplacesTheFileWholeAndTouchesNothingElse() throws {
        let folder = try TestRun.temporaryDirectory("write")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ballast.prom").path
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        // Others' files, one named like a leftover temporary file of another process: left alone.
        try "other 1\n".write(toFile: folder.appendingPathComponent("other.prom").path, atomically: false, encoding: .utf8)
        try "x".write(toFile: folder.appendingPathComponent(".ballast.prom.tmp-1-0").path, atomically: false, encoding: .utf8)
        let reader = try #require(FileHandle(forReadingAtPath: path))  // a reader that opened the old file
        defer { try? reader.close() }

        try RunMetricsFile.write(result: TestRun.result, bookName: "nightly", wallSeconds: Self.wallSeconds,
                                 finishedAt: Self.finishedAt, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.rendered())
        #expect(try TestRun.names(in: folder) == [".ballast.prom.tmp-1-0", "ballast.prom", "other.prom"])
        #expect(try String(contentsOfFile: folder.appendingPathComponent("other.prom").path, encoding: .utf8) == "other 1\n")
        #expect(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) == "old\n")  // replaced, not rewritten

        let fresh = folder.appendingPathComponent("fresh.prom").path
        try RunMetricsFile.writeAtomically("ballast_x 1\n", to: fresh)
        #expect(try String(contentsOfFile: fresh, encoding: .utf8) == "ballast_x 1\n")
        #expect(try TestRun.names(in: folder).count == 4)
    }

    @Test(.enabled(if: TestRun.folderModesApply, "root without setfsuid: folder modes do not apply"))
    func unwritableFolderGivesTheTypedError() throws {
        let folder = try TestRun.temporaryDirectory("readonly")
        defer {
            chmod(folder.path, 0o755)
            try? FileManager.default.removeItem(at: folder)
        }
        let path = folder.appendingPathComponent("ballast.prom").path
        try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(chmod(folder.path, 0o555) == 0)
        let attempts: [() throws -> Void] = [
            { try RunMetricsFile.writeAtomically("ballast_x 1\n", to: path) },
            { try RunMetricsFile.preflight(path: path) },
        ]
        for attempt in attempts {
            let error = TestRun.withoutRootPermissions { () -> RunMetricsError? in
                do { try attempt() } catch { return error as? RunMetricsError }
                return nil
            }
            guard case .notWritable(let p, let directory, _) = error else {
                Issue.record("expected notWritable, got \(String(describing: error))")
                continue
            }
            #expect(p == path && directory == folder.path)
            #expect(error!.description.contains("cannot create files in \(folder.path)"))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        #expect(try TestRun.names(in: folder) == ["ballast.prom"])
    }

    @Test func missingFolderBadPathAndFolderAtPathGiveTheirErrors() throws {
        let folder = try TestRun.temporaryDirectory("paths")
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("nope").path
        let cases: [(String, RunMetricsError)] = [
            (missing + "/ballast.prom", .directoryMissing(path: missing + "/ballast.prom", directory: missing)),
            (folder.path, .isDirectory(path: folder.path)),
            (folder.path + "/", .isDirectory(path: folder.path)),
            ("", .badPath(path: "", reason: "the path is empty")),
            (folder.path + "/..", .badPath(path: folder.path + "/..", reason: "names a folder, not a file")),
        ]
        for (path, expected) in cases {
            #expect(throws: expected) { try RunMetricsFile.writeAtomically("ballast_x 1\n", to: path) }
            #expect(throws: expected) { try RunMetricsFile.preflight(path: path) }
        }
        #expect(RunMetricsError.directoryMissing(path: "/x/y.prom", directory: "/x").description
                .contains("folder /x does not exist"))
        #expect(try TestRun.names(in: folder).isEmpty)
    }

    @Test func defaultBookNameIsTheFoldersLastComponent() {
        #expect(RunMetricsFile.defaultBookName(directory: URL(fileURLWithPath: "/data/books/nightly/")) == "nightly")
        #expect(RunMetricsFile.defaultBookName(directory: URL(fileURLWithPath: "/data/books/nightly/.")) == "nightly")
        #expect(RunMetricsFile.defaultBookName(directory: URL(fileURLWithPath: "/data/books/nightly/x/..")) == "nightly")
    }

    @Test(.enabled(if: TestRun.onPath("promtool") != nil,
                   "promtool is not on PATH: run scripts/promtool-check.sh as root to install Debian's prometheus package"))
    func promtoolAcceptsTheFile() throws {
        let folder = try TestRun.temporaryDirectory("promtool")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, book) in ["nightly", "desk \"A\" \\ west\nnight"].enumerated() {
            let path = folder.appendingPathComponent("ballast-\(index).prom").path
            try RunMetricsFile.write(result: TestRun.result, bookName: book, wallSeconds: Self.wallSeconds,
                                     finishedAt: Self.finishedAt, to: path)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try #require(TestRun.onPath("promtool")))
            process.arguments = ["check", "metrics"]
            let input: FileHandle = try #require(FileHandle(forReadingAtPath: path))
            process.standardInput = input
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "promtool check metrics: \(said)")
            #expect(said.isEmpty, "promtool check metrics: \(said)")
        }
    }
}
