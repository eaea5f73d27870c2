import RiskMetrics
import RiskModel
import RiskPipeline

/// The columns of cascade.csv (METHODOLOGY "Outputs"): one row per stress scenario, stress.csv's order. The rebalanced columns
/// are empty when rebalancing did not run.
public enum CascadeColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let rows = r.cascade.scenarios
        return [
            Column("scenario", unit: "text", meaning: "the stress scenario, as in stress.csv") { .text(rows[$0].scenario) },
            Column("rounds", unit: "rounds", meaning: "rounds of the cascade that liquidated at least one account") {
                .integer(rows[$0].outcome.rounds)
            },
            Column("accounts_liquidated", unit: "count", meaning: "accounts liquidated at least once in the cascade") {
                .integer(rows[$0].outcome.accountsLiquidated)
            },
            Column("liquidated_by_cascade", unit: "count",
                   meaning: "of those, accounts not liquidatable at the stressed prices: brought down by the cascade") {
                .integer(rows[$0].outcome.liquidatedByCascade)
            },
            Column("collateral_sold_usd", unit: "USD",
                   meaning: "seized collateral sold by the liquidators, over all rounds, each at its round's prices") {
                .number(rows[$0].outcome.collateralSoldUSD)
            },
            Column("debt_repaid_usd", unit: "USD", meaning: "debt repaid by all liquidations") {
                .number(rows[$0].outcome.debtRepaidUSD)
            },
            Column("shortfall_usd", unit: "USD",
                   meaning: "bad debt after the cascade: Σ max(0, debt − collateral) at the final quantities and prices") {
                .number(rows[$0].outcome.shortfallUSD)
            },
            Column("shortfall_without_cascade_usd", unit: "USD",
                   meaning: "bad debt at the stressed prices before any liquidation (stress.csv shortfall_usd)") {
                .number(rows[$0].shortfallWithoutCascadeUSD)
            },
            Column("total_loss_usd", unit: "USD",
                   meaning: "fall in the book's equity from today to the cascade's end, liquidation penalties included") {
                .number(rows[$0].outcome.totalLossUSD)
            },
            Column("accounts_liquidated_rebalanced", unit: "count",
                   meaning: "accounts liquidated in the same cascade had every rebalancing and top-up been followed; "
                       + "empty with rebalance=none") {
                rows[$0].rebalanced.map { .integer($0.accountsLiquidated) } ?? .empty
            },
            Column("shortfall_rebalanced_usd", unit: "USD",
                   meaning: "bad debt after the same cascade had every rebalancing and top-up been followed; "
                       + "empty with rebalance=none") {
                rows[$0].rebalanced.map { .number($0.shortfallUSD) } ?? .empty
            },
        ]
    }

    public static func render(_ r: RunResult) -> [UInt8] {
        CSVWriter.render(columns: columns(r), rows: r.cascade.scenarios.indices)
    }
}

/// The columns of cascade_assets.csv (METHODOLOGY "Outputs"): per scenario (cascade.csv order), the assets its liquidations sold
/// (assets.csv order).
public enum CascadeAssetColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let rows = r.cascade.assets, scenarios = r.cascade.scenarios, tickers = r.schedule.tickers
        return [
            Column("scenario", unit: "text", meaning: "the stress scenario, as in cascade.csv") {
                .text(scenarios[rows[$0].scenario].scenario)
            },
            Column("asset", unit: "text", meaning: "an asset the liquidators sold, as in assets.csv") {
                .text(tickers[rows[$0].asset])
            },
            Column("sold_usd", unit: "USD", meaning: "USD of the asset sold over all rounds, each at its round's price") {
                .number(rows[$0].soldUSD)
            },
            Column("price_impact", unit: "fraction",
                   meaning: "final price over the stressed price, minus 1: the fall the sales caused (0 without ADV)") {
                .number(rows[$0].priceImpact)
            },
        ]
    }

    public static func render(_ r: RunResult) -> [UInt8] {
        CSVWriter.render(columns: columns(r), rows: r.cascade.assets.indices)
    }
}

extension SummaryReport {
    /// summary.json `cascade`: whether it ran and cascade.csv's table, one object per scenario with the same
    /// names and values as the CSV columns (empty cells are null), plus the liquidatable accounts before the cascade
    /// and whether the round limit stopped it.
    static func cascadeJSON(_ r: RunResult) -> JSONValue {
        let columns = CascadeColumns.columns(r)
        return .object([
            ("ran", .bool(r.cascade.ran)),
            ("scenarios", .array(r.cascade.scenarios.indices.map { s in
                let row = r.cascade.scenarios[s]
                return .object(columns.map { ($0.name, json($0.cell(s))) } + [
                    ("accounts_liquidatable_without_cascade", .integer(row.liquidatableWithoutCascade)),
                    ("reached_round_limit", .bool(row.outcome.reachedRoundLimit || row.rebalanced?.reachedRoundLimit == true)),
                ])
            })),
        ])
    }

    /// A CSV cell as JSON: numbers as numbers (non-finite and empty as null), text as a string.
    static func json(_ cell: Cell) -> JSONValue {
        switch cell {
        case .number(let x): return .finite(x)
        case .integer(let i): return .integer(i)
        case .text(let s): return .string(s)
        case .empty: return .null
        }
    }
}
