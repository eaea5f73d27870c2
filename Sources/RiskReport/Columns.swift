/// One cell of a CSV report.
public enum Cell: Sendable {
    /// A number in shortest round-trip form; NaN is written as an empty cell.
    case number(Double)
    case integer(Int)
    /// A text cell (neutralised and quoted as SPEC §4 says).
    case text(String)
    /// Not computed (a capability not run, or undefined for this row).
    case empty
}

/// A typed column: its header and how to read a row's cell. Reports are declared as columns first, rows second.
public struct Column<Row>: Sendable {
    public let name: String
    public let cell: @Sendable (Row) -> Cell
    public init(_ name: String, _ cell: @escaping @Sendable (Row) -> Cell) {
        self.name = name
        self.cell = cell
    }
}

/// Writes rows under typed columns as RFC 4180 CSV with LF line ends.
public enum CSVWriter {
    public static func render<Row>(columns: [Column<Row>], rows: some Sequence<Row>) -> [UInt8] {
        var out = TextBuffer()
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(byte: 44) }
            out.append(csvText: column.name)
        }
        out.append(byte: 10)
        for row in rows {
            for (i, column) in columns.enumerated() {
                if i > 0 { out.append(byte: 44) }
                switch column.cell(row) {
                case .number(let x): out.append(number: x)
                case .integer(let n): out.append(integer: n)
                case .text(let s): out.append(csvText: s)
                case .empty: break
                }
            }
            out.append(byte: 10)
        }
        return out.bytes
    }
}
