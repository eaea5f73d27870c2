import Dispatch
import Foundation
import GRDB
@testable import ResultStore
import RiskPipeline
import RiskReport
import TestSupport
import Synchronization
import Testing

@Suite(.serialized) struct SQLiteStoreTests {
    /// Every CSV file of the report, read back from the store and rendered by the CSV writer, is byte-identical
    /// to the file: the store holds every value as the report wrote it.
    @Test func aStoredRunReadsBackAsItsCSVFiles() throws {
        let book = try StoreFixtures.book("alpha")
        let (result, report) = try StoreFixtures.runAndReport(book)
        let store = try SQLiteStore(path: try StoreFixtures.sqlitePath())
        defer { store.close() }
        let id = try RunHistory.store(result, bookName: "alpha", reportFolder: report, into: store)
        for (file, columns) in try StoreFixtures.expectTablesReadBack(store: store, run: id, report: report, result: result) {
            #expect(Set(columns.header).isSubset(of: Set(columns.stored)), "\(file): every column is a table column")
        }
        let runs = try store.runs(book: "alpha")
        #expect(runs.count == 1 && runs[0].id == id && runs[0].asOf == result.asOfDate)
        #expect(runs[0].varParam == result.parametric.bookValueAtRisk)
        #expect(runs[0].ok + runs[0].marginCall + runs[0].liquidatable == result.bookFigures.totals.valid)
    }

    /// The snapshot read back equals the snapshot of the run itself, bit for bit.
    @Test func aStoredSnapshotEqualsTheRunsOwn() throws {
        let book = try StoreFixtures.book("beta")
        let (result, report) = try StoreFixtures.runAndReport(book, overrides: ["covariance=sample"])
        let store = try SQLiteStore(path: try StoreFixtures.sqlitePath())
        defer { store.close() }
        let id = try RunHistory.store(result, bookName: "beta", reportFolder: report, into: store)
        let stored = try store.snapshot(run: id), own = RunSnapshot(result, bookName: "beta")
        #expect(stored.runID == id && stored.asOf == own.asOf && stored.bookName == "beta")
        #expect(stored.tickers == own.tickers && stored.inUniverse == own.inUniverse)
        #expect(stored.prices.map(\.bitPattern) == own.prices.map(\.bitPattern))
        #expect(stored.varPerSigma == own.varPerSigma && stored.bookVaR == own.bookVaR)
        let n = own.tickers.count
        let same = (0 ..< n).allSatisfy { i in (0 ..< n).allSatisfy { stored.covariance[i, $0].bitPattern == own.covariance[i, $0].bitPattern } }
        #expect(same, "covariance bit for bit")
        #expect(stored.accountIDs == own.accountIDs && stored.status == own.status)
        #expect(zip(stored.varParam, own.varParam).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        // Holdings: the stored side skips quantity-0 rows (assets only bought), which the run's book never has.
        #expect(stored.holdingStart == own.holdingStart && stored.holdingAsset == own.holdingAsset)
        #expect(stored.holdingQuantity == own.holdingQuantity)
    }

    /// A store written by schema version 1 (runs and report tables, no market) opens migrated to the current
    /// version; its run is listed, and comparing with it says what is missing.
    @Test func aVersionOneStoreIsMigrated() throws {
        let path = try StoreFixtures.sqlitePath()
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator(upTo: 1).migrate(queue)
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO runs (book_name, as_of, stored_at, engine_version, account_count, holding_count, confidence,
                    horizon_days, var_per_sigma, collateral_usd, debt_usd, hcv_usd, var_param, var_hist, var_mc,
                    accounts_ok, accounts_margin_call, accounts_liquidatable, config_json, summary_json)
                VALUES ('old', '2023-01-02', '2023-01-02T06:00:00Z', '0.0.9', 1, 1, 0.99, 1, 2.326, 10, 5, 8, 1, 1, 1,
                    1, 0, 0, '{}', '{}')
                """)
            try db.execute(sql: StoreSchema.createReportTable("accounts"))
            try db.execute(sql: "ALTER TABLE accounts ADD COLUMN account TEXT")
            try db.execute(sql: "INSERT INTO accounts (run_id, row_no, account) VALUES (1, 0, 'a1')")
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE name = 'run_assets'") } == 0)
        try queue.close()
        let store = try SQLiteStore(path: path)
        defer { store.close() }
        #expect(try store.schemaVersion() == StoreSchema.currentVersion)
        let runs = try store.runs(book: nil)
        #expect(runs.map(\.bookName) == ["old"] && runs[0].asOf == "2023-01-02")
        #expect(try store.table("accounts", run: 1)?.rows.count == 1)
        #expect(throws: StoreError.self) { _ = try store.snapshot(run: 1) }
        do { _ = try store.snapshot(run: 1) } catch {
            #expect("\(error)".contains("without the market data"))
        }
        // A current run lands beside it.
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("new"))
        let id = try RunHistory.store(result, bookName: "new", reportFolder: report, into: store)
        #expect(try store.runs(book: nil).map(\.id).sorted() == [1, id])
    }

    /// Stores opened on one new file from several threads at once (as runs started together do) all open, migrated.
    @Test func storesOpenedTogetherAllMigrate() throws {
        for _ in 0 ..< 3 {
            let path = try StoreFixtures.sqlitePath()
            let versions = Mutex<[Int]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                let version = (try? SQLiteStore(path: path)).flatMap { store in
                    defer { store.close() }
                    return try? store.schemaVersion()
                } ?? -1
                versions.withLock { $0.append(version) }
            }
            #expect(versions.withLock { $0 } == Array(repeating: StoreSchema.currentVersion, count: 4))
        }
    }

    /// The previous run of a book: the latest on or before the as-of date, ties by the later id; none before.
    @Test func thePreviousRunIsTheLatestOnOrBeforeTheAsOfDate() {
        func run(_ id: Int64, _ book: String, _ asOf: String) -> StoredRun {
            StoredRun(id: id, bookName: book, asOf: asOf, storedAt: "", engineVersion: "", accounts: 0, collateral: 0,
                      debt: 0, hcv: 0, varParam: 0, varHist: 0, varMC: 0, ok: 0, marginCall: 0, liquidatable: 0)
        }
        let runs = [run(1, "a", "2023-01-02"), run(2, "a", "2023-01-04"), run(3, "b", "2023-01-05"),
                    run(4, "a", "2023-01-04"), run(5, "a", "2023-01-09")]
        #expect(RunHistory.previousRun(in: runs, book: "a", asOf: "2023-01-05")?.id == 4)
        #expect(RunHistory.previousRun(in: runs, book: "a", asOf: "2023-01-04")?.id == 4)
        #expect(RunHistory.previousRun(in: runs, book: "a", asOf: "2023-01-03")?.id == 1)
        #expect(RunHistory.previousRun(in: runs, book: "a", asOf: "2023-01-01") == nil)
        #expect(RunHistory.previousRun(in: runs, book: "c", asOf: "2023-01-09") == nil)
    }

    /// diff and history on an empty store, a store with one run, and another book: clear errors.
    @Test func diffNeedsTwoRunsOfTheBook() throws {
        let store = try SQLiteStore(path: try StoreFixtures.sqlitePath())
        defer { store.close() }
        #expect(try store.runs(book: nil).isEmpty)
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        #expect(message { _ = try RunHistory.diffPair(store: store, book: nil, first: nil, second: nil) }
            .contains("holds no runs yet"))
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("gamma"))
        try RunHistory.store(result, bookName: "gamma", reportFolder: report, into: store)
        #expect(message { _ = try RunHistory.diffPair(store: store, book: nil, first: nil, second: nil) }
            .contains("needs two stored runs of book gamma; the store holds 1"))
        #expect(message { _ = try RunHistory.diffPair(store: store, book: "delta", first: nil, second: nil) }
            .contains("no stored run of book \"delta\"; books in the store: gamma"))
        #expect(message { _ = try RunHistory.diffPair(store: store, book: "gamma", first: "1", second: "7") }
            .contains("no stored run of book gamma has id or as-of date \"7\""))
        try RunHistory.store(result, bookName: "other", reportFolder: report, into: store)
        #expect(message { _ = try RunHistory.diffPair(store: store, book: nil, first: nil, second: nil) }
            .contains("several books (gamma, other)"))
    }
}
