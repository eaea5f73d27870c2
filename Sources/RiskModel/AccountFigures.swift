/// One per-account figure a run adds to accounts.csv, declared once: its CSV header, unit and meaning. The
/// accounts.csv writer, the part file of a sharded run and its merge all work from the declaration, so adding a figure
/// is declaring its column and computing its values (`AccountFigures.set`).
public struct FigureColumn: Sendable, Equatable {
    /// The accounts.csv header (`bt_exceptions_param`).
    public let name: String
    /// `USD`, `count`, `fraction`, `p-value`, `zone`…: what the numbers are.
    public let unit: String
    /// One line saying what the figure means.
    public let meaning: String

    public init(_ name: String, unit: String, meaning: String) {
        self.name = name
        self.unit = unit
        self.meaning = meaning
    }
}

/// The values of one column, one per account (the run's accounts, canonical order).
public enum FigureValues: Sendable, Equatable {
    /// Numbers; NaN is an empty cell.
    case numbers([Double])
    /// Whole numbers (counts); nil is an empty cell.
    case integers([Int?])
    /// Text (a status, a zone); "" is an empty cell.
    case texts([String])

    public var count: Int {
        switch self {
        case .numbers(let v): return v.count
        case .integers(let v): return v.count
        case .texts(let v): return v.count
        }
    }
}

/// The per-account figures a run adds after the fixed ones of accounts.csv, in the order they were set: a column
/// store whose every column carries its declaration. A merge of shards puts each column's values back at their
/// accounts' canonical positions, whatever the column.
public struct AccountFigures: Sendable, Equatable {
    public private(set) var columns: [FigureColumn] = []
    public private(set) var values: [FigureValues] = []

    public init() {}

    /// Sets (or replaces) a column; `values` has one entry per account of the run.
    public mutating func set(_ column: FigureColumn, _ values: FigureValues) {
        if let i = columns.firstIndex(where: { $0.name == column.name }) {
            columns[i] = column
            self.values[i] = values
        } else {
            columns.append(column)
            self.values.append(values)
        }
    }

    /// The values of the column named `name`, nil when the run did not compute it.
    public func values(of name: String) -> FigureValues? {
        columns.firstIndex { $0.name == name }.map { values[$0] }
    }
}
