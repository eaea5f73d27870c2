import OutputFolder
import Foundation
import Rebalancing
import RiskInput
import RiskMetrics
import RiskModel
import RiskPipeline

/// summary.json (METHODOLOGY "Outputs"): run metadata, book totals, status counts, riskiest accounts, warnings.
/// `not_computed` lists the figures a run skipped (empty today: every figure is computed).
public enum SummaryReport {
    public static let riskiestCount = BookFigures.riskiestCount

    public static func render(_ r: RunResult, inputChecksums: [(String, String)], wallSeconds: Double) -> String {
        let p = r.parametric, totals = r.bookFigures.totals
        let phases: [(String, JSONValue)] = Phase.summaryOrder.map { ($0.rawValue, .number(r.timings.seconds[$0] ?? 0)) }
        let summary: JSONValue = .object([
            ("engine", .string("ballast")),
            ("engine_version", .string(EngineVersion.current)),
            ("as_of", .string(r.asOfDate)),
            ("book_directory", .string(r.input.directory.relativePath)),
            ("config", configJSON(r.config)),
            ("inputs_sha256", .object(inputChecksums.map { ($0.0, .string($0.1)) })),
            ("threads", .integer(r.threads)),
            ("phases_s", .object(phases)),
            ("wall_s", .number(wallSeconds)),
            ("peak_rss_bytes", .integer(ProcessStatistics.peakResidentBytes)),
            ("counts", .object([
                ("accounts", .integer(r.book.accountCount)),
                ("invalid_accounts", .integer(totals.invalid)),
                ("holdings", .integer(r.book.holdingCount)),
                ("assets", .integer(r.schedule.count)),
                ("price_rows", .integer(r.input.prices.rowCount)),
                ("scenarios", .integer(r.input.scenarios.count)),
            ])),
            ("parametric_kernel", .object([
                ("block_size", .integer(ParametricRiskCalculator.blockSize)),
                ("dense_blocks", .integer(p.denseBlocks)),
                ("sparse_blocks", .integer(p.sparseBlocks)),
                ("dense_gflop", .number(p.matrixFlops / 1e9)),
            ])),
            ("historical", .object([
                ("returns", .integer(r.historical.scenarioCount)),
                ("tail_count", .integer(r.historical.tailCount)),
                ("dense_blocks", .integer(r.historical.denseBlocks)),
                ("sparse_blocks", .integer(r.historical.sparseBlocks)),
            ])),
            ("monte_carlo", .object([
                ("paths", .integer(r.monteCarlo.scenarioCount)),
                ("tail_count", .integer(r.monteCarlo.tailCount)),
                ("distribution", .string(r.config.monteCarloDistribution.rawValue)),
                ("factor", .string(factorDescription(r.monteCarloFactor))),
                ("dense_blocks", .integer(r.monteCarlo.denseBlocks)),
                ("sparse_blocks", .integer(r.monteCarlo.sparseBlocks)),
                ("dense_gflop", .number(r.monteCarlo.matrixFlops / 1e9)),
            ])),
            ("covariance", .object([
                ("method", .string(r.config.covariance.rawValue)),
                ("shrinkage", r.covariance.shrinkage.map(JSONValue.number) ?? .null),
                ("clipped_eigenvalues", .integer(r.covariance.clippedEigenvalues)),
            ])),
            ("book", .object([
                ("collateral_usd", .number(totals.collateral)),
                ("debt_usd", .number(totals.debt)),
                ("equity_usd", .number(totals.equity)),
                ("hcv_usd", .number(totals.hcv)),
                ("var_param", .finite(p.bookValueAtRisk)),
                ("es_param", .finite(p.bookExpectedShortfall)),
                ("var_hist", .finite(r.historical.bookValueAtRisk)),
                ("es_hist", .finite(r.historical.bookExpectedShortfall)),
                ("var_mc", .finite(r.monteCarlo.bookValueAtRisk)),
                ("es_mc", .finite(r.monteCarlo.bookExpectedShortfall)),
            ])),
            ("status_counts", .object(AccountStatus.allCases.map { ($0.rawValue, .integer(totals.count($0))) })),
            ("stress", stressJSON(r)),
            ("riskiest_accounts", riskiestJSON(r)),
            ("rebalance", rebalanceJSON(r)),
            ("backtest", backtestJSON(r.backtest)),
            ("cascade", cascadeJSON(r)),
            ("changes", r.changes.map(changesJSON) ?? .null),
            ("not_computed", .array([])),
            ("warnings", .array(r.warnings.map(JSONValue.string))),
        ])
        return summary.rendered()
    }

    /// The riskiest accounts (`BookFigures.riskiest`), one object each.
    static func riskiestJSON(_ r: RunResult) -> JSONValue {
        let a = r.assessment, p = r.parametric
        return .array(r.bookFigures.riskiest.map { i -> JSONValue in
            .object([
                ("account", .string(r.book.accountIDs[i])),
                ("status", .string(a.status[i].rawValue)),
                ("collateral_ratio", .finite(a.collateralRatio[i])),
                ("health_factor", .finite(a.healthFactor(i, config: r.config))),
                ("collateral_usd", .finite(a.collateral[i])),
                ("debt_usd", .finite(a.debt[i])),
                ("var_param", .finite(p.valueAtRisk[i])),
                ("var_hist", .finite(r.historical.valueAtRisk[i])),
                ("var_mc", .finite(r.monteCarlo.valueAtRisk[i])),
                ("liquidation_probability", .finite(r.monteCarlo.liquidationProbability[i])),
                ("liquidation_buffer_usd", .finite(a.liquidationBuffer[i])),
                ("liquidation_sigma", .finite(p.liquidationSigma[i])),
                ("liquidation_scenario", .string(p.liquidationScenario[i])),
                ("topup_usd", .finite(a.topup[i])),
                ("worst_scenario", r.stress.worstScenario[i] >= 0
                    ? .string(r.stressScenarios.names[r.stress.worstScenario[i]]) : .null),
                ("worst_scenario_loss_usd", .finite(r.stress.worstScenarioLoss[i])),
            ])
        })
    }

    /// The stress table, one object per scenario in scenario order.
    static func stressJSON(_ r: RunResult) -> JSONValue {
        .array(r.stress.scenarios.enumerated().map { i, row in
            let source: JSONValue
            switch r.stressScenarios.sources[i] {
            case .hypothetical: source = .string("scenarios.csv")
            case .replay(let start, let end): source = .string("replay \(start)..\(end)")
            }
            return .object([
                ("scenario", .string(row.name)),
                ("source", source),
                ("total_loss_usd", .finite(row.totalLossUSD)),
                ("accounts_ok", .integer(row.accountsOK)),
                ("accounts_margin_call", .integer(row.accountsMarginCall)),
                ("accounts_liquidatable", .integer(row.accountsLiquidatable)),
                ("newly_liquidatable", .integer(row.newlyLiquidatable)),
                ("shortfall_usd", .finite(row.shortfallUSD)),
            ])
        })
    }

    static func rebalanceJSON(_ r: RunResult) -> JSONValue {
        let rb = r.rebalancing
        let tickers = r.schedule.tickers
        return .object([
            ("scope", .string(r.config.rebalance.rawValue)),
            ("objective", .string(r.config.objective.rawValue)),
            ("in_scope", .integer(rb.inScope)),
            ("rebalanced", .integer(rb.counts[.rebalanced] ?? 0)),
            ("unchanged", .integer(rb.counts[.unchanged] ?? 0)),
            ("topup_required", .integer(rb.counts[.topupRequired] ?? 0)),
            ("failed", .integer(rb.counts[.failed] ?? 0)),
            ("turnover_usd", .finite(rb.totalTurnover)),
            ("cost_usd", .finite(rb.totalCost)),
            ("qp_size_mean", .finite(rb.meanProblemSize)),
            ("qp_rounds_mean", .finite(rb.meanRounds)),
            ("qp_iterations_mean", .finite(rb.meanIterations)),
            ("net_flows_usd", .object(rb.netFlows.indices.filter { rb.netFlows[$0] != 0 }.map {
                (tickers[$0], .finite(rb.netFlows[$0]))
            })),
        ])
    }

    static func factorDescription(_ factor: MonteCarloFactor) -> String {
        switch factor.kind {
        case .cholesky: return "cholesky"
        case .eigen(let clipped): return "eigen (\(clipped) eigenvalues clipped)"
        }
    }

    public static func configJSON(_ c: RiskConfig) -> JSONValue {
        .object(c.effectiveEntries.map { entry in
            let value: JSONValue
            switch entry.value {
            case .number(let x): value = .number(x)
            case .integer(let i): value = .integer(i)
            case .text(let s): value = .string(s)
            case .boolean(let b): value = .bool(b)
            case .replays(let replays):
                value = .object(replays.map { ($0.name, .array([.string($0.startDate), .string($0.endDate)])) })
            }
            return (entry.key, value)
        })
    }

    /// The backtest: its days, and per method the accounts per zone and the book's exceptions, p-values and zone.
    static func backtestJSON(_ b: BacktestReport) -> JSONValue {
        func method(_ m: String, _ outcome: BacktestOutcome?) -> JSONValue {
            let counts = b.zoneCounts[m] ?? [:]
            return .object([
                ("zone_counts", .object(BacktestZone.allCases.map { ($0.rawValue, .integer(counts[$0] ?? 0)) })),
                ("book_exceptions", outcome.map { .integer($0.exceptions) } ?? .null),
                ("book_pof_pvalue", outcome.map { .finite($0.pofPValue) } ?? .null),
                ("book_cc_pvalue", outcome.map { .finite($0.ccPValue) } ?? .null),
                ("book_zone", outcome.map { .string($0.zone.rawValue) } ?? .null),
            ])
        }
        return .object([
            ("days", .integer(b.days)),
            ("first_date", b.dates.first.map(JSONValue.string) ?? .null),
            ("last_date", b.dates.last.map(JSONValue.string) ?? .null),
            ("param", method("param", b.book.parametric)),
            ("hist", method("hist", b.book.historical)),
        ])
    }

    /// SHA-256 (hex) of each input file as parsed, keyed by file name.
    public static func checksums(of loaded: LoadedBook) -> [(String, String)] {
        loaded.inputChecksums.map { ($0.name, $0.sha256) }
    }
}

/// Writes the whole report atomically and records the report phase.
public enum ReportWriter {
    public enum Failure: Error, CustomStringConvertible {
        case folder(ReportFolder.Failure)
        public var description: String {
            switch self {
            case .folder(let f): return f.description
            }
        }
    }

    /// Renders accounts.csv, holdings.csv, stress.csv, backtest.csv, cascade.csv and cascade_assets.csv (when the
    /// cascade ran), changes.csv (when `changes` is set), summary.json and report.html into `destination`; returns the
    /// run's phase timings including the report phase.
    @discardableResult
    public static func write(_ result: RunResult, to destination: URL, runStarted: DispatchTime) throws(Failure) -> PhaseTimings {
        var r = result
        let start = DispatchTime.now()
        let folder: ReportFolder
        do { folder = try ReportFolder(destination: destination) } catch { throw .folder(error) }
        do throws(ReportFolder.Failure) {
            try folder.stream(to: "accounts.csv") { write in try AccountColumns.write(r, workers: r.threads, to: write) }
            try folder.stream(to: "holdings.csv") { write in try HoldingColumns.write(r, workers: r.threads, to: write) }
            try folder.write(StressColumns.render(r), to: "stress.csv")
            try folder.write(BacktestDayColumns.render(r), to: "backtest.csv")
            if r.cascade.ran {
                try folder.write(CascadeColumns.render(r), to: "cascade.csv")
                try folder.write(CascadeAssetColumns.render(r), to: "cascade_assets.csv")
            }
            if let changes = r.changes {
                try folder.stream(to: "changes.csv") { write in try ChangesColumns.write(changes, workers: r.threads, to: write) }
            }
            let sums = SummaryReport.checksums(of: r.input)
            let now = DispatchTime.now()
            r.timings.add(.report, seconds: Double(now.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
            let wall = Double(now.uptimeNanoseconds - runStarted.uptimeNanoseconds) / 1e9
            try folder.write(SummaryReport.render(r, inputChecksums: sums, wallSeconds: wall), to: "summary.json")
            try folder.write(HTMLReport.render(r, inputChecksums: sums, wallSeconds: wall), to: "report.html")
            try folder.commit()
            return r.timings
        } catch {
            folder.discard()
            throw .folder(error)
        }
    }
}
