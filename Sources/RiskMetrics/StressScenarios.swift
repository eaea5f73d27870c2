import LinearAlgebra
import RiskModel

/// Where a stress scenario comes from (METHODOLOGY "Stress tests").
public enum StressScenarioSource: Sendable, Equatable {
    /// A row group of scenarios.csv.
    case hypothetical
    /// A historical replay δ_i = P_end,i / P_start,i − 1 between two dates of prices.csv.
    case replay(start: String, end: String)
}

/// The stress scenarios of a run in scenario order (METHODOLOGY "Stress tests"): the hypothetical scenarios of scenarios.csv in
/// order of first appearance, then the historical replays of `historical_scenarios` that prices.csv covers, in
/// config order.
public struct StressScenarios: Sendable {
    /// Scenario names, in scenario order. Not necessarily unique: a replay may share a scenarios.csv name
    /// (both are kept, with a warning).
    public let names: [String]
    /// Origin of each scenario.
    public let sources: [StressScenarioSource]
    /// S × n relative price shocks, row-major: `shocks[s, j]` is the shock of schedule asset j in scenario s
    /// (−0.35 = the price falls 35 %); every entry is > −1 and finite.
    public let shocks: Matrix
    /// Replays skipped or partly unpriced, names shared with scenarios.csv; one line each, for summary.json.
    public let warnings: [String]

    public init(names: [String], sources: [StressScenarioSource], shocks: Matrix, warnings: [String] = []) {
        precondition(names.count == sources.count && shocks.rows == names.count, "stress scenario table shape")
        self.names = names
        self.sources = sources
        self.shocks = shocks
        self.warnings = warnings
    }

    /// Number of scenarios S.
    public var count: Int { names.count }
    /// Number of schedule assets n.
    public var assetCount: Int { shocks.columns }
}

public enum StressScenarioBuilder {
    /// How many asset tickers a warning names before it says "and N more".
    public static let tickersNamedInWarnings = 5

    /// Builds the scenario schedule.
    ///
    /// - `scenarios`: scenarios.csv as loaded and validated (names non-empty, shocks > −1, assets known).
    /// - `prices`: prices.csv as loaded (NaN where missing). Each asset's column is forward-filled over the whole
    ///   history by the METHODOLOGY "Covariance" rule (`MarketDataPreparation.forwardFill`) before replay prices are read.
    /// - `replays`: `RiskConfig.historicalScenarios`, in config order.
    /// - `tickers`: the schedule's tickers (for warnings).
    ///
    /// A replay whose start or end date is not a row of prices.csv is skipped with a warning. An asset without a
    /// price (after the fill) on either date of a replay gets δ = 0, with one warning per replay naming how many
    /// assets and the first few. A replay named like an earlier scenario is kept (BookLoader warns about it).
    public static func build(scenarios: ScenarioSet, prices: PriceHistory, replays: [HistoricalReplay],
                             tickers: [String]) -> StressScenarios {
        let n = prices.assetCount
        precondition(scenarios.assetCount == n && tickers.count == n, "scenarios, prices and tickers disagree on the schedule")
        var names = scenarios.names
        var sources = [StressScenarioSource](repeating: .hypothetical, count: scenarios.count)
        var shocks = scenarios.shocks
        var warnings: [String] = []

        // The rows of each replay's dates; nil when prices.csv does not cover it.
        let rows: [(start: Int, end: Int)?] = replays.map { replay in
            guard let start = prices.row(of: replay.startDate), let end = prices.row(of: replay.endDate) else { return nil }
            return (start, end)
        }

        // Forward-fill every asset column once over the whole history; keep only the rows the replays read.
        let neededRows = Array(Set(rows.flatMap { $0.map { [$0.start, $0.end] } ?? [] })).sorted()
        var slot = [Int: Int]()
        for (i, row) in neededRows.enumerated() { slot[row] = i }
        var filled = [Double](repeating: .nan, count: neededRows.count * n)   // neededRows × n
        if !neededRows.isEmpty {
            var series = [Double](repeating: .nan, count: prices.rowCount)
            for j in 0 ..< n {
                for t in 0 ..< prices.rowCount { series[t] = prices.prices[t * n + j] }
                MarketDataPreparation.forwardFill(&series)
                for (i, row) in neededRows.enumerated() { filled[i * n + j] = series[row] }
            }
        }

        // Replays in config order, warnings in the same order.
        let hypotheticalNames = Set(scenarios.names)
        var earlierNames = hypotheticalNames
        for (replay, covered) in zip(replays, rows) {
            let label = "historical scenario \(display(replay.name)) (\(replay.startDate)..\(replay.endDate))"
            guard let covered else {
                let span = prices.rowCount == 0 ? "no rows" : "\(prices.dates[0])..\(prices.asOfDate)"
                warnings.append("\(label) is not covered by prices.csv (\(span)): skipped")
                continue
            }
            let p0 = slot[covered.start]! * n, p1 = slot[covered.end]! * n
            var unpriced: [Int] = []
            for j in 0 ..< n {
                let before = filled[p0 + j], after = filled[p1 + j]
                if before.isNaN || after.isNaN {
                    unpriced.append(j)
                    shocks.append(0)
                } else {
                    // Prices are strictly positive, so the shock is > −1.
                    shocks.append(after / before - 1)
                }
            }
            if !unpriced.isEmpty {
                let shown = unpriced.prefix(tickersNamedInWarnings).map { display(tickers[$0]) }.joined(separator: ", ")
                let more = unpriced.count > tickersNamedInWarnings ? " and \(unpriced.count - tickersNamedInWarnings) more" : ""
                let (count, verb) = unpriced.count == 1 ? ("1 asset has", "gets") : ("\(unpriced.count) assets have", "get")
                warnings.append("\(label): \(count) no price on \(replay.startDate) or \(replay.endDate) "
                    + "(after filling gaps of up to \(MarketDataPreparation.maximumFilledGap) days) and \(verb) a zero shock: \(shown)\(more)")
            }
            // A replay named like a scenarios.csv scenario is warned about when the book is loaded (BookLoader).
            if earlierNames.contains(replay.name) && !hypotheticalNames.contains(replay.name) {
                warnings.append("\(label) has the same name as an earlier replay: both are kept")
            }
            earlierNames.insert(replay.name)
            names.append(replay.name)
            sources.append(.replay(start: replay.startDate, end: replay.endDate))
        }
        return StressScenarios(names: names, sources: sources,
                               shocks: Matrix(rows: names.count, columns: n, elements: shocks), warnings: warnings)
    }

    /// A name as is when it is plain (letters, digits and `_-.:/+@#`, or non-ASCII printable), else double-quoted
    /// with `"` and `\` escaped and control characters shown, so that a warning stays on one line.
    static func display(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy { c in
            switch c {
            case "a" ... "z", "A" ... "Z", "0" ... "9", "_", "-", ".", ":", "/", "+", "@", "#": return true
            default: return c.value >= 0x80 && !c.properties.isWhitespace && c.properties.generalCategory != .control
            }
        }
        if plain { return name }
        var out = "\""
        for c in name.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if c.value < 0x20 || c.value == 0x7F { out += "\\u{" + String(c.value, radix: 16) + "}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}
