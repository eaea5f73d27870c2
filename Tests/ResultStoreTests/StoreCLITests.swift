import Dispatch
import Foundation
import GRDB
import TestSupport
import Synchronization
import Testing

/// The store through the command line, as a risk team runs it.
@Suite(.serialized) struct StoreCLITests {
    /// Three nights of one book backfilled with as_of: each night after the first gains changes.csv and the report's
    /// changes section; history lists the nights; diff writes the changes of any two.
    @Test func aBackfilledHistoryListsAndDiffs() throws {
        let book = try StoreFixtures.book("nightly")
        let base = try CLI.temporaryDirectory("store-cli")
        let store = "sqlite:" + base.appendingPathComponent("runs.sqlite").path
        let nights = ["2020-11-20", "2020-11-23", "2020-11-24"]
        for (n, night) in nights.enumerated() {
            let out = base.appendingPathComponent("report-\(night)")
            let run = try CLI.run(["run", book.path, "--out", out.path, "--quiet", "--store", store, "--set", "as_of=\(night)"])
            #expect(run.status == 0, "\(run.stderr)")
            let changes = FileManager.default.fileExists(atPath: out.appendingPathComponent("changes.csv").path)
            #expect(changes == (n > 0), "changes.csv from the second night on")
            let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
            #expect(html.contains("id=\"changes-not-computed\"") == (n == 0), "the changes section from the second night on")
        }
        let history = try CLI.run(["history", "--store", store])
        #expect(history.status == 0)
        let lines = history.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines[0].hasPrefix("id") && nights.allSatisfy { history.stdout.contains($0) })
        let json = try CLI.run(["history", "--store", store, "--json", "--book", "nightly"])
        let runs = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(runs?.compactMap { $0["as_of"] as? String } == nights)
        let out = base.appendingPathComponent("diff")
        let diff = try CLI.run(["diff", "--store", store, "2020-11-20", "2020-11-24", "--out", out.path])
        #expect(diff.status == 0, "\(diff.stderr)")
        for file in ["changes.csv", "changes.json", "changes.html"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        let other = try CLI.run(["history", "--store", store, "--book", "elsewhere"])
        #expect(other.status == 2 && other.stderr.contains("books in the store: nightly"))
    }

    /// history and diff on an empty store: a message, not a failure, for history; exit 2 for diff.
    @Test func anEmptyStore() throws {
        let store = "sqlite:" + (try StoreFixtures.sqlitePath())
        let history = try CLI.run(["history", "--store", store])
        #expect(history.status == 0 && history.stdout.isEmpty && history.stderr.contains("holds no runs yet"))
        let diff = try CLI.run(["diff", "--store", store, "--out", try CLI.temporaryDirectory("diff").path + "/x"])
        #expect(diff.status == 2 && diff.stderr.contains("holds no runs yet"))
    }

    /// Three runs opening and storing into one new SQLite file at the same time all land.
    @Test func runsAtOnceAllLand() throws {
        let book = try StoreFixtures.book("together", accounts: 3000)
        let base = try CLI.temporaryDirectory("store-concurrent")
        let store = "sqlite:" + base.appendingPathComponent("runs.sqlite").path
        let outcomes = Mutex<[CLI.Outcome?]>([nil, nil, nil])
        DispatchQueue.concurrentPerform(iterations: 3) { k in
            let outcome = try? CLI.run(["run", book.path, "--out", base.appendingPathComponent("r\(k)").path, "--quiet",
                                        "--store", store])
            outcomes.withLock { $0[k] = outcome }
        }
        for outcome in outcomes.withLock({ $0 }) {
            #expect(outcome?.status == 0, "\(outcome?.stderr ?? "not started")")
        }
        let json = try CLI.run(["history", "--store", store, "--json"])
        let listed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.count == 3)
        #expect(listed?.allSatisfy { ($0["accounts"] as? Int) == 3000 } == true)
    }

    /// A run killed with SIGKILL after its report, while storing, leaves no part of itself in the store: every
    /// stored run has all its rows.
    @Test func aKilledRunLeavesNoPartialRun() throws {
        let book = try StoreFixtures.book("killed", accounts: 10000)
        let base = try CLI.temporaryDirectory("store-kill")
        let path = base.appendingPathComponent("runs.sqlite").path
        var generator = SystemRandomNumberGenerator()
        var attempts = 0
        for k in 0 ..< 4 {
            let out = base.appendingPathComponent("r\(k)")
            let run = try CLI.start(["run", book.path, "--out", out.path, "--quiet", "--store", "sqlite:" + path])
            let summary = out.appendingPathComponent("summary.json").path
            while run.isRunning && !FileManager.default.fileExists(atPath: summary) { usleep(2000) }
            if run.isRunning {
                usleep(UInt32.random(in: 0 ..< 150_000, using: &generator))
                kill(run.processIdentifier, SIGKILL)
                attempts += 1
            }
            run.waitUntilExit()
        }
        // The store still takes a run after the killed ones.
        let last = try CLI.run(["run", book.path, "--out", base.appendingPathComponent("last").path, "--quiet",
                                "--store", "sqlite:" + path])
        #expect(last.status == 0, "\(last.stderr)")
        let queue = try DatabaseQueue(path: path)
        try queue.read { db in
            #expect(try String.fetchOne(db, sql: "PRAGMA integrity_check") == "ok")
            let runs = try Row.fetchAll(db, sql: "SELECT id, account_count, holding_count FROM runs")
            for run in runs {
                let id: Int64 = run["id"]
                let accounts = try Int.fetchOne(db, sql: "SELECT count(*) FROM accounts WHERE run_id = ?", arguments: [id])
                let market = try Int.fetchOne(db, sql: "SELECT count(*) FROM run_covariance WHERE run_id = ?", arguments: [id])
                #expect(accounts == run["account_count"] && market == 1, "run \(id) is whole")
            }
            let orphans = try Int.fetchOne(db, sql: "SELECT count(*) FROM holdings WHERE run_id NOT IN (SELECT id FROM runs)")
            #expect(orphans == 0)
        }
        #expect(attempts > 0, "at least one run was killed after its report")
    }

    /// A store that refuses the run (a trigger planted in it): exit 1 with the store's reason, the report complete in
    /// --out, and nothing of the run in the store.
    @Test func aFailedStoreKeepsTheReport() throws {
        let book = try StoreFixtures.book("refused", accounts: 200)
        let base = try CLI.temporaryDirectory("store-refused")
        let path = base.appendingPathComponent("runs.sqlite").path
        _ = try CLI.run(["history", "--store", "sqlite:" + path])  // creates and migrates the store
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'planted refusal'); END")
        }
        try queue.close()
        let out = base.appendingPathComponent("report")
        let run = try CLI.run(["run", book.path, "--out", out.path, "--quiet", "--store", "sqlite:" + path])
        #expect(run.status == 1 && run.stderr.contains("planted refusal") && run.stderr.contains("report in"))
        let records = try SimpleCSV.records(out.appendingPathComponent("accounts.csv"))
        #expect(records.count == 200, "the report is complete")
        let reader = try DatabaseQueue(path: path)
        #expect(try reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM runs") } == 0)
    }

    /// A PostgreSQL password never reaches stderr: neither when the server is unreachable nor in config errors.
    @Test func aPasswordIsNeverPrinted() throws {
        let secret = "s3cret-Pw-9"
        let book = try StoreFixtures.book("secret", accounts: 50)
        let out = try CLI.temporaryDirectory("store-secret").appendingPathComponent("report").path
        let unreachable = try CLI.run(["run", book.path, "--out", out, "--quiet",
                                       "--store", "postgresql://risk:\(secret)@127.0.0.1:1/ballast"])
        #expect(unreachable.status == 1 && !unreachable.stderr.isEmpty)
        let badPort = try CLI.run(["run", book.path, "--out", out, "--quiet",
                                   "--set", "store=postgresql://risk:\(secret)@127.0.0.1:port/ballast"])
        #expect(badPort.status == 2 && !badPort.stderr.isEmpty)
        let history = try CLI.run(["history", "--store", "postgresql://risk:\(secret)@127.0.0.1:1/ballast"])
        #expect(history.status == 1)
        for outcome in [unreachable, badPort, history] {
            #expect(!outcome.stderr.contains(secret) && !outcome.stdout.contains(secret), "\(outcome.stderr)")
        }
    }
}
