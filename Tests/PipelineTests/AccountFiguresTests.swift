import Foundation
import RiskModel
import RiskPipeline
import RiskReport
import Sharding
import Testing

/// A per-account figure added by declaring its column and computing it reaches accounts.csv, the part file and the
/// merge with no other code: the worked example of the result schema.
@Suite(.serialized) struct AccountFiguresTests {
    /// A made-up figure: twice the account's collateral, and a text and an integer column beside it.
    static let doubled = FigureColumn("doubled_collateral_usd", unit: "USD", meaning: "2 × collateral_usd (test only)")
    static let parity = FigureColumn("collateral_parity", unit: "text", meaning: "even or odd whole-dollar collateral")
    static let holdings = FigureColumn("holding_count", unit: "count", meaning: "holdings of the account")

    /// Computes the three figures for a run's accounts (canonical order), as a phase would.
    static func addFigures(_ r: inout RunResult) {
        let collateral = r.assessment.collateral
        r.accountFigures.set(doubled, .numbers(collateral.map { 2 * $0 }))
        r.accountFigures.set(parity, .texts(collateral.map { Int($0) % 2 == 0 ? "even" : "odd" }))
        r.accountFigures.set(holdings, .integers((0 ..< r.book.accountCount).map { a in
            let count = r.book.holdings(of: a).count
            return count == 1 ? nil : count  // one holding: an empty cell, to carry an empty integer through the merge
        }))
    }

    @Test func aDeclaredFigureIsWrittenAndSurvivesAShardedRun() throws {
        let (_, book) = ShardMergeTests.books[0]
        let root = try CLI.temporaryDirectory("figures")
        defer { try? FileManager.default.removeItem(at: root) }
        var whole = try RiskPipeline.run(ShardMergeTests.options(book))
        Self.addFigures(&whole)
        let wholeReport = root.appendingPathComponent("whole")
        try ReportWriter.write(whole, to: wholeReport, runStarted: .now())
        var parts: [URL] = []
        for i in 0 ..< 3 {
            let spec = ShardSpec(index: i, count: 3)!
            var shard = try RiskPipeline.run(ShardMergeTests.options(book, shard: spec))
            Self.addFigures(&shard)
            let part = root.appendingPathComponent("part-\(i)")
            try ShardReport.write(shard, options: ShardMergeTests.options(book, shard: spec), to: part)
            parts.append(part)
        }
        let merged = root.appendingPathComponent("merged")
        let result = try MergedReport.write(parts, to: merged, threads: 2)
        #expect(result.accountFigures == whole.accountFigures)
        let wholeCSV = try Data(contentsOf: wholeReport.appendingPathComponent("accounts.csv"))
        #expect(try Data(contentsOf: merged.appendingPathComponent("accounts.csv")) == wholeCSV)
        // The columns follow the fixed ones, with the values computed here (an independent plain loop).
        let rows = try SimpleCSV.records(wholeReport.appendingPathComponent("accounts.csv"))
        let header = try SimpleCSV.read(wholeReport.appendingPathComponent("accounts.csv")).header
        #expect(Array(header.suffix(3)) == ["doubled_collateral_usd", "collateral_parity", "holding_count"])
        for row in rows.prefix(200) {
            let collateral = try #require(Double(row["collateral_usd"]!))
            #expect(Double(row["doubled_collateral_usd"]!) == 2 * collateral)
            #expect(row["collateral_parity"] == (Int(collateral) % 2 == 0 ? "even" : "odd"))
        }
        let positions = try SimpleCSV.records(book.appendingPathComponent("positions.csv"))
        var assetsOf: [String: Set<String>] = [:]
        for p in positions { assetsOf[p["account"]!, default: []].insert(p["asset"]!) }
        for row in rows {
            let expected = assetsOf[row["account"]!]!.count
            #expect(row["holding_count"] == (expected == 1 ? "" : String(expected)))
        }
    }
}
