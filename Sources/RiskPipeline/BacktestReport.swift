import RiskMetrics
import RiskModel

/// The per-account backtest columns of accounts.csv (METHODOLOGY "VaR backtesting"), declared once: `bt_exceptions_m`,
/// `bt_pof_pvalue_m`, `bt_cc_pvalue_m`, `bt_zone_m` for m = param, hist.
public enum BacktestColumns {
    /// The method suffixes, in column order.
    public static let methods = ["param", "hist"]

    public static func exceptions(_ m: String) -> FigureColumn {
        FigureColumn("bt_exceptions_\(m)", unit: "days",
                     meaning: "backtest days on which the account's 1-day loss exceeded its \(name(m)) VaR forecast")
    }

    public static func pofPValue(_ m: String) -> FigureColumn {
        FigureColumn("bt_pof_pvalue_\(m)", unit: "p-value",
                     meaning: "Kupiec proportion-of-failures test of the \(name(m)) VaR: P(χ²₁ > LR_pof)")
    }

    public static func ccPValue(_ m: String) -> FigureColumn {
        FigureColumn("bt_cc_pvalue_\(m)", unit: "p-value",
                     meaning: "Christoffersen conditional-coverage test of the \(name(m)) VaR: P(χ²₂ > LR_pof + LR_ind)")
    }

    public static func zone(_ m: String) -> FigureColumn {
        FigureColumn("bt_zone_\(m)", unit: "zone", meaning: "Basel traffic light of the \(name(m)) VaR: green, yellow or red")
    }

    static func name(_ m: String) -> String { m == "param" ? "parametric" : "historical" }

    /// Adds the eight columns of `result` to `figures` (empty cells for accounts not backtested).
    public static func add(_ result: BacktestResult, to figures: inout AccountFigures) {
        for (m, method) in zip(methods, [result.parametric, result.historical]) {
            figures.set(exceptions(m), .integers(method.exceptions.map { $0 >= 0 ? $0 : nil }))
            figures.set(pofPValue(m), .numbers(method.pofPValue))
            figures.set(ccPValue(m), .numbers(method.ccPValue))
            figures.set(zone(m), .texts(method.zone))
        }
    }
}

/// The backtest as the report shows it: the daily series of the book and of the accounts' exceptions, the book's
/// statistics per method, and how many accounts fall in each zone.
public struct BacktestReport: Sendable {
    /// B, the backtest days (0: skipped).
    public var days: Int
    /// The B backtest dates, oldest first.
    public var dates: [String]
    /// Per backtest day, the accounts whose loss exceeded their VaR, per method.
    public var dailyExceptions: BacktestDailyExceptions
    /// The book as one portfolio: losses, forecasts and statistics.
    public var book: BookBacktest
    /// Accounts per zone (green, yellow, red), per method (`param`, `hist`).
    public var zoneCounts: [String: [BacktestZone: Int]]

    /// No backtest (backtest_days = 0, too little history, or a shard's part).
    public static let skipped = BacktestReport(
        days: 0, dates: [], dailyExceptions: BacktestDailyExceptions(parametric: [], historical: []),
        book: BookBacktest(days: 0, dates: [], losses: [], varParametric: [], varHistorical: [], parametric: nil,
                           historical: nil),
        zoneCounts: [:])

    /// The report of a run over the whole book: `figures` holds the accounts' zones (`BacktestColumns`).
    public init(market: BacktestMarket, dailyExceptions: BacktestDailyExceptions, book: BookBacktest,
                figures: AccountFigures) {
        var counts: [String: [BacktestZone: Int]] = [:]
        for m in BacktestColumns.methods {
            var tally: [BacktestZone: Int] = [.green: 0, .yellow: 0, .red: 0]
            if case .texts(let zones)? = figures.values(of: BacktestColumns.zone(m).name) {
                for z in zones { if let zone = BacktestZone(rawValue: z) { tally[zone, default: 0] += 1 } }
            }
            counts[m] = tally
        }
        self.init(days: market.days, dates: market.dates, dailyExceptions: dailyExceptions, book: book, zoneCounts: counts)
    }

    public init(days: Int, dates: [String], dailyExceptions: BacktestDailyExceptions, book: BookBacktest,
                zoneCounts: [String: [BacktestZone: Int]]) {
        self.days = days
        self.dates = dates
        self.dailyExceptions = dailyExceptions
        self.book = book
        self.zoneCounts = zoneCounts
    }
}

extension BacktestReport {
    /// The report of the whole book (a run or a merge): the book backtested as one portfolio, the accounts' zones
    /// tallied from `figures`, and the daily exception counts as given.
    public static func wholeBook(book: Book, assessment: CollateralAssessment, market: BacktestMarket, config: RiskConfig,
                                 dailyExceptions: BacktestDailyExceptions, figures: AccountFigures) -> BacktestReport {
        let whole = RiskPipeline.bookBacktest(book: book, assessment: assessment, market: market, config: config)
        return BacktestReport(market: market, dailyExceptions: dailyExceptions, book: whole, figures: figures)
    }
}

extension RiskPipeline {
    /// The book's backtest: every valid account's exposures summed per asset (canonical order), backtested as one
    /// portfolio.
    public static func bookBacktest(book: Book, assessment: CollateralAssessment, market: BacktestMarket,
                                    config: RiskConfig) -> BookBacktest {
        let exposures = Backtester.bookExposures(book: book, exposure: assessment.exposure, invalid: assessment.invalid,
                                                 assetCount: market.assetCount)
        return Backtester.book(exposuresByAsset: exposures, market: market, confidence: config.confidence)
    }
}
