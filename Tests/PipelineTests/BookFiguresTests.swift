import BookGenerator
import Foundation
import RiskMetrics
import RiskModel
import RiskPipeline
import Testing

/// `RunResult.bookFigures` against plain loops written here over the run's arrays, on a small generated book with
/// rebalancing of every account; and the book's worst stress scenario under the tie rule of `StressTester.isTie`.
@Suite struct BookFiguresTests {
    static let run: RunResult = {
        let book = try! CLI.temporaryDirectory("book-figures")
        _ = try! BookGenerator.generate(BookSpec(accounts: 400, assets: 12, days: 500, seed: 7, profile: .retail), into: book)
        return try! RiskPipeline.run(RunOptions(bookDirectory: book, overrides: ["window=300", "mc_paths=500", "rebalance=all"],
                                                threads: 2))
    }()

    @Test func totalsAndStatusCountsAreThoseOfPlainLoops() {
        let r = Self.run, a = r.assessment, t = r.bookFigures.totals
        var collateral = 0.0, debt = 0.0, hcv = 0.0, topup = 0.0
        var invalid = 0, withDebt = 0, topupAccounts = 0
        var ok = 0, marginCall = 0, liquidatable = 0
        for i in 0 ..< r.book.accountCount {
            guard !a.invalid[i] else { invalid += 1; continue }
            collateral += a.collateral[i]; debt += a.debt[i]; hcv += a.hcv[i]
            if a.debt[i] > 0 { withDebt += 1 }
            if a.topup[i] > 0 { topup += a.topup[i]; topupAccounts += 1 }
            switch a.status[i] {
            case .ok: ok += 1
            case .marginCall: marginCall += 1
            case .liquidatable: liquidatable += 1
            }
        }
        #expect(t.accounts == 400 && t.invalid == invalid && t.valid == 400 - invalid)
        // Same loop, same order: equal to the last bit.
        #expect(t.collateral == collateral && t.debt == debt && t.hcv == hcv && t.equity == collateral - debt)
        #expect(t.topup == topup && t.topupAccounts == topupAccounts && t.withDebt == withDebt)
        #expect(t.count(.ok) == ok && t.count(.marginCall) == marginCall && t.count(.liquidatable) == liquidatable)
        #expect(ok > 0 && marginCall > 0 && liquidatable > 0)
        #expect(r.bookFigures.histogram.accounts == withDebt)
        #expect(r.bookFigures.riskiest == RiskRanking.riskiest(r, count: 20))
    }

    @Test func perAssetSumsAreThoseOfPlainLoops() {
        let r = Self.run, a = r.assessment, book = r.book, n = r.schedule.count
        var collateral = [Double](repeating: 0, count: n), debt = collateral, hcv = collateral, component = collateral
        var holders = [Int](repeating: 0, count: n)
        for i in 0 ..< book.accountCount where !a.invalid[i] {
            for k in book.holdings(of: i) {
                let j = Int(book.assetIndex[k]), e = a.exposure[k]
                if e > 0 { collateral[j] += e }
                if e < 0 { debt[j] += -e }
                if e != 0 { holders[j] += 1 }
                hcv[j] += a.holdingHCV[k]
                if r.parametric.componentVaR[k].isFinite { component[j] += r.parametric.componentVaR[k] }
            }
        }
        let assets = r.bookFigures.assets
        #expect(Set(assets.map(\.index)) == Set((0 ..< n).filter { collateral[$0] > 0 || debt[$0] > 0 }))
        for asset in assets {
            let j = asset.index
            #expect(asset.ticker == r.schedule.tickers[j])
            #expect(asset.collateral == collateral[j] && asset.debt == debt[j] && asset.hcv == hcv[j])
            #expect(asset.componentVaR == component[j] && asset.holders == holders[j])
        }
        #expect(zip(assets, assets.dropFirst()).allSatisfy { $0.collateral >= $1.collateral })
        #expect(r.bookFigures.assetComponentVaR == assets.reduce(0) { $0 + $1.componentVaR })

        var bought = [Double](repeating: 0, count: n), sold = bought
        let rows = r.rebalancing.rows
        for t in 0 ..< rows.count {
            let j = Int(rows.asset[t])
            if rows.tradeUSD[t] > 0 { bought[j] += rows.tradeUSD[t] } else { sold[j] += -rows.tradeUSD[t] }
        }
        let flows = r.bookFigures.flows
        #expect(!flows.isEmpty)
        #expect(Set(flows.map(\.index)) == Set((0 ..< n).filter { bought[$0] + sold[$0] > 0 }))
        for flow in flows {
            #expect(flow.bought == bought[flow.index] && flow.sold == sold[flow.index])
            #expect(flow.net == r.rebalancing.netFlows[flow.index])
        }
        #expect(zip(flows, flows.dropFirst()).allSatisfy { $0.bought + $0.sold >= $1.bought + $1.sold })
    }

    @Test func perScenarioTalliesAreThoseOfPlainLoops() {
        let r = Self.run, f = r.bookFigures
        let scenarios = r.stress.scenarios.count
        #expect(scenarios > 0)
        for s in 0 ..< scenarios {
            #expect(f.worstScenarioAccounts[s] == r.stress.worstScenario.filter { $0 == s }.count)
        }
        #expect(f.scenariosByLoss.sorted() == Array(0 ..< scenarios))
        let losses = r.stress.scenarios.map(\.totalLossUSD)
        #expect(f.worstScenario == StressTester.worstScenario(losses: losses))
    }

    /// The book's figures for `r` with its stress table replaced by scenarios of the given total losses.
    static func figures(_ r: RunResult, losses: [Double]) -> BookFigures {
        var stress = r.stress
        stress.scenarios = losses.enumerated().map {
            StressScenarioSummary(name: "s\($0.offset)", totalLossUSD: $0.element, accountsOK: 0, accountsMarginCall: 0,
                                  accountsLiquidatable: 0, newlyLiquidatable: 0, shortfallUSD: 0)
        }
        return BookFigures(book: r.book, assessment: r.assessment, parametric: r.parametric, stress: stress,
                           rebalancing: r.rebalancing, config: r.config, tickers: r.schedule.tickers,
                           fileRows: r.accounts.fileRows)
    }

    @Test func worstScenarioOfTheBookFollowsTheTieRule() {
        let r = Self.run, loss = 2.5e7
        // Within 1e-12 relative: a tie, the first in scenario order wins (a plain `>` would pick the second).
        let tied = loss * (1 + 4e-13)
        #expect(tied > loss && StressTester.isTie(tied, loss))
        #expect(Self.figures(r, losses: [loss, tied]).worstScenario == 0)
        // Beyond it: the larger loss.
        #expect(Self.figures(r, losses: [loss, loss * (1 + 3e-12)]).worstScenario == 1)
        // Non-finite totals are never the worst; a list without a finite one has none.
        #expect(Self.figures(r, losses: [.nan, loss, tied, .infinity]).worstScenario == 1)
        #expect(Self.figures(r, losses: [.nan]).worstScenario == nil)
        #expect(Self.figures(r, losses: []).worstScenario == nil)
    }
}
