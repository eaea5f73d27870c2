import RiskMetrics
import RiskModel
import RiskPipeline

/// What report.html shows beyond the run's own arrays: sums and counts of the per-account and per-holding figures
/// (book totals, per-asset sums, the health-factor histogram, per-scenario tallies). Display aggregation only —
/// no risk is computed here; accounts flagged `invalid` are left out of every sum, as in summary.json.
struct HTMLReportFigures {
    struct Totals {
        var accounts = 0
        var invalid = 0
        var withDebt = 0
        var collateral = 0.0
        var debt = 0.0
        var hcv = 0.0
        var topup = 0.0
        var topupAccounts = 0
        var status: [AccountStatus: Int] = [:]

        var valid: Int { accounts - invalid }
        var equity: Double { collateral - debt }
    }

    /// One asset summed over every valid holding of it.
    struct Asset {
        let index: Int
        let ticker: String
        var collateral = 0.0
        var debt = 0.0
        var hcv = 0.0
        var componentVaR = 0.0
        /// Accounts holding it as collateral or owing it.
        var holders = 0
    }

    /// Health factors of the valid accounts with debt on bins [i·w, (i+1)·w) of [0, upper), plus an overflow bin
    /// (≥ upper); each bin split by today's status (AccountStatus.allCases order).
    struct HealthHistogram {
        let upper: Double
        let binWidth: Double
        /// counts[bin][status], `bins + 1` rows, the last the overflow.
        let counts: [[Int]]
        var accounts: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
        var overflow: Int { counts.last?.reduce(0, +) ?? 0 }
    }

    let totals: Totals
    /// Assets with any exposure, largest collateral first (then largest debt, then schedule order).
    let assets: [Asset]
    let histogram: HealthHistogram
    /// Per scenario: accounts whose worst scenario it is.
    let worstScenarioAccounts: [Int]
    /// Index of the scenario with the largest total loss (first on ties), nil without scenarios.
    let worstScenario: Int?
    /// The scenarios the charts show, in scenario order: all of them, or the `chartedScenarioLimit` with the largest
    /// total loss when there are more (the table lists every one).
    let chartedScenarios: [Int]

    static let chartedScenarioLimit = 40

    /// Bins of the regular part of the health-factor histogram.
    static let histogramBins = 60

    init(_ r: RunResult) {
        let a = r.assessment, book = r.book
        var totals = Totals()
        totals.accounts = book.accountCount
        var assets = r.schedule.tickers.enumerated().map { Asset(index: $0.offset, ticker: $0.element) }
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
                let component = r.parametric.componentVaR[k]
                if component.isFinite { assets[j].componentVaR += component }
            }
        }
        self.totals = totals
        self.assets = assets.filter { $0.collateral > 0 || $0.debt > 0 }.sorted {
            if $0.collateral != $1.collateral { return $0.collateral > $1.collateral }
            if $0.debt != $1.debt { return $0.debt > $1.debt }
            return $0.index < $1.index
        }
        histogram = HTMLReportFigures.histogram(r)
        var worstCounts = [Int](repeating: 0, count: r.stress.scenarios.count)
        for s in r.stress.worstScenario where s >= 0 && s < worstCounts.count { worstCounts[s] += 1 }
        worstScenarioAccounts = worstCounts
        var worst: Int?
        for (s, row) in r.stress.scenarios.enumerated() where row.totalLossUSD.isFinite {
            if let w = worst, !(row.totalLossUSD > r.stress.scenarios[w].totalLossUSD) { continue }
            worst = s
        }
        worstScenario = worst
        let scenarios = r.stress.scenarios
        if scenarios.count <= HTMLReportFigures.chartedScenarioLimit {
            chartedScenarios = Array(scenarios.indices)
        } else {
            let loss = { (s: Int) in scenarios[s].totalLossUSD.isFinite ? scenarios[s].totalLossUSD : -.infinity }
            let largest = scenarios.indices.sorted { loss($0) != loss($1) ? loss($0) > loss($1) : $0 < $1 }
            chartedScenarios = largest.prefix(HTMLReportFigures.chartedScenarioLimit).sorted()
        }
    }

    /// The axis runs from 0 to 3, or further when the margin-call or target health factor lies beyond 1.5
    /// (so both marks stay well inside it), in 60 bins.
    static func histogram(_ r: RunResult) -> HealthHistogram {
        let c = r.config
        let marks = [c.marginCallRatio, c.targetRatio].map { $0 / c.liquidationRatio }.filter(\.isFinite)
        let upper = max(3, ((marks.max() ?? 1) * 2 / 0.5).rounded(.up) * 0.5)
        let width = upper / Double(histogramBins)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: AccountStatus.allCases.count), count: histogramBins + 1)
        let statusIndex = Dictionary(uniqueKeysWithValues: AccountStatus.allCases.enumerated().map { ($0.element, $0.offset) })
        let a = r.assessment
        for i in 0 ..< r.book.accountCount where !a.invalid[i] {
            let hf = a.healthFactor(i, config: c)
            guard !hf.isNaN else { continue }
            let bin = hf >= upper ? histogramBins : max(0, min(histogramBins - 1, Int(hf / width)))
            counts[bin][statusIndex[a.status[i]]!] += 1
        }
        return HealthHistogram(upper: upper, binWidth: width, counts: counts)
    }
}
