import Dispatch
import Foundation
import RiskPipeline
import RiskReport
import Testing

/// docs/COLUMNS.md is what the writers' column declarations render (`ColumnReference.markdown`), and it lists every
/// column of every CSV file a run of the sample book writes, in the files' order. With BALLAST_REGENERATE_DOCS=1 the
/// test rewrites the document instead of failing.
@Suite(.serialized) struct ColumnReferenceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let document = root.appendingPathComponent("docs/COLUMNS.md")

    /// One run of Data/sample and the report folder it wrote.
    static let sample: (result: RunResult, report: URL) = {
        let result = try! RiskPipeline.run(RunOptions(bookDirectory: root.appendingPathComponent("Data/sample"), threads: 2))
        let report = try! CLI.temporaryDirectory("columns").appendingPathComponent("report")
        _ = try! ReportWriter.write(result, to: report, runStarted: DispatchTime.now())
        return (result, report)
    }()

    @Test func theDocumentIsWhatTheDeclarationsRender() throws {
        let rendered = ColumnReference.markdown(Self.sample.result)
        if ProcessInfo.processInfo.environment["BALLAST_REGENERATE_DOCS"] == "1" {
            try Data(rendered.utf8).write(to: Self.document)
        }
        let written = try String(contentsOf: Self.document, encoding: .utf8)
        let (old, new) = (written.components(separatedBy: "\n"), rendered.components(separatedBy: "\n"))
        let first = (0 ..< min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
        let same = written == rendered
        #expect(same, """
            docs/COLUMNS.md differs from the column declarations at line \(first + 1):
              document:  \(first < old.count ? old[first] : "(end)")
              generated: \(first < new.count ? new[first] : "(end)")
            regenerate it: BALLAST_REGENERATE_DOCS=1 swift test --filter ColumnReferenceTests
            """)
    }

    /// The document's tables: per `## FILE` section, its column names in order.
    static func documentedColumns() throws -> [String: [String]] {
        var tables: [String: [String]] = [:]
        var file: String?
        for line in try String(contentsOf: document, encoding: .utf8).components(separatedBy: "\n") {
            if line.hasPrefix("## ") { file = String(line.dropFirst(3)) }
            guard let file, line.hasPrefix("| `") else { continue }
            let name = line.dropFirst(3).prefix { $0 != "`" }
            tables[file, default: []].append(String(name))
        }
        return tables
    }

    @Test func everyCSVFileOfTheReportHasItsHeaderInTheDocument() throws {
        let documented = try Self.documentedColumns()
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sample.report.path).filter { $0.hasSuffix(".csv") }
        #expect(Set(["accounts.csv", "holdings.csv", "stress.csv", "backtest.csv"]).isSubset(of: files), "\(files)")
        for file in files {
            let text = try String(contentsOf: Self.sample.report.appendingPathComponent(file), encoding: .utf8)
            let header = text.prefix { $0 != "\n" }.components(separatedBy: ",")
            #expect(documented[file] == header, "\(file): header \(header), documented \(documented[file] ?? [])")
        }
    }

    @Test func everyColumnDeclaresAKnownUnitAndAOneLineMeaning() {
        let units = Set(ColumnReference.units.map(\.unit))
        #expect(units.count == ColumnReference.units.count)
        for file in ColumnReference.files {
            let columns = file.columns(Self.sample.result)
            #expect(Set(columns.map(\.name)).count == columns.count, "\(file.name): a column is declared twice")
            for column in columns {
                #expect(units.contains(column.unit), "\(file.name) \(column.name): unit \(column.unit) is not in ColumnReference.units")
                #expect(!column.meaning.isEmpty && !column.meaning.contains("\n"), "\(file.name) \(column.name)")
            }
        }
    }

    /// The run's per-account figures (the backtest's) close accounts.csv, each under its own declaration.
    @Test func theFigureColumnsCloseAccountsCSVUnderTheirDeclarations() throws {
        let figures = Self.sample.result.accountFigures.columns
        #expect(figures.contains(BacktestColumns.zone("hist")))
        let accounts = try #require(ColumnReference.files.first { $0.name == "accounts.csv" }).columns(Self.sample.result)
        let tail = accounts.suffix(figures.count)
        #expect(tail.map(\.name) == figures.map(\.name))
        #expect(tail.map(\.unit) == figures.map(\.unit))
        #expect(tail.map(\.meaning) == figures.map(\.meaning))
    }
}
