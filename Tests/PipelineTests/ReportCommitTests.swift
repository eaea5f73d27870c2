import Foundation
@testable import OutputFolder
@testable import RiskReport
import Synchronization
import Testing

/// Issue 12, part 1: `--out` is replaced only when it is Ballast's, atomically, by one run at a time, and a killed or
/// interrupted run leaves nothing that the next run does not clean up. The command-line tests fail on the old commit
/// (rename aside, remove, no marker, no lock, no signal handling); the last ones test the commit's parts directly.
@Suite(.serialized) struct ReportCommitTests {
    static let reportFiles = [ReportFolder.markerName, "accounts.csv", "backtest.csv", "cascade.csv",
                              "cascade_assets.csv", "holdings.csv", "report.html", "stress.csv",
                              "summary.json"]

    /// 50 accounts: a run takes about 0.1 s.
    static let smallBook: URL = generate(accounts: 50, name: "commit-small")
    /// 3,000 accounts: a run takes about a second, its report phase about 0.15 s (time to catch it).
    static let largerBook: URL = generate(accounts: 3000, name: "commit-larger")

    static func generate(accounts: Int, name: String) -> URL {
        let dir = try! CLI.temporaryDirectory(name).appendingPathComponent("book")
        let outcome = try! CLI.run(["generate", "--accounts", "\(accounts)", "--assets", "6", "--days", "400",
                                    "--seed", "1", "--out", dir.path])
        precondition(outcome.status == 0, outcome.stderr)
        return dir
    }

    static func run(_ out: String, book: URL = smallBook, in directory: URL? = nil) throws -> CLI.Outcome {
        try CLI.run(["run", book.path, "--out", out, "--quiet"], in: directory)
    }

    static func names(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    /// Every file of a report is there and accounts.csv is whole (header + one line per account).
    static func isCompleteReport(_ dir: URL, accounts: Int) -> Bool {
        guard (try? names(dir)) == reportFiles.sorted(),
              let csv = try? Data(contentsOf: dir.appendingPathComponent("accounts.csv")) else { return false }
        return csv.last == 10 && csv.filter { $0 == 10 }.count == accounts + 1
    }

    // MARK: - Refusals (defect 1)

    @Test func aRegularFileAtOutIsRefusedAndKept() throws {
        let base = try CLI.temporaryDirectory("commit-file")
        let file = base.appendingPathComponent("notes.txt")
        try Data("keep me\n".utf8).write(to: file)
        let outcome = try Self.run(file.path)
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "ballast: --out \(file.path): is a file, not a report folder; refusing to replace it\n")
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep me\n")
        #expect(try Self.names(base) == ["notes.txt"], "no staging, probe or lock left beside it")
    }

    @Test func theBookFolderAsOutIsRefusedAndTheInputsStay() throws {
        let base = try CLI.temporaryDirectory("commit-book")
        let book = base.appendingPathComponent("book")
        try FileManager.default.copyItem(at: Self.smallBook, to: book)
        let before = try Self.names(book)
        let outcome = try Self.run(book.path, book: book)
        #expect(outcome.status == 2)
        #expect(outcome.stderr == "ballast: --out \(book.path): is the input \(book.path); give another report folder\n")
        #expect(try Self.names(book) == before)
        // The same folder through another spelling, and a folder holding the book.
        #expect(try Self.run(book.path + "/../book/", book: book).stderr.contains("is the input"))
        #expect(try Self.run(base.path, book: book).stderr.contains("contains the input"))
        #expect(try Self.names(book) == before)
        #expect(try Self.names(base) == ["book"])
    }

    @Test func aPartFolderAsTheMergesOutIsRefused() throws {
        let base = try CLI.temporaryDirectory("commit-part")
        let part = base.appendingPathComponent("part-0")
        #expect(try CLI.run(["run", Self.smallBook.path, "--shard", "0/1", "--out", part.path, "--quiet"]).status == 0)
        let before = try Data(contentsOf: part.appendingPathComponent("part.ballast"))
        let merge = try CLI.run(["merge", part.path, "--out", part.path, "--quiet"])
        #expect(merge.status == 2)
        #expect(merge.stderr == "ballast: --out \(part.path): is the input \(part.path); give another report folder\n")
        #expect(try Data(contentsOf: part.appendingPathComponent("part.ballast")) == before)
        #expect(try Self.names(part).contains(ReportFolder.markerName), "a part folder carries the marker too")
    }

    @Test func dotEmptyAndRootAreRefused() throws {
        let cwd = try CLI.temporaryDirectory("commit-dot")
        try Data("x".utf8).write(to: cwd.appendingPathComponent("keep.txt"))
        for out in [".", "", "..", "/", "sub/.."] {
            let outcome = try Self.run(out, in: cwd)
            #expect(outcome.status == 2, "\(out)")
            #expect(outcome.stderr.hasPrefix("ballast: --out "), "\(out): \(outcome.stderr)")
            #expect(outcome.stderr.split(separator: "\n").count == 1)
        }
        #expect(try Self.names(cwd) == ["keep.txt"])
    }

    @Test func aFolderBallastDidNotWriteIsRefusedAndKept() throws {
        let base = try CLI.temporaryDirectory("commit-foreign")
        let out = base.appendingPathComponent("thesis")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("chapter 1\n".utf8).write(to: out.appendingPathComponent("draft.txt"))
        // Ballast's file names plus one other file: not a report either.
        try Data("{}".utf8).write(to: out.appendingPathComponent("summary.json"))
        let outcome = try Self.run(out.path)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("is a folder Ballast did not write (no .ballast-report in it)"))
        #expect(try Self.names(out) == ["draft.txt", "summary.json"])
        #expect(try Self.names(base) == ["thesis"])
    }

    @Test func aFileAsTheParentAndDevicesAreRefusedWithoutFoundationTexts() throws {
        let base = try CLI.temporaryDirectory("commit-parent")
        let file = base.appendingPathComponent("plain")
        try Data("x".utf8).write(to: file)
        let underFile = try Self.run(file.path + "/report")
        #expect(underFile.status == 2)
        #expect(underFile.stderr == "ballast: --out \(file.path)/report: \(file.path) is not a folder\n")
        let device = try Self.run("/dev/null")
        #expect(device.status == 2)
        #expect(device.stderr.contains("is not a folder (a device, pipe or socket)"))
        for text in [underFile.stderr, device.stderr] { #expect(!text.contains("could not be completed")) }
    }

    // MARK: - Replacing (defects 1–3)

    @Test func aPreviousReportIsReplacedAndRunsAgainCleanly() throws {
        let base = try CLI.temporaryDirectory("commit-replace")
        let out = base.appendingPathComponent("report")
        for _ in 0 ..< 3 {
            #expect(try Self.run(out.path).status == 0)
            #expect(Self.isCompleteReport(out, accounts: 50))
            #expect(try Self.names(base) == ["report"], "no staging, old copy or lock file left")
        }
        // An empty folder is accepted, and so is a report of a Ballast from before the marker.
        let empty = base.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        #expect(try Self.run(empty.path).status == 0)
        #expect(Self.isCompleteReport(empty, accounts: 50))
        try FileManager.default.removeItem(at: out.appendingPathComponent(ReportFolder.markerName))
        #expect(try Self.run(out.path).status == 0)
        #expect(Self.isCompleteReport(out, accounts: 50))
        #expect(try Self.names(base) == ["empty", "report"])
    }

    @Test func staleLeftoversWithTheMarkerAreSweptOthersStay() throws {
        let base = try CLI.temporaryDirectory("commit-stale")
        let out = base.appendingPathComponent("report")
        #expect(try Self.run(out.path).status == 0)
        let dead = Self.deadPIDs(3)
        let marked = base.appendingPathComponent(".report.tmp-\(dead[0])")
        let markedOld = base.appendingPathComponent(".report.old-\(dead[1])")
        let unmarked = base.appendingPathComponent(".report.tmp-\(dead[2])")
        for dir in [marked, markedOld, unmarked] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
            try Data("half".utf8).write(to: dir.appendingPathComponent("accounts.csv"))
        }
        for dir in [marked, markedOld] {
            try Data(ReportFolder.markerText.utf8).write(to: dir.appendingPathComponent(ReportFolder.markerName))
        }
        #expect(try Self.run(out.path).status == 0)
        #expect(try Self.names(base) == [unmarked.lastPathComponent, "report"].sorted())
        #expect(try Self.names(unmarked) == ["accounts.csv"])
    }

    @Test func aReportADeadFallbackCommitSetAsideIsPutBack() throws {
        let base = try CLI.temporaryDirectory("commit-aside")
        let out = base.appendingPathComponent("report")
        let aside = base.appendingPathComponent(".report.old-\(Self.deadPIDs(1)[0])")
        try FileManager.default.createDirectory(at: aside, withIntermediateDirectories: false)
        try Data(ReportFolder.markerText.utf8).write(to: aside.appendingPathComponent(ReportFolder.markerName))
        try Data("previous".utf8).write(to: aside.appendingPathComponent("a.txt"))
        try ReportFolder.preflight(out: out.path)
        ReportLock.release(try ReportPlace(out: out.path))
        #expect(try String(contentsOf: out.appendingPathComponent("a.txt"), encoding: .utf8) == "previous")
        #expect(try Self.names(base) == ["report"])
    }

    /// PIDs with no process (kill(pid, 0) fails with ESRCH), near 999999.
    static func deadPIDs(_ count: Int) -> [Int32] {
        var pids: [Int32] = []
        var pid: Int32 = 999_999
        while pids.count < count {
            if kill(pid, 0) != 0 && errno == ESRCH { pids.append(pid) }
            pid -= 1
        }
        return pids
    }

    @Test func aReaderPollingAccountsNeverMissesIt() throws {
        let base = try CLI.temporaryDirectory("commit-reader")
        let out = base.appendingPathComponent("report")
        #expect(try Self.run(out.path).status == 0)
        let csv = out.appendingPathComponent("accounts.csv").path
        let poll = Poll()
        let reader = Thread {
            var count = 0
            while !poll.stop.load(ordering: .relaxed) {
                // Mostly a cheap existence check (the old commit's gap between its two renames lasted microseconds),
                // and every 64th poll a whole read: a file cut short is a miss too.
                count += 1
                let missed = count % 64 == 0 ? FileManager.default.contents(atPath: csv)?.last != 10 : access(csv, F_OK) != 0
                if missed { poll.misses.add(1, ordering: .relaxed) }
            }
            poll.reads.store(count, ordering: .relaxed)
            poll.finished.store(true, ordering: .releasing)
        }
        reader.start()
        for _ in 0 ..< 20 { #expect(try Self.run(out.path).status == 0) }
        poll.stop.store(true, ordering: .relaxed)
        while !poll.finished.load(ordering: .acquiring) { usleep(1000) }
        #expect(poll.misses.load(ordering: .relaxed) == 0, "of \(poll.reads.load(ordering: .relaxed)) reads")
        #expect(poll.reads.load(ordering: .relaxed) > 100)
        #expect(try Self.names(base) == ["report"])
    }

    @Test func twoConcurrentRunsToOneOutBothSucceed() throws {
        let base = try CLI.temporaryDirectory("commit-concurrent")
        let out = base.appendingPathComponent("report")
        let book = Self.smallBook.path
        let other = try CLI.start(["run", book, "--out", out.path])
        let outcome = try CLI.run(["run", book, "--out", out.path])
        other.waitUntilExit()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(other.terminationStatus == 0)
        #expect(!outcome.stderr.contains("error"), "\(outcome.stderr)")
        #expect(Self.isCompleteReport(out, accounts: 50))
        #expect(try Self.names(base) == ["report"])
    }

    // MARK: - Interrupted and killed runs (defects 2, 3)

    @Test func sigtermAndSigintRemoveTheStagingFolder() throws {
        let base = try CLI.temporaryDirectory("commit-signal")
        let out = base.appendingPathComponent("report")
        #expect(try Self.run(out.path, book: Self.largerBook).status == 0)
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGINT, 130)] {
            var interrupted = false
            for _ in 0 ..< 4 where !interrupted {
                let run = try CLI.start(["run", Self.largerBook.path, "--out", out.path, "--quiet"])
                // Signal as soon as the staging folder exists (its report phase is under way).
                if Self.waitForStaging(in: base, of: run) { kill(run.processIdentifier, signal) }
                run.waitUntilExit()
                interrupted = run.terminationStatus == status && run.terminationReason == .exit
                #expect(interrupted || run.terminationStatus == 0)
                let left = try Self.names(base)
                #expect(left == ["report"], "no staging folder or lock left: \(left)")
                #expect(Self.isCompleteReport(out, accounts: 3000))
            }
            #expect(interrupted, "signal \(signal) arrived during the report phase at least once")
        }
    }

    @Test func killMinus9AtAnyInstantLeavesAWholeReport() throws {
        let base = try CLI.temporaryDirectory("commit-kill")
        let out = base.appendingPathComponent("report")
        #expect(try Self.run(out.path, book: Self.largerBook).status == 0)
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 10 {
            let run = try CLI.start(["run", Self.largerBook.path, "--out", out.path, "--quiet"])
            if Self.waitForStaging(in: base, of: run) {
                usleep(UInt32.random(in: 0 ..< 200_000, using: &generator))  // somewhere in writing or committing
            }
            kill(run.processIdentifier, SIGKILL)
            run.waitUntilExit()
            #expect(Self.isCompleteReport(out, accounts: 3000), "--out holds the old or the new report, whole")
        }
        // The next run removes what the killed ones left (their PIDs are gone).
        #expect(try Self.run(out.path).status == 0)
        #expect(Self.isCompleteReport(out, accounts: 50))
        let left = try Self.names(base)
        #expect(left == ["report"], "\(left)")
    }


    /// Polls `base` until a `.NAME.tmp-PID` of `process` appears (true) or it exits or 10 s pass (false).
    static func waitForStaging(in base: URL, of process: Process) -> Bool {
        let suffix = ".tmp-\(process.processIdentifier)"
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline {
            if let names = try? names(base), names.contains(where: { $0.hasSuffix(suffix) }) { return true }
            usleep(500)
        }
        return false
    }

    // MARK: - Unit level

    @Test func exchangeSwapsTwoFoldersInOneStep() throws {
        let base = try CLI.temporaryDirectory("commit-exchange")
        let a = base.appendingPathComponent("a"), b = base.appendingPathComponent("b")
        for (dir, text) in [(a, "A"), (b, "B")] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)
            try Data(text.utf8).write(to: dir.appendingPathComponent("x"))
        }
        let code = Posix.rename2(a.path, b.path, flags: Posix.renameExchange)
        try #require(code == 0, "renameat2(RENAME_EXCHANGE) on this file system: \(Posix.describe(code))")
        #expect(try String(contentsOf: a.appendingPathComponent("x"), encoding: .utf8) == "B")
        #expect(try String(contentsOf: b.appendingPathComponent("x"), encoding: .utf8) == "A")
        #expect(Posix.rename2(a.path, b.path, flags: Posix.renameNoReplace) == EEXIST)
    }

    @Test func theFolderSwapsReportsAndRefusesWhatIsNotOne() throws {
        let base = try CLI.temporaryDirectory("commit-unit")
        let destination = base.appendingPathComponent("report")
        for text in ["one", "two"] {
            let folder = try ReportFolder(destination: destination)
            try folder.write(text, to: "a.txt")
            try folder.commit()
            #expect(try String(contentsOf: destination.appendingPathComponent("a.txt"), encoding: .utf8) == text)
            #expect(try Self.names(destination) == [ReportFolder.markerName, "a.txt"])
        }
        #expect(try Self.names(base) == ["report"])
        let file = base.appendingPathComponent("file")
        try Data("keep".utf8).write(to: file)
        #expect(throws: ReportFolder.Failure.self) { try ReportFolder(destination: file) }
        do {
            _ = try ReportFolder(destination: file)
        } catch {
            #expect(error.isRefusal)
            #expect(error.description == "--out \(file.path): is a file, not a report folder; refusing to replace it")
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep")
    }
}

/// What the reader thread of `aReaderPollingAccountsNeverMissesIt` shares with the test.
final class Poll: Sendable {
    let stop = Atomic(false), finished = Atomic(false)
    let reads = Atomic(0), misses = Atomic(0)
}

extension ReportCommitTests {
    /// Where renameat2 has no RENAME_EXCHANGE / RENAME_NOREPLACE (NFS): plain rename the first time, rename aside after.
    @Test func withoutTheExchangeTheFallbackRenamesAside() throws {
        let base = try CLI.temporaryDirectory("commit-fallback")
        let destination = base.appendingPathComponent("report")
        for text in ["one", "two"] {
            let folder = try ReportFolder(destination: destination)
            try folder.write(text, to: "a.txt")
            var active = Set<String>()
            let unsupported = ReportPublisher(place: folder.place, rename2: { _, _, _ in EINVAL })
            let previous = try unsupported.publish(registering: &active)
            #expect(previous == (text == "one" ? nil : folder.place.aside))
            if let previous {
                #expect(try String(contentsOf: URL(fileURLWithPath: previous + "/a.txt"), encoding: .utf8) == "one")
                Interruption.removeOwned(previous)
            }
            folder.discard()
            #expect(try String(contentsOf: destination.appendingPathComponent("a.txt"), encoding: .utf8) == text)
            #expect(try Self.names(base) == ["report"])
        }
    }
}

