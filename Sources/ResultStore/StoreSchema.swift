import RiskReport

/// The results store's tables, declared once for both databases (SQLite and PostgreSQL): the DDL of each schema
/// version, the column types of the report tables, and docs/STORE.md are all derived from these declarations.
///
/// Layout: `runs` holds one row per stored run (metadata, config, book figures); every CSV file of the report is a
/// table of the same name (`accounts`, `holdings`, `stress`, …) keyed by (`run_id`, `row_no`), whose other columns
/// are the file's columns as the writers declare them (`ColumnReference.files`) — added to the table by the first run
/// that writes them, so a new figure needs no migration; `run_assets` and `run_covariance` hold each run's as-of
/// prices and covariance matrix, which the attribution of changes between two runs needs.
public enum StoreSchema {
    /// A column's type in both databases.
    public enum ColumnType: String, Sendable {
        case integer, real, text, blob

        func sql(_ dialect: Dialect) -> String {
            switch (self, dialect) {
            case (.integer, _): return "BIGINT"
            case (.real, .sqlite): return "REAL"
            case (.real, .postgres): return "DOUBLE PRECISION"
            case (.text, _): return "TEXT"
            case (.blob, .sqlite): return "BLOB"
            case (.blob, .postgres): return "BYTEA"
            }
        }
    }

    public enum Dialect: Sendable { case sqlite, postgres }

    /// A column of a fixed table: name, type, meaning.
    public struct FixedColumn: Sendable {
        public let name: String
        public let type: ColumnType
        public let meaning: String
        init(_ name: String, _ type: ColumnType, _ meaning: String) {
            self.name = name
            self.type = type
            self.meaning = meaning
        }
    }

    /// A table whose columns are declared here (not derived from a report file).
    public struct FixedTable: Sendable {
        public let name: String
        public let meaning: String
        public let columns: [FixedColumn]
        /// SQL after the columns, e.g. `PRIMARY KEY (run_id, asset_no)`.
        let constraints: String
    }

    /// The newest schema version; a store is migrated to it when opened.
    public static let currentVersion = 2

    /// The columns of `runs`, in order (the id first).
    public static let runs = FixedTable(name: "runs", meaning: "one row per stored run", columns: [
        FixedColumn("id", .integer, "the run's id, increasing in the order runs were stored"),
        FixedColumn("book_name", .text, "the book's name (config book_name, by default the book folder's name)"),
        FixedColumn("as_of", .text, "the run's as-of date, YYYY-MM-DD"),
        FixedColumn("stored_at", .text, "when the run was stored, ISO 8601 UTC"),
        FixedColumn("engine_version", .text, "Ballast's version"),
        FixedColumn("account_count", .integer, "rows of accounts"),
        FixedColumn("holding_count", .integer, "holdings in the book (holdings.csv adds a row per asset an account only buys)"),
        FixedColumn("confidence", .real, "VaR/ES confidence α"),
        FixedColumn("horizon_days", .real, "risk horizon h, days"),
        FixedColumn("var_per_sigma", .real, "z·√h: parametric VaR per unit σ (USD per USD)"),
        FixedColumn("collateral_usd", .real, "book collateral C, USD"),
        FixedColumn("debt_usd", .real, "book debt D, USD"),
        FixedColumn("hcv_usd", .real, "book haircut-adjusted collateral value, USD"),
        FixedColumn("var_param", .real, "book parametric VaR, USD"),
        FixedColumn("var_hist", .real, "book historical VaR, USD"),
        FixedColumn("var_mc", .real, "book Monte Carlo VaR, USD"),
        FixedColumn("accounts_ok", .integer, "accounts with status ok"),
        FixedColumn("accounts_margin_call", .integer, "accounts with status margin_call"),
        FixedColumn("accounts_liquidatable", .integer, "accounts with status liquidatable"),
        FixedColumn("config_json", .text, "the effective configuration, JSON (the store URL's password redacted)"),
        FixedColumn("summary_json", .text, "the run's summary.json"),
    ], constraints: "")

    /// Each run's assets: as-of prices and risk universe.
    public static let runAssets = FixedTable(name: "run_assets", meaning: "one row per run and asset of assets.csv", columns: [
        FixedColumn("run_id", .integer, "the run (runs.id)"),
        FixedColumn("asset_no", .integer, "the asset's place in assets.csv, 0-based"),
        FixedColumn("asset", .text, "ticker"),
        FixedColumn("price", .real, "as-of price, USD per unit"),
        FixedColumn("in_universe", .integer, "1 when the asset is in the risk universe (it has rows in the covariance)"),
    ], constraints: "PRIMARY KEY (run_id, asset_no)")

    /// Each run's covariance matrix.
    public static let runCovariance = FixedTable(name: "run_covariance", meaning: "one row per run", columns: [
        FixedColumn("run_id", .integer, "the run (runs.id)"),
        FixedColumn("size", .integer, "n, the number of assets (run_assets rows)"),
        FixedColumn("matrix", .blob, "Σ of daily log returns, n × n row-major float64 little-endian, asset_no order; "
                    + "zero rows and columns outside the universe"),
    ], constraints: "PRIMARY KEY (run_id)")

    /// The report tables' key columns (before the file's own columns).
    public static let reportKeyColumns = [
        FixedColumn("run_id", .integer, "the run (runs.id)"),
        FixedColumn("row_no", .integer, "the row's place in the CSV file, 0-based"),
    ]

    /// The type of a report column, from its declared unit: whole numbers, text, or a real number.
    public static func columnType(unit: String) -> ColumnType {
        switch unit {
        case "count", "days", "rounds": return .integer
        case "text", "zone", "date": return .text
        default: return .real
        }
    }

    /// The SQL statements that take a store from `version − 1` to `version`.
    static func migration(to version: Int, dialect: Dialect) -> [String] {
        switch version {
        case 1:
            let id = dialect == .sqlite ? "id INTEGER PRIMARY KEY AUTOINCREMENT" : "id BIGSERIAL PRIMARY KEY"
            let runColumns = [id] + runs.columns.dropFirst().map { "\($0.name) \($0.type.sql(dialect))" }
            return ["CREATE TABLE runs (\(runColumns.joined(separator: ", ")))",
                    "CREATE INDEX runs_by_book ON runs (book_name, as_of, id)"]
        case 2:
            return [runAssets, runCovariance].map { create($0, dialect: dialect) }
        default:
            preconditionFailure("no migration to version \(version)")
        }
    }

    /// A report table with its key columns only (created by the first run that writes the file; the file's columns
    /// are added as runs declare them, `ALTER TABLE … ADD COLUMN`).
    /// In SQLite the table is clustered on its key (`WITHOUT ROWID`): a run's rows are appended in key order to one
    /// B-tree instead of a table and a separate key index.
    /// In PostgreSQL `run_id` has no foreign key: PostgreSQL checks one with a query per inserted row (3 of the 7 s of
    /// storing a run of 100,000 accounts), while a run's rows are only ever written with its `runs` row, in its
    /// transaction. Deleting a run there means deleting its rows from the report tables as well.
    static func createReportTable(_ name: String, dialect: Dialect = .postgres) -> String {
        let reference = dialect == .sqlite ? " REFERENCES runs (id) ON DELETE CASCADE" : ""
        return "CREATE TABLE IF NOT EXISTS \(quoted(name)) (run_id BIGINT NOT NULL\(reference), "
            + "row_no BIGINT NOT NULL, PRIMARY KEY (run_id, row_no))" + (dialect == .sqlite ? " WITHOUT ROWID" : "")
    }

    static func create(_ table: FixedTable, dialect: Dialect) -> String {
        var parts = table.columns.map { column in
            let reference = column.name == "run_id" ? " NOT NULL REFERENCES runs (id) ON DELETE CASCADE" : ""
            return "\(column.name) \(column.type.sql(dialect))\(reference)"
        }
        if !table.constraints.isEmpty { parts.append(table.constraints) }
        return "CREATE TABLE \(table.name) (\(parts.joined(separator: ", ")))"
    }

    /// `"name"` quoted as an SQL identifier (report column names are declared identifiers; quoted all the same).
    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
