import LinearAlgebra
import Foundation
import RiskInput
import RiskModel
import Testing

@Suite struct LoadValidBookTests {
    @Test func baseBookParsesIntoTheExactModel() throws {
        let book = try TestBook()
        let loaded = try book.loaded()

        // Schedule: assets.csv order, defaults for empty cells, case-insensitive booleans.
        #expect(loaded.schedule.assets == [
            AssetTerms(ticker: "ETH", scheduleHaircut: 0.15, eligible: true, maxWeight: 1, averageDailyVolumeUSD: nil, costBps: 10),
            AssetTerms(ticker: "BTC", scheduleHaircut: 0.1, eligible: true, maxWeight: 0.5, averageDailyVolumeUSD: 1e9, costBps: 5),
            AssetTerms(ticker: "USDC", scheduleHaircut: 0, eligible: false, maxWeight: 1, averageDailyVolumeUSD: nil, costBps: 0),
        ])

        // Prices: columns in schedule order, DOGE (not an asset) dropped, empty = NaN, line numbers.
        let prices = loaded.prices
        #expect(prices.dates == ["2024-01-01", "2024-01-02", "2024-01-03"])
        #expect(prices.assetCount == 3)
        #expect(prices.lineNumbers == [2, 3, 4])
        let expected: [Double] = [2000, 40000, 1, .nan, 41000, 1, 2100, 42000, 1.0001]
        #expect(prices.prices.map(\.bitPattern) == expected.map(\.bitPattern))

        // Book: accounts in first-appearance order, holdings in first-appearance order, lots summed.
        #expect(loaded.book.accountIDs == ["A1", "A2"])
        #expect(loaded.book.rowStart == [0, 2, 3])
        #expect(loaded.book.assetIndex == [1, 2, 0])
        #expect(loaded.book.quantity == [1.5, -5000, 2])

        // Scenarios: first-appearance order, unlisted assets 0.
        #expect(loaded.scenarios.names == ["crash", "rally"])
        #expect(loaded.scenarios.assetCount == 3)
        #expect(loaded.scenarios.shocks == [-0.4, -0.3, 0, 0, 0.2, 0])

        #expect(loaded.config == RiskConfig())
        #expect(loaded.inputFiles.map(\.lastPathComponent) == ["prices.csv", "assets.csv", "positions.csv", "scenarios.csv"])
        #expect(loaded.warnings.isEmpty)
    }

    @Test func withoutScenariosFileTheSetIsEmpty() throws {
        let book = try TestBook(scenarios: false)
        let loaded = try book.loaded()
        #expect(loaded.scenarios.count == 0)
        #expect(loaded.scenarios.assetCount == 3)
        #expect(loaded.inputFiles.map(\.lastPathComponent) == ["prices.csv", "assets.csv", "positions.csv"])
    }

    @Test func quotedFieldsCRLFAndByteOrderMark() throws {
        let book = try TestBook()
        // BOM + CRLF everywhere; quoted cells with commas, doubled quotes and embedded line breaks.
        let prices = "\u{FEFF}date,\"BTC\",ETH,USDC\r\n2024-01-01,\"40000\",2000,1\r\n2024-01-02, 41000 ,2050,1\r\n\r\n\r\n"
        try book.write("prices.csv", prices)
        let positions = [
            "account,asset,quantity",
            #""acct, with comma",BTC,1"#,
            #""say ""hi""",ETH,"2.5""#,
            "\"multi\r\nline\",USDC,-3",
            #""acct, with comma",BTC,"-0.25""#,
            "",
        ]
        try book.write("positions.csv", positions.joined(separator: "\r\n"))
        let loaded = try book.loaded()
        #expect(loaded.prices.dates == ["2024-01-01", "2024-01-02"])
        #expect(loaded.prices.prices == [2000, 40000, 1, 2050, 41000, 1])
        #expect(loaded.book.accountIDs == ["acct, with comma", "say \"hi\"", "multi\r\nline"])
        #expect(loaded.book.quantity == [0.75, 2.5, -3])
        #expect(loaded.book.assetIndex == [1, 0, 2])
    }

    @Test func unknownColumnsAreWarningsNotErrors() throws {
        let book = try TestBook(["positions.csv": "note,account,asset,quantity\nhello,A1,BTC,1\n"])
        let loaded = try book.loaded()
        #expect(loaded.book.accountIDs == ["A1"])
        #expect(loaded.warnings.map(book.strip) == ["positions.csv: ignoring unknown column \"note\""])
    }

    @Test func columnsInAnyOrderAndZeroQuantityAllowed() throws {
        let book = try TestBook(["positions.csv": "quantity,asset,account\n0,BTC,A1\n-1e-3,ETH,A2\n"])
        let loaded = try book.loaded()
        #expect(loaded.book.accountIDs == ["A1", "A2"])
        #expect(loaded.book.quantity == [0, -0.001])
    }

    /// The fast reader must give exactly what `RiskModel.BookBuilder` gives, including for accounts that come
    /// back after other accounts and for lots spread over the file.
    @Test func positionsMatchBookBuilderOnScatteredRows() throws {
        var generator = SplitMix64(seed: 7)
        let tickers = ["ETH", "BTC", "USDC"]
        var rows: [(String, Int, Double)] = []
        for _ in 0 ..< 3000 {
            let account = "acct-\(generator.next() % 97)"
            let asset = Int(generator.next() % 3)
            let quantity = Double(Int64(generator.next() % 2_000_001) - 1_000_000) / 1000
            rows.append((account, asset, quantity))
        }
        // Runs of the same account too (the cached path).
        for _ in 0 ..< 50 { rows.append(("acct-5", 1, 0.125)) }
        var text = "account,asset,quantity\n"
        var builder = BookBuilder(assetCount: 3)
        for (account, asset, quantity) in rows {
            text += "\(account),\(tickers[asset]),\(quantity)\n"
            builder.add(account: account, asset: asset, quantity: quantity)
        }
        let book = try TestBook(["positions.csv": text])
        let loaded = try book.loaded()
        let expected = builder.build()
        #expect(loaded.book.accountIDs == expected.accountIDs)
        #expect(loaded.book.rowStart == expected.rowStart)
        #expect(loaded.book.assetIndex == expected.assetIndex)
        #expect(loaded.book.quantity.map(\.bitPattern) == expected.quantity.map(\.bitPattern))
    }

    @Test func messagesUseThePathAsGiven() throws {
        let book = try TestBook(["positions.csv": nil])
        let parent = book.url.deletingLastPathComponent()
        let relative = URL(fileURLWithPath: book.url.lastPathComponent, relativeTo: parent)
        do {
            _ = try BookLoader.load(directory: relative, configFile: nil, overrides: [])
            Issue.record("expected a failure")
        } catch {
            #expect(error.issues.map(\.description) == ["\(book.url.lastPathComponent)/positions.csv: file not found"])
        }
    }
}
