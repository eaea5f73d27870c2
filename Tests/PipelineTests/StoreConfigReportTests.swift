import BookGenerator
import Foundation
import RiskModel
import RiskPipeline
import RiskReport
import Testing

/// The `store` and `book_name` keys in a written report: the store's password appears in no file of the report, the
/// effective configuration shows the URL masked, and validates against docs/summary.schema.json's configuration.
@Suite(.serialized) struct StoreConfigReportTests {
    static let secret = "s3cr3t-Hunter2"

    @Test func thePasswordIsInNoFileOfTheReport() throws {
        let root = try CLI.temporaryDirectory("store-report")
        defer { try? FileManager.default.removeItem(at: root) }
        let book = root.appendingPathComponent("eu-book")
        _ = try BookGenerator.generate(BookSpec(accounts: 60, assets: 8, days: 420, seed: 3), into: book)
        let overrides = ["mc_paths=300", "window=250", "backtest_days=60",
                         "store=postgres://risk:\(Self.secret)@db.internal:6543/ballast", "book_name=EU nightly"]
        let result = try RiskPipeline.run(RunOptions(bookDirectory: book, overrides: overrides, threads: 2))
        #expect(result.config.store == .postgres(host: "db.internal", port: 6543, user: "risk", password: Self.secret,
                                                 database: "ballast"))
        #expect(result.input.bookName == "EU nightly")
        let out = root.appendingPathComponent("report")
        try ReportWriter.write(result, to: out, runStarted: .now())

        for file in try FileManager.default.contentsOfDirectory(atPath: out.path) {
            let bytes = try Data(contentsOf: out.appendingPathComponent(file))
            #expect(bytes.range(of: Data(Self.secret.utf8)) == nil, "\(file) holds the store's password")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json")))
            as! [String: Any]
        let config = try #require(summary["config"] as? [String: Any])
        #expect(config["store"] as? String == "postgresql://risk:***@db.internal:6543/ballast")
        #expect(config["book_name"] as? String == "EU nightly")
        #expect(config["as_of"] as? String == "")
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("postgresql://risk:***@db.internal:6543/ballast"))

        // The configuration validates against the schema's, and that schema refuses a store showing a password.
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: SummarySchemaTests.schemaURL)) as! [String: Any]
        let validator = MiniSchemaValidator(root: schema)
        let configSchema = try #require(((schema["properties"] as? [String: Any])?["config"]) as? [String: Any])
        #expect(validator.validate(config, against: configSchema) == [])
        var leaked = config
        leaked["store"] = "postgresql://risk:\(Self.secret)@db.internal:6543/ballast"
        #expect(validator.validate(leaked, against: configSchema).contains { $0.hasPrefix("$.store") })
    }

    @Test func theDefaultBookNameIsTheFolderName() throws {
        let root = try CLI.temporaryDirectory("store-name")
        defer { try? FileManager.default.removeItem(at: root) }
        let book = root.appendingPathComponent("nightly-book")
        _ = try BookGenerator.generate(BookSpec(accounts: 20, assets: 5, days: 300, seed: 4), into: book)
        let result = try RiskPipeline.run(RunOptions(bookDirectory: book, overrides: ["mc_paths=200", "window=200",
                                                                                       "backtest_days=0"], threads: 2))
        #expect(result.input.bookName == "nightly-book")
        #expect(result.config.store == nil && result.config.bookName == "")
    }
}
