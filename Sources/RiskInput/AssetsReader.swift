import RiskModel

/// Reads assets.csv, the collateral schedule (METHODOLOGY "Inputs").
enum AssetsReader {
    static let required = ["asset", "haircut"]
    static let optional = ["eligible", "max_weight", "adv_usd", "cost_bps"]

    /// The schedule in file order. An asset whose terms have problems is still listed (with defaults for the
    /// bad cells) so that later files do not report it as unknown; the problems are in `log`.
    /// `pricesTickers` is nil when the prices.csv header could not be read.
    static func read(_ file: SourceFile, pricesTickers: Set<String>?, log: inout IssueLog,
                     warnings: inout [String]) -> CollateralSchedule? {
        file.bytes.withUnsafeBufferPointer { buffer -> CollateralSchedule? in
            var scanner = CSVScanner(buffer)
            guard let header = CSVHeader.read(&scanner, log: &log),
                  let columns = header.columns(required: required, optional: optional, log: &log, warnings: &warnings)
            else { return nil }
            let width = header.names.count
            var parser = DecimalParser()
            var fields: [CSVField] = []
            var assets: [AssetTerms] = []
            var firstLine: [String: Int] = [:]
            var rowCount = 0
            records: while let line = scanner.nextRecord(into: &fields, width: width, log: &log, rowCount: &rowCount) {
                let ticker = scanner.trimmedText(fields[columns["asset"]!])
                if ticker.isEmpty {
                    log.add("asset name is empty", line: line)
                    continue
                }
                if let first = firstLine[ticker] {
                    log.add("duplicate asset \(Show.name(ticker)) (first on line \(first))", line: line)
                    continue
                }
                firstLine[ticker] = line
                let name = Show.name(ticker)
                if let pricesTickers, !pricesTickers.contains(ticker) {
                    log.add("asset \(name) is not a column of prices.csv", line: line)
                }

                /// Reads an optional numeric cell; nil means empty. Logs and returns `fallback` on a problem.
                func number(_ column: String, valid: (Double) -> Bool, expected: String, fallback: Double?) -> Double? {
                    guard let c = columns[column] else { return nil }
                    let f = fields[c]
                    let text = { Show.quoted(scanner.trimmedText(f)) }
                    switch parser.parse(buffer, f.start, f.end) {
                    case .empty: return nil
                    case .value(let v):
                        if valid(v) { return v }
                        log.add("\(column) \(text()) of \(name) is out of range; expected \(expected)", line: line)
                    case .invalid: log.add("\(column) \(text()) of \(name) is not a number", line: line)
                    case .outOfRange: log.add("\(column) \(text()) of \(name) is out of range; expected \(expected)", line: line)
                    }
                    return fallback
                }

                var terms = AssetTerms(ticker: ticker, scheduleHaircut: 0)
                let haircutExpected = "0 ≤ haircut < 1"
                if let h = number("haircut", valid: { $0 >= 0 && $0 < 1 }, expected: haircutExpected, fallback: 0) {
                    terms.scheduleHaircut = h
                } else {
                    log.add("haircut of \(name) is empty; a haircut is required (\(haircutExpected))", line: line)
                }
                if let c = columns["eligible"] {
                    let text = scanner.trimmedText(fields[c])
                    switch text.lowercased() {
                    case "", "true": terms.eligible = true
                    case "false": terms.eligible = false
                    default: log.add("eligible \(Show.quoted(text)) of \(name) is not valid; expected true or false", line: line)
                    }
                }
                terms.maxWeight = number("max_weight", valid: { $0 > 0 && $0 <= 1 }, expected: "0 < max_weight ≤ 1",
                                         fallback: 1) ?? 1
                terms.averageDailyVolumeUSD = number("adv_usd", valid: { $0 > 0 }, expected: "> 0 (empty = unlimited)",
                                                     fallback: nil)
                terms.costBps = number("cost_bps", valid: { $0 >= 0 }, expected: "≥ 0", fallback: 10) ?? 10
                assets.append(terms)
            }
            if rowCount == 0 {
                log.add("no assets (the file has a header but no rows)")
            }
            return CollateralSchedule(assets: assets)
        }
    }
}
