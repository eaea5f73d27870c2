/// How the covariance of daily log returns is estimated (METHODOLOGY "Covariance").
public enum CovarianceMethod: String, Sendable, CaseIterable {
    case sample, ewma
    case ledoitWolf = "ledoit_wolf"
}

/// Distribution of Monte Carlo daily log-return draws (METHODOLOGY "Parametric VaR and ES").
public enum MonteCarloDistribution: String, Sendable, CaseIterable {
    case normal
    case studentT = "student_t"
}

/// How haircuts are set (METHODOLOGY "Haircuts").
public enum HaircutModel: String, Sendable, CaseIterable { case schedule, volatility }

/// Which accounts rebalancing covers (METHODOLOGY "Rebalancing").
public enum RebalanceScope: String, Sendable, CaseIterable { case none, breaching, all }

/// Whether stress scenarios run the liquidation cascade of METHODOLOGY "Liquidation cascades under stress".
public enum CascadeSwitch: String, Sendable, CaseIterable { case on, off }

/// The anchor of the rebalancing objective (METHODOLOGY "Rebalancing").
public enum RebalanceObjective: String, Sendable, CaseIterable {
    case minVariance = "min_variance"
    case tracking
}

/// A historical stress replay: δ_i = P_end,i / P_start,i − 1 between two ISO dates of prices.csv.
public struct HistoricalReplay: Sendable, Equatable {
    public var name: String
    public var startDate: String
    public var endDate: String
    public init(name: String, startDate: String, endDate: String) {
        self.name = name
        self.startDate = startDate
        self.endDate = endDate
    }
}

/// Every setting of a run, with the METHODOLOGY "Inputs" defaults.
public struct RiskConfig: Sendable, Equatable {
    /// VaR/ES confidence level α, in (0, 1).
    public var confidence = 0.99
    /// Risk horizon h in days (> 0); VaR scales with √h.
    public var horizonDays = 1.0
    /// Number of daily log returns used (the latest `window` returns, W + 1 price rows).
    public var window = 365
    public var covariance = CovarianceMethod.ewma
    /// RiskMetrics decay λ of the EWMA covariance, in (0, 1).
    public var ewmaLambda = 0.94
    /// Accept assets with less history than `window` (pairwise-complete estimate, PSD-repaired).
    public var allowShortHistory = false
    public var monteCarloPaths = 10_000
    public var monteCarloSeed: UInt64 = 42
    public var monteCarloDistribution = MonteCarloDistribution.normal
    /// Degrees of freedom of the Student t draws (> 2), scaled to the same covariance.
    public var monteCarloDegreesOfFreedom = 5.0
    public var haircutModel = HaircutModel.volatility
    /// Base liquidation horizon T₀ in days.
    public var liquidationDays = 1.0
    /// Share of an asset's ADV that can be sold per day, fraction.
    public var participation = 0.10
    /// Collateral ratio below which an account is liquidatable.
    public var liquidationRatio = 1.00
    /// Collateral ratio below which an account gets a margin call.
    public var marginCallRatio = 1.10
    /// Collateral ratio that rebalancing and top-ups restore.
    public var targetRatio = 1.25
    /// Asset in which top-ups and excess are quoted.
    public var settlementAsset = "USDC"
    public var rebalance = RebalanceScope.breaching
    public var objective = RebalanceObjective.minVariance
    /// θ: weight of trading costs against risk in the rebalancing objective.
    public var costAversion = 1.0
    /// Days of the VaR backtest (METHODOLOGY "VaR backtesting"); 0 turns it off.
    public var backtestDays = 250
    /// Liquidation cascades under stress (METHODOLOGY "Liquidation cascades under stress").
    public var cascade = CascadeSwitch.on
    /// ℓ: liquidators seize (1 + ℓ) USD of collateral per USD of debt repaid, fraction.
    public var liquidationPenalty = 0.05
    /// φ: share of an account's remaining debt one liquidation repays, fraction in (0, 1].
    public var closeFactor = 0.5
    /// η: square-root price impact of liquidation sales (impact = η·σ·√(sold / ADV)), dimensionless.
    public var impactCoefficient = 1.0
    /// Rounds after which a cascade stops (with a warning when it was still liquidating).
    public var cascadeMaxRounds = 50
    /// Replays in config order (METHODOLOGY "Stress tests" defaults).
    public var historicalScenarios = RiskConfig.defaultReplays
    /// The run's date (ISO `yyyy-mm-dd`): the run behaves as if prices.csv ended on the last row dated on or before
    /// it. nil: the last row of prices.csv.
    public var asOf: String?
    /// The book's name in the results store; empty: the book folder's name (`LoadedBook.bookName` resolves it).
    public var bookName = ""
    /// Where the run's results are stored; nil: no store. Holds the password of a PostgreSQL URL: render it with
    /// `StoreLocation.redacted` only.
    public var store: StoreLocation?

    public static let defaultReplays = [
        HistoricalReplay(name: "covid_crash", startDate: "2020-03-11", endDate: "2020-03-13"),
        HistoricalReplay(name: "china_ban", startDate: "2021-05-18", endDate: "2021-05-20"),
        HistoricalReplay(name: "luna_collapse", startDate: "2022-05-07", endDate: "2022-05-12"),
        HistoricalReplay(name: "ftx_collapse", startDate: "2022-11-07", endDate: "2022-11-09"),
    ]

    public init() {}
}
