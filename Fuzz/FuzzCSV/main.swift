// fuzz-csv: the CSV scanner and the four CSV readers of RiskInput (docs/FUZZING.md).
//
// Input: one mode byte, then the file. Mode (the byte mod 8, so ASCII digits name them): 0 the scanner alone,
// 1 prices.csv, 2 assets.csv, 3 positions.csv, 4 scenarios.csv (against the schedule BTC ETH USDC USDT DAI of the seed
// book), 5 prices.csv, 6 positions.csv, 7 scenarios.csv without a schedule (assets.csv unusable). The scanner's
// invariants are checked in every mode.
//
// Invariants: records come in file order on strictly increasing lines, never beyond the input's last line, with cells
// inside the input; `next` makes progress and stays at the end; a well-formed file written back (every cell quoted)
// reads as the same cells; `firstInvalidUTF8` agrees with Swift's UTF-8 validation; every problem a reader reports
// is on a line of the input, at most `IssueLog.limit` of them (+ the "… more" line); what a reader returns is
// finite and consistent in its sizes.

import Foundation
import FuzzSupport
import RiskModel
@testable import RiskInput

enum Fixture {
    /// The assets of the seed book (`ballast generate --assets 5`).
    static let tickers = ["BTC", "ETH", "USDC", "USDT", "DAI"]
    static let schedule = CollateralSchedule(assets: tickers.map { AssetTerms(ticker: $0, scheduleHaircut: 0.1) })
}

/// Scans the whole input and checks the scanner's invariants.
func checkScanner(_ buffer: UnsafeBufferPointer<UInt8>, lines: Int) {
    let n = buffer.count
    var scanner = CSVScanner(buffer)
    var fields: [CSVField] = []
    var records: [[String]] = []
    var wellFormed = true
    var lastLine = 0
    var lastPosition = scanner.position
    scan: while true {
        let line: Int
        switch scanner.next(into: &fields) {
        case .end:
            require(scanner.position == n, "end before the end of the input (\(scanner.position) of \(n))")
            break scan
        case .malformed(let at, _, let fatal):
            line = at
            wellFormed = false
            if fatal { require(scanner.position == n, "fatal problem, yet the scanner goes on at \(scanner.position) of \(n)") }
        case .record(let at):
            line = at
            require(!fields.isEmpty, "a record without cells on line \(at)")
            for f in fields {
                require(0 <= f.start && f.start <= f.end && f.end <= n, "cell \(f) outside the \(n) input bytes")
                let t = scanner.trimmed(f)
                require(f.start <= t.start && t.start <= t.end && t.end <= f.end, "trimmed cell \(t) outside its cell \(f)")
                if !f.quoted {
                    for i in f.start ..< f.end {
                        let c = buffer[i]
                        require(c != ascii.comma && c != ascii.lf && c != ascii.cr, "unquoted cell \(f) holds a separator")
                    }
                }
            }
            records.append(fields.map { scanner.text($0) })
        }
        require(line > lastLine, "record on line \(line) after one on line \(lastLine)")
        require(line <= lines, "record on line \(line) of a \(lines)-line input")
        require(scanner.position > lastPosition, "no progress at \(lastPosition)")
        lastLine = line
        lastPosition = scanner.position
    }
    if case .end = scanner.next(into: &fields) {} else { require(false, "a record after the end") }

    // Written back with every cell quoted, a well-formed file reads as the same cells.
    guard wellFormed else { return }
    var out: [UInt8] = []
    for record in records {
        for (k, cell) in record.enumerated() {
            if k > 0 { out.append(ascii.comma) }
            out.append(ascii.quote)
            for b in cell.utf8 {
                out.append(b)
                if b == ascii.quote { out.append(ascii.quote) }
            }
            out.append(ascii.quote)
        }
        out.append(ascii.lf)
    }
    out.withUnsafeBufferPointer { again in
        var rescanner = CSVScanner(again)
        for (r, record) in records.enumerated() {
            guard case .record = rescanner.next(into: &fields) else {
                require(false, "record \(r + 1) written back does not read as a record"); return
            }
            let cells = fields.map { rescanner.text($0) }
            require(cells == record, "record \(r + 1) written back reads as \(cells), not \(record)")
        }
        if case .end = rescanner.next(into: &fields) {} else { require(false, "more records written back than read") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let mode = data[0] % 8
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let lines = bytes.withUnsafeBufferPointer { physicalLineCount($0) }
    bytes.withUnsafeBufferPointer { checkScanner($0, lines: lines) }

    // SourceFile.load's UTF-8 check against Swift's; the readers only ever see valid UTF-8.
    let invalid = firstInvalidUTF8(bytes)
    let valid = String(validating: bytes, as: UTF8.self) != nil && !bytes.contains(0)
    require((invalid == nil) == valid, "firstInvalidUTF8 says \(String(describing: invalid)), Swift says valid: \(valid)")
    if let invalid {
        require(invalid < bytes.count, "invalid byte offset \(invalid) of \(bytes.count)")
        require(String(validating: bytes[..<invalid], as: UTF8.self) != nil, "the bytes before offset \(invalid) are not valid")
        return 0
    }
    guard mode != 0 else { return 0 }

    let file = SourceFile(url: URL(fileURLWithPath: "/fuzz/input.csv"), display: "input.csv", bytes: bytes, sha256: "")
    let schedule: CollateralSchedule? = mode <= 4 ? Fixture.schedule : nil
    var log = IssueLog(file: file.display)
    var warnings: [String] = []
    switch mode {
    case 1, 5:
        if let header = PricesReader.readHeader(file, log: &log),
           let history = PricesReader.readRows(file, header: header, schedule: schedule, log: &log) {
            require(history.assetCount == Fixture.tickers.count, "prices: \(history.assetCount) columns")
            require(history.prices.count == history.rowCount * history.assetCount, "prices: table size")
            require(history.prices.allSatisfy { $0.isNaN || ($0.isFinite && $0 > 0) }, "prices: a price ≤ 0 or infinite")
            require(history.lineNumbers.allSatisfy { 1 ... lines ~= $0 }, "prices: a row line beyond the input")
        }
    case 2:
        let tickers: Set<String>? = bytes.count % 2 == 0 ? Set(Fixture.tickers) : nil
        if let read = AssetsReader.read(file, pricesTickers: tickers, log: &log, warnings: &warnings) {
            require(read.assets.allSatisfy { $0.scheduleHaircut >= 0 && $0.scheduleHaircut < 1 }, "assets: a haircut outside [0, 1)")
            require(Set(read.assets.map(\.ticker)).count == read.count, "assets: a ticker twice")
        }
    case 3, 6:
        if let book = PositionsReader.read(file, schedule: schedule, log: &log, warnings: &warnings) {
            require(book.rowStart.count == book.accountCount + 1 && book.rowStart.last == book.holdingCount, "positions: CSR shape")
            require(book.assetIndex.allSatisfy { 0 ..< Fixture.tickers.count ~= Int($0) }, "positions: an asset index outside the schedule")
            require(book.quantity.allSatisfy(\.isFinite), "positions: a quantity not finite")
            require(book.accountCount <= lines && book.holdingCount <= lines, "positions: more accounts or holdings than lines")
        }
    default:
        if let set = ScenariosReader.read(file, schedule: schedule, log: &log, warnings: &warnings) {
            require(set.shocks.count == set.count * Fixture.tickers.count, "scenarios: table size")
            require(set.shocks.allSatisfy { $0.isFinite && $0 > -1 }, "scenarios: a shock ≤ −1 or infinite")
        }
    }
    let issues = log.issues
    require(issues.count <= IssueLog.limit + 1, "\(issues.count) issues kept")
    for issue in issues {
        if let line = issue.line { require(1 ... lines ~= line, "issue on line \(line) of a \(lines)-line input: \(issue)") }
        require(!issue.message.contains("\n"), "an issue on more than one line: \(issue.message.debugDescription)")
    }
    return 0
}
