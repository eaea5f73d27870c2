import Foundation
import Testing

/// cascade.csv and cascade_assets.csv (SPEC §3.8) of the CLI on generated books of both profiles, against
/// `ReferenceCascade`, the test's plain implementation: the book as it is, and the book rebuilt from the run's own
/// recommendations (accounts.csv and holdings.csv) for the rebalanced columns. Counts exactly; USD figures to 1e-9
/// relative of the scenario's collateral sold or debt (the SPEC's acceptance level).
@Suite(.serialized) struct CascadeEndToEndTests {
    typealias Holdings = [(asset: Int, value: Double)]

    static func generate(profile: String, accounts: Int, assets: Int, name: String) throws -> URL {
        let dir = try CLI.temporaryDirectory(name).appendingPathComponent("book")
        let outcome = try CLI.run(["generate", "--accounts", "\(accounts)", "--assets", "\(assets)", "--days", "500",
                                   "--seed", "9", "--profile", profile, "--out", dir.path])
        precondition(outcome.status == 0, outcome.stderr)
        return dir
    }

    /// Largest relative difference seen by `close` (printed at the end: the note quotes it).
    nonisolated(unsafe) static var worstDifference = 0.0

    static func close(_ text: String?, _ expected: Double, scale: Double) -> Bool {
        guard let text, let value = Double(text) else { return false }
        let difference = value == expected ? 0 : abs(value - expected) / max(abs(value), abs(expected), scale)
        worstDifference = max(worstDifference, difference)
        return difference <= 1e-9
    }

    @Test(arguments: [("retail", 400, 12), ("institutional", 40, 30)])
    func cascadeFilesMatchThePlainReference(profile: String, accounts: Int, assets: Int) throws {
        let book = try Self.generate(profile: profile, accounts: accounts, assets: assets, name: "cascade-\(profile)")
        let out = book.deletingLastPathComponent().appendingPathComponent("report-\(profile)")
        let run = try CLI.run(["run", book.path, "--out", out.path, "--quiet", "--set", "mc_paths=500"])
        #expect(run.status == 0, "\(run.stderr)")
        let model = try ReferenceModel(book: book, settings: ReferenceModel.Settings())
        let reference = ReferenceCascade(model: model)
        let rows = try SimpleCSV.records(out.appendingPathComponent("cascade.csv"))
        let assetRows = try SimpleCSV.records(out.appendingPathComponent("cascade_assets.csv"))
        let rebalanced = try Self.rebalancedBook(report: out, model: model)
        #expect(rows.count == model.scenarioNames.count)
        var liquidations = 0
        for (s, row) in rows.enumerated() {
            let want = reference.run(model.positions, scenario: s), after = reference.run(rebalanced, scenario: s)
            let scale = max(want.sold, want.repaid, 1)
            #expect(row["scenario"] == model.scenarioNames[s])
            #expect(row["rounds"] == "\(want.rounds)", "\(s)")
            #expect(row["accounts_liquidated"] == "\(want.liquidated)", "\(s)")
            #expect(row["liquidated_by_cascade"] == "\(want.byCascade)", "\(s)")
            #expect(Self.close(row["collateral_sold_usd"], want.sold, scale: scale), "\(s)")
            #expect(Self.close(row["debt_repaid_usd"], want.repaid, scale: scale), "\(s)")
            #expect(Self.close(row["shortfall_usd"], want.shortfall, scale: scale), "\(s)")
            #expect(Self.close(row["shortfall_without_cascade_usd"], model.stress[s].shortfall, scale: scale), "\(s)")
            #expect(Self.close(row["total_loss_usd"], want.totalLoss, scale: scale), "\(s)")
            #expect(row["accounts_liquidated_rebalanced"] == "\(after.liquidated)", "\(s)")
            #expect(Self.close(row["shortfall_rebalanced_usd"], after.shortfall, scale: scale), "\(s)")
            let sold = assetRows.filter { $0["scenario"] == model.scenarioNames[s] }
            let soldAssets = model.tickers.indices.filter { want.soldByAsset[$0] > 0 }
            #expect(sold.map { $0["asset"]! } == soldAssets.map { model.tickers[$0] }, "\(s)")
            for (assetRow, i) in zip(sold, soldAssets) {
                #expect(Self.close(assetRow["sold_usd"], want.soldByAsset[i], scale: scale), "\(s) \(model.tickers[i])")
                #expect(Self.close(assetRow["price_impact"], want.impact[i], scale: 1e-6), "\(s) \(model.tickers[i])")
            }
            liquidations += want.liquidated
        }
        // The books are built so the check means something: liquidations in most scenarios.
        #expect(liquidations > 0)
        print("cascade vs reference (\(profile)): \(liquidations) liquidations, worst relative difference \(Self.worstDifference)")
    }

    /// SPEC §3.8's counterfactual is the cascade on the book the recommendations would leave: write that book as a
    /// positions.csv (target quantities net of costs, top-ups in the settlement asset), run it without rebalancing,
    /// and its cascade must be the first run's `*_rebalanced` columns. A positions.csv has one row per account and
    /// asset, so no account may end up holding an asset it owes: the assets anybody owes are made ineligible (sell
    /// only) and top-ups go to an asset nobody owes.
    @Test func rebalancedColumnsEqualTheCascadeOfTheRebalancedBook() throws {
        let book = try Self.generate(profile: "retail", accounts: 400, assets: 12, name: "cascade-rewritten")
        let owed = Set(try SimpleCSV.records(book.appendingPathComponent("positions.csv"))
            .filter { Double($0["quantity"]!)! < 0 }.map { $0["asset"]! })
        let (header, assets) = try SimpleCSV.read(book.appendingPathComponent("assets.csv"))
        let eligible = header.firstIndex(of: "eligible")!
        let rewrittenAssets = assets.map { row in
            var row = row
            if owed.contains(row[0]) { row[eligible] = "false" }
            return row.joined(separator: ",")
        }
        try ([header.joined(separator: ",")] + rewrittenAssets).joined(separator: "\n").appending("\n")
            .write(to: book.appendingPathComponent("assets.csv"), atomically: true, encoding: .utf8)
        let settlement = try #require(assets.map { $0[0] }.first { !owed.contains($0) })
        let root = book.deletingLastPathComponent()
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        let sets = ["--set", "mc_paths=200", "--set", "settlement_asset=\(settlement)"]
        let firstRun = try CLI.run(["run", book.path, "--out", first.path, "--quiet"] + sets)
        #expect(firstRun.status == 0, "\(firstRun.stderr)")
        var settings = ReferenceModel.Settings()
        settings.settlement = settlement
        let model = try ReferenceModel(book: book, settings: settings)
        let rebalanced = try Self.rebalancedBook(report: first, model: model)
        var prices: [String: Double] = [:]
        for row in try SimpleCSV.records(first.appendingPathComponent("holdings.csv")) { prices[row["asset"]!] = Double(row["price"]!)! }
        var text = "account,asset,quantity\n"
        for (id, holdings) in rebalanced {
            // The book's positions must be one row per asset: a target on an asset the account owes cannot be written.
            #expect(Set(holdings.map(\.asset)).count == holdings.count, "\(id) holds and owes one asset")
            for (i, value) in holdings where value != 0 {
                let ticker = model.tickers[i]
                text += "\(id),\(ticker),\(value / prices[ticker]!)\n"
            }
        }
        let rewritten = root.appendingPathComponent("rewritten")
        try FileManager.default.copyItem(at: book, to: rewritten)
        try text.write(to: rewritten.appendingPathComponent("positions.csv"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", rewritten.path, "--out", second.path, "--quiet", "--set", "rebalance=none"] + sets)
        #expect(run.status == 0, "\(run.stderr)")
        let counterfactual = try SimpleCSV.records(first.appendingPathComponent("cascade.csv"))
        let direct = try SimpleCSV.records(second.appendingPathComponent("cascade.csv"))
        #expect(counterfactual.count == direct.count && !direct.isEmpty)
        #expect(direct.contains { $0["accounts_liquidated"] != "0" }, "the rebalanced book should still see liquidations")
        let summary = try SimpleCSV.records(first.appendingPathComponent("accounts.csv"))
        #expect(summary.contains { $0["rebalance_status"] == "rebalanced" } && summary.contains { $0["rebalance_status"] == "topup_required" })
        for (want, got) in zip(counterfactual, direct) {
            #expect(want["accounts_liquidated_rebalanced"] == got["accounts_liquidated"], "\(want["scenario"]!)")
            #expect(Self.close(want["shortfall_rebalanced_usd"], Double(got["shortfall_usd"]!)!,
                               scale: Double(got["debt_repaid_usd"]!)!), "\(want["scenario"]!)")
            #expect(got["accounts_liquidated_rebalanced"] == "", "rebalance=none leaves the column empty")
        }
    }

    /// `cascade=off` writes neither file and says so in summary.json and report.html; a round limit that stops a
    /// cascade still liquidating is a warning naming the scenario.
    @Test func switchedOffOrStoppedByTheRoundLimit() throws {
        let book = try Self.generate(profile: "retail", accounts: 300, assets: 12, name: "cascade-switch")
        let root = book.deletingLastPathComponent()
        let off = root.appendingPathComponent("off"), limited = root.appendingPathComponent("limited")
        #expect(try CLI.run(["run", book.path, "--out", off.path, "--quiet", "--set", "cascade=off"]).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: off.path)
        #expect(!files.contains("cascade.csv") && !files.contains("cascade_assets.csv") && files.contains("stress.csv"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: off.appendingPathComponent("summary.json"))) as! [String: Any]
        #expect((summary["cascade"] as! [String: Any])["ran"] as? Bool == false)
        let html = try String(contentsOf: off.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("id=\"cascade-not-computed\"") && html.contains("cascade = off"))

        let run = try CLI.run(["run", book.path, "--out", limited.path, "--quiet", "--set", "cascade_max_rounds=1"])
        #expect(run.status == 0, "\(run.stderr)")
        let rows = try SimpleCSV.records(limited.appendingPathComponent("cascade.csv"))
        let warnings = try JSONSerialization.jsonObject(with: Data(contentsOf: limited.appendingPathComponent("summary.json")))
            as! [String: Any]
        let text = (warnings["warnings"] as! [String]).joined(separator: "\n")
        // Every scenario that liquidated in its one round and would liquidate again is named.
        let stopped = (warnings["cascade"] as! [String: Any])["scenarios"] as! [[String: Any]]
        #expect(stopped.contains { $0["reached_round_limit"] as? Bool == true })
        for (row, json) in zip(rows, stopped) where json["reached_round_limit"] as? Bool == true {
            #expect(row["rounds"] == "1")
            #expect(text.contains("cascade of scenario \(row["scenario"]!)"), "\(row["scenario"]!)")
        }
    }

    /// The book as the run's recommendations would leave it (SPEC §3.8), from its own files: accounts `rebalanced`
    /// or `topup_required` hold target_usd·(1 − cost/C) of each target beside their debts, plus the top-up in the
    /// settlement asset; the others as today.
    static func rebalancedBook(report: URL, model: ReferenceModel) throws -> [(id: String, holdings: Holdings)] {
        let accounts = Dictionary(uniqueKeysWithValues: try SimpleCSV.records(report.appendingPathComponent("accounts.csv"))
            .map { ($0["account"]!, $0) })
        var rows: [String: [[String: String]]] = [:]
        for row in try SimpleCSV.records(report.appendingPathComponent("holdings.csv")) { rows[row["account"]!, default: []].append(row) }
        let index = Dictionary(uniqueKeysWithValues: model.tickers.enumerated().map { ($1, $0) })
        return model.positions.map { id, holdings in
            let account = accounts[id]!, status = account["rebalance_status"]!
            guard status == "rebalanced" || status == "topup_required" else { return (id, holdings) }
            let collateral = Double(account["collateral_usd"]!)!, cost = Double(account["cost_usd"]!)!
            let kept = collateral > 0 ? 1 - cost / collateral : 1
            var changed: Holdings = holdings.filter { $0.value < 0 }
            for row in rows[id]! {
                if let target = Double(row["target_usd"] ?? ""), target > 0 { changed.append((index[row["asset"]!]!, target * kept)) }
            }
            if status == "topup_required", let topup = Double(account["target_topup_usd"]!), topup > 0 {
                let settlement = index[model.settings.settlement]!
                if let k = changed.firstIndex(where: { $0.asset == settlement && $0.value > 0 }) {
                    changed[k].value += topup
                } else {
                    changed.append((settlement, topup))
                }
            }
            return (id, changed)
        }
    }
}
