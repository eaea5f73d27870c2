import RiskMetrics
import RiskModel
import RiskPipeline

/// A row of holdings.csv: one (account, holding) pair, by CSR index.
public struct HoldingRow: Sendable {
    public let account: Int
    public let holding: Int
}

/// The columns of accounts.csv (SPEC §4), in order. Columns of capabilities not built yet are empty.
public enum AccountColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let a = r.assessment, p = r.parametric, book = r.book, config = r.config
        let hist = r.historical, mc = r.monteCarlo, stress = r.stress, scenarioNames = r.stressScenarios.names
        return [
            Column("account") { .text(book.accountIDs[$0]) },
            Column("collateral_usd") { .number(a.collateral[$0]) },
            Column("debt_usd") { .number(a.debt[$0]) },
            Column("equity_usd") { .number(a.equity($0)) },
            Column("hcv_usd") { .number(a.hcv[$0]) },
            Column("collateral_ratio") { .number(a.collateralRatio[$0]) },
            Column("health_factor") { .number(a.healthFactor($0, config: config)) },
            Column("status") { a.invalid[$0] ? .empty : .text(a.status[$0].rawValue) },
            Column("var_param") { .number(p.valueAtRisk[$0]) },
            Column("es_param") { .number(p.expectedShortfall[$0]) },
            Column("var_hist") { .number(hist.valueAtRisk[$0]) },
            Column("es_hist") { .number(hist.expectedShortfall[$0]) },
            Column("var_mc") { .number(mc.valueAtRisk[$0]) },
            Column("es_mc") { .number(mc.expectedShortfall[$0]) },
            Column("liquidation_buffer_usd") { .number(a.liquidationBuffer[$0]) },
            Column("liquidation_probability") { .number(mc.liquidationProbability[$0]) },
            Column("liquidation_sigma") { .number(p.liquidationSigma[$0]) },
            Column("liquidation_scenario") { .text(p.liquidationScenario[$0]) },
            Column("topup_usd") { .number(a.topup[$0]) },
            Column("excess_usd") { .number(a.excess[$0]) },
            Column("worst_scenario") { stress.worstScenario[$0] >= 0 ? .text(scenarioNames[stress.worstScenario[$0]]) : .empty },
            Column("worst_scenario_loss_usd") { .number(stress.worstScenarioLoss[$0]) },
            Column("rebalance_status") { _ in .empty },
            Column("target_var_param") { _ in .empty },
            Column("target_hcv_usd") { _ in .empty },
            Column("target_collateral_ratio") { _ in .empty },
            Column("target_topup_usd") { _ in .empty },
            Column("turnover_usd") { _ in .empty },
            Column("cost_usd") { _ in .empty },
            Column("rebalance_reason") { _ in .empty },
        ]
    }

    public static func write(_ r: RunResult, workers: Int, to sink: ([UInt8]) throws -> Void) rethrows {
        try CSVWriter.stream(columns: columns(r), count: r.book.accountCount, row: { $0 }, workers: workers, to: sink)
    }
}

/// The columns of holdings.csv (SPEC §4), in order.
public enum HoldingColumns {
    public static func columns(_ r: RunResult) -> [Column<HoldingRow>] {
        let a = r.assessment, p = r.parametric, book = r.book, tickers = r.schedule.tickers, prices = r.prices
        return [
            Column("account") { .text(book.accountIDs[$0.account]) },
            Column("asset") { .text(tickers[Int(book.assetIndex[$0.holding])]) },
            Column("quantity") { .number(book.quantity[$0.holding]) },
            Column("price") { .number(prices[Int(book.assetIndex[$0.holding])]) },
            Column("exposure_usd") { .number(a.exposure[$0.holding]) },
            Column("haircut") { .number(a.haircut[$0.holding]) },
            Column("hcv_usd") { .number(a.holdingHCV[$0.holding]) },
            Column("component_var") { .number(p.componentVaR[$0.holding]) },
            Column("target_usd") { _ in .empty },
            Column("target_weight") { _ in .empty },
            Column("trade_usd") { _ in .empty },
            Column("trade_quantity") { _ in .empty },
        ]
    }

    /// The account of every holding (CSR row index), in book order.
    public static func accountOfHolding(_ book: Book) -> [Int32] {
        var owner = [Int32](repeating: 0, count: book.holdingCount)
        for account in 0 ..< book.accountCount {
            for holding in book.holdings(of: account) { owner[holding] = Int32(account) }
        }
        return owner
    }

    public static func write(_ r: RunResult, workers: Int, to sink: ([UInt8]) throws -> Void) rethrows {
        let owner = accountOfHolding(r.book)
        try CSVWriter.stream(columns: columns(r), count: r.book.holdingCount,
                             row: { HoldingRow(account: Int(owner[$0]), holding: $0) }, workers: workers, to: sink)
    }
}

/// The columns of stress.csv (SPEC §4): one row per scenario, scenarios.csv order then the replays.
public enum StressColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let rows = r.stress.scenarios
        return [
            Column("scenario") { .text(rows[$0].name) },
            Column("total_loss_usd") { .number(rows[$0].totalLossUSD) },
            Column("accounts_ok") { .integer(rows[$0].accountsOK) },
            Column("accounts_margin_call") { .integer(rows[$0].accountsMarginCall) },
            Column("accounts_liquidatable") { .integer(rows[$0].accountsLiquidatable) },
            Column("newly_liquidatable") { .integer(rows[$0].newlyLiquidatable) },
            Column("shortfall_usd") { .number(rows[$0].shortfallUSD) },
        ]
    }

    public static func render(_ r: RunResult) -> [UInt8] {
        CSVWriter.render(columns: columns(r), rows: r.stress.scenarios.indices)
    }
}
