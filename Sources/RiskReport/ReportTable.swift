import RiskPipeline

/// A report file's rows as cells under its declared columns: what writers other than CSV (the results store) read,
/// derived from the same `Column` declarations as the file, so a table cannot hold other columns than the file.
public struct ReportTable: Sendable {
    /// A file's rows in file order: how many, and row i.
    public struct Rows<Row>: Sendable {
        public let count: Int
        public let row: @Sendable (Int) -> Row

        public init(count: Int, row: @escaping @Sendable (Int) -> Row) {
            self.count = count
            self.row = row
        }
    }

    /// The file's name without `.csv` (`accounts`).
    public let name: String
    public let columns: [ColumnReference.Entry]
    public let rowCount: Int
    private let fill: @Sendable (Int, inout [Cell]) -> Void

    init<Row>(name fileName: String, columns: [Column<Row>], rows: Rows<Row>) {
        name = fileName.hasSuffix(".csv") ? String(fileName.dropLast(4)) : fileName
        self.columns = columns.map(ColumnReference.Entry.init)
        rowCount = rows.count
        fill = { i, cells in
            let row = rows.row(i)
            for c in columns.indices { cells[c] = columns[c].cell(row) }
        }
    }

    /// Writes row `i`'s cells into `cells` (one per column; resized when its count differs).
    public func cells(ofRow i: Int, into cells: inout [Cell]) {
        if cells.count != columns.count { cells = [Cell](repeating: .empty, count: columns.count) }
        fill(i, &cells)
    }

    /// The tables of every file `r`'s report writes, in `ColumnReference.files` order.
    public static func all(_ r: RunResult) -> [ReportTable] {
        ColumnReference.files.compactMap { $0.table(r) }
    }
}

extension ReportTable.Rows where Row == Int {
    /// Rows 0 ..< count.
    public init(indices count: Int) { self.init(count: count) { $0 } }
}
