import Rebalancing
import RiskMetrics
import RiskModel
import RiskPipeline

/// The columns of accounts.csv (SPEC §4), in order.
public enum AccountColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let a = r.assessment, p = r.parametric, book = r.book, config = r.config
        let hist = r.historical, mc = r.monteCarlo, stress = r.stress, scenarioNames = r.stressScenarios.names
        let rb = r.rebalancing
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
            Column("rebalance_status") { .text(rb.status[$0].rawValue) },
            Column("target_var_param") { .number(rb.targetVaR[$0]) },
            Column("target_hcv_usd") { .number(rb.targetHCV[$0]) },
            Column("target_collateral_ratio") { .number(rb.targetRatio[$0]) },
            Column("target_topup_usd") { .number(rb.targetTopup[$0]) },
            Column("turnover_usd") { .number(rb.turnover[$0]) },
            Column("cost_usd") { .number(rb.cost[$0]) },
            Column("rebalance_reason") { .text(rb.reason[$0]) },
        ] + figureColumns(r.accountFigures)
    }

    /// The declared figures after the fixed columns, in the order the run set them.
    static func figureColumns(_ figures: AccountFigures) -> [Column<Int>] {
        zip(figures.columns, figures.values).map { column, values in
            switch values {
            case .numbers(let v): return Column(column.name) { .number(v[$0]) }
            case .integers(let v): return Column(column.name) { v[$0].map { .integer($0) } ?? .empty }
            case .texts(let v): return Column(column.name) { v[$0].isEmpty ? .empty : .text(v[$0]) }
            }
        }
    }

    public static func write(_ r: RunResult, workers: Int, to sink: ([UInt8]) throws -> Void) throws {
        let order = r.fileOrder   // rows in positions.csv order; the arrays are in canonical order
        try CSVWriter.stream(columns: { columns(r) }, count: order.count, row: { order[$0] }, workers: workers, to: sink)
    }
}

/// A row of holdings.csv: an account's holding (CSR index) or an asset it only buys, with its rebalancing target row.
public struct HoldingRow: Sendable {
    public let account: Int
    /// CSR index of the holding, −1 for an asset the account only buys.
    public let holding: Int
    /// Index into the rebalancing target rows, −1 when the account has none (not in scope, failed).
    public let target: Int
}

/// The columns of holdings.csv (SPEC §4), in order. Rows of assets only bought have quantity 0, exposure 0,
/// HCV 0 and empty haircut and component VaR.
public enum HoldingColumns {
    public static func columns(_ r: RunResult) -> [Column<HoldingRow>] {
        let a = r.assessment, p = r.parametric, book = r.book, tickers = r.schedule.tickers, prices = r.prices
        let targets = r.rebalancing.rows
        @Sendable func asset(_ row: HoldingRow) -> Int {
            row.holding >= 0 ? Int(book.assetIndex[row.holding]) : Int(targets.asset[row.target])
        }
        return [
            Column("account") { .text(book.accountIDs[$0.account]) },
            Column("asset") { .text(tickers[asset($0)]) },
            Column("quantity") { $0.holding >= 0 ? .number(book.quantity[$0.holding]) : .number(0) },
            Column("price") { .number(prices[asset($0)]) },
            Column("exposure_usd") { $0.holding >= 0 ? .number(a.exposure[$0.holding]) : .number(0) },
            Column("haircut") { $0.holding >= 0 ? .number(a.haircut[$0.holding]) : .empty },
            Column("hcv_usd") { $0.holding >= 0 ? .number(a.holdingHCV[$0.holding]) : .number(0) },
            Column("component_var") { $0.holding >= 0 ? .number(p.componentVaR[$0.holding]) : .empty },
            Column("target_usd") { $0.target >= 0 ? .number(targets.targetUSD[$0.target]) : .empty },
            Column("target_weight") { $0.target >= 0 ? .number(targets.weight[$0.target]) : .empty },
            Column("trade_usd") { $0.target >= 0 ? .number(targets.tradeUSD[$0.target]) : .empty },
            Column("trade_quantity") { $0.target >= 0 ? .number(targets.tradeQuantity[$0.target]) : .empty },
        ]
    }

    /// Every row in order: each account's holdings (positions.csv order), then the assets it only buys.
    /// Stored as three Int32 arrays (12 bytes a row).
    struct RowIndex: Sendable {
        var account: [Int32] = []
        var holding: [Int32] = []
        var target: [Int32] = []
        subscript(i: Int) -> HoldingRow {
            HoldingRow(account: Int(account[i]), holding: Int(holding[i]), target: Int(target[i]))
        }
    }

    static func rowIndex(_ r: RunResult) -> RowIndex {
        let book = r.book, rb = r.rebalancing
        var index = RowIndex()
        index.account.reserveCapacity(book.holdingCount)
        index.holding.reserveCapacity(book.holdingCount)
        index.target.reserveCapacity(book.holdingCount)
        for a in r.fileOrder {
            let holdings = book.holdings(of: a)
            let targets = rb.targetRows(of: a)
            for (offset, k) in holdings.enumerated() {
                index.account.append(Int32(a))
                index.holding.append(Int32(k))
                index.target.append(targets.isEmpty ? -1 : Int32(targets.lowerBound + offset))
            }
            if targets.count > holdings.count {
                for t in (targets.lowerBound + holdings.count) ..< targets.upperBound {
                    index.account.append(Int32(a))
                    index.holding.append(-1)
                    index.target.append(Int32(t))
                }
            }
        }
        return index
    }

    public static func write(_ r: RunResult, workers: Int, to sink: ([UInt8]) throws -> Void) throws {
        let index = rowIndex(r)
        try CSVWriter.stream(columns: { columns(r) }, count: index.account.count, row: { index[$0] }, workers: workers,
                             to: sink)
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

/// The columns of backtest.csv (SPEC §4): one row per backtest day, oldest first; only the header when the backtest
/// was skipped.
public enum BacktestDayColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let b = r.backtest
        return [
            Column("date") { .text(b.dates[$0]) },
            Column("book_loss_usd") { .number(b.book.losses[$0]) },
            Column("book_var_param") { .number(b.book.varParametric[$0]) },
            Column("book_var_hist") { .number(b.book.varHistorical[$0]) },
            Column("accounts_exceptions_param") { .integer(b.dailyExceptions.parametric[$0]) },
            Column("accounts_exceptions_hist") { .integer(b.dailyExceptions.historical[$0]) },
        ]
    }

    public static func render(_ r: RunResult) -> [UInt8] {
        CSVWriter.render(columns: columns(r), rows: 0 ..< r.backtest.days)
    }
}
