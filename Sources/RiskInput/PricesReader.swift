import RiskModel

/// The header of prices.csv: `date` then one column per ticker.
struct PricesHeader {
    let csv: CSVHeader
    /// Ticker of each column after `date` (column i + 1 of the file).
    let tickers: [String]
    /// First column (0-based, in the file) of each ticker.
    let columnOfTicker: [String: Int]
}

/// Reads prices.csv (METHODOLOGY "Inputs"): ISO dates strictly ascending, prices > 0, empty cell = missing (NaN).
enum PricesReader {
    static func readHeader(_ file: SourceFile, log: inout IssueLog) -> PricesHeader? {
        file.bytes.withUnsafeBufferPointer { buffer -> PricesHeader? in
            var scanner = CSVScanner(buffer)
            guard let header = CSVHeader.read(&scanner, log: &log) else { return nil }
            let names = header.names
            if names[0] != "date" {
                log.add("the first column must be \"date\", found \(Show.quoted(names[0]))", line: header.line)
            }
            if names.count < 2 {
                log.add("no ticker columns after \"date\"", line: header.line)
            }
            var columnOfTicker: [String: Int] = [:]
            for i in 1 ..< max(names.count, 1) {
                let ticker = names[i]
                if ticker.isEmpty {
                    log.add("column \(i + 1) has an empty ticker", line: header.line)
                } else if let first = columnOfTicker[ticker] {
                    log.add("duplicate column \(Show.quoted(ticker)) (columns \(first + 1) and \(i + 1))", line: header.line)
                } else {
                    columnOfTicker[ticker] = i
                }
            }
            return PricesHeader(csv: header, tickers: Array(names.dropFirst()), columnOfTicker: columnOfTicker)
        }
    }

    /// Reads the rows. With a schedule, only the schedule's columns are kept (in schedule order) and checked;
    /// without one (assets.csv unusable) every ticker column is checked and no table is returned.
    static func readRows(_ file: SourceFile, header: PricesHeader, schedule: CollateralSchedule?,
                         log: inout IssueLog) -> PriceHistory? {
        file.bytes.withUnsafeBufferPointer { buffer -> PriceHistory? in
            var scanner = CSVScanner(buffer, resumingAt: header.csv.bodyPosition, line: header.csv.bodyLine)
            let width = header.csv.names.count
            // (file column, output column) of every checked cell.
            var checked: [(column: Int, output: Int)] = []
            let outputWidth: Int
            if let schedule {
                outputWidth = schedule.count
                for (j, asset) in schedule.assets.enumerated() {
                    if let c = header.columnOfTicker[asset.ticker] { checked.append((c, j)) }
                }
                checked.sort { $0.column < $1.column }  // messages in the file's column order
            } else {
                outputWidth = 0
                for c in 1 ..< max(width, 1) { checked.append((c, -1)) }
            }
            var dates: [String] = []
            var lines: [Int] = []
            var prices: [Double] = []
            var previous: (date: String, line: Int)?
            var parser = DecimalParser()
            var fields: [CSVField] = []
            var rowCount = 0
            records: while let line = scanner.nextRecord(into: &fields, width: width, log: &log, rowCount: &rowCount) {
                let date = scanner.trimmedText(fields[0])
                if !ISODate.isValid(date) {
                    log.add("date \(Show.quoted(date)) is not a valid ISO date (yyyy-mm-dd)", line: line)
                } else {
                    if let previous {
                        if date == previous.date {
                            log.add("date \(date) repeats line \(previous.line); dates must be strictly ascending", line: line)
                        } else if date < previous.date {
                            log.add("date \(date) is not after the previous date \(previous.date) (line \(previous.line)); "
                                    + "dates must be strictly ascending", line: line)
                        }
                    }
                    previous = (date, line)
                }
                let rowStart = prices.count
                if outputWidth > 0 { prices.append(contentsOf: repeatElement(.nan, count: outputWidth)) }
                for (column, output) in checked {
                    let f = fields[column]
                    switch parser.parse(buffer, f.start, f.end) {
                    case .empty:
                        break
                    case .value(let v):
                        if Limits.price.contains(v) {
                            if output >= 0 { prices[rowStart + output] = v }
                        } else {
                            let rule = v > 0 ? Limits.price.description : "> 0"
                            log.add("price \(Show.quoted(scanner.trimmedText(f))) of \(Show.name(header.csv.names[column])) must be \(rule)",
                                    line: line)
                        }
                    case .invalid:
                        log.add("price \(Show.quoted(scanner.trimmedText(f))) of \(Show.name(header.csv.names[column])) is not a number",
                                line: line)
                    case .outOfRange:
                        log.add("price \(Show.quoted(scanner.trimmedText(f))) of \(Show.name(header.csv.names[column])) is out of range",
                                line: line)
                    }
                }
                dates.append(date)
                lines.append(line)
            }
            if rowCount < 2 {
                log.add("needs at least 2 price rows, found \(rowCount)")
            }
            guard let schedule else { return nil }
            return PriceHistory(dates: dates, assetCount: schedule.count, prices: prices, lineNumbers: lines)
        }
    }
}

/// `expected 3 cells, found 2` (or `empty line; expected 3 cells` for a blank line inside the file).
func cellCountMessage(expected: Int, found fields: [CSVField], _ scanner: CSVScanner) -> String {
    if scanner.isBlank(fields) { return "empty line; expected \(expected) cells" }
    return "expected \(expected) cells, found \(fields.count)"
}
