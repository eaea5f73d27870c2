import BookGenerator
import Foundation
import RiskModel
import RiskPipeline
import RiskReport
import Sharding
import Testing

/// Sharded runs under non-default settings (issue 18): horizon_days 10 (every √h of the merge's book-level
/// recomputation), confidence 0.975 and the Ledoit–Wolf covariance. The merge must equal the whole run, and the
/// book's historical VaR/ES (recomputed by the merge) and the accounts' must equal `ReferenceModel`, the test's own
/// plain implementation — so a merge that drops √h (or any setting) shows even where whole run and merge agree.
@Suite(.serialized) struct ShardMergeSettingsTests {
    static let overrides = ["horizon_days=10", "confidence=0.975", "covariance=ledoit_wolf", "window=300", "mc_paths=1000"]

    static func settings() -> ReferenceModel.Settings {
        var s = ReferenceModel.Settings()
        s.covariance = "ledoit_wolf"
        s.horizon = 10
        s.confidence = 0.975
        s.z = 1.959963984540054   // Φ⁻¹(0.975), mpmath
        s.window = 300
        return s
    }

    static func close(_ value: Double?, _ expected: Double, scale: Double) -> Bool {
        guard let value else { return false }
        return abs(value - expected) <= 1e-9 * max(abs(value), abs(expected)) + 1e-12 * scale
    }

    @Test func mergeUnderHorizonConfidenceAndLedoitWolfEqualsWholeRunAndTheReference() throws {
        let root = try CLI.temporaryDirectory("shards-settings")
        defer { try? FileManager.default.removeItem(at: root) }
        // 300 accounts: three canonical units of 128 positions, so each of 3 shards has accounts.
        let book = root.appendingPathComponent("book")
        _ = try BookGenerator.generate(BookSpec(accounts: 300, assets: 12, days: 500, seed: 5, profile: .retail), into: book)
        func options(_ shard: ShardSpec? = nil) -> RunOptions {
            RunOptions(bookDirectory: book, overrides: Self.overrides, threads: 2, shard: shard)
        }
        let whole = root.appendingPathComponent("whole")
        let single = try RiskPipeline.run(options())
        try ReportWriter.write(single, to: whole, runStarted: .now())
        let parts = try (0 ..< 3).map { i in
            let part = root.appendingPathComponent("part-\(i)")
            let spec = ShardSpec(index: i, count: 3)!
            try ShardReport.write(try RiskPipeline.run(options(spec)), options: options(spec), to: part)
            return part
        }
        let merged = root.appendingPathComponent("merged")
        _ = try MergedReport.write(parts, to: merged, threads: 2)
        for file in ["accounts.csv", "holdings.csv", "stress.csv", "backtest.csv", "cascade.csv", "cascade_assets.csv"] {
            #expect(try Data(contentsOf: whole.appendingPathComponent(file)) == Data(contentsOf: merged.appendingPathComponent(file)),
                    "\(file) differs")
        }
        #expect(try ShardMergeTests.comparableSummary(whole.appendingPathComponent("summary.json"))
            == ShardMergeTests.comparableSummary(merged.appendingPathComponent("summary.json")), "summary.json differs")

        // Against the independent model: the book's and every account's historical VaR/ES (√10 and k = ⌈300·0.025⌉ = 8).
        let reference = try ReferenceModel(book: book, settings: Self.settings())
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: merged.appendingPathComponent("summary.json"))) as! [String: Any]
        let config = json["config"] as! [String: Any]
        #expect(config["horizon_days"] as? Double == 10 && config["confidence"] as? Double == 0.975
            && config["covariance"] as? String == "ledoit_wolf")
        let bookFigures = json["book"] as! [String: Any]
        #expect(Self.close(bookFigures["var_hist"] as? Double, reference.bookVarHist, scale: 1),
                "book var_hist \(bookFigures["var_hist"] ?? "-") vs \(reference.bookVarHist)")
        #expect(Self.close(bookFigures["es_hist"] as? Double, reference.bookEsHist, scale: 1),
                "book es_hist \(bookFigures["es_hist"] ?? "-") vs \(reference.bookEsHist)")
        let accounts = try SimpleCSV.records(merged.appendingPathComponent("accounts.csv"))
        #expect(accounts.count == 300 && reference.accounts.count == 300)
        for row in accounts {
            let id = row["account"]!
            let want = try #require(reference.accounts[id])
            let gross = want.collateral + want.debt
            #expect(Self.close(Double(row["var_hist"]!), want.varHist, scale: gross), "\(id)")
            #expect(Self.close(Double(row["es_hist"]!), want.esHist, scale: gross), "\(id)")
            #expect(Self.close(Double(row["var_param"]!), want.varParam, scale: gross), "\(id)")
        }
    }
}
