import BookGenerator
import Dispatch
import Foundation
import ResultStore
import RiskPipeline
import RiskReport
import TestSupport
import Testing

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

    /// Every CSV file of `report` equals, byte for byte, its table of run `id` read back from `store` and rendered
    /// by the report's CSV writer; returns the files' headers by file name.
    @discardableResult
    static func expectTablesReadBack(store: any ResultStore, run id: Int64, report: URL,
                                     result: RunResult) throws -> [String: (header: [String], stored: [String])] {
        let files = try FileManager.default.contentsOfDirectory(atPath: report.path).filter { $0.hasSuffix(".csv") }
        let written = Set(ColumnReference.files.map(\.name)).subtracting(result.changes == nil ? ["changes.csv"] : [])
        #expect(Set(files) == written)
        var headers: [String: (header: [String], stored: [String])] = [:]
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: report.appendingPathComponent(file)))
            let header = SimpleCSV.split(String(decoding: bytes.prefix { $0 != 10 }, as: UTF8.self))
            let table = try #require(try store.table(String(file.dropLast(4)), run: id), "\(file) stored")
            #expect(csv(columns: header, rows: select(table, columns: header)) == bytes, "\(file) read back from the store")
            headers[file] = (header, table.columns)
        }
        return headers
    }

    /// A stored table restricted to `columns` (the CSV file's header), in that order.
    static func select(_ table: StoredTable, columns: [String]) -> [[Cell]] {
        let positions = columns.map { name in table.columns.firstIndex(of: name) ?? -1 }
        return table.rows.map { row in positions.map { $0 >= 0 ? row[$0] : .empty } }
    }
}
