import Foundation
import RiskInput
import RiskModel
import Testing

/// The `store` key: its URL forms, its errors, and the password that must never be shown.
@Suite struct StoreLocationTests {
    static let secret = "Pa55-w0rd_x9"

    @Test func sqlitePathsAreTakenVerbatim() throws {
        #expect(try StoreLocation(parsing: "sqlite:/var/lib/ballast/runs.db") == .sqlite(path: "/var/lib/ballast/runs.db"))
        #expect(try StoreLocation(parsing: "sqlite:runs.db") == .sqlite(path: "runs.db"))
        #expect(try StoreLocation(parsing: "SQLite:a b/c.db") == .sqlite(path: "a b/c.db"))
        #expect(try StoreLocation(parsing: "sqlite:runs.db").redacted == "sqlite:runs.db")
    }

    @Test func postgresURLsParseIntoTheirParts() throws {
        #expect(try StoreLocation(parsing: "postgresql://risk:\(Self.secret)@db.internal:6543/ballast")
            == .postgres(host: "db.internal", port: 6543, user: "risk", password: Self.secret, database: "ballast"))
        #expect(try StoreLocation(parsing: "postgresql://risk@db.internal/ballast")
            == .postgres(host: "db.internal", port: 5432, user: "risk", password: nil, database: "ballast"))
        #expect(try StoreLocation(parsing: "postgresql://risk:@db/ballast")
            == .postgres(host: "db", port: 5432, user: "risk", password: nil, database: "ballast"))
        #expect(try StoreLocation(parsing: "postgresql://risk@[::1]:5433/ballast")
            == .postgres(host: "::1", port: 5433, user: "risk", password: nil, database: "ballast"))
    }

    @Test func postgresIsAnAliasAndThePortDefaultsTo5432() throws {
        let long = try StoreLocation(parsing: "postgresql://u:p@h/d")
        #expect(try StoreLocation(parsing: "postgres://u:p@h/d") == long)
        #expect(try StoreLocation(parsing: "POSTGRES://u:p@h/d") == long)
        #expect(try StoreLocation(parsing: "postgresql://u:p@h:5432/d") == long)
        guard case .postgres(_, let port, _, _, _) = long else { Issue.record("not postgres"); return }
        #expect(port == 5432 && StoreLocation.defaultPostgresPort == 5432)
    }

    @Test func percentEncodedPartsAreDecodedAndUnencodedSpecialsInThePasswordStillParse() throws {
        #expect(try StoreLocation(parsing: "postgresql://ops%40eu:p%3Aw%40rd@h/risk%2Ddb")
            == .postgres(host: "h", port: 5432, user: "ops@eu", password: "p:w@rd", database: "risk-db"))
        #expect(try StoreLocation(parsing: "postgresql://u:a/b@c:d@h/db")
            == .postgres(host: "h", port: 5432, user: "u", password: "a/b@c:d", database: "db"))
    }

    @Test(arguments: [
        "mysql://u:p@h/d", "sqlite", "sqlite:", "postgresql://", "postgresql://h/d", "postgresql://@h/d",
        "postgresql://u:p@/d", "postgresql://u:p@h", "postgresql://u:p@h/", "postgresql://u:p@h:0/d",
        "postgresql://u:p@h:65536/d", "postgresql://u:p@h:54x/d", "postgresql://u:p@h:/d", "postgresql://u:p@h/d?sslmode=require",
        "postgresql://u%zz:p@h/d", "http://example.com", "/var/lib/runs.db",
    ])
    func malformedLocationsAreRejected(_ text: String) {
        #expect(throws: StoreLocationError.self, "\(text)") { try StoreLocation(parsing: text) }
    }

    @Test func redactedMasksThePasswordAndParsesBack() throws {
        let location = try StoreLocation(parsing: "postgres://risk:\(Self.secret)@db.internal/ballast")
        #expect(location.redacted == "postgresql://risk:***@db.internal/ballast")
        #expect(try StoreLocation(parsing: "postgresql://risk:\(Self.secret)@db:6543/x").redacted == "postgresql://risk:***@db:6543/x")
        #expect(try StoreLocation(parsing: "postgresql://risk@db/x").redacted == "postgresql://risk@db/x")
        #expect(try StoreLocation(parsing: "postgresql://u@[::1]:5433/x").redacted == "postgresql://u@[::1]:5433/x")
        #expect(try StoreLocation(parsing: "postgresql://ops%40eu:p@h/risk%2Fdb").redacted == "postgresql://ops%40eu:***@h/risk%2Fdb")
        #expect(try StoreLocation(parsing: location.redacted)
            == .postgres(host: "db.internal", port: 5432, user: "risk", password: "***", database: "ballast"))
    }

    @Test func everyTextFormOfALocationHidesThePassword() throws {
        let location = try StoreLocation(parsing: "postgresql://risk:\(Self.secret)@db/ballast")
        var dumped = ""
        dump(location, to: &dumped)
        var config = RiskConfig()
        config.store = location
        var dumpedConfig = ""
        dump(config, to: &dumpedConfig)
        for text in ["\(location)", String(describing: location), String(reflecting: location), dumped,
                     String(describing: config), String(reflecting: config), dumpedConfig, "\(Optional(location) as Any)"] {
            #expect(!text.contains(Self.secret), "\(text)")
        }
    }

    @Test func redactingMasksUnparsableValuesToo() {
        #expect(StoreLocation.redacting("mysql://u:\(Self.secret)@h/d") == "mysql://u:***@h/d")
        #expect(StoreLocation.redacting("postgresql://u:\(Self.secret)@h:99999/d") == "postgresql://u:***@h:99999/d")
        #expect(StoreLocation.redacting("postgresql:u:\(Self.secret)@h/d") == "postgresql:u:***@h/d")
        #expect(StoreLocation.redacting("sqlite:/tmp/runs.db") == "sqlite:/tmp/runs.db")
        #expect(StoreLocation.redacting("postgresql://u@h/d") == "postgresql://u@h/d")
    }

    // MARK: the config key

    @Test func theKeySetsTheLocationAndRendersItRedacted() throws {
        var config = RiskConfig()
        #expect(config.store == nil)
        try config.set("store", to: " postgresql://risk:\(Self.secret)@db/ballast ")
        #expect(config.store == .postgres(host: "db", port: 5432, user: "risk", password: Self.secret, database: "ballast"))
        let rendered = config.effectiveEntries.first { $0.key == "store" }?.value
        #expect(rendered == .text("postgresql://risk:***@db/ballast"))
        for entry in config.effectiveEntries { #expect(!"\(entry.value)".contains(Self.secret), "\(entry.key)") }
        try config.set("store", to: "")
        #expect(config.store == nil)
        try config.set("store", to: "sqlite:runs.db")
        try config.set("store", to: "none")
        #expect(config.store == nil)
        #expect(RiskConfig().effectiveEntries.first { $0.key == "store" }?.value == .text(""))
    }

    @Test func configErrorsNameTheKeyAndTheFormsWithoutThePassword() {
        var config = RiskConfig()
        for bad in ["mysql://risk:\(Self.secret)@db/x", "postgresql://risk:\(Self.secret)@db:99999/x",
                    "postgresql://risk:\(Self.secret)@db"] {
            do throws(ConfigError) {
                try config.set("store", to: bad)
                Issue.record("\(bad) accepted")
            } catch {
                let text = error.description
                #expect(text.hasPrefix("store: \"") && text.contains("sqlite:PATH or postgresql://user[:password]@host[:port]/database"),
                        "\(text)")
                #expect(!text.contains(Self.secret), "\(text)")
                #expect(text.contains("risk:***@db"), "\(text)")
            }
        }
    }

    @Test func loadIssuesOfABadStoreOverrideHideThePassword() throws {
        let book = try TestBook()
        let issues = book.issues(overrides: ["store=postgresql://risk:\(Self.secret)@db:0/x"])
        #expect(issues.count == 1)
        #expect(issues.first?.hasPrefix("--set store=postgresql://risk:***@db:0/x: store: ") == true, "\(issues)")
        #expect(!issues.joined().contains(Self.secret))
        // An override that is not KEY=VALUE (a store URL pasted without its key) is masked too.
        let pasted = book.issues(overrides: ["postgresql://risk:\(Self.secret)@db/x"])
        #expect(pasted.count == 1 && !pasted.joined().contains(Self.secret), "\(pasted)")
    }

    @Test func theConfigFileReadsTheStoreAndItsErrorsHideThePassword() throws {
        let good = try TestBook(["config.yaml": "store: postgresql://risk:\(Self.secret)@db/ballast\nbook_name: eu\n"]).loaded()
        #expect(good.config.store == .postgres(host: "db", port: 5432, user: "risk", password: Self.secret, database: "ballast"))
        #expect(good.bookName == "eu")
        let bad = try TestBook(["config.yaml": "window: 2\nstore: mysql://risk:\(Self.secret)@db/ballast\n"]).issues()
        #expect(bad.count == 1 && bad.first?.hasPrefix("config.yaml:2: store: ") == true, "\(bad)")
        #expect(!bad.joined().contains(Self.secret))
    }
}
