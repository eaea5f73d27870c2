/// A byte buffer for building CSV and JSON text quickly, flushed to a file in large chunks.
struct TextBuffer {
    var bytes: [UInt8] = []

    init(capacity: Int = 1 << 20) { bytes.reserveCapacity(capacity) }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func append(byte: UInt8) { bytes.append(byte) }

    /// A number in shortest round-trip form (METHODOLOGY "Outputs": no rounding); NaN and infinities as an empty cell.
    mutating func append(number x: Double) {
        guard x.isFinite else { return }
        append(x.description)
    }

    /// An integer count.
    mutating func append(integer x: Int) { append(String(x)) }

    /// A CSV text cell: a cell a spreadsheet would evaluate (starting with `=`, `+`, `-` or `@`) gets a leading `'`;
    /// cells with a comma, quote, CR or LF are quoted per RFC 4180.
    mutating func append(csvText text: String) {
        let neutral = CSVText.neutralised(text)
        if neutral.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) {
            bytes.append(34)
            for b in neutral.utf8 {
                if b == 34 { bytes.append(34) }
                bytes.append(b)
            }
            bytes.append(34)
        } else {
            append(neutral)
        }
    }
}

/// METHODOLOGY "Outputs" text-cell rules shared by every CSV writer.
public enum CSVText {
    /// `'` + text when the text starts with `=`, `+`, `-` or `@` (a spreadsheet formula); otherwise the text.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.utf8.first else { return text }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"): return "'" + text
        default: return text
        }
    }
}
