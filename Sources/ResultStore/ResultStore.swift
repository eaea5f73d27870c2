import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import RiskPipeline
import RiskReport

/// A results store: every stored run of every book, in SQLite (`SQLiteStore`) or PostgreSQL (`PostgresStore`).
/// A run is written whole in one transaction or not at all.
public protocol ResultStore: AnyObject {
    /// Writes `run` in one transaction; returns its id.
    func write(_ run: RunRecord) throws(StoreError) -> Int64
    /// The stored runs of `book` (every book when nil), by as-of date then id.
    func runs(book: String?) throws(StoreError) -> [StoredRun]
    /// What comparing run `id` with another needs (accounts, quantities, market).
    func snapshot(run id: Int64) throws(StoreError) -> RunSnapshot
    /// A report table of run `id` read back (`accounts`, `holdings`…): its columns in declaration order and its
    /// rows in file order; nil when the run did not write it.
    func table(_ name: String, run id: Int64) throws(StoreError) -> StoredTable?
    /// The schema version the store is at.
    func schemaVersion() throws(StoreError) -> Int
    func close()
}

/// A report table as stored: column names and rows of cells (NULL read as empty).
public struct StoredTable: Sendable {
    public let columns: [String]
    public let rows: [[Cell]]
}

/// Why the store could not be opened, written or read. Messages never hold a password.
public enum StoreError: Error, CustomStringConvertible {
    case open(String)
    case write(String)
    case read(String)
    /// A run id or book with no stored run, or too few runs for a comparison.
    case notFound(String)

    public var description: String {
        switch self {
        case .open(let m): return "results store: cannot open: \(m)"
        case .write(let m): return "results store: the run was not stored (nothing of it is in the store): \(m)"
        case .read(let m): return "results store: cannot read: \(m)"
        case .notFound(let m): return "results store: \(m)"
        }
    }
}

/// Everything a run writes to the store: its `runs` row, its report tables and its market.
public struct RunRecord: Sendable {
    public var run: StoredRun
    public var holdingCount: Int
    public var confidence: Double
    public var horizonDays: Double
    public var varPerSigma: Double
    public var configJSON: String
    public var summaryJSON: String
    /// Every report file the run wrote, as tables of cells under the declared columns.
    public var tables: [ReportTable]
    public var tickers: [String]
    public var prices: [Double]
    public var inUniverse: [Bool]
    public var covariance: Matrix

    /// The record of a run's result; `summaryJSON` is the summary.json its report holds.
    public init(_ r: RunResult, bookName: String, summaryJSON: String, configJSON: String, storedAt: Date = Date()) {
        let figures = r.bookFigures.totals
        run = StoredRun(id: 0, bookName: bookName, asOf: r.asOfDate, storedAt: Self.timestamp(storedAt),
                        engineVersion: EngineVersion.current, accounts: r.book.accountCount,
                        collateral: figures.collateral, debt: figures.debt, hcv: figures.hcv,
                        varParam: r.parametric.bookValueAtRisk, varHist: r.historical.bookValueAtRisk,
                        varMC: r.monteCarlo.bookValueAtRisk, ok: figures.count(.ok),
                        marginCall: figures.count(.marginCall), liquidatable: figures.count(.liquidatable))
        holdingCount = r.book.holdingCount
        confidence = r.config.confidence
        horizonDays = r.config.horizonDays
        varPerSigma = r.scale.varPerSigma
        self.configJSON = configJSON
        self.summaryJSON = summaryJSON
        tables = ReportTable.all(r)
        tickers = r.schedule.tickers
        prices = r.prices
        inUniverse = r.inUniverse
        covariance = r.covariance.matrix
    }

    /// ISO 8601 UTC, seconds.
    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// The `runs` row's values in `StoreSchema.runs` column order, without the id.
    var runValues: [StoreValue] {
        [.text(run.bookName), .text(run.asOf), .text(run.storedAt), .text(run.engineVersion), .integer(run.accounts),
         .integer(holdingCount), .real(confidence), .real(horizonDays), .real(varPerSigma), .real(run.collateral),
         .real(run.debt), .real(run.hcv), .real(run.varParam), .real(run.varHist), .real(run.varMC), .integer(run.ok),
         .integer(run.marginCall), .integer(run.liquidatable), .text(configJSON), .text(summaryJSON)]
    }

    /// The covariance as n × n float64 little-endian bytes, row-major.
    var covarianceBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(covariance.rows * covariance.columns * 8)
        for i in 0 ..< covariance.rows {
            for j in 0 ..< covariance.columns {
                withUnsafeBytes(of: covariance[i, j].bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
            }
        }
        return bytes
    }
}

/// A value bound to a statement.
enum StoreValue {
    case integer(Int)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

extension RunSnapshot {
    /// A stored run's snapshot from its `runs` row values, `run_assets`, `run_covariance` and the accounts and
    /// holdings tables (account, status, var_param; account, asset, quantity), rows in file order.
    static func fromStore(run: StoredRun, varPerSigma: Double, tickers: [String], prices: [Double], inUniverse: [Bool],
                          covariance: [UInt8], accounts: [(id: String, status: String?, varParam: Double?)],
                          holdings: [(account: String, asset: String, quantity: Double)]) throws(StoreError) -> RunSnapshot {
        let n = tickers.count
        guard covariance.count == n * n * 8 else {
            throw .read("run \(run.id): its covariance has \(covariance.count) bytes for \(n) assets")
        }
        var matrix = Matrix(rows: n, columns: n)
        for i in 0 ..< n {
            for j in 0 ..< n {
                var bits: UInt64 = 0
                for b in 0 ..< 8 { bits |= UInt64(covariance[(i * n + j) * 8 + b]) << (8 * b) }
                matrix[i, j] = Double(bitPattern: bits)
            }
        }
        let assetIndex = Dictionary(uniqueKeysWithValues: tickers.enumerated().map { ($1, Int32($0)) })
        // holdings.csv lists each account's rows together, accounts in accounts.csv's order: one forward scan.
        var starts = [0], assets: [Int32] = [], quantities: [Double] = []
        starts.reserveCapacity(accounts.count + 1)
        var account = 0
        for h in holdings where h.quantity != 0 {
            while account < accounts.count, accounts[account].id != h.account {
                starts.append(assets.count)
                account += 1
            }
            guard account < accounts.count, let asset = assetIndex[h.asset] else {
                throw .read("run \(run.id): holding \(h.account)/\(h.asset) is out of account order or matches no stored asset")
            }
            assets.append(asset)
            quantities.append(h.quantity)
        }
        while starts.count < accounts.count + 1 { starts.append(assets.count) }
        return RunSnapshot(runID: run.id, bookName: run.bookName, asOf: run.asOf, tickers: tickers, prices: prices,
                           inUniverse: inUniverse, covariance: matrix, varPerSigma: varPerSigma,
                           accountIDs: accounts.map(\.id), status: accounts.map { $0.status.flatMap(AccountStatus.init) },
                           varParam: accounts.map { $0.varParam ?? .nan }, holdingStart: starts, holdingAsset: assets,
                           holdingQuantity: quantities, bookVaR: run.varParam)
    }
}
