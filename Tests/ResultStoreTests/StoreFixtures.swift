import BookGenerator
import Dispatch
import Foundation
import ResultStore
import RiskPipeline
import RiskReport
import TestSupport

/// Small generated books, their runs and reports, for the store tests.
enum StoreFixtures {
    /// A generated retail book in a fresh folder named `name` (the book's name in the store).
    static func book(_ name: String, accounts: Int = 300, seed: UInt64 = 5) throws -> URL {
        let book = try CLI.temporaryDirectory("store-book").appendingPathComponent(name)
        _ = try BookGenerator.generate(BookSpec(accounts: accounts, assets: 12, days: 700, seed: seed, profile: .retail),
                                       into: book)
        return book
    }

    /// A whole run of `book` and its complete report folder.
    static func runAndReport(_ book: URL, overrides: [String] = []) throws -> (result: RunResult, report: URL) {
        let result = try RiskPipeline.run(RunOptions(bookDirectory: book, overrides: overrides, threads: 2))
        let report = try CLI.temporaryDirectory("store-report").appendingPathComponent("report")
        try ReportWriter.write(result, to: report, runStarted: DispatchTime.now())
        return (result, report)
    }

    /// A fresh SQLite store path.
    static func sqlitePath() throws -> String {
        try CLI.temporaryDirectory("store").appendingPathComponent("runs.sqlite").path
    }

    /// `cells` rendered as a CSV file under `columns` by the report's own CSV writer.
    static func csv(columns: [String], rows: [[Cell]]) -> [UInt8] {
        let declared = columns.indices.map { c in
            Column<[Cell]>(columns[c], unit: "", meaning: "") { $0[c] }
        }
        return CSVWriter.render(columns: declared, rows: rows)
    }

    /// A stored table restricted to `columns` (the CSV file's header), in that order.
    static func select(_ table: StoredTable, columns: [String]) -> [[Cell]] {
        let positions = columns.map { name in table.columns.firstIndex(of: name) ?? -1 }
        return table.rows.map { row in positions.map { $0 >= 0 ? row[$0] : .empty } }
    }
}
