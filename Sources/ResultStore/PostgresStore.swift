import Dispatch
import Foundation
import Logging
import PostgresNIO
import RiskModel
import RiskPipeline
import RiskReport
import Synchronization

/// The shared results store: one PostgreSQL database (`postgresql://user[:password]@host[:port]/database`), over
/// one PostgresNIO connection, migrated when opened. Report rows go in with `COPY … FROM STDIN` (text format, streamed
/// in 1 MB chunks), never one INSERT per row.
///
/// - Connection: plain TCP with TLS disabled, so the store is for a server on the same machine or on a trusted
///   network: rows and queries cross it unencrypted. With a password, have the server ask for SCRAM-SHA-256 (or MD5),
///   which never send the password itself. The connection runs on PostgresNIO's default event loop group
///   (`MultiThreadedEventLoopGroup.singleton`) and is reopened when the server closed it.
/// - Synchronous API over the async driver: each call runs its async work as a `Task` whose executor preference is
///   the store's own serial dispatch queue (not Swift's cooperative thread pool), and the calling thread waits on a
///   semaphore. The waiting thread can therefore be any thread — the CLI's main thread, a Dispatch worker or even a
///   thread of the cooperative pool — without starving the work it waits for. Calls on one store are serialized.
/// - Schema: `StoreSchema`'s migrations, each in one transaction recorded in `schema_version (version)`, under a
///   transaction-scoped advisory lock, so processes opening a new store at once migrate it once. The same lock, taken
///   shared by every write and exclusively by a write that must create a report table or add columns, keeps schema
///   changes from running beside other writes (PostgreSQL's `IF NOT EXISTS` is not safe against concurrent creators).
/// - Secrets: the password is kept only to (re)connect; error messages name `user@host:port/database`, and any text
///   from the server or the driver is scrubbed of the password before it is shown. The driver's own logging is off.
public final class PostgresStore: ResultStore, @unchecked Sendable {
    /// The size at which a COPY buffer is sent to the server.
    static let copyChunkBytes = 1 << 20
    /// The first key of the store's advisory lock (pg_advisory_xact_lock(int4, int4)): "Ball"; the second is the hash
    /// of the schema, so stores in different schemas of one database do not wait for each other.
    static let lockClass: Int32 = 0x4261_6C6C

    let configuration: PostgresConnection.Configuration
    /// `user@host:port/database`: how messages name the store (never with the password).
    let name: String
    let password: String?
    let logger = Logger(label: "ballast.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    let bridge: AsyncBridge
    /// The connection and whether `close()` was called, guarded by `lock`; `lock` is held for the whole of a call,
    /// so calls on one store run one at a time (one connection, one transaction at a time).
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var closed = false

    private static let connectionIDs = Atomic<Int>(0)

    /// Connects to the database (plain TCP, TLS disabled: a local or trusted server) and migrates it to the current
    /// schema.
    public convenience init(host: String, port: Int = 5432, user: String, password: String?,
                            database: String) throws(StoreError) {
        try self.init(host: host, port: port, user: user, password: password, database: database, schema: nil)
    }

    /// `schema`: when set, the store lives in that schema (created when missing, set as the connection's
    /// search_path) instead of the user's default one; `migrate: false` opens without migrating (tests).
    init(host: String, port: Int, user: String, password: String?, database: String, schema: String?,
         migrate: Bool = true) throws(StoreError) {
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: .disable)
        configuration.options.additionalStartupParameters = [("client_encoding", "UTF8"), ("application_name", "ballast")]
        if let schema {
            configuration.options.additionalStartupParameters.append(("options", "-c search_path=\(schema)"))
        }
        self.configuration = configuration
        self.password = password
        let shownHost = host.contains(":") ? "[\(host)]" : host
        name = "\(user)@\(shownHost):\(port)/\(database)"
        bridge = AsyncBridge(label: "ballast.store.postgres")
        if let schema {
            try perform(StoreError.open) { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(StoreSchema.quoted(schema))"),
                                               logger: self.logger)
            }
        }
        if migrate {
            try perform(StoreError.open) { connection in try await self.migrate(connection) }
        }
    }

    deinit {
        if !closed, let connection { connection.close().whenComplete { _ in } }
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        if let connection {
            _ = try? bridge.wait { try await connection.closeGracefully() }
        }
        connection = nil
    }

    // MARK: Running async work synchronously

    /// Runs `body` on the store's connection (opened, or reopened after the server closed it) and waits for it; a
    /// failure becomes `failure(reason)` unless it is already a `StoreError`.
    func perform<T: Sendable>(_ failure: (String) -> StoreError,
                              _ body: @escaping @Sendable (PostgresConnection) async throws -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw failure("the store was closed") }
        do {
            let current = connection
            let configuration = configuration, logger = logger
            let (value, used) = try bridge.wait { () async throws -> (T, PostgresConnection) in
                let connection: PostgresConnection
                if let current, !current.isClosed {
                    connection = current
                } else {
                    try? await current?.close()
                    connection = try await PostgresConnection.connect(
                        on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration,
                        id: Self.connectionIDs.add(1, ordering: .relaxed).newValue, logger: logger)
                }
                do {
                    return (try await body(connection), connection)
                } catch {
                    throw BridgeError(underlying: error, connection: connection)
                }
            }
            connection = used
            return value
        } catch let error as BridgeError {
            // The connection the call used (perhaps reopened by it) stays the store's; a closed one is reopened next time.
            connection = error.connection
            if let store = error.underlying as? StoreError { throw store }
            throw failure(reason(error.underlying))
        } catch {
            // Connecting failed.
            connection = nil
            throw failure(reason(error))
        }
    }

    /// Runs `sql` (one statement, no parameters) on the store's connection: for tests and tooling.
    func execute(_ sql: String) throws(StoreError) {
        try perform(StoreError.write) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger)
        }
    }

    /// The first column of `sql`'s rows as integers (NULL as nil): for tests and tooling.
    func integers(_ sql: String) throws(StoreError) -> [Int?] {
        try perform(StoreError.read) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger).collect().map { row in
                Self.cell(row.makeRandomAccess()[0]).int
            }
        }
    }

    /// One line for a driver or server error, with the password (if any) masked.
    func reason(_ error: any Error) -> String {
        var text: String
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let message = info[.message] {
                text = message
                if let detail = info[.detail] { text += " (\(detail))" }
                if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            } else {
                switch e.code {
                case .connectionError: text = "cannot connect"
                case .serverClosedConnection: text = "the server closed the connection"
                case .clientClosedConnection: text = "the connection was closed"
                case .authMechanismRequiresPassword: text = "the server asks for a password and the URL gives none"
                case .unsupportedAuthMechanism: text = "the server asks for an authentication method the client does not support"
                case .sslUnsupported: text = "the server does not support TLS"
                case .queryCancelled: text = "the query was cancelled"
                default: text = "PostgreSQL client error \(e.code)"
                }
                if let underlying = e.underlying { text += ": \(underlying)" }
            }
        } else if error is CancellationError {
            text = "cancelled"
        } else {
            text = "\(error)"
        }
        text = "\(name): " + text.replacingOccurrences(of: "\n", with: " ")
        if let password, !password.isEmpty { text = text.replacingOccurrences(of: password, with: StoreLocation.passwordMask) }
        return text
    }

    // MARK: Schema

    /// The advisory lock guarding the store's schema, for the transaction: exclusive to change it, shared to write.
    static func lockSchema(exclusive: Bool) -> PostgresQuery {
        PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock\(exclusive ? "" : "_shared")(\(lockClass), hashtext(current_schema()))")
    }

    /// Applies the missing migrations, each in one transaction under the exclusive schema lock.
    func migrate(_ connection: PostgresConnection) async throws {
        while true {
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query(Self.lockSchema(exclusive: true), logger: logger)
                let exists = try await Self.single(connection.query("SELECT to_regclass('schema_version') IS NOT NULL", logger: logger))
                if exists.bool != true {
                    try await connection.query("CREATE TABLE schema_version (version INTEGER NOT NULL)", logger: logger)
                }
                let version = try await Self.single(connection.query("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_version",
                                                                     logger: logger)).int ?? 0
                guard version < StoreSchema.currentVersion else {
                    try await connection.query("COMMIT", logger: logger)
                    return
                }
                for sql in StoreSchema.migration(to: version + 1, dialect: .postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                }
                try await connection.query("INSERT INTO schema_version (version) VALUES (\(version + 1))", logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    public func schemaVersion() throws(StoreError) -> Int {
        try perform(StoreError.read) { connection in
            try await Self.single(connection.query("SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_version",
                                                   logger: self.logger)).int ?? 0
        }
    }
}

// MARK: Writing

extension PostgresStore {
    public func write(_ run: RunRecord) throws(StoreError) -> Int64 {
        try perform(StoreError.write) { connection in
            try await connection.query("BEGIN", logger: self.logger)
            do {
                let id = try await self.writeRun(run, on: connection)
                try await connection.query("COMMIT", logger: self.logger)
                return id
            } catch {
                // Nothing of the run stays: the transaction is rolled back (or dies with the connection).
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    /// Everything of `run` inside the open transaction: the schema lock (exclusive when a report table or column is
    /// missing, which are then added first; shared otherwise, so that writes run side by side), the `runs` row, the
    /// report tables by COPY, the run's assets by COPY and its covariance.
    func writeRun(_ run: RunRecord, on connection: PostgresConnection) async throws -> Int64 {
        try await prepareTables(for: run, on: connection)
        let id = try await insertRunRow(run, on: connection)
        try await copyReportTables(run.tables, run: id, on: connection)
        try await copyMarket(run, id: id, on: connection)
        return Int64(id)
    }

    /// Takes the schema lock and adds the report tables and columns `run` declares that the store lacks.
    func prepareTables(for run: RunRecord, on connection: PostgresConnection) async throws {
        var missing: [(table: String, exists: Bool, columns: [ColumnReference.Entry])] = []
        for table in run.tables {
            let existing = try await columns(of: table.name, on: connection)
            let absent = table.columns.filter { !existing.contains($0.name) }
            if existing.isEmpty || !absent.isEmpty { missing.append((table.name, !existing.isEmpty, absent)) }
        }
        try await connection.query(Self.lockSchema(exclusive: !missing.isEmpty), logger: logger)
        // Holding the lock exclusively, no other write of this store is under way (each takes it before its first
        // row), so `IF NOT EXISTS` cannot race another creator.
        for table in missing where !table.exists {
            try await connection.query(PostgresQuery(unsafeSQL: StoreSchema.createReportTable(table.table, dialect: .postgres)), logger: logger)
        }
        for table in missing {
            for column in table.columns {
                let type = StoreSchema.columnType(unit: column.unit).sql(.postgres)
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(StoreSchema.quoted(table.table)) ADD COLUMN IF NOT EXISTS "
                    + "\(StoreSchema.quoted(column.name)) \(type)"), logger: logger)
            }
        }
    }

    /// The `runs` row; returns the run's id.
    func insertRunRow(_ run: RunRecord, on connection: PostgresConnection) async throws -> Int {
        let names = StoreSchema.runs.columns.dropFirst().map(\.name)
        var binds = PostgresBindings(capacity: names.count)
        for value in run.runValues { value.bind(into: &binds) }
        let insert = PostgresQuery(unsafeSQL: "INSERT INTO runs (\(names.joined(separator: ", "))) VALUES ("
            + (1 ... names.count).map { "$\($0)" }.joined(separator: ", ") + ") RETURNING id", binds: binds)
        guard let id = try await Self.single(connection.query(insert, logger: logger)).int else {
            throw StoreError.write("\(name): INSERT INTO runs returned no id")
        }
        return id
    }

    /// Every report table by COPY. The rows are formatted on a thread of their own, ahead of the COPYs that send
    /// them (at most `CopyFeed.aheadBytes`): formatting one table overlaps the server's parsing of the one before.
    func copyReportTables(_ tables: [ReportTable], run id: Int, on connection: PostgresConnection) async throws {
        let feed = CopyFeed()
        defer { feed.cancel() }
        feed.start { feed in
            var cells: [Cell] = []
            for table in tables {
                var out = CopyText()
                for row in 0 ..< table.rowCount {
                    table.cells(ofRow: row, into: &cells)
                    out.integer(id)
                    out.tab()
                    out.integer(row)
                    for cell in cells {
                        out.tab()
                        out.cell(cell)
                    }
                    out.newline()
                    if out.count >= Self.copyChunkBytes, !feed.put(out.take()) { return }
                }
                if out.count > 0, !feed.put(out.take()) { return }
                if !feed.put(nil) { return }
            }
        }
        for table in tables {
            try await connection.copyFrom(table: table.name, columns: ["run_id", "row_no"] + table.columns.map(\.name),
                                          logger: logger) { writer in
                while let chunk = try feed.next() { try await writer.write(chunk) }
            }
        }
    }

    /// The run's assets by COPY and its covariance as one bytea.
    func copyMarket(_ run: RunRecord, id: Int, on connection: PostgresConnection) async throws {
        try await connection.copyFrom(table: "run_assets", columns: ["run_id", "asset_no", "asset", "price", "in_universe"],
                                      logger: logger) { writer in
            var out = CopyText()
            for (i, ticker) in run.tickers.enumerated() {
                out.integer(id); out.tab()
                out.integer(i); out.tab()
                out.text(ticker); out.tab()
                out.real(run.prices[i]); out.tab()
                out.integer(run.inUniverse[i] ? 1 : 0)
                out.newline()
                if out.count >= Self.copyChunkBytes { try await writer.write(out.take()) }
            }
            if out.count > 0 { try await writer.write(out.take()) }
        }
        var binds = PostgresBindings(capacity: 3)
        binds.append(id)
        binds.append(run.tickers.count)
        binds.append(ByteBuffer(bytes: run.covarianceBytes))
        try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO run_covariance (run_id, size, matrix) VALUES ($1, $2, $3)",
                                                 binds: binds), logger: logger)
    }

    /// The columns of table `name` (in the search path), in order; empty when there is no such table.
    func columns(of name: String, on connection: PostgresConnection) async throws -> [String] {
        let rows = try await connection.query("""
            SELECT attname::TEXT FROM pg_attribute WHERE attrelid = to_regclass(\(StoreSchema.quoted(name)))
            AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """, logger: logger).collect()
        return rows.compactMap { row in Self.cell(row.makeRandomAccess()[0]).text }
    }
}

/// COPY's text format, row by row into a buffer: fields separated by tabs, rows by newlines, NULL as `\N`; in text,
/// backslash, tab, newline and carriage return escaped; doubles in shortest round-trip form (infinities as
/// `Infinity`/`-Infinity`, NaN as NULL).
struct CopyText {
    private(set) var buffer = ByteBufferAllocator().buffer(capacity: PostgresStore.copyChunkBytes + (64 << 10))

    var count: Int { buffer.readableBytes }
    /// The bytes so far (tests).
    var bytes: [UInt8] { Array(buffer.readableBytesView) }

    /// The bytes so far; the buffer starts again empty.
    mutating func take() -> ByteBuffer {
        let full = buffer
        buffer = ByteBufferAllocator().buffer(capacity: PostgresStore.copyChunkBytes + (64 << 10))
        return full
    }

    mutating func tab() { buffer.writeInteger(UInt8(9)) }
    mutating func newline() { buffer.writeInteger(UInt8(10)) }
    mutating func null() { buffer.writeStaticString("\\N") }

    mutating func cell(_ cell: Cell) {
        switch cell {
        case .number(let x): real(x)
        case .integer(let n): integer(n)
        case .text(let s): text(s)
        case .empty: null()
        }
    }

    mutating func real(_ x: Double) {
        if x.isNaN {
            null()
        } else if x.isInfinite {
            if x < 0 { buffer.writeStaticString("-Infinity") } else { buffer.writeStaticString("Infinity") }
        } else {
            buffer.writeString(x.description)
        }
    }

    mutating func integer(_ n: Int) {
        buffer.writeString(String(n))
    }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            if !bytes.contains(where: { $0 == 92 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                buffer.writeBytes(bytes)
                return
            }
            for b in bytes {
                switch b {
                case 92: buffer.writeStaticString("\\\\")
                case 9: buffer.writeStaticString("\\t")
                case 10: buffer.writeStaticString("\\n")
                case 13: buffer.writeStaticString("\\r")
                default: buffer.writeInteger(b)
                }
            }
        }
    }
}

/// COPY data made on a producer thread and sent by the writing task: a bounded queue of chunks, each table's ended by
/// nil. The producer waits while `aheadBytes` are queued; `cancel` (the write failed or finished) releases it.
final class CopyFeed: @unchecked Sendable {
    /// How far the formatting may run ahead of the sending.
    static let aheadBytes = 32 << 20

    private let condition = NSCondition()
    private var queue: [ByteBuffer?] = []
    private var queuedBytes = 0
    private var cancelled = false

    /// Runs `produce` on a new thread.
    func start(_ produce: @escaping @Sendable (CopyFeed) -> Void) {
        Thread.detachNewThread { produce(self) }
    }

    /// Queues a chunk (nil: the end of a table's data); false when the feed was cancelled (the producer stops).
    func put(_ chunk: ByteBuffer?) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && queuedBytes >= Self.aheadBytes { condition.wait() }
        guard !cancelled else { return false }
        queue.append(chunk)
        queuedBytes += chunk?.readableBytes ?? 0
        condition.broadcast()
        return true
    }

    /// The next chunk of the current table, nil at its end; waits for the producer.
    func next() throws -> ByteBuffer? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled && queue.isEmpty { condition.wait() }
        guard !cancelled else { throw CancellationError() }
        let chunk = queue.removeFirst()
        queuedBytes -= chunk?.readableBytes ?? 0
        condition.broadcast()
        return chunk
    }

    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

extension StoreValue {
    /// Binds the value (NaN as NULL, as SQLite stores it).
    func bind(into binds: inout PostgresBindings) {
        switch self {
        case .integer(let n): binds.append(n)
        case .real(let x): if x.isNaN { binds.appendNull() } else { binds.append(x) }
        case .text(let s): binds.append(s)
        case .blob(let b): binds.append(ByteBuffer(bytes: b))
        case .null: binds.appendNull()
        }
    }
}

// MARK: Reading

extension PostgresStore {
    public func runs(book: String?) throws(StoreError) -> [StoredRun] {
        try perform(StoreError.read) { connection in
            let query: PostgresQuery = book.map { "SELECT * FROM runs WHERE book_name = \($0) ORDER BY as_of, id" }
                ?? "SELECT * FROM runs ORDER BY as_of, id"
            return try await connection.query(query, logger: self.logger).collect().map(Self.storedRun)
        }
    }

    static func storedRun(_ row: PostgresRow) -> StoredRun {
        let row = row.makeRandomAccess()
        func value(_ column: String) -> Cell { cell(row[column]) }
        return StoredRun(id: Int64(value("id").int ?? 0), bookName: value("book_name").text ?? "",
                         asOf: value("as_of").text ?? "", storedAt: value("stored_at").text ?? "",
                         engineVersion: value("engine_version").text ?? "", accounts: value("account_count").int ?? 0,
                         collateral: value("collateral_usd").double ?? .nan, debt: value("debt_usd").double ?? .nan,
                         hcv: value("hcv_usd").double ?? .nan, varParam: value("var_param").double ?? .nan,
                         varHist: value("var_hist").double ?? .nan, varMC: value("var_mc").double ?? .nan,
                         ok: value("accounts_ok").int ?? 0, marginCall: value("accounts_margin_call").int ?? 0,
                         liquidatable: value("accounts_liquidatable").int ?? 0)
    }

    public func snapshot(run id: Int64) throws(StoreError) -> RunSnapshot {
        typealias Parts = (run: StoredRun, varPerSigma: Double, tickers: [String], prices: [Double], inUniverse: [Bool],
                           matrix: [UInt8]?, accounts: [(id: String, status: String?, varParam: Double?)],
                           holdings: [(account: String, asset: String, quantity: Double)])
        let parts: Parts = try perform(StoreError.read) { connection in
            try await self.readOnly(connection) { () async throws -> Parts in
                let logger = self.logger
                guard let row = try await connection.query("SELECT * FROM runs WHERE id = \(id)", logger: logger).collect().first else {
                    throw StoreError.notFound("no stored run has id \(id) (see ballast history)")
                }
                let assets = try await connection.query(
                    "SELECT asset, price, in_universe FROM run_assets WHERE run_id = \(id) ORDER BY asset_no",
                    logger: logger).collect().map { row in row.makeRandomAccess() }
                let matrix = try await connection.query("SELECT matrix FROM run_covariance WHERE run_id = \(id)",
                                                        logger: logger).collect().first.flatMap { row in
                    row.makeRandomAccess()[0].bytes.map { Array($0.readableBytesView) }
                }
                // Each column as one array (array_agg): decoding three arrays is ~10× faster than a row per account
                // or holding. NULL status → '' (out of range), NULL VaR → NaN, NULL quantity → 0.
                let (ids, statuses, vars) = try await Self.columnArrays(
                    "accounts", ["account", "COALESCE(status, '')", "COALESCE(var_param, 'NaN'::float8)"], run: id,
                    on: connection, logger: logger)
                let accounts = zip(ids, zip(statuses, vars)).map { id, rest in
                    (id: id, status: rest.0.isEmpty ? nil : rest.0, varParam: rest.1.isNaN ? nil : rest.1)
                }
                let (owners, assetNames, quantities) = try await Self.columnArrays(
                    "holdings", ["account", "asset", "COALESCE(quantity, 0)"], run: id, on: connection, logger: logger)
                let holdings = zip(owners, zip(assetNames, quantities)).map { owner, rest in
                    (account: owner, asset: rest.0, quantity: rest.1)
                }
                let runs = Self.storedRun(row)
                return (runs, Self.cell(row.makeRandomAccess()["var_per_sigma"]).double ?? .nan,
                        assets.map { Self.cell($0[0]).text ?? "" }, assets.map { Self.cell($0[1]).double ?? .nan },
                        assets.map { (Self.cell($0[2]).int ?? 0) != 0 }, matrix, accounts, holdings)
            }
        }
        guard let matrix = parts.matrix else {
            throw .notFound("run \(id) (\(parts.run.asOf)) was stored by a version without the market data a comparison needs")
        }
        return try RunSnapshot.fromStore(run: parts.run, varPerSigma: parts.varPerSigma, tickers: parts.tickers,
                                         prices: parts.prices, inUniverse: parts.inUniverse, covariance: matrix,
                                         accounts: parts.accounts, holdings: parts.holdings)
    }

    public func table(_ name: String, run id: Int64) throws(StoreError) -> StoredTable? {
        try perform(StoreError.read) { connection in
            try await self.readOnly(connection) { () async throws -> StoredTable? in
                let all = try await self.columns(of: name, on: connection)
                guard !all.isEmpty else { return nil }
                let runCount = try await Self.single(connection.query("SELECT count(*) FROM runs WHERE id = \(id)",
                                                                      logger: self.logger)).int ?? 0
                guard runCount > 0 else { return nil }
                let columns = all.filter { $0 != "run_id" && $0 != "row_no" }
                let list = columns.isEmpty ? "1" : columns.map(StoreSchema.quoted).joined(separator: ", ")
                var rows: [[Cell]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL:
                    "SELECT \(list) FROM \(StoreSchema.quoted(name)) WHERE run_id = \(id) ORDER BY row_no"), logger: self.logger) {
                    rows.append(columns.isEmpty ? [] : row.map(Self.cell))
                }
                return StoredTable(columns: columns, rows: rows)
            }
        }
    }

    /// `body` in a read-only repeatable-read transaction: every query sees the same committed runs.
    func readOnly<T>(_ connection: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        do {
            let value = try await body()
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The first cell of the first row (`.empty` when there is none).
    /// Three columns (text, text, double precision) of a report table of run `id`, each as one array in row order
    /// (`array_agg` over the rows read in key order: decoding three arrays is ~10× faster than a row object per
    /// row). The row numbers come along to check the order; an empty table gives empty arrays. (Concrete types: a
    /// parameter-pack version crashed the async task allocator.)
    static func columnArrays(_ table: String, _ expressions: [String], run id: Int64, chunkRows: Int = arrayChunkRows,
                             on connection: PostgresConnection,
                             logger: Logger) async throws -> (texts: [String], labels: [String], numbers: [Double]) {
        precondition(expressions.count == 3, "three columns: text, text, double precision")
        var texts: [String] = [], labels: [String] = [], numbers: [Double] = []
        var first = 0
        while true {
            let chunk = try await columnArrayChunk(table, expressions, run: id, rows: first ..< first + chunkRows,
                                                   on: connection, logger: logger)
            texts += chunk.texts
            labels += chunk.labels
            numbers += chunk.numbers
            guard chunk.texts.count == chunkRows else { return (texts, labels, numbers) }
            first += chunkRows
        }
    }

    /// Rows per `array_agg` query: one array of a million-account book's holdings held the server and the decoder
    /// on one huge value; chunks keep each array small and read in key order by the primary key.
    static let arrayChunkRows = 1 << 17

    /// Rows `rows` (row numbers) of the three columns; fewer rows at the end of the table.
    static func columnArrayChunk(_ table: String, _ expressions: [String], run id: Int64, rows: Range<Int>,
                                 on connection: PostgresConnection,
                                 logger: Logger) async throws -> (texts: [String], labels: [String], numbers: [Double]) {
        let aggregates = ["row_no", "c0", "c1", "c2"].map { "array_agg(\($0))" }
        let selected = (["row_no"] + expressions.enumerated().map { "\($1) AS c\($0)" }).joined(separator: ", ")
        let sql = "SELECT \(aggregates.joined(separator: ", ")) FROM (SELECT \(selected) FROM \(StoreSchema.quoted(table)) "
            + "WHERE run_id = \(id) AND row_no >= \(rows.lowerBound) AND row_no < \(rows.upperBound) ORDER BY row_no) AS t"
        var iterator = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).makeAsyncIterator()
        guard let row = try await iterator.next() else { throw StoreError.read("\(table) of run \(id): no row") }
        while try await iterator.next() != nil {}
        let (numbers, texts, labels, values) = try row.decode(([Int]?, [String]?, [String]?, [Double]?).self)
        let count = numbers?.count ?? 0
        guard numbers == nil || numbers == Array(rows.lowerBound ..< rows.lowerBound + count) else {
            throw StoreError.read("\(table) of run \(id): rows not read in order")
        }
        return (texts ?? [], labels ?? [], values ?? [])
    }

    static func single(_ rows: PostgresRowSequence) async throws -> Cell {
        var iterator = rows.makeAsyncIterator()
        guard let row = try await iterator.next() else { return .empty }
        while try await iterator.next() != nil {}
        let first = row.makeRandomAccess()
        return first.count > 0 ? cell(first[0]) : .empty
    }

    /// A column value as a report cell: DOUBLE PRECISION a number, BIGINT (and the other integers) an integer, TEXT
    /// text, NULL (and BYTEA) empty.
    static func cell(_ value: PostgresCell?) -> Cell {
        guard let value, var bytes = value.bytes else { return .empty }
        if value.format == .text {
            let text = bytes.readString(length: bytes.readableBytes) ?? ""
            switch value.dataType {
            case .int8, .int4, .int2: return Int(text).map(Cell.integer) ?? .text(text)
            case .float8, .float4: return Double(text).map(Cell.number) ?? .text(text)
            case .bytea: return .empty
            case .bool: return .integer(text == "t" ? 1 : 0)
            default: return .text(text)
            }
        }
        switch value.dataType {
        case .int8: return bytes.readInteger(as: Int64.self).map { .integer(Int($0)) } ?? .empty
        case .int4: return bytes.readInteger(as: Int32.self).map { .integer(Int($0)) } ?? .empty
        case .int2: return bytes.readInteger(as: Int16.self).map { .integer(Int($0)) } ?? .empty
        case .float8: return bytes.readInteger(as: UInt64.self).map { .number(Double(bitPattern: $0)) } ?? .empty
        case .float4: return bytes.readInteger(as: UInt32.self).map { .number(Double(Float(bitPattern: $0))) } ?? .empty
        case .bool: return bytes.readInteger(as: UInt8.self).map { .integer(Int($0)) } ?? .empty
        case .bytea: return .empty
        default: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        }
    }
}

extension Cell {
    var text: String? { if case .text(let s) = self { return s } else { return nil } }
    var int: Int? { if case .integer(let n) = self { return n } else { return nil } }
    var bool: Bool? { int.map { $0 != 0 } }
    /// A number, or an integer as a number; nil when NULL.
    var double: Double? {
        switch self {
        case .number(let x): return x
        case .integer(let n): return Double(n)
        default: return nil
        }
    }
}

// MARK: The bridge from synchronous calls to async work

/// A failure of the bridged work, with the connection it was using.
struct BridgeError: Error {
    let underlying: any Error
    let connection: PostgresConnection?
}

/// Runs async work for synchronous callers: a `TaskExecutor` on its own serial dispatch queue (a thread outside the
/// cooperative pool), and `wait`, which starts a task preferring it and blocks the caller on a semaphore until the task
/// is done. Because the task's jobs never need a cooperative thread, blocking one (or the main thread) cannot stall them.
final class AsyncBridge: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `body` and waits for its result. Not to be called from the bridge's own queue (it would wait for itself).
    func wait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        dispatchPrecondition(condition: .notOnQueue(queue))
        let slot = ResultSlot<T>()
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: self) {
            do { slot.result = .success(try await body()) } catch { slot.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try slot.result!.get()
    }
}

/// The task's result, written by the task before it signals and read by the waiter after.
private final class ResultSlot<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
