/// One cell of a CSV record: a byte range into the file (inside the quotes for a quoted cell).
struct CSVField {
    var start: Int
    var end: Int
    /// The cell was quoted.
    var quoted: Bool
    /// The quoted content holds `""` escapes, so its bytes are not its text.
    var escaped: Bool
}

/// What `CSVScanner.next` found.
enum CSVStep {
    /// A record, starting on physical line `line`; its cells are in the `fields` array passed in.
    case record(line: Int)
    /// A record that breaks RFC 4180; `fatal` when the rest of the file cannot be read (unterminated quote).
    case malformed(line: Int, message: String, fatal: Bool)
    /// No more records (trailing blank lines are ignored).
    case end
}

/// A small RFC 4180 reader over the bytes of a file: `,` separator, LF, CRLF (or lone CR) line ends,
/// quoted cells with `""` escapes and embedded newlines, optional UTF-8 byte order mark.
///
/// Hot path of positions.csv: no allocation per record (cells are ranges written into a reused array).
/// The caller keeps `bytes` alive (it is the base address of a `[UInt8]` inside `withUnsafeBufferPointer`).
struct CSVScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next record.
    private(set) var position: Int
    /// Physical line of `position`.
    private(set) var line: Int
    /// Records that start at or after this offset are only blank lines (spaces, tabs, CR, LF): the end.
    private let trailingBlankStart: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        var start = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
        position = start
        line = 1
        var last = bytes.count
        while last > start {
            let c = bytes[last - 1]
            guard c == ascii.lf || c == ascii.cr || c == ascii.space || c == ascii.tab else { break }
            last -= 1
        }
        trailingBlankStart = last
    }

    /// Continues after an earlier scanner's position (e.g. after the header).
    init(_ bytes: UnsafeBufferPointer<UInt8>, resumingAt position: Int, line: Int) {
        self.init(bytes)
        self.position = position
        self.line = line
    }

    /// Reads the next record's cells into `fields` (cleared first).
    @inline(__always)
    mutating func next(into fields: inout [CSVField]) -> CSVStep {
        fields.removeAll(keepingCapacity: true)
        guard position < trailingBlankStart, let base = bytes.baseAddress else {
            position = bytes.count
            return .end
        }
        let n = bytes.count
        let recordLine = line
        var p = position
        var strayCell = 0  // 1-based cell with text after its closing quote, 0 = none
        while true {
            if p < n && base[p] == ascii.quote {
                p += 1
                let start = p
                var escaped = false
                while true {
                    guard p < n else {
                        position = n
                        return .malformed(line: recordLine, message: "unterminated quoted cell (the quote opened here is never closed)",
                                          fatal: true)
                    }
                    let c = base[p]
                    if c == ascii.quote {
                        if p + 1 < n && base[p + 1] == ascii.quote { escaped = true; p += 2; continue }
                        break
                    }
                    if c == ascii.lf || (c == ascii.cr && !(p + 1 < n && base[p + 1] == ascii.lf)) { line += 1 }
                    p += 1
                }
                fields.append(CSVField(start: start, end: p, quoted: true, escaped: escaped))
                p += 1  // closing quote
                if p < n {
                    let c = base[p]
                    if c != ascii.comma && c != ascii.lf && c != ascii.cr {
                        if strayCell == 0 { strayCell = fields.count }
                        while p < n {
                            let d = base[p]
                            if d == ascii.comma || d == ascii.lf || d == ascii.cr { break }
                            p += 1
                        }
                    }
                }
            } else {
                let start = p
                while p < n {
                    let c = base[p]
                    if c == ascii.comma || c == ascii.lf || c == ascii.cr { break }
                    p += 1
                }
                fields.append(CSVField(start: start, end: p, quoted: false, escaped: false))
            }
            if p >= n { break }
            let c = base[p]
            p += 1
            if c == ascii.comma { continue }
            if c == ascii.cr && p < n && base[p] == ascii.lf { p += 1 }
            line += 1
            break
        }
        position = p
        if strayCell != 0 {
            return .malformed(line: recordLine, message: "unexpected text after the closing quote of cell \(strayCell)", fatal: false)
        }
        return .record(line: recordLine)
    }

    // MARK: cell access

    /// The cell's text (quotes removed, `""` unescaped). The file was checked to be UTF-8.
    func text(_ f: CSVField) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[f.start ..< f.end])
        guard f.escaped else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            out.append(raw[i])
            i += raw[i] == ascii.quote ? 2 : 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The cell's text without surrounding spaces and tabs.
    func trimmedText(_ f: CSVField) -> String { text(trimmed(f)) }

    /// The cell without surrounding spaces and tabs.
    @inline(__always)
    func trimmed(_ f: CSVField) -> CSVField {
        var f = f
        while f.start < f.end && (bytes[f.start] == ascii.space || bytes[f.start] == ascii.tab) { f.start += 1 }
        while f.end > f.start && (bytes[f.end - 1] == ascii.space || bytes[f.end - 1] == ascii.tab) { f.end -= 1 }
        return f
    }

    /// A blank line in the middle of the file: one unquoted cell holding only spaces or tabs.
    func isBlank(_ fields: [CSVField]) -> Bool {
        guard fields.count == 1, !fields[0].quoted else { return false }
        let f = trimmed(fields[0])
        return f.start == f.end
    }
}

/// The ASCII bytes the readers look for.
enum ascii {
    static let comma = UInt8(ascii: ",")
    static let quote = UInt8(ascii: "\"")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
}

/// The header row of a CSV file: column names (trimmed) and checks shared by all readers.
struct CSVHeader {
    let names: [String]
    let line: Int
    /// Offset and line where the data records start.
    let bodyPosition: Int
    let bodyLine: Int

    /// Reads the header; an empty file or a malformed header becomes an issue and `nil`.
    static func read(_ scanner: inout CSVScanner, log: inout IssueLog) -> CSVHeader? {
        var fields: [CSVField] = []
        switch scanner.next(into: &fields) {
        case .end:
            log.add("the file is empty; expected a header row")
            return nil
        case .malformed(let line, let message, _):
            log.add("header: \(message)", line: line)
            return nil
        case .record(let line):
            return CSVHeader(names: fields.map { scanner.trimmedText($0) }, line: line,
                             bodyPosition: scanner.position, bodyLine: scanner.line)
        }
    }

    /// Index of every required and optional column; reports missing required columns and duplicates
    /// (errors) and unknown columns (warnings). `nil` when a required column is missing or duplicated.
    func columns(required: [String], optional: [String], log: inout IssueLog, warnings: inout [String])
    -> [String: Int]? {
        var index: [String: Int] = [:]
        var ok = true
        for (i, name) in names.enumerated() {
            if let first = index[name] {
                log.add("duplicate column \(Show.quoted(name)) (columns \(first + 1) and \(i + 1))", line: line)
                if required.contains(name) || optional.contains(name) { ok = false }
                continue
            }
            index[name] = i
            if !required.contains(name) && !optional.contains(name) {
                warnings.append("\(log.file): ignoring unknown column \(Show.quoted(name))")
            }
        }
        for name in required where index[name] == nil {
            log.add("missing required column \(Show.quoted(name)) (the header has "
                    + names.map { Show.quoted($0) }.joined(separator: ", ") + ")", line: line)
            ok = false
        }
        return ok ? index : nil
    }
}

extension CSVScanner {
    /// Advances to the next record that has exactly `width` cells and returns its line; malformed records and
    /// records with another cell count are logged and skipped. Nil at the end of the file or after a fatal
    /// problem. `rowCount` counts every record seen, good or bad.
    mutating func nextRecord(into fields: inout [CSVField], width: Int, log: inout IssueLog, rowCount: inout Int) -> Int? {
        while true {
            switch next(into: &fields) {
            case .end:
                return nil
            case .malformed(let at, let message, let fatal):
                rowCount += 1
                log.add(message, line: at)
                if fatal { return nil }
            case .record(let line):
                rowCount += 1
                guard fields.count == width else {
                    log.add(cellCountMessage(expected: width, found: fields, self), line: line)
                    continue
                }
                return line
            }
        }
    }

    /// `nextRecord` without a row count.
    mutating func nextRecord(into fields: inout [CSVField], width: Int, log: inout IssueLog) -> Int? {
        var ignored = 0
        return nextRecord(into: &fields, width: width, log: &log, rowCount: &ignored)
    }
}
