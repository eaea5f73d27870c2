import RiskModel

/// Reads scenarios.csv (optional, METHODOLOGY "Inputs"): relative price shocks per (scenario, asset), scenarios in order of
/// first appearance, unlisted assets unshocked.
enum ScenariosReader {
    static let required = ["scenario", "asset", "shock"]

    static func read(_ file: SourceFile, schedule: CollateralSchedule?, log: inout IssueLog,
                     warnings: inout [String]) -> ScenarioSet? {
        file.bytes.withUnsafeBufferPointer { buffer -> ScenarioSet? in
            var scanner = CSVScanner(buffer)
            guard let header = CSVHeader.read(&scanner, log: &log),
                  let columns = header.columns(required: required, optional: [], log: &log, warnings: &warnings)
            else { return nil }
            let width = header.names.count
            let scenarioColumn = columns["scenario"]!, assetColumn = columns["asset"]!, shockColumn = columns["shock"]!
            var names: [String] = []
            var scenarioIndex: [String: Int] = [:]
            /// (scenario, asset) → (shock, line of its row).
            var shocks: [Int: (shock: Double, line: Int)] = [:]
            let assetCount = schedule?.count ?? 0
            var parser = DecimalParser()
            var fields: [CSVField] = []
            records: while let line = scanner.nextRecord(into: &fields, width: width, log: &log) {
                let name = scanner.trimmedText(fields[scenarioColumn])
                var scenario: Int?
                if name.isEmpty {
                    log.add("scenario name is empty", line: line)
                } else if let s = scenarioIndex[name] {
                    scenario = s
                } else {
                    scenario = names.count
                    scenarioIndex[name] = names.count
                    names.append(name)
                }
                let ticker = scanner.trimmedText(fields[assetColumn])
                var asset: Int?
                if ticker.isEmpty {
                    log.add("asset is empty", line: line)
                } else if let schedule {
                    asset = schedule.index(of: ticker)
                    if asset == nil { log.add("unknown asset \(Show.name(ticker)) (not in assets.csv)", line: line) }
                }
                let where_ = "for \(Show.name(ticker)) in scenario \(Show.name(name))"
                let f = fields[shockColumn]
                let shock: Double
                switch parser.parse(buffer, f.start, f.end) {
                case .value(let v):
                    guard v > -1 else {
                        log.add("shock \(scanner.trimmedText(f)) \(where_) would make the price ≤ 0", line: line)
                        continue records
                    }
                    guard v <= Limits.maxShock else {
                        log.add("shock \(scanner.trimmedText(f)) \(where_) is above \(Int(Limits.maxShock)) "
                                + "(a price more than \(Int(Limits.maxShock) + 1) times today's)", line: line)
                        continue records
                    }
                    shock = v
                case .empty:
                    log.add("shock \(where_) is empty", line: line)
                    continue records
                case .invalid:
                    log.add("shock \(Show.quoted(scanner.trimmedText(f))) \(where_) is not a number", line: line)
                    continue records
                case .outOfRange:
                    log.add("shock \(Show.quoted(scanner.trimmedText(f))) \(where_) is out of range", line: line)
                    continue records
                }
                guard let scenario, let asset else { continue }
                let key = scenario * assetCount + asset
                if let first = shocks[key] {
                    log.add("duplicate row for scenario \(Show.name(name)) and asset \(Show.name(ticker)) (first on line \(first.line))",
                            line: line)
                } else {
                    shocks[key] = (shock, line)
                }
            }
            guard let schedule else { return nil }
            var table = [Double](repeating: 0, count: names.count * assetCount)
            for (key, value) in shocks { table[key] = value.shock }
            return ScenarioSet(names: names, assetCount: schedule.count, shocks: table)
        }
    }
}
