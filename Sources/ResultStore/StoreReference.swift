import RiskPipeline
import RiskReport

/// docs/STORE.md: the store's tables and columns, rendered from `StoreSchema` and the report's column declarations
/// (a test compares the document with `markdown` and fails until it is regenerated).
public enum StoreReference {
    /// The document; the report tables' columns are those `r`'s writers declare.
    public static func markdown(_ r: RunResult) -> String {
        var lines = header
        for table in [StoreSchema.runs, StoreSchema.runAssets, StoreSchema.runCovariance] {
            lines += ["", "## \(table.name)", "", "Rows: \(table.meaning).", "", "| column | type | meaning |",
                      "| --- | --- | --- |"]
            lines += table.columns.map { "| `\($0.name)` | \($0.type.rawValue) | \(ColumnReference.cell($0.meaning)) |" }
        }
        lines += ["", "## Report tables", "",
                  "One table per CSV file of the report, named as the file without `.csv`, keyed by (`run_id`, `row_no`); "
                    + "its other columns are the file's (meanings in [COLUMNS.md](COLUMNS.md)), typed by their unit: "
                    + "count, days and rounds as integer; text, zone and date as text; the others real. An empty CSV "
                    + "cell is NULL.", "",
                  "| table | columns |", "| --- | --- |"]
        lines += ColumnReference.files.map { file in
            "| `\(file.name.dropLast(4))` | " + (["run_id", "row_no"] + file.columns(r).map(\.name)).map { "`\($0)`" }
                .joined(separator: ", ") + " |"
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let header = [
        "# Results store",
        "",
        "<!-- Generated from the store's declarations (StoreSchema, Sources/ResultStore/StoreSchema.swift). -->",
        "*Generated: do not edit; regenerate with `BALLAST_REGENERATE_DOCS=1 swift test --filter StoreReferenceTests`.*",
        "",
        "`ballast run --store URL` writes each run, whole, in one transaction after its report is complete: "
            + "`sqlite:PATH` (one file, WAL mode; nothing to install) or `postgresql://user[:password]@host[:port]/database` "
            + "(a shared server; rows copied with COPY). The schema is versioned (`grdb_migrations` in SQLite, "
            + "`schema_version` in PostgreSQL) and migrated when a store is opened; version \(StoreSchema.currentVersion) "
            + "is current. A column a new Ballast declares is added to its table by the first run that writes it.",
        "",
        "Example: a book's parametric VaR by night, and one account's history:",
        "",
        "```sql",
        "SELECT as_of, var_param, accounts_liquidatable FROM runs WHERE book_name = 'sample' ORDER BY as_of, id;",
        "SELECT r.as_of, a.status, a.var_param FROM accounts a JOIN runs r ON r.id = a.run_id",
        "  WHERE a.account = 'ACC-000042' ORDER BY r.as_of;",
        "```",
    ]
}
