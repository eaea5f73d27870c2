import Foundation
import GRDB
import GRDBSQLite
import RiskPipeline
import RiskReport

/// The embedded results store: one SQLite file (WAL mode, so readers never wait for a writer; writers queue on a
/// busy timeout, so two runs storing at once both land), migrated with GRDB's migrator when opened.
public final class SQLiteStore: ResultStore {
    /// How long a writer waits for another writer's transaction before giving up, seconds.
    public static let busyTimeoutSeconds: TimeInterval = 300

    let queue: DatabaseQueue
    let path: String

    /// Opens (creating when missing) the store at `path` and migrates it to the current schema.
    public init(path: String) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(Self.busyTimeoutSeconds)
        configuration.label = "ballast-store"
        queue = try Self.openMigrated(path: path, configuration: configuration)
    }

    /// Attempts at opening and migrating a store that other processes open at the same moment, and the pause between
    /// them (seconds).
    static let openAttempts = 200
    static let openRetryPause: TimeInterval = 0.05

    /// Opens the file and migrates it. Two processes creating or migrating one store at once can collide (the second
    /// reads "not migrated" before the first commits, then finds the tables there, or cannot upgrade its read lock):
    /// the loser tries again, and then finds the migrations applied.
    static func openMigrated(path: String, configuration: Configuration) throws(StoreError) -> DatabaseQueue {
        var attempt = 1
        while true {
            do {
                let queue = try DatabaseQueue(path: path, configuration: configuration)
                try migrator(upTo: StoreSchema.currentVersion).migrate(queue)
                return queue
            } catch {
                guard attempt < openAttempts else { throw .open("\(path): \(reason(error))") }
                attempt += 1
                Thread.sleep(forTimeInterval: openRetryPause)
            }
        }
    }

    /// GRDB's migrator with the schema's versions 1 … `version`, each one migration named `v<k>`.
    static func migrator(upTo version: Int) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for k in 1 ... version {
            migrator.registerMigration("v\(k)") { db in
                for sql in StoreSchema.migration(to: k, dialect: .sqlite) { try db.execute(sql: sql) }
            }
        }
        return migrator
    }

    public func schemaVersion() throws(StoreError) -> Int {
        do {
            return try queue.read { db in try Self.migrator(upTo: StoreSchema.currentVersion).appliedIdentifiers(db).count }
        } catch {
            throw .read(Self.reason(error))
        }
    }

    public func close() { try? queue.close() }

    public func write(_ run: RunRecord) throws(StoreError) -> Int64 {
        var id: Int64 = 0
        do {
            try queue.inTransaction(.immediate) { db in
                id = try Self.insertRun(run, db: db)
                for table in run.tables { try Self.insert(table, run: id, db: db) }
                try Self.insertMarket(run, id: id, db: db)
                return .commit
            }
            return id
        } catch {
            throw .write(Self.reason(error))
        }
    }

    /// A GRDB or SQLite error as one line.
    static func reason(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return "\(e.message ?? "SQLite error") (code \(e.resultCode.rawValue))" }
        return "\(error)"
    }
}

// MARK: Writing

extension SQLiteStore {
    static func insertRun(_ run: RunRecord, db: Database) throws -> Int64 {
        let names = StoreSchema.runs.columns.dropFirst().map(\.name)
        let statement = try db.makeStatement(sql: "INSERT INTO runs (\(names.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: names.count).joined(separator: ", ") + ")")
        try execute(statement, run.runValues)
        return db.lastInsertedRowID
    }

    /// Rows per INSERT statement: one statement step per batch instead of per row (SQLite's per-statement work
    /// was a third of the holdings table's time); `rowsPerInsert` × columns stays far below SQLite's 32,766
    /// parameters.
    static let rowsPerInsert = 64

    /// Creates the report table and its missing columns when needed, then inserts every row through prepared
    /// multi-row statements, binding cells straight to SQLite (no per-row allocation).
    static func insert(_ table: ReportTable, run id: Int64, db: Database) throws {
        try db.execute(sql: StoreSchema.createReportTable(table.name, dialect: .sqlite))
        let existing = Set(try db.columns(in: table.name).map(\.name))
        for column in table.columns where !existing.contains(column.name) {
            let type = StoreSchema.columnType(unit: column.unit).sql(.sqlite)
            try db.execute(sql: "ALTER TABLE \(StoreSchema.quoted(table.name)) ADD COLUMN \(StoreSchema.quoted(column.name)) \(type)")
        }
        let names = ["run_id", "row_no"] + table.columns.map(\.name)
        func statement(rows: Int) throws -> Statement {
            let tuple = "(" + Array(repeating: "?", count: names.count).joined(separator: ", ") + ")"
            return try db.makeStatement(sql: "INSERT INTO \(StoreSchema.quoted(table.name)) ("
                + names.map(StoreSchema.quoted).joined(separator: ", ") + ") VALUES "
                + Array(repeating: tuple, count: rows).joined(separator: ", "))
        }
        let full = try statement(rows: rowsPerInsert)
        var cells: [Cell] = []
        var first = 0
        while first < table.rowCount {
            let count = min(rowsPerInsert, table.rowCount - first)
            let batch = count == rowsPerInsert ? full : try statement(rows: count)
            let handle = batch.sqliteStatement
            sqlite3_reset(handle)
            for (slot, row) in (first ..< first + count).enumerated() {
                table.cells(ofRow: row, into: &cells)
                let base = Int32(slot * names.count)
                sqlite3_bind_int64(handle, base + 1, id)
                sqlite3_bind_int64(handle, base + 2, Int64(row))
                for (c, cell) in cells.enumerated() { bind(cell, at: base + Int32(c + 3), handle) }
            }
            let code = sqlite3_step(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            sqlite3_reset(handle)
            first += count
        }
    }

    static func insertMarket(_ run: RunRecord, id: Int64, db: Database) throws {
        let assets = try db.makeStatement(sql: "INSERT INTO run_assets (run_id, asset_no, asset, price, in_universe) VALUES (?, ?, ?, ?, ?)")
        for (i, ticker) in run.tickers.enumerated() {
            try execute(assets, [.integer(Int(id)), .integer(i), .text(ticker), .real(run.prices[i]),
                                 .integer(run.inUniverse[i] ? 1 : 0)])
        }
        let covariance = try db.makeStatement(sql: "INSERT INTO run_covariance (run_id, size, matrix) VALUES (?, ?, ?)")
        try execute(covariance, [.integer(Int(id)), .integer(run.tickers.count), .blob(run.covarianceBytes)])
    }

    static func execute(_ statement: Statement, _ values: [StoreValue]) throws {
        try statement.execute(arguments: StatementArguments(values.map(\.databaseValue)))
    }

    /// Binds a report cell: NaN and empty cells are NULL.
    static func bind(_ cell: Cell, at index: Int32, _ handle: SQLiteStatement) {
        switch cell {
        case .number(let x): if x.isNaN { sqlite3_bind_null(handle, index) } else { sqlite3_bind_double(handle, index, x) }
        case .integer(let n): sqlite3_bind_int64(handle, index, Int64(n))
        case .text(let s): bindText(s, at: index, handle)
        case .empty: sqlite3_bind_null(handle, index)
        }
    }

    /// Binds `text` from its UTF-8 storage in place (passing the String itself would copy it into a new C string
    /// per cell: a third of the holdings table's time).
    static func bindText(_ text: String, at index: Int32, _ handle: SQLiteStatement) {
        let bound = text.utf8.withContiguousStorageIfAvailable { bytes in
            // The pointer is valid for the call; SQLITE_TRANSIENT makes SQLite copy the bytes before returning.
            bytes.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
        }
        if bound == nil { sqlite3_bind_text(handle, index, text, -1, sqliteTransient) }
    }

    /// SQLITE_TRANSIENT: SQLite copies the text before `sqlite3_bind_text` returns (the Swift string's C buffer
    /// lives only for the call).
    static let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}

extension StoreValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let n): return n.databaseValue
        case .real(let x): return x.isNaN ? .null : x.databaseValue
        case .text(let s): return s.databaseValue
        case .blob(let b): return Data(b).databaseValue
        case .null: return .null
        }
    }
}

// MARK: Reading

extension SQLiteStore {
    public func runs(book: String?) throws(StoreError) -> [StoredRun] {
        do {
            return try queue.read { db in
                let filter = book == nil ? "" : "WHERE book_name = ?"
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM runs \(filter) ORDER BY as_of, id",
                                            arguments: book.map { [$0] } ?? [])
                return rows.map(Self.storedRun)
            }
        } catch {
            throw .read(Self.reason(error))
        }
    }

    static func storedRun(_ row: Row) -> StoredRun {
        StoredRun(id: row["id"], bookName: row["book_name"], asOf: row["as_of"], storedAt: row["stored_at"],
                  engineVersion: row["engine_version"], accounts: row["account_count"],
                  collateral: row["collateral_usd"] ?? .nan, debt: row["debt_usd"] ?? .nan, hcv: row["hcv_usd"] ?? .nan,
                  varParam: row["var_param"] ?? .nan, varHist: row["var_hist"] ?? .nan, varMC: row["var_mc"] ?? .nan,
                  ok: row["accounts_ok"], marginCall: row["accounts_margin_call"],
                  liquidatable: row["accounts_liquidatable"])
    }

    public func snapshot(run id: Int64) throws(StoreError) -> RunSnapshot {
        let parts: (StoredRun, Double, [Row], Data?, [(String, String?, Double?)], [(String, String, Double)])
        do {
            parts = try queue.read { db in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]) else {
                    throw StoreError.notFound("no stored run has id \(id) (see ballast history)")
                }
                let assets = try Row.fetchAll(db, sql: "SELECT asset, price, in_universe FROM run_assets WHERE run_id = ? ORDER BY asset_no", arguments: [id])
                let matrix = try Data.fetchOne(db, sql: "SELECT matrix FROM run_covariance WHERE run_id = ?", arguments: [id])
                guard matrix != nil else { return (Self.storedRun(row), .nan, [], nil, [], []) }
                var accounts: [(String, String?, Double?)] = [], holdings: [(String, String, Double)] = []
                try Self.forEachRow(db, "SELECT account, status, var_param FROM accounts WHERE run_id = ? ORDER BY row_no", run: id) {
                    accounts.append((Self.text($0, 0) ?? "", Self.text($0, 1), Self.real($0, 2)))
                }
                try Self.forEachRow(db, "SELECT account, asset, quantity FROM holdings WHERE run_id = ? ORDER BY row_no", run: id) {
                    holdings.append((Self.text($0, 0) ?? "", Self.text($0, 1) ?? "", Self.real($0, 2) ?? 0))
                }
                return (Self.storedRun(row), row["var_per_sigma"] ?? .nan, assets, matrix, accounts, holdings)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .read(Self.reason(error))
        }
        let (run, varPerSigma, assets, matrix, accounts, holdings) = parts
        guard let matrix else {
            throw .notFound("run \(id) (\(run.asOf)) was stored by a version without the market data a comparison needs")
        }
        return try RunSnapshot.fromStore(run: run, varPerSigma: varPerSigma, tickers: assets.map { $0[0] },
                                         prices: assets.map { $0[1] }, inUniverse: assets.map { ($0[2] as Int) != 0 },
                                         covariance: [UInt8](matrix),
                                         accounts: accounts.map { (id: $0.0, status: $0.1, varParam: $0.2) },
                                         holdings: holdings.map { (account: $0.0, asset: $0.1, quantity: $0.2) })
    }

    /// Steps `sql` (one parameter: the run id), calling `body` with the statement at each row: the snapshot's
    /// bulk reads without a row object per row.
    static func forEachRow(_ db: Database, _ sql: String, run id: Int64, _ body: (SQLiteStatement) -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        sqlite3_bind_int64(handle, 1, id)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            body(handle)
        }
        sqlite3_reset(handle)
    }

    /// Column `i` of the current row as text, nil when NULL.
    static func text(_ handle: SQLiteStatement, _ i: Int32) -> String? {
        guard let bytes = sqlite3_column_text(handle, i) else { return nil }
        return String(cString: bytes)
    }

    /// Column `i` of the current row as a real number, nil when NULL.
    static func real(_ handle: SQLiteStatement, _ i: Int32) -> Double? {
        sqlite3_column_type(handle, i) == SQLITE_NULL ? nil : sqlite3_column_double(handle, i)
    }

    public func table(_ name: String, run id: Int64) throws(StoreError) -> StoredTable? {
        do {
            return try queue.read { db -> StoredTable? in
                guard try db.tableExists(name) else { return nil }
                let columns = try db.columns(in: name).map(\.name).filter { $0 != "run_id" && $0 != "row_no" }
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(StoreSchema.quoted(name)) WHERE run_id = ? ORDER BY row_no",
                                            arguments: [id])
                let runCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM runs WHERE id = ?", arguments: [id]) ?? 0
                guard runCount > 0 else { return nil }
                return StoredTable(columns: columns, rows: rows.map { row in columns.map { Self.cell(row[$0] as DatabaseValue) } })
            }
        } catch {
            throw .read(Self.reason(error))
        }
    }

    static func cell(_ value: DatabaseValue) -> Cell {
        switch value.storage {
        case .null: return .empty
        case .int64(let n): return .integer(Int(n))
        case .double(let x): return .number(x)
        case .string(let s): return .text(s)
        case .blob: return .empty
        }
    }
}
