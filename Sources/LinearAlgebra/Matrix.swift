/// A dense matrix of `Double` in one contiguous row-major buffer: element (i, j) is `elements[i * columns + j]`.
///
/// A value type; BLAS and LAPACK calls take it through the safe wrappers of `BLAS.swift` and `LAPACK.swift`.
/// Symmetric matrices (covariances) read the same in either layout, so column-major LAPACK routines take them as is.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var elements: [Double]

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.elements = [Double](repeating: value, count: rows * columns)
    }

    public init(rows: Int, columns: Int, elements: [Double]) {
        precondition(elements.count == rows * columns, "matrix \(rows)×\(columns) needs \(rows * columns) elements, got \(elements.count)")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// Builds a matrix from rows of equal length (tests and small literals).
    public init(_ rowsOfValues: [[Double]]) {
        let r = rowsOfValues.count
        let c = rowsOfValues.first?.count ?? 0
        precondition(rowsOfValues.allSatisfy { $0.count == c }, "rows of unequal length")
        self.init(rows: r, columns: c, elements: rowsOfValues.flatMap { $0 })
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n)
        for i in 0 ..< n { m.elements[i * n + i] = 1 }
        return m
    }

    @inlinable public subscript(row: Int, column: Int) -> Double {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    public var isSquare: Bool { rows == columns }

    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows)
        for i in 0 ..< rows {
            for j in 0 ..< columns { t.elements[j * rows + i] = elements[i * columns + j] }
        }
        return t
    }

    /// The diagonal of a square matrix.
    public var diagonal: [Double] {
        precondition(isSquare, "diagonal of a non-square matrix")
        return (0 ..< rows).map { elements[$0 * columns + $0] }
    }

    /// Row `i` as an array.
    public func row(_ i: Int) -> [Double] { Array(elements[i * columns ..< (i + 1) * columns]) }

    /// Largest |a_ij − a_ji|: zero for an exactly symmetric matrix.
    public var asymmetry: Double {
        precondition(isSquare, "asymmetry of a non-square matrix")
        var worst = 0.0
        for i in 0 ..< rows {
            for j in 0 ..< i { worst = max(worst, abs(self[i, j] - self[j, i])) }
        }
        return worst
    }

    /// Copies the lower triangle onto the upper one (after a BLAS/LAPACK call that filled one triangle).
    public mutating func symmetrizeFromLower() {
        precondition(isSquare, "symmetrize a non-square matrix")
        for i in 0 ..< rows {
            for j in 0 ..< i { elements[j * columns + i] = elements[i * columns + j] }
        }
    }
}
