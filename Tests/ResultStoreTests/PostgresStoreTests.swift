import Dispatch
import Foundation
@testable import ResultStore
import RiskModel
import RiskPipeline
@testable import RiskReport
import TestSupport
import Testing

/// The test server: `BALLAST_TEST_POSTGRES_URL` (e.g. postgresql://ballast@127.0.0.1:PORT/ballast, a user who may
/// create schemas in the database; `scripts/postgres.sh start DIR PORT` brings one up and scripts/test.sh does as root)
/// and, for the password test, `BALLAST_TEST_POSTGRES_PASSWORD_URL` (a user authenticated by password). Every test
/// works in a schema of its own, dropped at its end.
enum PostgresTestServer {
    static let url = ProcessInfo.processInfo.environment["BALLAST_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let passwordURL = ProcessInfo.processInfo.environment["BALLAST_TEST_POSTGRES_PASSWORD_URL"]
        .flatMap { $0.isEmpty ? nil : $0 }
    static let skipped = "BALLAST_TEST_POSTGRES_URL is not set: PostgreSQL store tests skipped "
        + "(scripts/postgres.sh start DIR PORT starts a server and prints its URL; scripts/test.sh does so as root)"

    struct Server {
        let host: String, port: Int, user: String, password: String?, database: String
    }

    static func server(_ text: String? = url) throws -> Server {
        let text = try #require(text, "no PostgreSQL URL")
        guard case .postgres(let host, let port, let user, let password, let database) = try StoreLocation(parsing: text) else {
            throw StoreError.open("not a postgresql:// URL: \(StoreLocation.redacting(text))")
        }
        return Server(host: host, port: port, user: user, password: password, database: database)
    }

    /// A schema name no other test uses.
    static func freshSchema() -> String { "ballast_test_" + UUID().uuidString.prefix(8).lowercased() }

    /// A store in `schema` (created when missing) of the test server.
    static func store(_ schema: String, migrate: Bool = true, server: Server? = nil) throws -> PostgresStore {
        let s = try server ?? Self.server()
        return try PostgresStore(host: s.host, port: s.port, user: s.user, password: s.password, database: s.database,
                                 schema: schema, migrate: migrate)
    }

    /// Drops `schema` and everything in it.
    static func drop(_ schema: String, server: Server? = nil) {
        guard let admin = try? store(schema, migrate: false, server: server) else { return }
        try? admin.execute("DROP SCHEMA IF EXISTS \(StoreSchema.quoted(schema)) CASCADE")
        admin.close()
    }

    /// `body(0)`, `body(1)`… each on a thread of its own, started together; their results in order.
    static func inParallel<T>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let lock = NSLock()
        nonisolated(unsafe) var results = [Result<T, any Error>?](repeating: nil, count: count)
        let group = DispatchGroup()
        for i in 0 ..< count {
            group.enter()
            Thread.detachNewThread {
                let result = Result { try body(i) }
                lock.withLock { results[i] = result }
                group.leave()
            }
        }
        group.wait()
        return results.map { $0! }
    }

    /// The error text of a failed result, "" for a success.
    static func failure<T>(_ result: Result<T, any Error>) -> String {
        if case .failure(let error) = result { return "\(error)" }
        return ""
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }
}

@Suite(.serialized, .enabled(if: PostgresTestServer.url != nil, Comment(rawValue: PostgresTestServer.skipped)))
struct PostgresStoreTests {
    typealias Server = PostgresTestServer

    /// Every CSV file of the report, read back from PostgreSQL and rendered by the CSV writer, is byte-identical to
    /// the file; the run is listed with its figures.
    @Test func aStoredRunReadsBackAsItsCSVFiles() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("alpha"))
        let store = try Server.store(schema)
        defer { store.close() }
        #expect(try store.schemaVersion() == StoreSchema.currentVersion)
        let id = try RunHistory.store(result, bookName: "alpha", reportFolder: report, into: store)
        for (file, columns) in try StoreFixtures.expectTablesReadBack(store: store, run: id, report: report, result: result) {
            #expect(columns.stored == columns.header, "\(file): the table's columns are the file's, in order")
        }
        let runs = try store.runs(book: "alpha")
        #expect(runs.count == 1 && runs[0].id == id && runs[0].asOf == result.asOfDate && runs[0].bookName == "alpha")
        #expect(runs[0].varParam == result.parametric.bookValueAtRisk && runs[0].accounts == result.book.accountCount)
        #expect(runs[0].ok + runs[0].marginCall + runs[0].liquidatable == result.bookFigures.totals.valid)
        #expect(try store.runs(book: "other").isEmpty && store.runs(book: nil).map(\.id) == [id])
        #expect(try store.table("accounts", run: id + 1) == nil, "no such run")
        #expect(try store.table("no_such_file", run: id) == nil, "no such table")
        #expect(Server.message { _ = try store.snapshot(run: id + 1) }.contains("no stored run has id \(id + 1)"))

        // The same run read back from SQLite gives the same cells.
        let sqlite = try SQLiteStore(path: try StoreFixtures.sqlitePath())
        defer { sqlite.close() }
        let sqliteID = try RunHistory.store(result, bookName: "alpha", reportFolder: report, into: sqlite)
        for file in ColumnReference.files {
            let name = String(file.name.dropLast(4))
            let pg = try store.table(name, run: id), lite = try sqlite.table(name, run: sqliteID)
            #expect(pg.map { "\($0.rows)" } == lite.map { "\($0.rows)" }, "\(name): PostgreSQL and SQLite hold the same cells")
        }
    }

    /// The snapshot read back equals the snapshot of the run itself, bit for bit.
    /// The column arrays read in chunks of any size (7 rows, the holdings of the first account or so; 1 row; more than
    /// the table) equal the whole table read at once, in row order.
    @Test func columnArraysReadInChunksEqualOneRead() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("chunks"))
        let store = try Server.store(schema)
        defer { store.close() }
        let id = try RunHistory.store(result, bookName: "chunks", reportFolder: report, into: store)
        let logger = store.logger
        let expressions = ["account", "asset", "COALESCE(quantity, 0)"]
        let reads = try [7, 1, 1 << 20].map { chunk in
            try store.perform(StoreError.read) { connection in
                try await PostgresStore.columnArrays("holdings", expressions, run: id, chunkRows: chunk, on: connection,
                                                     logger: logger)
            }
        }
        let table = try #require(try store.table("holdings", run: id))
        let quantity = try #require(table.columns.firstIndex(of: "quantity"))
        let expected = table.rows.map { row -> Double in if case .number(let q) = row[quantity] { return q } else { return 0 } }
        for read in reads {
            #expect(read.numbers == expected && read.texts.count == table.rows.count)
            #expect(read.texts == reads[2].texts && read.labels == reads[2].labels)
        }
    }

    @Test func aStoredSnapshotEqualsTheRunsOwn() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("beta"), overrides: ["covariance=sample"])
        let store = try Server.store(schema)
        defer { store.close() }
        let id = try RunHistory.store(result, bookName: "beta", reportFolder: report, into: store)
        let stored = try store.snapshot(run: id), own = RunSnapshot(result, bookName: "beta")
        #expect(stored.runID == id && stored.asOf == own.asOf && stored.bookName == "beta")
        #expect(stored.tickers == own.tickers && stored.inUniverse == own.inUniverse)
        #expect(stored.prices.map(\.bitPattern) == own.prices.map(\.bitPattern))
        #expect(stored.varPerSigma.bitPattern == own.varPerSigma.bitPattern && stored.bookVaR.bitPattern == own.bookVaR.bitPattern)
        let n = own.tickers.count
        #expect(stored.covariance.rows == n && stored.covariance.columns == n)
        let same = (0 ..< n).allSatisfy { i in (0 ..< n).allSatisfy { stored.covariance[i, $0].bitPattern == own.covariance[i, $0].bitPattern } }
        #expect(same, "covariance bit for bit")
        #expect(stored.accountIDs == own.accountIDs && stored.status == own.status)
        #expect(zip(stored.varParam, own.varParam).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        #expect(stored.holdingStart == own.holdingStart && stored.holdingAsset == own.holdingAsset)
        #expect(stored.holdingQuantity.map(\.bitPattern) == own.holdingQuantity.map(\.bitPattern))
    }

    /// Text with COPY's special characters, and extreme doubles, read back exactly; a table and columns a run
    /// declares for the first time are added to the store.
    @Test func specialValuesRoundTrip() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, _) = try StoreFixtures.runAndReport(try StoreFixtures.book("gamma", accounts: 40))
        let store = try Server.store(schema)
        defer { store.close() }
        let texts = ["tab\there", "line\nbreak", "cr\rx", "back\\slash", "\\N", "\\.", "", "naïve €", "'quote\" ,comma",
                     "=formula", "-1.5"]
        let numbers: [Double] = [0, -0.0, 1, -1, 0.1, 1e-300, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                                 -.greatestFiniteMagnitude, .infinity, -.infinity, .nan, 123456789.123456789,
                                 1.0 / 3.0, 1e22, 1e23]
        let count = max(texts.count, numbers.count)
        let extra = ReportTable(name: "special.csv", columns: [
            Column<Int>("label", unit: "text", meaning: "") { $0 < texts.count ? .text(texts[$0]) : .empty },
            Column<Int>("value", unit: "USD", meaning: "") { $0 < numbers.count ? .number(numbers[$0]) : .empty },
            Column<Int>("n", unit: "count", meaning: "") { $0 % 3 == 0 ? .empty : .integer($0 == 1 ? Int.min : $0 == 2 ? Int.max : -$0) },
        ], rows: .init(indices: count))
        var record = RunRecord(result, bookName: "gamma", summaryJSON: "{\"a\": \"\\t\"}", configJSON: "{}")
        record.tables.append(extra)
        record.tickers[0] = "weird\tticker\\"
        let id = try store.write(record)
        let table = try #require(try store.table("special", run: id))
        #expect(table.columns == ["label", "value", "n"])
        #expect(table.rows.count == count)
        var expected: [Cell] = []
        for row in 0 ..< count {
            extra.cells(ofRow: row, into: &expected)
            for (c, (got, want)) in zip(table.rows[row], expected).enumerated() {
                #expect(Self.same(got, want), "row \(row) column \(table.columns[c]): \(got) vs \(want)")
            }
        }
        #expect(try store.integers("SELECT asset_no FROM run_assets WHERE run_id = \(id) AND asset = E'weird\\tticker\\\\'") == [0])
        #expect(try store.integers("SELECT length(summary_json) FROM runs WHERE id = \(id)") == [record.summaryJSON.count])
    }

    /// A write the server rejects part-way (a NUL byte in text, which PostgreSQL's text cannot hold, in the last
    /// table copied) leaves nothing of the run: no runs row, no report rows, not even the tables it created. The
    /// store stays usable.
    @Test func aRejectedWriteLeavesNoRun() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("delta", accounts: 60))
        let store = try Server.store(schema)
        defer { store.close() }
        var record = RunRecord(result, bookName: "delta", summaryJSON: "{}", configJSON: "{}")
        record.tickers[record.tickers.count - 1] = "NUL\u{0}"
        let error = Server.message { _ = try store.write(record) }
        #expect(error.contains("the run was not stored") && error.contains("0x00"), "\(error)")
        #expect(try store.runs(book: nil).isEmpty)
        #expect(try store.integers("SELECT count(*) FROM pg_tables WHERE schemaname = '\(schema)' AND tablename = 'accounts'") == [0])
        let id = try RunHistory.store(result, bookName: "delta", reportFolder: report, into: store)
        #expect(try store.runs(book: nil).map(\.id) == [id])
        #expect(try store.table("accounts", run: id)?.rows.count == result.book.accountCount)
    }

    /// The connection dies in the middle of a write (the server terminates its backend while it waits for a lock,
    /// after every report table was copied): the run is not stored, and the store reconnects for the next call.
    @Test func aConnectionLostMidWriteLeavesNoRun() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("epsilon", accounts: 60))
        let store = try Server.store(schema)
        defer { store.close() }
        let first = try RunHistory.store(result, bookName: "epsilon", reportFolder: report, into: store)
        let blocker = try Server.store(schema, migrate: false)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        try blocker.execute("LOCK TABLE run_covariance IN EXCLUSIVE MODE")

        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure = ""
        let record = RunRecord(result, bookName: "epsilon", summaryJSON: "{}", configJSON: "{}")
        DispatchQueue.global().async {
            failure = Server.message { _ = try store.write(record) }
            done.signal()
        }
        // Watched from a third connection: pg_stat_activity is a snapshot taken once per transaction.
        let watcher = try Server.store(schema, migrate: false)
        defer { watcher.close() }
        var killed: [Int?] = []
        for _ in 0 ..< 400 where killed.isEmpty {
            Thread.sleep(forTimeInterval: 0.05)
            killed = try watcher.integers("""
                SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO run_covariance%'
                AND datname = current_database()
                """)
        }
        #expect(killed.count == 1, "the write waits for the lock")
        for pid in killed { _ = try watcher.integers("SELECT pg_terminate_backend(\(pid ?? 0))::INT") }
        #expect(done.wait(timeout: .now() + 60) == .success)
        try blocker.execute("ROLLBACK")
        #expect(failure.contains("the run was not stored"), "\(failure)")
        #expect(try store.runs(book: nil).map(\.id) == [first], "only the first run; the store reconnected")
        #expect(try blocker.integers("SELECT count(DISTINCT run_id) FROM accounts") == [1])
        #expect(try blocker.integers("SELECT count(*) FROM run_assets WHERE run_id <> \(first)") == [0])
    }

    /// Two processes opening a new store at once migrate it once; two writing at once (both creating the report
    /// tables of the new store) both land, whole.
    @Test func concurrentOpensAndWritesBothLand() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let (result, report) = try StoreFixtures.runAndReport(try StoreFixtures.book("zeta", accounts: 200))
        try Server.store(schema, migrate: false).close()  // the empty schema
        let summary = try String(contentsOf: report.appendingPathComponent("summary.json"), encoding: .utf8)
        let records = ["zeta-1", "zeta-2"].map { RunRecord(result, bookName: $0, summaryJSON: summary, configJSON: "{}") }

        let opening = Server.inParallel(2) { _ in try Server.store(schema) }
        let opened = opening.compactMap { try? $0.get() }
        defer { opened.forEach { $0.close() } }
        #expect(opening.map(Server.failure) == ["", ""])
        try #require(opened.count == 2)
        #expect(try opened[0].integers("SELECT version FROM schema_version ORDER BY version") == (1 ... StoreSchema.currentVersion).map { $0 })

        let writes = Server.inParallel(2) { i in try opened[i].write(records[i]) }
        #expect(writes.map(Server.failure) == ["", ""])
        let ids = writes.compactMap { try? $0.get() }
        let runs = try opened[0].runs(book: nil)
        #expect(Set(runs.map(\.id)) == Set(ids) && Set(runs.map(\.bookName)) == ["zeta-1", "zeta-2"])
        for id in ids {
            for table in records[0].tables {
                #expect(try opened[1].table(table.name, run: id)?.rows.count == table.rowCount, "\(table.name) of run \(id)")
            }
        }
    }

    /// A user authenticated by password connects; a wrong password fails with the server's reason, and neither
    /// password appears in the error.
    @Test(.enabled(if: PostgresTestServer.passwordURL != nil,
                   "BALLAST_TEST_POSTGRES_PASSWORD_URL is not set (scripts/test.sh sets it: the user ballast_pw of scripts/postgres.sh)"))
    func passwordAuthentication() throws {
        let url = try #require(Server.passwordURL)
        let server = try Server.server(url)
        let password = try #require(server.password, "the password URL has a password")
        let schema = Server.freshSchema()
        defer { Server.drop(schema, server: server) }
        let store = try Server.store(schema, server: server)
        #expect(try store.schemaVersion() == StoreSchema.currentVersion && store.runs(book: nil).isEmpty)
        store.close()

        let wrong = "not-\(password)-x9"
        do {
            _ = try PostgresStore(host: server.host, port: server.port, user: server.user, password: wrong,
                                  database: server.database)
            Issue.record("a wrong password was accepted")
        } catch {
            let text = "\(error)" + String(reflecting: error)
            #expect(text.contains("password authentication failed"), "\(text)")
            #expect(text.contains("\(server.user)@\(server.host):\(server.port)/\(server.database)"), "\(text)")
            #expect(!text.contains(wrong) && !text.contains(password), "\(text)")
        }
        // Through the store location, as the CLI opens it.
        let location = try StoreLocation(parsing: "postgresql://\(server.user):\(wrong)@\(server.host):\(server.port)/\(server.database)")
        let text = Server.message { _ = try ResultStores.open(location) }
        #expect(text.hasPrefix("results store: cannot open: ") && !text.contains(wrong), "\(text)")
    }

    /// Synchronous calls made from many tasks at once (every thread of the cooperative pool blocked in a call) all
    /// complete: the store's async work does not need the pool.
    @Test func callsFromTheCooperativePoolComplete() async throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let store = try Server.store(schema)
        defer { store.close() }
        let width = 4 * ProcessInfo.processInfo.activeProcessorCount
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0 ..< width {
                group.addTask { _ = try store.runs(book: nil); return try store.schemaVersion() }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions == Array(repeating: StoreSchema.currentVersion, count: width))
    }

    /// A closed store says so; an unreachable server is an open error naming it.
    @Test func closedStoreAndUnreachableServer() throws {
        let schema = Server.freshSchema()
        defer { Server.drop(schema) }
        let store = try Server.store(schema)
        store.close()
        store.close()
        #expect(Server.message { _ = try store.runs(book: nil) }.contains("the store was closed"))
        let text = Server.message { _ = try PostgresStore(host: "127.0.0.1", port: 1, user: "u", password: "pw-123", database: "d") }
        #expect(text.contains("cannot open: u@127.0.0.1:1/d: cannot connect") && !text.contains("pw-123"), "\(text)")
    }

    static func same(_ a: Cell, _ b: Cell) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return x.bitPattern == y.bitPattern
        case (.empty, .number(let y)): return y.isNaN
        case (.integer(let x), .integer(let y)): return x == y
        case (.text(let x), .text(let y)): return x == y
        case (.empty, .empty): return true
        default: return false
        }
    }
}

/// COPY's text format without a server.
struct PostgresCopyTextTests {
    @Test func escapesAndSpecialValues() {
        var out = CopyText()
        out.text("a\tb\nc\rd\\e")
        out.tab()
        out.cell(.empty)
        out.tab()
        out.real(.nan)
        out.tab()
        out.real(.infinity)
        out.tab()
        out.real(-.infinity)
        out.tab()
        out.real(0.1)
        out.tab()
        out.real(-0.0)
        out.tab()
        out.integer(Int.min)
        out.newline()
        #expect(String(decoding: out.bytes, as: UTF8.self) == "a\\tb\\nc\\rd\\\\e\t\\N\t\\N\tInfinity\t-Infinity\t0.1\t-0.0\t-9223372036854775808\n")
        _ = out.take()
        #expect(out.count == 0)
    }
}
