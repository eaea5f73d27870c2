import RiskMetrics
import RiskModel
import Rebalancing

/// The book-level aggregates the report shows, computed once per run from the per-account and per-holding arrays
/// (`RunResult.bookFigures`): book totals, counts by status, per-asset sums, rebalancing flows per asset, the book's
/// worst stress scenario, the health-factor histogram, per-scenario tallies and the riskiest accounts. summary.json
/// and report.html only format these. Accounts flagged `invalid` are left out of every sum and count but
/// `Totals.accounts` / `Totals.invalid`. Every sum runs over the computed book in its order (canonical), as the
/// writers summed before, so the figures are the same to the last bit.
public struct BookFigures: Sendable {
    /// Sums and counts over the accounts.
    public struct Totals: Sendable, Equatable {
        public var accounts = 0
        public var invalid = 0
        /// Valid accounts with debt > 0.
        public var withDebt = 0
        public var collateral = 0.0
        public var debt = 0.0
        public var hcv = 0.0
        /// Sum of the positive top-ups, and how many accounts need one.
        public var topup = 0.0
        public var topupAccounts = 0
        /// Valid accounts by today's status (a status no account has is absent; `count(_:)` reads it as 0).
        public var status: [AccountStatus: Int] = [:]

        public var valid: Int { accounts - invalid }
        public var equity: Double { collateral - debt }
        public func count(_ s: AccountStatus) -> Int { status[s] ?? 0 }
    }

    /// One asset summed over every holding of it by a valid account.
    public struct Asset: Sendable, Equatable {
        /// Schedule index and ticker.
        public let index: Int
        public let ticker: String
        /// Σ positive exposures, Σ −(negative exposures), Σ holding HCV, Σ finite component VaR.
        public var collateral = 0.0
        public var debt = 0.0
        public var hcv = 0.0
        public var componentVaR = 0.0
        /// Accounts holding it as collateral or owing it.
        public var holders = 0
    }

    /// Rebalancing trades of one asset summed over every account's target rows.
    public struct AssetFlow: Sendable, Equatable {
        public let index: Int
        public let ticker: String
        /// Σ positive trades, Σ −(negative trades), and the engine's net flow (`RebalancingResult.netFlows`).
        public let bought: Double
        public let sold: Double
        public let net: Double
    }

    /// Health factors of the valid accounts with debt on bins [i·w, (i+1)·w) of [0, upper), plus an overflow bin
    /// (≥ upper); each bin split by today's status (AccountStatus.allCases order).
    public struct HealthHistogram: Sendable, Equatable {
        public let upper: Double
        public let binWidth: Double
        /// counts[bin][status], `bins + 1` rows, the last the overflow.
        public let counts: [[Int]]
        /// Accounts counted, those in the overflow bin, and those in the bins below health factor 1.
        public let accounts: Int
        public let overflow: Int
        public let belowOne: Int
    }

    /// Bins of the regular part of the health-factor histogram.
    public static let histogramBins = 60
    /// Accounts in the riskiest list (summary.json and report.html).
    public static let riskiestCount = 20

    public let totals: Totals
    /// Assets with any exposure, largest collateral first (then largest debt, then schedule order).
    public let assets: [Asset]
    /// Σ component VaR of `assets`, in that order.
    public let assetComponentVaR: Double
    /// Assets traded by the rebalancing, largest bought + sold first (empty when nothing is traded).
    public let flows: [AssetFlow]
    public let histogram: HealthHistogram
    /// Per scenario: accounts whose worst scenario it is.
    public let worstScenarioAccounts: [Int]
    /// The scenario with the largest finite total loss, scanning in scenario order with the tie rule of the
    /// per-account worst scenario (`StressTester.worstScenario`, `StressTester.isTie`); nil without one.
    public let worstScenario: Int?
    /// Every scenario, largest total loss first (non-finite last), ties in scenario order.
    public let scenariosByLoss: [Int]
    /// The `riskiestCount` riskiest accounts (`RiskRanking`), indices into the computed book.
    public let riskiest: [Int]

    /// The figures of a run over `book` (canonical order; `fileRows[a]` is account a's row in positions.csv).
    public init(book: Book, assessment: CollateralAssessment, parametric: ParametricRisk, stress: StressResult,
                rebalancing: RebalancingResult, config: RiskConfig, tickers: [String], fileRows: [FileRow]) {
        let sums = Self.sums(book: book, assessment: assessment, componentVaR: parametric.componentVaR,
                             tickers: tickers)
        totals = sums.totals
        assets = sums.assets.filter { $0.collateral > 0 || $0.debt > 0 }.sorted {
            if $0.collateral != $1.collateral { return $0.collateral > $1.collateral }
            if $0.debt != $1.debt { return $0.debt > $1.debt }
            return $0.index < $1.index
        }
        assetComponentVaR = assets.reduce(0) { $0 + $1.componentVaR }
        flows = Self.flows(rebalancing, tickers: tickers)
        histogram = Self.histogram(assessment: assessment, config: config)
        let scenarios = stress.scenarios
        var worstCounts = [Int](repeating: 0, count: scenarios.count)
        for s in stress.worstScenario where s >= 0 && s < worstCounts.count { worstCounts[s] += 1 }
        worstScenarioAccounts = worstCounts
        let finite = scenarios.indices.filter { scenarios[$0].totalLossUSD.isFinite }
        worstScenario = StressTester.worstScenario(losses: finite.map { scenarios[$0].totalLossUSD }).map { finite[$0] }
        let loss = { (s: Int) in scenarios[s].totalLossUSD.isFinite ? scenarios[s].totalLossUSD : -.infinity }
        scenariosByLoss = scenarios.indices.sorted { loss($0) != loss($1) ? loss($0) > loss($1) : $0 < $1 }
        riskiest = RiskRanking.riskiest(collateralRatio: assessment.collateralRatio,
                                        valueAtRisk: parametric.valueAtRisk, invalid: assessment.invalid,
                                        fileRows: fileRows, count: Self.riskiestCount)
    }

    /// Book totals and per-asset sums (every asset of the schedule, in schedule order), one pass over the accounts
    /// in book order.
    static func sums(book: Book, assessment a: CollateralAssessment, componentVaR: [Double],
                     tickers: [String]) -> (totals: Totals, assets: [Asset]) {
        var totals = Totals()
        totals.accounts = book.accountCount
        var assets = tickers.enumerated().map { Asset(index: $0.offset, ticker: $0.element) }
        for i in 0 ..< book.accountCount {
            if a.invalid[i] {
                totals.invalid += 1
                continue
            }
            totals.collateral += a.collateral[i]
            totals.debt += a.debt[i]
            totals.hcv += a.hcv[i]
            totals.status[a.status[i], default: 0] += 1
            if a.debt[i] > 0 { totals.withDebt += 1 }
            if a.topup[i] > 0 {
                totals.topup += a.topup[i]
                totals.topupAccounts += 1
            }
            for k in book.holdings(of: i) {
                let j = Int(book.assetIndex[k]), e = a.exposure[k]
                if e > 0 { assets[j].collateral += e } else if e < 0 { assets[j].debt -= e }
                if e != 0 { assets[j].holders += 1 }
                assets[j].hcv += a.holdingHCV[k]
                let component = componentVaR[k]
                if component.isFinite { assets[j].componentVaR += component }
            }
        }
        return (totals, assets)
    }

    /// Bought and sold USD per asset over every target row in order, the traded assets largest bought + sold first.
    static func flows(_ rb: RebalancingResult, tickers: [String]) -> [AssetFlow] {
        let n = tickers.count
        var bought = [Double](repeating: 0, count: n), sold = [Double](repeating: 0, count: n)
        for t in 0 ..< rb.rows.count {
            let trade = rb.rows.tradeUSD[t], j = Int(rb.rows.asset[t])
            if trade > 0 { bought[j] += trade } else { sold[j] -= trade }
        }
        let traded: [Double] = (0 ..< n).map { bought[$0] + sold[$0] }
        let order: [Int] = (0 ..< n).filter { traded[$0] > 0 }.sorted { traded[$0] > traded[$1] }
        return order.map {
            AssetFlow(index: $0, ticker: tickers[$0], bought: bought[$0], sold: sold[$0],
                      net: $0 < rb.netFlows.count ? rb.netFlows[$0] : .nan)
        }
    }

    /// The axis runs from 0 to 3, or further when the margin-call or target health factor lies beyond 1.5
    /// (so both marks stay well inside it), in `histogramBins` bins.
    static func histogram(assessment a: CollateralAssessment, config c: RiskConfig) -> HealthHistogram {
        let bins = histogramBins
        let marks = [c.marginCallRatio, c.targetRatio].map { $0 / c.liquidationRatio }.filter(\.isFinite)
        let upper = max(3, ((marks.max() ?? 1) * 2 / 0.5).rounded(.up) * 0.5)
        let width = upper / Double(bins)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: AccountStatus.allCases.count), count: bins + 1)
        let statusIndex = Dictionary(uniqueKeysWithValues: AccountStatus.allCases.enumerated().map { ($0.element, $0.offset) })
        for i in a.status.indices where !a.invalid[i] {
            let hf = a.healthFactor(i, config: c)
            guard !hf.isNaN else { continue }
            let bin = hf >= upper ? bins : max(0, min(bins - 1, Int(hf / width)))
            counts[bin][statusIndex[a.status[i]]!] += 1
        }
        let belowOne = counts.prefix(Int((1 / width).rounded())).reduce(0) { $0 + $1.reduce(0, +) }
        return HealthHistogram(upper: upper, binWidth: width, counts: counts,
                               accounts: counts.reduce(0) { $0 + $1.reduce(0, +) },
                               overflow: counts.last?.reduce(0, +) ?? 0, belowOne: belowOne)
    }
}
