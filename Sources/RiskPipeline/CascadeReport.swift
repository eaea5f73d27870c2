import RiskMetrics
import RiskModel
import Rebalancing

/// One scenario's liquidations and bad debt without the cascade, with it, and with it after the recommended
/// rebalancing: a row of cascade.csv (METHODOLOGY "Liquidation cascades under stress"). USD.
public struct CascadeScenarioRow: Sendable {
    public let scenario: String
    /// The cascade on the book as it is.
    public let outcome: CascadeOutcome
    /// Accounts liquidatable at the stressed prices, before any liquidation (stress.csv `accounts_liquidatable`).
    public let liquidatableWithoutCascade: Int
    /// Σ max(0, D′ − C′) at the stressed prices (stress.csv `shortfall_usd`).
    public let shortfallWithoutCascadeUSD: Double
    /// The same cascade on the rebalanced book; nil when rebalancing did not run (`rebalance=none`).
    public let rebalanced: CascadeOutcome?
}

/// One asset sold in one scenario's cascade: a row of cascade_assets.csv.
public struct CascadeAssetRow: Sendable {
    /// Index into `CascadeReport.scenarios`.
    public let scenario: Int
    /// Schedule index of the asset.
    public let asset: Int
    /// V: USD of the asset sold over all rounds.
    public let soldUSD: Double
    /// P_final/P⁰ − 1, fraction (0 for an asset without ADV).
    public let priceImpact: Double
}

/// The liquidation cascades of a whole book: per scenario, and per scenario and asset sold.
public struct CascadeReport: Sendable {
    /// False when the cascade did not run (`cascade=off`, no stress scenario, or a shard's part).
    public var ran: Bool
    /// Stress scenario order.
    public var scenarios: [CascadeScenarioRow]
    /// Scenario order, then schedule order; only assets with sales.
    public var assets: [CascadeAssetRow]
    /// Scenarios whose cascade was still liquidating at `cascade_max_rounds`.
    public var warnings: [String]

    public static let skipped = CascadeReport(ran: false, scenarios: [], assets: [], warnings: [])

    public init(ran: Bool, scenarios: [CascadeScenarioRow], assets: [CascadeAssetRow], warnings: [String]) {
        self.ran = ran
        self.scenarios = scenarios
        self.assets = assets
        self.warnings = warnings
    }
}

extension CascadeReport {
    /// The cascades of the whole book (a run or a merge) under every stress scenario, and, when rebalancing ran,
    /// of the book after the recommendations. Skipped with `cascade=off` or without scenarios.
    public static func wholeBook(book: Book, assessment: CollateralAssessment, stress: StressResult,
                                 rebalancing: RebalancingResult, market: MarketContext, workers: Int,
                                 progress: any RunProgress = SilentProgress()) -> CascadeReport {
        let config = market.config, scenarios = market.stressScenarios
        guard config.cascade == .on, scenarios.count > 0 else { return .skipped }
        var books = [CascadeBook(book: book, assessment: assessment)]
        if config.rebalance != .none {
            books.append(CascadeBook.rebalanced(book: book, assessment: assessment, rebalancing: rebalancing,
                                                settlementAsset: market.settlement))
        }
        let names = scenarios.names
        let outcomes = LiquidationCascade.run(
            books: books, scenarios: scenarios, market: CascadeMarket(haircuts: market.haircuts),
            parameters: CascadeParameters(config: config), workers: workers
        ) { b, s, round in
            progress.update(.cascade, detail: "\(names[s])\(b == 0 ? "" : " after rebalancing") (\(s + 1)/\(names.count)), round \(round)")
        }
        let rows = names.indices.map { s in
            CascadeScenarioRow(scenario: names[s], outcome: outcomes[0][s],
                               liquidatableWithoutCascade: stress.scenarios[s].accountsLiquidatable,
                               shortfallWithoutCascadeUSD: stress.scenarios[s].shortfallUSD,
                               rebalanced: outcomes.count > 1 ? outcomes[1][s] : nil)
        }
        return CascadeReport(ran: true, scenarios: rows, assets: assetRows(outcomes[0]),
                             warnings: roundLimitWarnings(rows, maxRounds: config.cascadeMaxRounds))
    }

    /// The assets sold in each scenario, scenario order then schedule order.
    static func assetRows(_ outcomes: [CascadeOutcome]) -> [CascadeAssetRow] {
        outcomes.indices.flatMap { s in
            outcomes[s].soldUSD.indices.compactMap { j in
                outcomes[s].soldUSD[j] > 0
                    ? CascadeAssetRow(scenario: s, asset: j, soldUSD: outcomes[s].soldUSD[j],
                                      priceImpact: outcomes[s].priceImpact[j])
                    : nil
            }
        }
    }

    static func roundLimitWarnings(_ rows: [CascadeScenarioRow], maxRounds: Int) -> [String] {
        rows.flatMap { row -> [String] in
            [(row.outcome, ""), (row.rebalanced, " on the rebalanced book")].compactMap { outcome, which in
                guard outcome?.reachedRoundLimit == true else { return nil }
                return "cascade of scenario \(row.scenario)\(which) was still liquidating accounts after "
                    + "cascade_max_rounds = \(maxRounds) rounds: its figures are those of round \(maxRounds); "
                    + "raise cascade_max_rounds to follow it to the end"
            }
        }
    }
}
