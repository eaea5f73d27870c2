import Foundation
import RiskInput
import RiskModel
import Testing

@Suite struct ConfigTests {
    @Test func shippedDefaultsFileIsExactlyTheDefaults() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/ballast.default.yaml")
        let book = try TestBook()
        let loaded = try book.loaded(config: file)
        #expect(loaded.config == RiskConfig())
        #expect(loaded.inputFiles.last == file)
        // Every declared key is in the file, uncommented, with its declared meaning as the comment and its default
        // value as the declaration renders it.
        let text = try String(contentsOf: file, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let defaults = RiskConfig()
        for key in RiskConfig.declarations where key.name != "historical_scenarios" {
            let line = try #require(lines.first { $0.hasPrefix(key.name + ":") }, "missing \(key.name)")
            let parts = line.dropFirst(key.name.count + 1).components(separatedBy: "#")
            #expect(parts.count == 2 && parts[1].trimmingCharacters(in: .whitespaces) == key.meaning,
                    "\(key.name): comment differs from the declared meaning \"\(key.meaning)\"")
            var reparsed = RiskConfig()
            try key.apply(parts[0].trimmingCharacters(in: .whitespaces), to: &reparsed)
            #expect(key.render(reparsed) == key.render(defaults), "\(key.name): the file's value is not the default")
        }
        #expect(lines.contains("historical_scenarios:"))
    }

    @Test func bookDirectoryConfigIsUsedWhenNoneIsGiven() throws {
        let book = try TestBook(["config.yaml": "window: 250\ncovariance: sample\n"])
        let loaded = try book.loaded()
        #expect(loaded.config.window == 250)
        #expect(loaded.config.covariance == .sample)
        #expect(loaded.inputFiles.last?.lastPathComponent == "config.yaml")
    }

    @Test func overridesBeatTheFileAndApplyInOrder() throws {
        let book = try TestBook(["config.yaml": "window: 250\ncovariance: sample\nmc_paths: 500\n"])
        let loaded = try book.loaded(overrides: ["window=100", "mc_paths=20000", "window=120", "haircut_model = schedule"])
        var expected = RiskConfig()
        expected.window = 120
        expected.covariance = .sample
        expected.monteCarloPaths = 20000
        expected.haircutModel = .schedule
        #expect(loaded.config == expected)
    }

    @Test func explicitConfigFileWinsOverTheBookDirectoryOne() throws {
        let book = try TestBook(["config.yaml": "window: 250\n", "other.yaml": "window: 300\n"])
        let loaded = try book.loaded(config: book.url.appendingPathComponent("other.yaml"))
        #expect(loaded.config.window == 300)
    }

    @Test func replaysInTheFileReplaceTheDefaults() throws {
        let book = try TestBook(["config.yaml": """
            historical_scenarios:
              first: [2024-01-01, 2024-01-03]
              second: "2024-01-02..2024-01-03"
              third: {start: 2024-01-01, end: 2024-01-02}
              fourth:
                - 2023-12-01
                - 2023-12-31

            """])
        let loaded = try book.loaded()
        #expect(loaded.config.historicalScenarios == [
            HistoricalReplay(name: "first", startDate: "2024-01-01", endDate: "2024-01-03"),
            HistoricalReplay(name: "second", startDate: "2024-01-02", endDate: "2024-01-03"),
            HistoricalReplay(name: "third", startDate: "2024-01-01", endDate: "2024-01-02"),
            HistoricalReplay(name: "fourth", startDate: "2023-12-01", endDate: "2023-12-31"),
        ])
    }

    @Test func emptyOrNullReplaysMeanNone() throws {
        for text in ["historical_scenarios: {}\n", "historical_scenarios:\n", "historical_scenarios: none\n"] {
            let loaded = try TestBook(["config.yaml": text]).loaded()
            #expect(loaded.config.historicalScenarios.isEmpty, "\(text)")
        }
    }

    @Test func replayOverridesEditOneReplay() throws {
        let book = try TestBook()
        let loaded = try book.loaded(overrides: [
            "historical_scenarios.covid_crash=2020-03-12..2020-03-16",
            "historical_scenarios.china_ban=",
            "historical_scenarios.mine=2024-01-01..2024-01-03",
        ])
        #expect(loaded.config.historicalScenarios.map(\.name) == ["covid_crash", "luna_collapse", "ftx_collapse", "mine"])
        #expect(loaded.config.historicalScenarios[0] == HistoricalReplay(name: "covid_crash", startDate: "2020-03-12",
                                                                         endDate: "2020-03-16"))
        let cleared = try book.loaded(overrides: ["historical_scenarios=none", "historical_scenarios.only=2024-01-01..2024-01-02"])
        #expect(cleared.config.historicalScenarios.map(\.name) == ["only"])
    }

    @Test func badReplaysInTheFile() throws {
        let book = try TestBook(["config.yaml": """
            historical_scenarios:
              backwards: [2024-01-05, 2024-01-01]
              short: [2024-01-05]
              typo: 2024-13-01..2024-13-05
              first: [2024-01-01, 2024-01-02]
              first: [2024-01-01, 2024-01-03]

            """])
        #expect(book.issues() == [
            "config.yaml:2: historical_scenarios.backwards: \"2024-01-05..2024-01-01\" is not valid; expected a start date before the end date",
            "config.yaml:3: historical_scenarios.short: expected [START, END], \"START..END\" or {start: START, end: END}",
            "config.yaml:4: historical_scenarios.typo: \"2024-13-01..2024-13-05\" is not valid; expected two ISO dates yyyy-mm-dd",
            "config.yaml:6: historical_scenarios: duplicate scenario first (first on line 5)",
        ])
    }

    @Test func replaysOutsideThePriceHistoryAreNotAnError() throws {
        // The default replays (2020–2022) are not rows of the test prices (2024): the stress stage skips them.
        let loaded = try TestBook().loaded()
        #expect(loaded.config.historicalScenarios == RiskConfig.defaultReplays)
    }

    @Test func otherConfigFormatsAreIgnoredWithAWarning() throws {
        let book = try TestBook(["config.toml": "window = 3\n"])
        let loaded = try book.loaded()
        #expect(loaded.config == RiskConfig())
        #expect(loaded.warnings.map(book.strip) == ["config.toml: ignored; Ballast reads its configuration from config.yaml (YAML)"])
    }

    @Test func yamlTypingNeverChangesAValue() throws {
        // Raw scalar text goes to RiskConfig.set: quoted or not, `on`-style booleans and dates stay text.
        let loaded = try TestBook(["config.yaml": """
            settlement_asset: "USDC"
            allow_short_history: yes
            mc_seed: 0042
            ewma_lambda: .97
            historical_scenarios:
              a: ["2024-01-01", 2024-01-02]

            """]).loaded()
        #expect(loaded.config.settlementAsset == "USDC")
        #expect(loaded.config.allowShortHistory)
        #expect(loaded.config.monteCarloSeed == 42)
        #expect(loaded.config.ewmaLambda == 0.97)
        #expect(loaded.config.historicalScenarios == [HistoricalReplay(name: "a", startDate: "2024-01-01", endDate: "2024-01-02")])
        let empty = try TestBook(["config.yaml": "window:\nrebalance: ~\n"])
        #expect(empty.issues() == [
            "config.yaml:1: window: \"\" is not valid; expected a whole number of returns from 2 to 100000",
            "config.yaml:2: rebalance: \"~\" is not valid; expected one of none, breaching, all",
        ])
        // An empty file or a comment-only file means all defaults.
        #expect(try TestBook(["config.yaml": "# nothing here\n"]).loaded().config == RiskConfig())
        #expect(try TestBook(["config.yaml": ""]).loaded().config == RiskConfig())
    }
}
