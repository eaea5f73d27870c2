import Foundation
import RiskPipeline

/// docs/COLUMNS.md: every column of every CSV file a report holds, with its unit and meaning, rendered from the
/// writers' own column declarations (`Column`), so the document cannot describe other columns than the files have:
/// a test compares docs/COLUMNS.md with `markdown` and fails until the document is regenerated.
public enum ColumnReference {
    /// A column's declaration without its cell.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let unit: String
        public let meaning: String

        public init<Row>(_ column: Column<Row>) {
            name = column.name
            unit = column.unit
            meaning = column.meaning
        }
    }

    /// A CSV file of the report: its name, what a row is, its writer's columns for a run, and its rows as a table
    /// of cells (what the results store writes), both from the same column declarations.
    public struct File: Sendable {
        public let name: String
        public let rows: String
        public let columns: @Sendable (RunResult) -> [Entry]
        /// The run's rows under those columns; nil when the run does not write the file (e.g. `cascade=off`).
        public let table: @Sendable (RunResult) -> ReportTable?

        /// - Parameter rowList: the run's rows in file order (count and row i), nil when the file is not written.
        public init<Row>(_ name: String, rows: String, _ columns: @escaping @Sendable (RunResult) -> [Column<Row>],
                         rowList: @escaping @Sendable (RunResult) -> ReportTable.Rows<Row>?) {
            self.name = name
            self.rows = rows
            self.columns = { columns($0).map(Entry.init) }
            self.table = { r in rowList(r).map { ReportTable(name: name, columns: columns(r), rows: $0) } }
        }
    }

    /// Every CSV file a report holds, in the document's order: adding a file is one line.
    public static let files: [File] = [
        File("accounts.csv", rows: "one per account, in positions.csv order", { AccountColumns.columns($0) },
             rowList: { r in let order = r.accounts.inFileOrder; return .init(count: order.count) { order[$0] } }),
        File("holdings.csv", rows: "one per (account, asset) held, then per asset the account only buys",
             { HoldingColumns.columns($0) },
             rowList: { r in let index = HoldingColumns.rowIndex(r); return .init(count: index.account.count) { index[$0] } }),
        File("stress.csv", rows: "one per stress scenario: scenarios.csv, then the historical replays",
             { StressColumns.columns($0) }, rowList: { .init(indices: $0.stress.scenarios.count) }),
        File("cascade.csv", rows: "one per stress scenario, stress.csv's order (not written with cascade=off)",
             { CascadeColumns.columns($0) }, rowList: { $0.cascade.ran ? .init(indices: $0.cascade.scenarios.count) : nil }),
        File("cascade_assets.csv", rows: "one per scenario and asset its liquidations sold: cascade.csv's order, then assets.csv's",
             { CascadeAssetColumns.columns($0) }, rowList: { $0.cascade.ran ? .init(indices: $0.cascade.assets.count) : nil }),
        File("backtest.csv", rows: "one per backtest day, oldest first (only the header when the backtest is skipped)",
             { BacktestDayColumns.columns($0) }, rowList: { .init(indices: $0.backtest.days) }),
        File("changes.csv", rows: "one per account of this run, in positions.csv order, then one per account closed since "
             + "the previous stored run of the book, in that run's order (written only when the results store holds one)",
             { ChangesColumns.columns($0) }, rowList: { r in r.changes.map { .init(indices: $0.accounts.count) } }),
    ]

    /// Every unit a column may declare, with what it means.
    public static let units: [(unit: String, meaning: String)] = [
        ("USD", "US dollars, at the as-of prices unless the column says otherwise"),
        ("USD/unit", "US dollars per unit of the asset"),
        ("asset units", "units of the asset, as the quantities of positions.csv"),
        ("fraction", "a share from 0 to 1 (not percent)"),
        ("ratio", "a quotient without unit (1.25 = 125 %)"),
        ("σ", "standard deviations of a move"),
        ("count", "a whole number of accounts"),
        ("days", "a whole number of days"),
        ("rounds", "a whole number of rounds of a liquidation cascade"),
        ("p-value", "the probability, under the test's hypothesis that the VaR is right, of a result at least this far "
            + "off: small values reject the VaR"),
        ("zone", "Basel traffic light: green, yellow or red"),
        ("date", "a day, YYYY-MM-DD"),
        ("text", "text: an id, a ticker, a status, a name"),
    ]

    /// The document: the units, then per file a table `| column | unit | meaning |`. The columns are those `r`'s
    /// writers declare; they depend on the run only through which per-account figures it computed.
    public static func markdown(_ r: RunResult) -> String {
        var lines = header
        lines += ["## Units", "", "| unit | meaning |", "| --- | --- |"]
        lines += units.map { "| \(cell($0.unit)) | \(cell($0.meaning)) |" }
        for file in files {
            lines += ["", "## \(file.name)", "", "Rows: \(file.rows).", "", "| column | unit | meaning |", "| --- | --- | --- |"]
            lines += file.columns(r).map { "| `\($0.name)` | \(cell($0.unit)) | \(cell($0.meaning)) |" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let header = [
        "# CSV columns",
        "",
        "<!-- Generated from the CSV writers' column declarations (ColumnReference, Sources/RiskReport/ColumnReference.swift). -->",
        "*Generated: do not edit. Every column of every CSV file a report holds, declared once with its unit and "
            + "meaning by the writer of the file (`Column` in `Sources/RiskReport/`); regenerate with "
            + "`BALLAST_REGENERATE_DOCS=1 swift test --filter ColumnReferenceTests` (the test fails while this file "
            + "differs).*",
        "",
        "Every figure is defined in [METHODOLOGY.md](METHODOLOGY.md), whose notation the meanings use: for an account, "
            + "e_i = quantity × as-of price of holding i (negative for debt), c_i = max(e_i, 0), d_i = max(−e_i, 0), "
            + "C = Σc_i, D = Σd_i, h_i its haircut, Σ the covariance of daily log returns, σ_P = √(eᵀΣe), "
            + "b_i = c_i·(1 − h_i) − liquidation_ratio·d_i, δ_i a scenario's shock, x the target collateral; "
            + "h = `horizon_days`, α = `confidence`, z = Φ⁻¹(α), φ the standard normal density, k the tail count of "
            + "the historical and Monte Carlo VaR. Losses are positive. An empty cell is a figure not defined for the "
            + "row; an account out of range has its figures empty.",
        "",
    ]

    /// A table cell: `|` escaped.
    public static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
