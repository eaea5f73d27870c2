import RiskPipeline

/// What report.html shows of the run's book-level aggregates (`RunResult.bookFigures`, computed once by the
/// pipeline), and the page's one display choice over them: which scenarios the charts show. Nothing is summed here.
struct HTMLReportFigures {
    typealias Asset = BookFigures.Asset
    typealias HealthHistogram = BookFigures.HealthHistogram

    let book: BookFigures
    /// The scenarios the charts show, in scenario order: all of them, or the `chartedScenarioLimit` with the largest
    /// total loss when there are more (the table lists every one).
    let chartedScenarios: [Int]

    static let chartedScenarioLimit = 40
    static var histogramBins: Int { BookFigures.histogramBins }

    init(_ r: RunResult) {
        book = r.bookFigures
        chartedScenarios = book.scenariosByLoss.prefix(HTMLReportFigures.chartedScenarioLimit).sorted()
    }

    var totals: BookFigures.Totals { book.totals }
    /// Assets with any exposure, largest collateral first (then largest debt, then schedule order).
    var assets: [Asset] { book.assets }
    var histogram: HealthHistogram { book.histogram }
    var worstScenario: Int? { book.worstScenario }
    var worstScenarioAccounts: [Int] { book.worstScenarioAccounts }

    static func histogram(_ r: RunResult) -> HealthHistogram { r.bookFigures.histogram }
}
