import Foundation
import Rebalancing
import RiskMetrics
import RiskModel
import RiskPipeline

// How each phase's result is stored in a part file and read back from a merge of parts: the only place that knows
// both the results' fields and the archive. Per-account arrays are `.account`; per-holding arrays are grouped by the
// book's holdings (`ResultKey.holdingCounts`); target rows by the rebalancing's own row counts; the stress blocks'
// partial sums by block; kernel counts are summed; market scalars must agree in every part. Book-level figures are
// not stored: the merge recomputes them from the whole book (`Assembly`).

/// The names under which a run's results are stored.
enum ResultKey {
    static let positions = "book.positions"
    /// Per account of the part, its number of holdings: the grouping of every per-holding array.
    static let holdingCounts = ResultArchive.CountsKey("book.holdingCount")
    /// Per account of the part, its number of rebalancing target rows: the grouping of the target-row arrays.
    static func targetRowCounts(_ prefix: String) -> ResultArchive.CountsKey { .init(prefix + "rowCount") }
    static let assessment = "assessment."
    static let parametric = "parametric."
    static let historical = "historical."
    static let monteCarlo = "monteCarlo."
    static let stress = "stress."
    static let rebalancing = "rebalance."
    static let figures = "figures."
    static let backtestDailyParametric = "backtest.dailyExceptions.parametric"
    static let backtestDailyHistorical = "backtest.dailyExceptions.historical"
}

extension ResultArchive {
    /// Every per-account, per-holding and per-block figure of a run (a shard's part) and its kernel counts.
    static func of(_ r: RunResult, header: Data) -> ResultArchive {
        var archive = ResultArchive(header: header)
        archive.put(ResultKey.positions, .account, ints: r.accounts.canonicalPositions.map(\.index))
        archive.put(ResultKey.holdingCounts, counts: (0 ..< r.book.accountCount).map { r.book.holdings(of: $0).count })
        r.assessment.archive(into: &archive, prefix: ResultKey.assessment)
        r.parametric.archive(into: &archive, prefix: ResultKey.parametric)
        r.historical.archive(into: &archive, prefix: ResultKey.historical)
        r.monteCarlo.archive(into: &archive, prefix: ResultKey.monteCarlo)
        r.stress.archive(into: &archive, prefix: ResultKey.stress, scenarioCount: r.stressScenarios.count)
        r.rebalancing.archive(into: &archive, prefix: ResultKey.rebalancing)
        r.accountFigures.archive(into: &archive, prefix: ResultKey.figures)
        // Per backtest day, the accounts with an exception: integer counts, summed over the parts.
        archive.put(ResultKey.backtestDailyParametric, .sum, ints: r.backtest.dailyExceptions.parametric)
        archive.put(ResultKey.backtestDailyHistorical, .sum, ints: r.backtest.dailyExceptions.historical)
        return archive
    }
}

extension AccountFigures {
    /// How an empty cell of an integer column is stored.
    static let emptyInteger = Int.min

    /// Each column's values per account, and the declarations (name, unit, meaning) once, equal in every part.
    func archive(into archive: inout ResultArchive, prefix: String) {
        archive.put(prefix + "columns", .same, strings: columns.flatMap { [$0.name, $0.unit, $0.meaning] })
        for (column, values) in zip(columns, values) {
            switch values {
            case .numbers(let v): archive.put(prefix + column.name, .account, doubles: v)
            case .integers(let v): archive.put(prefix + column.name, .account, ints: v.map { $0 ?? Self.emptyInteger })
            case .texts(let v): archive.put(prefix + column.name, .account, strings: v)
            }
        }
    }

    init(archive: ResultArchive, prefix: String) throws(ResultArchive.Failure) {
        self.init()
        let declarations = try archive.strings(prefix + "columns")
        guard declarations.count % 3 == 0 else { throw .mismatch("archive: \(prefix)columns") }
        for k in stride(from: 0, to: declarations.count, by: 3) {
            let column = FigureColumn(declarations[k], unit: declarations[k + 1], meaning: declarations[k + 2])
            let name = prefix + column.name
            guard let entry = archive.entries[name] else { throw .mismatch("archive has no figure \(column.name)") }
            switch entry.values {
            case .doubles(let v): set(column, .numbers(v))
            case .ints(let v): set(column, .integers(v.map { $0 == Self.emptyInteger ? nil : $0 }))
            case .strings(let v): set(column, .texts(v))
            }
        }
    }
}

extension CollateralAssessment {
    func archive(into archive: inout ResultArchive, prefix: String) {
        let group = ResultArchive.Scope.group(counts: ResultKey.holdingCounts)
        archive.put(prefix + "exposure", group, doubles: exposure)
        archive.put(prefix + "haircut", group, doubles: haircut)
        archive.put(prefix + "holdingHCV", group, doubles: holdingHCV)
        for (name, values) in [("collateral", collateral), ("debt", debt), ("hcv", hcv), ("collateralRatio", collateralRatio),
                               ("liquidationBuffer", liquidationBuffer), ("topup", topup), ("excess", excess)] {
            archive.put(prefix + name, .account, doubles: values)
        }
        archive.put(prefix + "status", .account, ints: status.map { AccountStatus.allCases.firstIndex(of: $0)! })
        archive.put(prefix + "invalid", .account, ints: invalid.map { $0 ? 1 : 0 })
        archive.put(prefix + "settlementHaircut", .same, doubles: [settlementHaircut])
    }

    init(archive: ResultArchive, prefix: String) throws(ResultArchive.Failure) {
        let statuses = AccountStatus.allCases
        let codes = try archive.ints(prefix + "status")
        guard codes.allSatisfy({ $0 >= 0 && $0 < statuses.count }) else { throw .mismatch("archive: unknown account status") }
        self.init(exposure: try archive.doubles(prefix + "exposure"), haircut: try archive.doubles(prefix + "haircut"),
                  holdingHCV: try archive.doubles(prefix + "holdingHCV"),
                  collateral: try archive.doubles(prefix + "collateral"), debt: try archive.doubles(prefix + "debt"),
                  hcv: try archive.doubles(prefix + "hcv"), collateralRatio: try archive.doubles(prefix + "collateralRatio"),
                  status: codes.map { statuses[$0] }, liquidationBuffer: try archive.doubles(prefix + "liquidationBuffer"),
                  topup: try archive.doubles(prefix + "topup"), excess: try archive.doubles(prefix + "excess"),
                  settlementHaircut: try archive.double(prefix + "settlementHaircut"),
                  invalid: try archive.ints(prefix + "invalid").map { $0 != 0 })
    }
}

extension ParametricRisk {
    func archive(into archive: inout ResultArchive, prefix: String) {
        archive.put(prefix + "valueAtRisk", .account, doubles: valueAtRisk)
        archive.put(prefix + "expectedShortfall", .account, doubles: expectedShortfall)
        archive.put(prefix + "liquidationSigma", .account, doubles: liquidationSigma)
        archive.put(prefix + "liquidationScenario", .account, strings: liquidationScenario)
        archive.put(prefix + "componentVaR", .group(counts: ResultKey.holdingCounts), doubles: componentVaR)
        archive.put(prefix + "matrixFlops", .sum, doubles: [matrixFlops])
        archive.put(prefix + "blocks", .sum, ints: [denseBlocks, sparseBlocks])
    }

    /// The book's VaR and ES are NaN until the merge sets them.
    init(archive: ResultArchive, prefix: String) throws(ResultArchive.Failure) {
        let blocks = try archive.ints(prefix + "blocks")
        guard blocks.count == 2 else { throw .mismatch("archive: \(prefix)blocks") }
        self.init(valueAtRisk: try archive.doubles(prefix + "valueAtRisk"),
                  expectedShortfall: try archive.doubles(prefix + "expectedShortfall"),
                  componentVaR: try archive.doubles(prefix + "componentVaR"),
                  liquidationSigma: try archive.doubles(prefix + "liquidationSigma"),
                  liquidationScenario: try archive.strings(prefix + "liquidationScenario"),
                  bookValueAtRisk: .nan, bookExpectedShortfall: .nan, matrixFlops: try archive.double(prefix + "matrixFlops"),
                  denseBlocks: blocks[0], sparseBlocks: blocks[1])
    }
}

extension ScenarioRisk {
    func archive(into archive: inout ResultArchive, prefix: String) {
        archive.put(prefix + "valueAtRisk", .account, doubles: valueAtRisk)
        archive.put(prefix + "expectedShortfall", .account, doubles: expectedShortfall)
        archive.put(prefix + "liquidationProbability", .account, doubles: liquidationProbability)
        archive.put(prefix + "counts", .same, ints: [scenarioCount, tailCount])
        archive.put(prefix + "blocks", .sum, ints: [denseBlocks, sparseBlocks])
        archive.put(prefix + "work", .sum, doubles: [matrixFlops, denseSeconds, sparseSeconds, scenarioSeconds])
    }

    /// The book's VaR and ES are NaN until the merge sets them.
    init(archive: ResultArchive, prefix: String) throws(ResultArchive.Failure) {
        let counts = try archive.ints(prefix + "counts"), blocks = try archive.ints(prefix + "blocks")
        let work = try archive.doubles(prefix + "work")
        guard counts.count == 2, blocks.count == 2, work.count == 4 else { throw .mismatch("archive: \(prefix)counts") }
        self.init(valueAtRisk: try archive.doubles(prefix + "valueAtRisk"),
                  expectedShortfall: try archive.doubles(prefix + "expectedShortfall"),
                  liquidationProbability: try archive.doubles(prefix + "liquidationProbability"),
                  bookValueAtRisk: .nan, bookExpectedShortfall: .nan, scenarioCount: counts[0], tailCount: counts[1],
                  matrixFlops: work[0], denseBlocks: blocks[0], sparseBlocks: blocks[1], denseSeconds: work[1],
                  sparseSeconds: work[2], scenarioSeconds: work[3])
    }
}

extension StressResult {
    /// The blocks' partial sums are stored so that a merge adds them in block order, as one run does.
    func archive(into archive: inout ResultArchive, prefix: String, scenarioCount: Int) {
        archive.put(prefix + "worstScenario", .account, ints: worstScenario)
        archive.put(prefix + "worstScenarioLoss", .account, doubles: worstScenarioLoss)
        // Without scenarios there are no block totals; zero-filled blocks keep the layout.
        let blocks = (worstScenario.count + StressTester.blockSize - 1) / StressTester.blockSize
        archive.put(prefix + "blockTotals", .block(size: StressTester.blockSize,
                                                   stride: StressTester.blockTotalFields * max(scenarioCount, 1)),
                    doubles: scenarioCount > 0 ? blockTotals : [Double](repeating: 0, count: blocks * StressTester.blockTotalFields))
        archive.put(prefix + "matrixFlops", .sum, doubles: [matrixFlops])
        archive.put(prefix + "blocks", .sum, ints: [denseBlocks, sparseBlocks])
    }

    /// The scenario table is summed again from the blocks (`StressTester.summaries`).
    init(archive: ResultArchive, prefix: String, scenarioNames: [String]) throws(ResultArchive.Failure) {
        let totals = scenarioNames.isEmpty ? [] : try archive.doubles(prefix + "blockTotals")
        let blocks = try archive.ints(prefix + "blocks")
        guard blocks.count == 2 else { throw .mismatch("archive: \(prefix)blocks") }
        self.init(scenarios: StressTester.summaries(blockTotals: totals, names: scenarioNames),
                  worstScenario: try archive.ints(prefix + "worstScenario"),
                  worstScenarioLoss: try archive.doubles(prefix + "worstScenarioLoss"),
                  matrixFlops: try archive.double(prefix + "matrixFlops"), denseBlocks: blocks[0], sparseBlocks: blocks[1],
                  blockTotals: totals)
    }
}

extension RebalancingResult {
    func archive(into archive: inout ResultArchive, prefix: String) {
        archive.put(prefix + "status", .account, ints: status.map { RebalanceStatus.allCases.firstIndex(of: $0)! })
        archive.put(prefix + "reason", .account, strings: reason)
        for (name, values) in [("targetVaR", targetVaR), ("targetHCV", targetHCV), ("targetRatio", targetRatio),
                               ("targetTopup", targetTopup), ("turnover", turnover), ("cost", cost)] {
            archive.put(prefix + name, .account, doubles: values)
        }
        let counts = ResultKey.targetRowCounts(prefix)
        archive.put(counts, counts: status.indices.map { rowStart[$0 + 1] - rowStart[$0] })
        archive.put(prefix + "rows.asset", .group(counts: counts), ints: rows.asset.map { Int($0) })
        archive.put(prefix + "rows.targetUSD", .group(counts: counts), doubles: rows.targetUSD)
        archive.put(prefix + "rows.weight", .group(counts: counts), doubles: rows.weight)
        archive.put(prefix + "rows.tradeUSD", .group(counts: counts), doubles: rows.tradeUSD)
        archive.put(prefix + "rows.tradeQuantity", .group(counts: counts), doubles: rows.tradeQuantity)
        archive.put(prefix + "solver", .sum, ints: [solvedCount, problemSizeSum, roundSum, iterationSum])
    }

    /// The totals are summed afresh by the result's own initializer.
    init(archive: ResultArchive, prefix: String, assetCount: Int) throws(ResultArchive.Failure) {
        let statuses = RebalanceStatus.allCases
        let codes = try archive.ints(prefix + "status")
        guard codes.allSatisfy({ $0 >= 0 && $0 < statuses.count }) else { throw .mismatch("archive: unknown rebalance status") }
        var rowStart = [0]
        for c in try archive.counts(ResultKey.targetRowCounts(prefix)) { rowStart.append(rowStart[rowStart.count - 1] + c) }
        var rows = TargetRows()
        rows.asset = try archive.ints(prefix + "rows.asset").map { Int32($0) }
        rows.targetUSD = try archive.doubles(prefix + "rows.targetUSD")
        rows.weight = try archive.doubles(prefix + "rows.weight")
        rows.tradeUSD = try archive.doubles(prefix + "rows.tradeUSD")
        rows.tradeQuantity = try archive.doubles(prefix + "rows.tradeQuantity")
        guard rows.asset.allSatisfy({ $0 >= 0 && Int($0) < assetCount }) else { throw .mismatch("archive: target row asset out of range") }
        let solver = try archive.ints(prefix + "solver")
        guard solver.count == 4 else { throw .mismatch("archive: \(prefix)solver") }
        self.init(status: codes.map { statuses[$0] }, reason: try archive.strings(prefix + "reason"),
                  targetVaR: try archive.doubles(prefix + "targetVaR"), targetHCV: try archive.doubles(prefix + "targetHCV"),
                  targetRatio: try archive.doubles(prefix + "targetRatio"),
                  targetTopup: try archive.doubles(prefix + "targetTopup"),
                  turnover: try archive.doubles(prefix + "turnover"), cost: try archive.doubles(prefix + "cost"),
                  rowStart: rowStart, rows: rows, assetCount: assetCount, solvedCount: solver[0],
                  problemSizeSum: solver[1], roundSum: solver[2], iterationSum: solver[3])
    }
}
