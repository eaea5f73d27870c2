import Dispatch
import LinearAlgebra
import RiskModel

/// One cell of a CSV report.
public enum Cell: Sendable {
    /// A number in shortest round-trip form; NaN is written as an empty cell.
    case number(Double)
    case integer(Int)
    /// A text cell (neutralised and quoted as METHODOLOGY "Outputs" says).
    case text(String)
    /// Not computed (a capability not run, or undefined for this row).
    case empty
}

/// A typed column, declared once: its header, unit and meaning, and how to read a row's cell. Reports are declared
/// as columns first, rows second; the same declarations write the files and docs/COLUMNS.md (`ColumnReference`).
public struct Column<Row>: Sendable {
    /// The CSV header (`var_param`).
    public let name: String
    /// What the values are, from `ColumnReference.units`: `USD`, `fraction`, `count`, `text`…
    public let unit: String
    /// One line saying what a cell means.
    public let meaning: String
    public let cell: @Sendable (Row) -> Cell
    /// The numbers of a column whose cell for row a is `.number(numbers[a])` (`init(_:unit:meaning:numbers:)`): the
    /// CSV writer reads them directly instead of calling `cell`.
    let numbers: [Double]?

    public init(_ name: String, unit: String, meaning: String, _ cell: @escaping @Sendable (Row) -> Cell) {
        self.name = name
        self.unit = unit
        self.meaning = meaning
        self.cell = cell
        numbers = nil
    }

    /// The column of a per-account figure, under its declaration.
    public init(figure: FigureColumn, _ cell: @escaping @Sendable (Row) -> Cell) {
        self.init(figure.name, unit: figure.unit, meaning: figure.meaning, cell)
    }

    /// Removed: every column declares its unit and meaning (docs/COLUMNS.md lists them).
    @available(*, unavailable, message: "declare the column's unit and meaning: Column(name, unit: …, meaning: …) { cell }")
    public init(_ name: String, _ cell: @escaping @Sendable (Row) -> Cell) { fatalError() }
}

extension Column where Row == Int {
    /// A column of numbers, one per row index: row a's cell is `.number(numbers[a])`.
    public init(_ name: String, unit: String, meaning: String, numbers: [Double]) {
        self.name = name
        self.unit = unit
        self.meaning = meaning
        cell = { .number(numbers[$0]) }
        self.numbers = numbers
    }

    /// The column of a per-account figure of numbers, under its declaration.
    public init(figure: FigureColumn, numbers: [Double]) {
        self.init(figure.name, unit: figure.unit, meaning: figure.meaning, numbers: numbers)
    }
}

/// Writes rows under typed columns as RFC 4180 CSV with LF line ends.
public enum CSVWriter {
    /// Rows rendered per chunk by one worker.
    public static let chunkRows = 8192

    /// The whole file in memory (small reports and tests).
    public static func render<Row>(columns: [Column<Row>], rows: some Sequence<Row>) -> [UInt8] {
        var out = TextBuffer()
        appendHeader(columns, to: &out)
        for row in rows { appendRow(row, columns, to: &out) }
        return out.bytes()
    }

    /// Streams `count` rows to `sink` in order, rendering chunks of `chunkRows` rows on `workers` threads; memory
    /// stays bounded by `3·workers` chunks and the bytes do not depend on the worker count. Writing overlaps
    /// rendering: while the workers render one group of chunks, the previous group goes to `sink` on a serial
    /// queue (at a million accounts the kernel's copy into the page cache is a third of the phase).
    public static func stream<Row>(columns: [Column<Row>], count: Int, row: @escaping @Sendable (Int) -> Row, workers: Int,
                                   to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try stream(columns: { columns }, count: count, row: row, workers: workers, to: sink)
    }

    /// `stream` with the columns built by `makeColumns` once per chunk: each worker then calls closures of its own.
    /// Calling a closure retains and releases its context, and two workers doing that on the same contexts (shared
    /// columns) fight over one cache line per closure — measured as 40 % of the report phase at a million accounts.
    public static func stream<Row>(columns makeColumns: @escaping @Sendable () -> [Column<Row>], count: Int,
                                   row: @escaping @Sendable (Int) -> Row, workers: Int,
                                   to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var header = TextBuffer(capacity: 1024)
        appendHeader(makeColumns(), to: &header)
        let headerText = header.finish()
        try sink(headerText.bytes)
        let chunkCount = (count + chunkRows - 1) / chunkRows
        let group = max(1, workers) * 2
        let writer = DispatchQueue(label: "ballast.csv-writer")
        let pending = DispatchGroup()
        var failure: (any Error)?
        withoutActuallyEscaping(sink) { sink in
            // The sink and the failure slot are used by one writer block at a time, each finished (pending.wait())
            // before the next is queued or the function returns.
            nonisolated(unsafe) let sink = sink
            nonisolated(unsafe) var failed: (any Error)? = nil
            var first = 0
            while first < chunkCount {
                let chunks = min(group, chunkCount - first)
                var rendered = [RenderedText?](repeating: nil, count: chunks)
                let base = first
                rendered.withSharedOutput { out in
                    Parallel.forEachBlock(blockCount: chunks, workers: workers) { chunk, _ in
                        let start = (base + chunk) * chunkRows
                        out[chunk] = renderChunk(start ..< min(start + chunkRows, count), columns: makeColumns(), row: row)
                    }
                }
                pending.wait()
                if let error = failed { failure = error; break }
                let texts = rendered
                writer.async(group: pending) {
                    do { for text in texts { try sink(text!.bytes) } } catch { failed = error }
                }
                first += chunks
            }
            pending.wait()
            if failure == nil, let error = failed { failure = error }
        }
        if let failure { throw failure }
    }

    /// Rows rendered column by column into a scratch buffer before they are copied into lines (`renderChunk`).
    static let blockRows = 256

    /// Rows `rows` as CSV lines, in blocks of `blockRows`. Per block and column, the column's closure is read once and
    /// called for every row of the block from a local constant (a call at +0: called row by row from the column
    /// array, each call retained and released the closure's context, a third of the time), its cells collected
    /// first and formatted after: the report's rows are in positions.csv order and the arrays in canonical (hashed)
    /// order, so nearly every cell is a cache miss, and a loop doing only the reads keeps many of them in flight.
    /// The cells are then copied into lines.
    static func renderChunk<Row>(_ rows: Range<Int>, columns: [Column<Row>], row: (Int) -> Row) -> RenderedText {
        var out = TextBuffer(capacity: rows.count * 160)
        var text = TextBuffer(capacity: blockRows * columns.count * 24)
        var ends = [Int](repeating: 0, count: blockRows * columns.count)
        var blockRowValues: [Row] = []
        blockRowValues.reserveCapacity(blockRows)
        var cells = [Cell](repeating: .empty, count: blockRows)
        var numbers = [Double](repeating: 0, count: blockRows)
        var start = rows.lowerBound
        while start < rows.upperBound {
            let block = start ..< min(start + blockRows, rows.upperBound)
            blockRowValues.removeAll(keepingCapacity: true)
            for index in block { blockRowValues.append(row(index)) }
            let indices = blockRowValues as? [Int]  // rows that are array indices, for columns of `numbers`
            text.removeAll()
            for c in columns.indices {
                let first = c * blockRowValues.count
                if let values = columns[c].numbers, let indices {
                    for r in indices.indices { numbers[r] = values[indices[r]] }
                    for r in indices.indices {
                        text.append(number: numbers[r])
                        ends[first + r] = text.count
                    }
                    continue
                }
                let cell = columns[c].cell
                cells.withUnsafeMutableBufferPointer { cells in
                    for r in blockRowValues.indices { cells[r] = cell(blockRowValues[r]) }
                    for r in blockRowValues.indices {
                        appendCell(cells[r], to: &text)
                        ends[first + r] = text.count
                    }
                }
            }
            ends.withUnsafeBufferPointer { ends in
                out.appendLines(cells: text, ends: ends, rows: blockRowValues.count, columns: columns.count)
            }
            start = block.upperBound
        }
        return out.finish()
    }

    static func appendHeader<Row>(_ columns: [Column<Row>], to out: inout TextBuffer) {
        for (i, column) in columns.enumerated() {
            if i > 0 { out.append(byte: 44) }
            out.append(csvText: column.name)
        }
        out.append(byte: 10)
    }

    static func appendRow<Row>(_ row: Row, _ columns: [Column<Row>], to out: inout TextBuffer) {
        // Borrow the columns in place: iterating `enumerated()` copied each Column (its name and closure context
        // retained and released per cell, 40 % of the report phase at a million accounts).
        columns.withUnsafeBufferPointer { columns in
            for i in columns.indices {
                if i > 0 { out.append(byte: 44) }
                appendCell(columns[i].cell(row), to: &out)
            }
        }
        out.append(byte: 10)
    }

    @inline(__always) static func appendCell(_ cell: Cell, to out: inout TextBuffer) {
        switch cell {
        case .number(let x): out.append(number: x)
        case .integer(let n): out.append(integer: n)
        case .text(let s): out.append(csvText: s)
        case .empty: break
        }
    }
}
