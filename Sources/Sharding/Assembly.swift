import LinearAlgebra
import RiskMetrics
import RiskModel
import RiskPipeline
import Rebalancing

/// Rebuilds a whole run's result from the merged parts of a sharded run.
enum Assembly {
    /// The whole book's result from the merged parts of a sharded run (`ResultArchive.merge`, canonical order):
    /// the per-account and per-holding figures as the shards computed them, and the book-level figures
    /// recomputed here by the same functions a whole run uses, in the same order — so the result, and the report
    /// written from it, equal a whole run's.
    static func assemble(market: MarketContext, archive: ResultArchive, threads: Int,
                                timings: PhaseTimings) throws(PipelineError) -> RunResult {
        let loaded = market.loaded, config = market.config
        let accounts = ComputedAccounts(wholeBook: market.canonicalOrder)
        let book = loaded.book.subset(accounts.fileRows)
        do {
            let assessment = try CollateralAssessment(archive: archive, prefix: ResultKey.assessment)
            var parametric = try ParametricRisk(archive: archive, prefix: ResultKey.parametric)
            var historical = try ScenarioRisk(archive: archive, prefix: ResultKey.historical)
            var monteCarlo = try ScenarioRisk(archive: archive, prefix: ResultKey.monteCarlo)
            let stress = try StressResult(archive: archive, prefix: ResultKey.stress, scenarioNames: market.stressScenarios.names)
            let rebalancing = try RebalancingResult(archive: archive, prefix: ResultKey.rebalancing, assetCount: loaded.schedule.count)
            let accountCount = book.accountCount, holdings = book.holdingCount
            let sizes = [assessment.collateral.count, parametric.valueAtRisk.count, historical.valueAtRisk.count,
                         monteCarlo.valueAtRisk.count, stress.worstScenario.count, rebalancing.status.count]
            guard sizes.allSatisfy({ $0 == accountCount }), assessment.exposure.count == holdings,
                  parametric.componentVaR.count == holdings else {
                throw ResultArchive.Failure.mismatch("the parts do not cover the book's \(accountCount) accounts and \(holdings) holdings")
            }
            let whole = ParametricRiskCalculator.bookRisk(book: book, assessment: assessment,
                                                          covariance: market.covariance.matrix, scale: market.scale)
            parametric.bookValueAtRisk = whole.valueAtRisk
            parametric.bookExpectedShortfall = whole.expectedShortfall
            let historicalBook = ScenarioLossCalculator.bookRisk(
                book: book, assessment: assessment, moves: HistoricalRiskCalculator.scenarioMoves(market.window),
                confidence: config.confidence, lossScale: config.horizonDays.squareRoot())
            historical.bookValueAtRisk = historicalBook.valueAtRisk
            historical.bookExpectedShortfall = historicalBook.expectedShortfall
            let factor: MonteCarloFactor
            do { factor = try MonteCarloRiskCalculator.factor(market.covariance.matrix) } catch {
                throw PipelineError.computation("Monte Carlo factor of the covariance: \(error)")
            }
            let paths = MonteCarloRiskCalculator.scenarioMoves(factor: factor, config: config, workers: threads)
            let monteCarloBook = ScenarioLossCalculator.bookRisk(book: book, assessment: assessment, moves: paths,
                                                                 confidence: config.confidence, lossScale: 1)
            monteCarlo.bookValueAtRisk = monteCarloBook.valueAtRisk
            monteCarlo.bookExpectedShortfall = monteCarloBook.expectedShortfall
            var result = RunResult(market: market, assessment: assessment, parametric: parametric,
                                   historical: historical, monteCarlo: monteCarlo, monteCarloFactor: factor, stress: stress,
                                   rebalancing: rebalancing, book: book, accounts: accounts, shard: nil,
                                   timings: timings, threads: threads)
            result.accountFigures = try AccountFigures(archive: archive, prefix: ResultKey.figures)
            let daily = BacktestDailyExceptions(parametric: try archive.ints(ResultKey.backtestDailyParametric),
                                                historical: try archive.ints(ResultKey.backtestDailyHistorical))
            result.backtest = BacktestReport.wholeBook(book: book, assessment: assessment, market: market.backtestMarket,
                                                       config: config, dailyExceptions: daily,
                                                       figures: result.accountFigures)
            result.addCascade(market: market)
            return result
        } catch let error as PipelineError {
            throw error
        } catch {
            throw .computation("merging the parts: \(error)")
        }
    }
}
