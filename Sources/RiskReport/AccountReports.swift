import Rebalancing
import RiskMetrics
import RiskModel
import RiskPipeline

/// The columns of accounts.csv (METHODOLOGY "Outputs"), in order.
public enum AccountColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let a = r.assessment, book = r.book, config = r.config
        return [
            Column("account", unit: "text", meaning: "account id, as in positions.csv") { .text(book.accountIDs[$0]) },
            Column("collateral_usd", unit: "USD",
                   meaning: "C = Σ c_i: the value of the account's holdings of positive quantity",
                   numbers: a.collateral),
            Column("debt_usd", unit: "USD", meaning: "D = Σ d_i: the value of the account's debts (negative quantities), positive",
                   numbers: a.debt),
            Column("equity_usd", unit: "USD", meaning: "E = C − D") { .number(a.equity($0)) },
            Column("hcv_usd", unit: "USD", meaning: "haircut-adjusted collateral value HCV = Σ c_i·(1 − h_i)",
                   numbers: a.hcv),
            Column("collateral_ratio", unit: "ratio", meaning: "CR = HCV / D; empty without debt",
                   numbers: a.collateralRatio),
            Column("health_factor", unit: "ratio", meaning: "CR / liquidation_ratio (below 1: liquidatable); empty without debt") {
                .number(a.healthFactor($0, config: config))
            },
            Column("status", unit: "text", meaning: "liquidatable if CR < liquidation_ratio, else margin_call if "
                   + "CR < margin_call_ratio, else ok (ok without debt); empty for an account out of range") {
                a.invalid[$0] ? .empty : .text(a.status[$0].rawValue)
            },
        ] + riskColumns(r) + liquidationColumns(r) + stressColumns(r) + rebalancingColumns(r.rebalancing)
            + figureColumns(r.accountFigures)
    }

    /// VaR and ES by method: USD over `horizon_days` at `confidence`, losses positive.
    static func riskColumns(_ r: RunResult) -> [Column<Int>] {
        let p = r.parametric, hist = r.historical, mc = r.monteCarlo
        return [
            Column("var_param", unit: "USD",
                   meaning: "parametric (delta-normal) VaR at the configured confidence and horizon: z·σ_P·√h, loss positive",
                   numbers: p.valueAtRisk),
            Column("es_param", unit: "USD", meaning: "parametric Expected Shortfall: σ_P·√h·φ(z)/(1 − α), loss positive",
                   numbers: p.expectedShortfall),
            Column("var_hist", unit: "USD",
                   meaning: "historical VaR: the k-th largest full-revaluation loss over the return window, × √h",
                   numbers: hist.valueAtRisk),
            Column("es_hist", unit: "USD", meaning: "historical Expected Shortfall: mean of the k largest window losses, × √h",
                   numbers: hist.expectedShortfall),
            Column("var_mc", unit: "USD",
                   meaning: "Monte Carlo VaR: the k-th largest full-revaluation loss over mc_paths simulated h-day moves",
                   numbers: mc.valueAtRisk),
            Column("es_mc", unit: "USD", meaning: "Monte Carlo Expected Shortfall: mean of the k largest simulated losses",
                   numbers: mc.expectedShortfall),
        ]
    }

    /// Distance to liquidation and the recommendations of METHODOLOGY "Parametric VaR and ES" and §3.4.
    static func liquidationColumns(_ r: RunResult) -> [Column<Int>] {
        let a = r.assessment, p = r.parametric, mc = r.monteCarlo
        return [
            Column("liquidation_buffer_usd", unit: "USD",
                   meaning: "B₀ = HCV − liquidation_ratio·D: how far HCV can fall before the account is liquidatable",
                   numbers: a.liquidationBuffer),
            Column("liquidation_probability", unit: "fraction",
                   meaning: "share of the Monte Carlo paths on which the account is liquidatable at the horizon "
                   + "(haircuts at today's values); empty without debt", numbers: mc.liquidationProbability),
            Column("liquidation_sigma", unit: "σ", meaning: "B₀/√(h·bᵀΣb): standard deviations of the most likely adverse "
                   + "move that exhaust the buffer (negative: already liquidatable); empty without debt",
                   numbers: p.liquidationSigma),
            Column("liquidation_scenario", unit: "text", meaning: "the three largest price moves of the most likely move to "
                   + "liquidation, as TICKER ±P.P%, largest first; empty without debt") {
                .text(p.liquidationScenario[$0])
            },
            Column("topup_usd", unit: "USD", meaning: "value of the settlement asset to deposit to restore target_ratio "
                   + "(its haircut counted): max(0, target_ratio·D − HCV)/(1 − h_settlement)", numbers: a.topup),
            Column("excess_usd", unit: "USD", meaning: "value of the settlement asset that could be withdrawn staying at "
                   + "target_ratio: max(0, HCV − target_ratio·D)/(1 − h_settlement)", numbers: a.excess),
        ]
    }

    /// The account's worst stress scenario (METHODOLOGY "Stress tests").
    static func stressColumns(_ r: RunResult) -> [Column<Int>] {
        let stress = r.stress, scenarioNames = r.stressScenarios.names
        return [
            Column("worst_scenario", unit: "text", meaning: "the stress scenario with the account's largest loss "
                   + "(the first on ties); empty without scenarios") {
                stress.worstScenario[$0] >= 0 ? .text(scenarioNames[stress.worstScenario[$0]]) : .empty
            },
            Column("worst_scenario_loss_usd", unit: "USD",
                   meaning: "the account's loss under worst_scenario, −Σ e_i·δ_i (negative: a gain)",
                   numbers: stress.worstScenarioLoss),
        ]
    }

    /// What the target columns of an account without a target hold.
    static let untargeted = "; empty for not_in_scope and failed accounts"

    /// The optimized target collateral (METHODOLOGY "Rebalancing").
    static func rebalancingColumns(_ rb: RebalancingResult) -> [Column<Int>] {
        [
            Column("rebalance_status", unit: "text", meaning: "rebalanced, unchanged, topup_required, failed or not_in_scope") {
                .text(rb.status[$0].rawValue)
            },
            Column("target_var_param", unit: "USD", meaning: "parametric VaR of the target collateral x against the debt: "
                   + "z·√h·√((x − d)ᵀΣ(x − d))" + untargeted, numbers: rb.targetVaR),
            Column("target_hcv_usd", unit: "USD",
                   meaning: "HCV of the target collateral, haircuts re-evaluated at the new holdings, less the trading cost"
                   + untargeted, numbers: rb.targetHCV),
            Column("target_collateral_ratio", unit: "ratio",
                   meaning: "target_hcv_usd / D; empty without debt and for not_in_scope and failed accounts",
                   numbers: rb.targetRatio),
            Column("target_topup_usd", unit: "USD", meaning: "settlement asset still to deposit after the swaps when they "
                   + "cannot reach target_ratio alone (topup_required), else 0" + untargeted, numbers: rb.targetTopup),
            Column("turnover_usd", unit: "USD", meaning: "Σ|x_i − c_i|: the value traded to reach the target" + untargeted,
                   numbers: rb.turnover),
            Column("cost_usd", unit: "USD", meaning: "trading cost of the swaps: Σ cost_bps_i/10⁴·|x_i − c_i|" + untargeted,
                   numbers: rb.cost),
            Column("rebalance_reason", unit: "text", meaning: "why the account's rebalancing failed; empty otherwise") {
                .text(rb.reason[$0])
            },
        ]
    }

    /// The declared figures after the fixed columns, in the order the run set them, each under its own declaration.
    static func figureColumns(_ figures: AccountFigures) -> [Column<Int>] {
        zip(figures.columns, figures.values).map { column, values in
            switch values {
            case .numbers(let v): return Column(figure: column, numbers: v)
            case .integers(let v): return Column(figure: column) { v[$0].map { .integer($0) } ?? .empty }
            case .texts(let v): return Column(figure: column) { v[$0].isEmpty ? .empty : .text(v[$0]) }
            }
        }
    }

    public static func write(_ r: RunResult, workers: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let order = r.accounts.inFileOrder   // rows in positions.csv order; the arrays are in canonical order
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

/// The columns of holdings.csv (METHODOLOGY "Outputs"), in order. Rows of assets only bought have quantity 0, exposure 0,
/// HCV 0 and empty haircut and component VaR.
public enum HoldingColumns {
    public static func columns(_ r: RunResult) -> [Column<HoldingRow>] {
        let a = r.assessment, p = r.parametric, book = r.book, tickers = r.schedule.tickers, prices = r.prices
        let targets = r.rebalancing.rows
        @Sendable func asset(_ row: HoldingRow) -> Int {
            row.holding >= 0 ? Int(book.assetIndex[row.holding]) : Int(targets.asset[row.target])
        }
        return [
            Column("account", unit: "text", meaning: "account id") { .text(book.accountIDs[$0.account]) },
            Column("asset", unit: "text", meaning: "ticker, as in assets.csv") { .text(tickers[asset($0)]) },
            Column("quantity", unit: "asset units",
                   meaning: "quantity held, lots summed (negative: debt); 0 for an asset the account only buys") {
                $0.holding >= 0 ? .number(book.quantity[$0.holding]) : .number(0)
            },
            Column("price", unit: "USD/unit", meaning: "as-of price: the last row of prices.csv after forward fill") {
                .number(prices[asset($0)])
            },
            Column("exposure_usd", unit: "USD", meaning: "e = quantity × price (negative for debt)") {
                $0.holding >= 0 ? .number(a.exposure[$0.holding]) : .number(0)
            },
            Column("haircut", unit: "fraction", meaning: "haircut h of the holding (haircut_model); empty for debt "
                   + "and for an asset only bought") {
                $0.holding >= 0 ? .number(a.haircut[$0.holding]) : .empty
            },
            Column("hcv_usd", unit: "USD", meaning: "haircut-adjusted collateral value c·(1 − h); 0 for debt") {
                $0.holding >= 0 ? .number(a.holdingHCV[$0.holding]) : .number(0)
            },
            Column("component_var", unit: "USD", meaning: "Euler contribution to the account's var_param: "
                   + "e_i·(Σe)_i/σ_P·z·√h (the components sum to var_param)") {
                $0.holding >= 0 ? .number(p.componentVaR[$0.holding]) : .empty
            },
        ] + targetColumns(targets)
    }

    /// The rebalancing target rows (METHODOLOGY "Rebalancing"); empty cells for an account without targets.
    static func targetColumns(_ targets: TargetRows) -> [Column<HoldingRow>] {
        let untargeted = AccountColumns.untargeted
        return [
            Column("target_usd", unit: "USD", meaning: "target holding x_i after rebalancing" + untargeted) {
                $0.target >= 0 ? .number(targets.targetUSD[$0.target]) : .empty
            },
            Column("target_weight", unit: "fraction", meaning: "x_i / C: the target as a share of today's collateral" + untargeted) {
                $0.target >= 0 ? .number(targets.weight[$0.target]) : .empty
            },
            Column("trade_usd", unit: "USD", meaning: "x_i − c_i: the value to buy (positive) or sell (negative)" + untargeted) {
                $0.target >= 0 ? .number(targets.tradeUSD[$0.target]) : .empty
            },
            Column("trade_quantity", unit: "asset units", meaning: "trade_usd / price" + untargeted) {
                $0.target >= 0 ? .number(targets.tradeQuantity[$0.target]) : .empty
            },
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
        for a in r.accounts.inFileOrder {
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

    public static func write(_ r: RunResult, workers: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let index = rowIndex(r)
        try CSVWriter.stream(columns: { columns(r) }, count: index.account.count, row: { index[$0] }, workers: workers,
                             to: sink)
    }
}

/// The columns of stress.csv (METHODOLOGY "Outputs"): one row per scenario, scenarios.csv order then the replays.
public enum StressColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let rows = r.stress.scenarios
        return [
            Column("scenario", unit: "text", meaning: "scenario name: scenarios.csv in order, then the historical replays") {
                .text(rows[$0].name)
            },
            Column("total_loss_usd", unit: "USD", meaning: "the book's loss under the scenario, Σ −e_i·δ_i over the accounts "
                   + "in range (negative: a gain)") {
                .number(rows[$0].totalLossUSD)
            },
            Column("accounts_ok", unit: "count", meaning: "accounts ok under the scenario (haircuts re-evaluated)") {
                .integer(rows[$0].accountsOK)
            },
            Column("accounts_margin_call", unit: "count", meaning: "accounts in margin call under the scenario") {
                .integer(rows[$0].accountsMarginCall)
            },
            Column("accounts_liquidatable", unit: "count", meaning: "accounts liquidatable under the scenario") {
                .integer(rows[$0].accountsLiquidatable)
            },
            Column("newly_liquidatable", unit: "count", meaning: "accounts liquidatable under the scenario and not today") {
                .integer(rows[$0].newlyLiquidatable)
            },
            Column("shortfall_usd", unit: "USD",
                   meaning: "Σ max(0, D′ − C′): debt the stressed collateral would not cover if every account were liquidated") {
                .number(rows[$0].shortfallUSD)
            },
        ]
    }

    public static func render(_ r: RunResult) -> [UInt8] {
        CSVWriter.render(columns: columns(r), rows: r.stress.scenarios.indices)
    }
}

/// The columns of backtest.csv (METHODOLOGY "Outputs"): one row per backtest day, oldest first; only the header when the backtest
/// was skipped.
public enum BacktestDayColumns {
    public static func columns(_ r: RunResult) -> [Column<Int>] {
        let b = r.backtest
        return [
            Column("date", unit: "date", meaning: "backtest day (YYYY-MM-DD), oldest first") { .text(b.dates[$0]) },
            Column("book_loss_usd", unit: "USD", meaning: "the book's realized 1-day loss on today's holdings: "
                   + "−Σ e_i·(exp(r_t,i) − 1), loss positive") {
                .number(b.book.losses[$0])
            },
            Column("book_var_param", unit: "USD",
                   meaning: "the book's 1-day parametric VaR forecast from the window of returns before the day") {
                .number(b.book.varParametric[$0])
            },
            Column("book_var_hist", unit: "USD",
                   meaning: "the book's 1-day historical VaR forecast from the window of returns before the day") {
                .number(b.book.varHistorical[$0])
            },
            Column("accounts_exceptions_param", unit: "count",
                   meaning: "accounts whose 1-day loss that day exceeded their parametric VaR forecast") {
                .integer(b.dailyExceptions.parametric[$0])
            },
            Column("accounts_exceptions_hist", unit: "count",
                   meaning: "accounts whose 1-day loss that day exceeded their historical VaR forecast") {
                .integer(b.dailyExceptions.historical[$0])
            },
        ]
    }

    public static func render(_ r: RunResult) -> [UInt8] {
        CSVWriter.render(columns: columns(r), rows: 0 ..< r.backtest.days)
    }
}
