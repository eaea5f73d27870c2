import Foundation
import OutputFolder
import RiskModel
import RiskPipeline

/// The columns of changes.csv: one row per account of the run (positions.csv order), then per account closed since
/// the previous run (that run's order), with both runs' status and parametric VaR and the VaR change attributed to
/// prices, positions and the model (docs/METHODOLOGY.md, "Changes since the previous run"). Without a previous run
/// (`changes` nil) the columns read no rows.
public enum ChangesColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] { columns(r.changes) }

    public static func columns(_ changes: RunChanges?) -> [Column<Int>] {
        let rows = changes?.accounts ?? []
        return [
            Column("account", unit: "text", meaning: "the account id, as in accounts.csv") { .text(rows[$0].account) },
            Column("status_before", unit: "text",
                   meaning: "status in the previous run: ok, margin_call, liquidatable or out_of_range; empty for an "
                       + "account new since then") { status(rows[$0].statusBefore) },
            Column("status_after", unit: "text",
                   meaning: "status in this run: ok, margin_call, liquidatable or out_of_range; empty for an account "
                       + "closed since the previous run") { status(rows[$0].statusAfter) },
            Column("var_param_before", unit: "USD",
                   meaning: "var_param in the previous run: V_A; 0 for a new account, empty when out of range") {
                .number(rows[$0].varBefore)
            },
            Column("var_param_after", unit: "USD",
                   meaning: "var_param in this run: V_B; 0 for a closed account, empty when out of range") {
                .number(rows[$0].varAfter)
            },
            Column("d_var_price", unit: "USD",
                   meaning: "VaR change from prices: V(q_A, p_B, Σ_A) − V_A, the previous holdings and model at this "
                       + "run's prices (V(q, p, Σ): var_param of quantities q at prices p under Σ; A the previous run, B "
                       + "this one); empty when out of range in either run") { .number(rows[$0].attribution.price) },
            Column("d_var_position", unit: "USD",
                   meaning: "VaR change from positions: V(q_B, p_B, Σ_A) − V(q_A, p_B, Σ_A), this run's holdings "
                       + "against the previous ones under the previous model; empty when out of range in either run") {
                .number(rows[$0].attribution.position)
            },
            Column("d_var_model", unit: "USD",
                   meaning: "VaR change from the model: V_B − V(q_B, p_B, Σ_A) (covariance, risk universe, confidence, "
                       + "horizon); the three parts sum to V_B − V_A; empty when out of range in either run") {
                .number(rows[$0].attribution.model)
            },
        ]
    }

    /// A status cell: its name, empty for an account not in that run.
    static func status(_ s: ChangeStatus) -> Cell { s == .none ? .empty : .text(s.name) }

    /// changes.csv in memory.
    public static func render(_ changes: RunChanges) -> [UInt8] {
        CSVWriter.render(columns: columns(changes), rows: changes.accounts.indices)
    }

    /// Streams changes.csv to `sink`, rendered on `workers` threads (same bytes as `render`).
    public static func write(_ changes: RunChanges, workers: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try CSVWriter.stream(columns: { columns(changes) }, count: changes.accounts.count, row: { $0 }, workers: workers,
                             to: sink)
    }
}

extension SummaryReport {
    /// summary.json `changes`: the runs compared, the accounts new, closed and newly in breach, the status
    /// transitions (before → after → count), the book's VaR change and its attribution, and the largest VaR
    /// increases (changes.csv's columns, empty cells null).
    public static func changesJSON(_ c: RunChanges) -> JSONValue {
        let statuses = ChangeStatus.allCases, columns = ChangesColumns.columns(c)
        return .object([
            ("before", runJSON(c.before)),
            ("after", runJSON(c.after)),
            ("accounts", .integer(c.accounts.count)),
            ("new_accounts", .integer(c.newAccounts)),
            ("closed_accounts", .integer(c.closedAccounts)),
            ("newly_margin_call", .integer(c.newlyMarginCall)),
            ("newly_liquidatable", .integer(c.newlyLiquidatable)),
            ("transitions", .object(statuses.map { before in
                (before.name, .object(statuses.map { after in (after.name, .integer(c.transitions[before, after])) }))
            })),
            ("book", .object([
                ("var_param_before", .finite(c.book.varBefore)),
                ("var_param_after", .finite(c.book.varAfter)),
                ("d_var_price", .finite(c.book.attribution.price)),
                ("d_var_position", .finite(c.book.attribution.position)),
                ("d_var_model", .finite(c.book.attribution.model)),
            ])),
            ("largest_increases", .array(c.largestIncreases.map { row in
                .object(columns.map { ($0.name, json($0.cell(row))) })
            })),
        ])
    }

    static func runJSON(_ run: RunChanges.RunInfo) -> JSONValue {
        .object([
            ("run_id", run.runID.map { .integer(Int($0)) } ?? .null),
            ("book_name", .string(run.bookName)),
            ("as_of", .string(run.asOf)),
        ])
    }
}

/// `ballast diff`: the changes between two stored runs as a folder of their own — changes.csv, changes.json (the
/// summary's `changes` object) and changes.html (a page with just the report's "Changes since the previous run"
/// section) — written atomically like a report (`ReportFolder`).
public enum ChangesReportWriter {
    public static let files = ["changes.csv", "changes.json", "changes.html"]

    public static func write(_ changes: RunChanges, to destination: URL, workers: Int = 1) throws(ReportWriter.Failure) {
        let folder: ReportFolder
        do { folder = try ReportFolder(destination: destination) } catch { throw .folder(error) }
        do throws(ReportFolder.Failure) {
            try folder.stream(to: "changes.csv") { write in try ChangesColumns.write(changes, workers: workers, to: write) }
            try folder.write(SummaryReport.changesJSON(changes).rendered(), to: "changes.json")
            try folder.write(HTMLReport.renderChanges(changes), to: "changes.html")
            try folder.commit()
        } catch {
            folder.discard()
            throw .folder(error)
        }
    }
}
