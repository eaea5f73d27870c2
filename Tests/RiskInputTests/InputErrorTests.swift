import Foundation
import RiskInput
import RiskModel
import Testing

/// Every problem gives one exact, user-facing line.
@Suite struct InputErrorTests {
    // MARK: positions.csv

    @Test func badQuantity() throws {
        let book = try TestBook(["positions.csv": "account,asset,quantity\nA1,BTC,1\nA1,USDC,\"1,5e3\"\nA2,ETH,\nA3,ETH,1e400\n"])
        #expect(book.issues() == [
            "positions.csv:3: quantity \"1,5e3\" is not a number",
            "positions.csv:4: quantity is empty",
            "positions.csv:5: quantity \"1e400\" is out of range",
        ])
    }

    @Test func unknownAssetAndEmptyAccount() throws {
        let book = try TestBook(["positions.csv": "account,asset,quantity\nA1,XRP,1\n,BTC,1\nA2,btc,1\nA3,\"BT C\",1\n"])
        #expect(book.issues() == [
            "positions.csv:2: unknown asset XRP (not in assets.csv)",
            "positions.csv:3: account is empty",
            "positions.csv:4: unknown asset btc (not in assets.csv)",
            "positions.csv:5: unknown asset \"BT C\" (not in assets.csv)",
        ])
    }

    @Test func duplicateAndMissingColumns() throws {
        let book = try TestBook([
            "positions.csv": "account,asset,quantity,asset\nA1,BTC,1,BTC\n",
            "scenarios.csv": "scenario,asset\ncrash,BTC\n",
        ])
        #expect(book.issues() == [
            "positions.csv:1: duplicate column \"asset\" (columns 2 and 4)",
            "scenarios.csv:1: missing required column \"shock\" (the header has \"scenario\", \"asset\")",
        ])
    }

    @Test func wrongCellCountAndBlankLineInside() throws {
        let book = try TestBook(["positions.csv": "account,asset,quantity\nA1,BTC\nA1,BTC,1,2\n\nA2,ETH,1\n\n\n"])
        #expect(book.issues() == [
            "positions.csv:2: expected 3 cells, found 2",
            "positions.csv:3: expected 3 cells, found 4",
            "positions.csv:4: empty line; expected 3 cells",
        ])
    }

    @Test func lineNumbersCountPhysicalLinesOfQuotedCells() throws {
        let book = try TestBook(["positions.csv": "account,asset,quantity\n\"two\nlines\",XRP,1\nA2,XRP,1\n"])
        #expect(book.issues() == [
            "positions.csv:2: unknown asset XRP (not in assets.csv)",
            "positions.csv:4: unknown asset XRP (not in assets.csv)",
        ])
    }

    @Test func malformedQuotes() throws {
        let stray = try TestBook(["positions.csv": "account,asset,quantity\n\"A1\"x,BTC,1\nA2,BTC,1\n"])
        #expect(stray.issues() == ["positions.csv:2: unexpected text after the closing quote of cell 1"])
        let open = try TestBook(["positions.csv": "account,asset,quantity\nA1,BTC,1\n\"A2,BTC,1\nA3,BTC,1\n"])
        #expect(open.issues() == ["positions.csv:3: unterminated quoted cell (the quote opened here is never closed)"])
    }

    @Test func emptyPositions() throws {
        let headerOnly = try TestBook(["positions.csv": "account,asset,quantity\n"])
        #expect(headerOnly.issues() == ["positions.csv: no positions (the file has a header but no rows)"])
        let empty = try TestBook(["positions.csv": ""])
        #expect(empty.issues() == ["positions.csv: the file is empty; expected a header row"])
    }

    @Test func issuesAreCappedAtOneHundredPerFile() throws {
        var text = "account,asset,quantity\n"
        for i in 0 ..< 150 { text += "A\(i),BTC,x\n" }
        let book = try TestBook(["positions.csv": text])
        let issues = book.issues()
        #expect(issues.count == 101)
        #expect(issues[0] == "positions.csv:2: quantity \"x\" is not a number")
        #expect(issues[99] == "positions.csv:101: quantity \"x\" is not a number")
        #expect(issues[100] == "positions.csv: ... and 50 more problems in this file")
    }

    // MARK: files

    @Test func missingRequiredFiles() throws {
        let book = try TestBook(["prices.csv": nil, "positions.csv": nil])
        #expect(book.issues() == ["prices.csv: file not found", "positions.csv: file not found"])
    }

    @Test func missingBookDirectory() throws {
        let book = try TestBook()
        let gone = book.url.appendingPathComponent("nope")
        do {
            _ = try BookLoader.load(directory: gone, configFile: nil, overrides: [])
            Issue.record("expected a failure")
        } catch {
            #expect(error.issues.map { book.strip($0.description) } == ["nope: book directory not found"])
        }
    }

    @Test func notUTF8() throws {
        let book = try TestBook()
        try book.write("positions.csv", bytes: Array("account,asset,quantity\nA1,BTC,1\n".utf8) + [0x4D, 0xFC, 0x6C] + Array(",BTC,1\n".utf8))
        try book.write("scenarios.csv", bytes: [0xFF, 0xFE, 0x73, 0x00])
        #expect(book.issues() == [
            "positions.csv:3: not valid UTF-8: unexpected byte 0xFC; save the file as UTF-8",
            "scenarios.csv: the file is UTF-16 encoded; save it as UTF-8",
        ])
    }

    // MARK: prices.csv

    @Test func unsortedAndDuplicateDates() throws {
        let book = try TestBook(["prices.csv": """
            date,BTC,ETH,USDC
            2024-01-01,1,1,1
            2024-01-03,1,1,1
            2024-01-02,1,1,1
            2024-01-02,1,1,1
            2024-02-30,1,1,1
            2024-01-05,1,1,1

            """])
        #expect(book.issues() == [
            "prices.csv:4: date 2024-01-02 is not after the previous date 2024-01-03 (line 3); dates must be strictly ascending",
            "prices.csv:5: date 2024-01-02 repeats line 4; dates must be strictly ascending",
            "prices.csv:6: date \"2024-02-30\" is not a valid ISO date (yyyy-mm-dd)",
        ])
    }

    @Test func nonPositiveAndBadPrices() throws {
        let book = try TestBook(["prices.csv": """
            date,BTC,ETH,USDC,IGNORED
            2024-01-01,-41000,0,1,-5
            2024-01-02,abc,2000,inf,
            2024-01-03,1,1,1,1

            """])
        #expect(book.issues() == [
            "prices.csv:2: price \"-41000\" of BTC must be > 0",
            "prices.csv:2: price \"0\" of ETH must be > 0",
            "prices.csv:3: price \"abc\" of BTC is not a number",
            "prices.csv:3: price \"inf\" of USDC is not a number",
        ])
    }

    @Test func pricesHeaderProblems() throws {
        let book = try TestBook(["prices.csv": "day,BTC,ETH,,USDC,BTC\n2024-01-01,1,1,1,1,1\n"])
        #expect(book.issues() == [
            "prices.csv:1: the first column must be \"date\", found \"day\"",
            "prices.csv:1: column 4 has an empty ticker",
            "prices.csv:1: duplicate column \"BTC\" (columns 2 and 6)",
            "prices.csv: needs at least 2 price rows, found 1",
        ])
    }

    // MARK: assets.csv

    @Test func assetTermsOutOfRange() throws {
        let book = try TestBook(["assets.csv": """
            asset,haircut,eligible,max_weight,adv_usd,cost_bps
            BTC,1.2,true,0,0,-1
            ETH,,yes,1.5,,
            USDC,-0.1,,,x,
            BTC,0.1,,,,

            """])
        #expect(book.issues() == [
            "assets.csv:2: haircut \"1.2\" of BTC is out of range; expected 0 ≤ haircut < 1",
            "assets.csv:2: max_weight \"0\" of BTC is out of range; expected 0 < max_weight ≤ 1",
            "assets.csv:2: adv_usd \"0\" of BTC is out of range; expected > 0 (empty = unlimited)",
            "assets.csv:2: cost_bps \"-1\" of BTC is out of range; expected ≥ 0",
            "assets.csv:3: haircut of ETH is empty; a haircut is required (0 ≤ haircut < 1)",
            "assets.csv:3: eligible \"yes\" of ETH is not valid; expected true or false",
            "assets.csv:3: max_weight \"1.5\" of ETH is out of range; expected 0 < max_weight ≤ 1",
            "assets.csv:4: haircut \"-0.1\" of USDC is out of range; expected 0 ≤ haircut < 1",
            "assets.csv:4: adv_usd \"x\" of USDC is not a number",
            "assets.csv:5: duplicate asset BTC (first on line 2)",
        ])
    }

    @Test func assetMissingFromPricesAndNoSettlementAsset() throws {
        let book = try TestBook([
            "assets.csv": "asset,haircut\nBTC,0.1\nXRP,0.2\nETH,0.2\n",
            "positions.csv": "account,asset,quantity\nA1,BTC,1\n",
            "scenarios.csv": nil,
        ])
        #expect(book.issues() == [
            "assets.csv:3: asset XRP is not a column of prices.csv",
            "assets.csv: the settlement asset USDC (default of settlement_asset) is not in this file; "
                + "add it or set settlement_asset to one of its assets",
        ])
        #expect(try TestBook(["assets.csv": "asset,haircut\n"]).issues().first == "assets.csv: no assets (the file has a header but no rows)")
    }

    // MARK: scenarios.csv

    @Test func scenarioProblems() throws {
        let book = try TestBook(["scenarios.csv": """
            scenario,asset,shock
            crash,BTC,-0.3
            crash,ETH,-1.2
            crash,BTC,-0.5
            ,BTC,0.1
            rally,XRP,0.1
            rally,ETH,-1
            rally,USDC,up

            """])
        #expect(book.issues() == [
            "scenarios.csv:3: shock -1.2 for ETH in scenario crash would make the price ≤ 0",
            "scenarios.csv:4: duplicate row for scenario crash and asset BTC (first on line 2)",
            "scenarios.csv:5: scenario name is empty",
            "scenarios.csv:6: unknown asset XRP (not in assets.csv)",
            "scenarios.csv:7: shock -1 for ETH in scenario rally would make the price ≤ 0",
            "scenarios.csv:8: shock \"up\" for USDC in scenario rally is not a number",
        ])
    }

    // MARK: config and --set

    @Test func unknownConfigKeyWithLineNumber() throws {
        let book = try TestBook(["config.yaml": "# risk settings\nwindow: 250\nwindw: 100\n"])
        #expect(book.issues() == [
            "config.yaml:3: unknown config key \"windw\" (known keys: confidence, horizon_days, window, covariance, "
                + "ewma_lambda, allow_short_history, mc_paths, mc_seed, mc_distribution, mc_dof, haircut_model, "
                + "liquidation_days, participation, liquidation_ratio, margin_call_ratio, target_ratio, settlement_asset, "
                + "rebalance, objective, cost_aversion, as_of, backtest_days, cascade, liquidation_penalty, close_factor, "
                + "impact_coefficient, cascade_max_rounds, book_name, store, historical_scenarios)",
        ])
    }

    @Test func badConfigValues() throws {
        let book = try TestBook(["config.yaml": """
            confidence: 0.99
            window: abc
            covariance: shrunk
            mc_paths: [1, 2]
            window: 100
            settlement_asset: USD

            """])
        #expect(book.issues() == [
            "config.yaml:2: window: \"abc\" is not valid; expected a whole number of returns from 2 to 100000",
            "config.yaml:3: covariance: \"shrunk\" is not valid; expected one of sample, ewma, ledoit_wolf",
            "config.yaml:4: mc_paths: expected a single value, found a list",
            "config.yaml:5: duplicate key window (first on line 2)",
            "config.yaml:6: settlement_asset USD is not an asset of assets.csv",
        ])
    }

    @Test func invalidYAML() throws {
        let book = try TestBook(["config.yaml": "window: 250\ncovariance: [sample\n"])
        let issues = book.issues()
        #expect(issues.count == 1)
        #expect(issues.first?.hasPrefix("config.yaml:3: invalid YAML: ") == true)
        let list = try TestBook(["config.yaml": "- window\n- 250\n"])
        #expect(list.issues() == ["config.yaml:1: expected a mapping of config keys (key: value), found a list"])
    }

    @Test func badOverrides() throws {
        let book = try TestBook()
        #expect(book.issues(overrides: ["window", "=5", "mc_paths=0", "colour=blue", "historical_scenarios.x=2020-01-01"]) == [
            "--set window: expected KEY=VALUE, e.g. --set window=250",
            "--set =5: expected KEY=VALUE, e.g. --set window=250",
            "--set mc_paths=0: mc_paths: \"0\" is not valid; expected a whole number of paths from 1 to 10000000",
            "--set colour=blue: unknown config key \"colour\" (known keys: confidence, horizon_days, window, covariance, "
                + "ewma_lambda, allow_short_history, mc_paths, mc_seed, mc_distribution, mc_dof, haircut_model, "
                + "liquidation_days, participation, liquidation_ratio, margin_call_ratio, target_ratio, settlement_asset, "
                + "rebalance, objective, cost_aversion, as_of, backtest_days, cascade, liquidation_penalty, close_factor, "
                + "impact_coefficient, cascade_max_rounds, book_name, store, historical_scenarios)",
            "--set historical_scenarios.x=2020-01-01: historical_scenarios.x: \"2020-01-01\" is not valid; "
                + "expected START..END with ISO dates, e.g. 2020-03-11..2020-03-13",
        ])
    }

    @Test func inconsistentRatiosPointAtTheirSource() throws {
        let book = try TestBook()
        #expect(book.issues(overrides: ["margin_call_ratio=0.9"]) == [
            "--set margin_call_ratio=0.9: margin_call_ratio (0.9) must be ≥ liquidation_ratio (1.0)",
        ])
        let file = try TestBook(["config.yaml": "window: 250\ntarget_ratio: 1.05\n"])
        #expect(file.issues() == ["config.yaml:2: target_ratio (1.05) must be ≥ margin_call_ratio (1.1)"])
        #expect(book.issues(overrides: ["settlement_asset=EUR"]) == [
            "--set settlement_asset=EUR: settlement_asset EUR is not an asset of assets.csv",
        ])
    }

    @Test func missingConfigFile() throws {
        let book = try TestBook()
        let missing = book.url.appendingPathComponent("other.yaml")
        #expect(book.issues(config: missing) == ["other.yaml: file not found"])
    }

    // MARK: all at once

    @Test func problemsInEveryFileAreReportedTogetherInFileOrder() throws {
        let book = try TestBook([
            "prices.csv": "date,BTC,ETH,USDC\n2024-01-01,1,1,1\n2024-01-02,0,1,1\n",
            "assets.csv": "asset,haircut\nBTC,1\nETH,0.1\nUSDC,0\n",
            "positions.csv": "account,asset,quantity\nA1,XRP,1\n",
            "scenarios.csv": "scenario,asset,shock\ns,BTC,-2\n",
            "config.yaml": "window: 1\n",
        ])
        #expect(book.issues(overrides: ["covariance=none"]) == [
            "prices.csv:3: price \"0\" of BTC must be > 0",
            "assets.csv:2: haircut \"1\" of BTC is out of range; expected 0 ≤ haircut < 1",
            "positions.csv:2: unknown asset XRP (not in assets.csv)",
            "scenarios.csv:2: shock -2 for BTC in scenario s would make the price ≤ 0",
            "config.yaml:1: window: \"1\" is not valid; expected a whole number of returns from 2 to 100000",
            "--set covariance=none: covariance: \"none\" is not valid; expected one of sample, ewma, ledoit_wolf",
        ])
        if case .failure(let errors) = book.load(overrides: ["covariance=none"]) {
            #expect(errors.description.split(separator: "\n").count == 6)
        }
    }
}
