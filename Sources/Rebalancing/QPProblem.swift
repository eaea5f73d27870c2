/// One instance of the QP family that `QPSolver` solves (see its documentation for the problem), in units of the
/// account's collateral. The caller sizes it with `resize(_:)`, writes every array, sets `coverageFloor`, and passes
/// it to `QPSolver.solve(_:maxIterations:)`. Its storage grows only when a larger n arrives, so one problem object
/// per worker is reused for every account (no allocation per solve).
public final class QPProblem {
    /// The problem's arrays as plain pointers (a trivial value the solver copies for the length of one solve; valid
    /// until the next growth of the problem).
    struct Data {
        var n = 0
        /// P, n×n row-major (leading dimension n), symmetric PSD.
        var quadratic = Arena.placeholder
        /// ℓ.
        var linear = Arena.placeholder
        /// c ≥ 0 (today's holdings).
        var current = Arena.placeholder
        /// u ≥ c (caps; u = c: may only be sold).
        var upper = Arena.placeholder
        /// κ ≥ 0: cost of trading one unit in the objective.
        var costWeight = Arena.placeholder
        /// g: coverage value of one unit held.
        var coverageValue = Arena.placeholder
        /// k ≥ 0: coverage lost per unit traded.
        var coverageCost = Arena.placeholder
        /// r; `-.infinity` drops the coverage constraint.
        var coverageFloor = -Double.infinity
    }

    private(set) var data = Data()
    private var capacity = -1
    /// Owns every array of `data`.
    private var arena = Arena(count: 0)

    public init(capacity: Int = 0) { resize(capacity) }

    /// Sets the problem size to n (growing storage if needed). The arrays keep stale values: set all of them.
    public func resize(_ n: Int) {
        precondition(n >= 0, "QPProblem: negative size")
        if n > capacity {
            let length = max(n, 2 * capacity)
            capacity = length
            arena = Arena.sized { data.carve(from: $0, length: length) }
        }
        data.n = n
    }

    /// A problem from Swift arrays (tests and one-off callers); P is n×n row-major.
    public convenience init(quadratic q: [Double], linear l: [Double], current c: [Double], upper u: [Double],
                            costWeight kappa: [Double], coverageValue g: [Double], coverageCost k: [Double],
                            coverageFloor r: Double) {
        let n = c.count
        precondition(q.count == n * n && l.count == n && u.count == n && kappa.count == n && g.count == n && k.count == n,
                     "QPProblem: lengths differ")
        self.init(capacity: n)
        for i in 0 ..< n * n { quadratic[i] = q[i] }
        for i in 0 ..< n {
            linear[i] = l[i]; current[i] = c[i]; upper[i] = u[i]; costWeight[i] = kappa[i]
            coverageValue[i] = g[i]; coverageCost[i] = k[i]
        }
        coverageFloor = r
    }

    public var n: Int { data.n }
    /// P, n×n row-major (leading dimension n), symmetric PSD.
    public var quadratic: UnsafeMutablePointer<Double> { data.quadratic }
    /// ℓ.
    public var linear: UnsafeMutablePointer<Double> { data.linear }
    /// c ≥ 0 (today's holdings).
    public var current: UnsafeMutablePointer<Double> { data.current }
    /// u ≥ c (caps; u = c: may only be sold).
    public var upper: UnsafeMutablePointer<Double> { data.upper }
    /// κ ≥ 0: cost of trading one unit in the objective.
    public var costWeight: UnsafeMutablePointer<Double> { data.costWeight }
    /// g: coverage value of one unit held.
    public var coverageValue: UnsafeMutablePointer<Double> { data.coverageValue }
    /// k ≥ 0: coverage lost per unit traded.
    public var coverageCost: UnsafeMutablePointer<Double> { data.coverageCost }
    /// r; `-.infinity` drops the coverage constraint.
    public var coverageFloor: Double {
        get { data.coverageFloor }
        set { data.coverageFloor = newValue }
    }

    /// Objective yᵀPy + ℓᵀy + Σ κ_i|y_i − c_i| at any point y (first n entries).
    public func objective(at point: UnsafePointer<Double>) -> Double { data.objective(at: point) }

    /// Coverage Σ g y − Σ k |y − c| at any point.
    public func coverage(at point: UnsafePointer<Double>) -> Double { data.coverage(at: point) }
}

extension QPProblem.Data {
    /// Carves the arrays for problems of up to `length` assets.
    mutating func carve(from arena: Arena, length: Int) {
        quadratic = arena.carve(length * length)
        linear = arena.carve(length)
        current = arena.carve(length)
        upper = arena.carve(length)
        costWeight = arena.carve(length)
        coverageValue = arena.carve(length)
        coverageCost = arena.carve(length)
    }

    func objective(at point: UnsafePointer<Double>) -> Double {
        var total = 0.0
        for i in 0 ..< n {
            var row = 0.0
            for j in 0 ..< n { row += quadratic[i * n + j] * point[j] }
            total += point[i] * row + linear[i] * point[i] + costWeight[i] * abs(point[i] - current[i])
        }
        return total
    }

    func coverage(at point: UnsafePointer<Double>) -> Double {
        var total = 0.0
        for i in 0 ..< n { total += coverageValue[i] * point[i] - coverageCost[i] * abs(point[i] - current[i]) }
        return total
    }

    /// Why the data cannot be solved (a non-finite entry), or nil. Traps on bounds or costs out of range
    /// (c < 0, u < c, κ < 0, k < 0: a caller's bug, not data).
    func invalidity() -> String? {
        for i in 0 ..< n {
            let ok = current[i].isFinite && upper[i].isFinite && linear[i].isFinite && costWeight[i].isFinite
                && coverageValue[i].isFinite && coverageCost[i].isFinite
            if !ok { return "non-finite problem data" }
            precondition(current[i] >= 0 && upper[i] >= current[i] && costWeight[i] >= 0 && coverageCost[i] >= 0,
                         "QPSolver: bounds or costs out of range at \(i)")
        }
        for i in 0 ..< n * n where !quadratic[i].isFinite { return "non-finite quadratic term" }
        return nil
    }
}

/// 64-byte aligned, zero-initialised storage of doubles, carved into vectors that each start on a 64-byte boundary:
/// OpenBLAS rounds differently with its operands' alignment, and results must not depend on which worker (which
/// allocation history) solved an account. `carve` traps when a vector does not fit; `sized` measures a layout before
/// allocating it, so no size is counted by hand.
final class Arena {
    /// Doubles per 64 bytes: every carved length is rounded up to a multiple of it.
    static let alignment = 8
    /// Stands for a vector before the first allocation (never read or written: its length is 0 until then).
    nonisolated(unsafe) static let placeholder = UnsafeMutablePointer<Double>.allocate(capacity: 1)
    /// The same for index vectors.
    nonisolated(unsafe) static let placeholderIndices = UnsafeMutablePointer<Int>.allocate(capacity: 1)

    private let base: UnsafeMutablePointer<Double>?
    /// Doubles owned (a measuring arena owns none and has no bound).
    let count: Int
    private(set) var used = 0

    init(count: Int) {
        precondition(count >= 0, "Arena: negative size")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Double>.stride, alignment: 64)
        base = raw.initializeMemory(as: Double.self, repeating: 0, count: max(1, count))
    }

    /// An arena that only counts what is carved from it (its vectors are `placeholder`).
    private init(measuring: Void) {
        base = nil
        count = .max
    }

    deinit { base?.deallocate() }

    /// An arena exactly as large as `layout` carves, after `layout` has carved it (`layout` runs twice: once to
    /// measure, with placeholder vectors, then on the allocated arena).
    static func sized(_ layout: (Arena) -> Void) -> Arena {
        let measure = Arena(measuring: ())
        layout(measure)
        let arena = Arena(count: measure.used)
        layout(arena)
        precondition(arena.used == arena.count, "Arena: layout not deterministic")
        return arena
    }

    /// The next `length` doubles, 64-byte aligned, valid while the arena lives. Traps when they do not fit.
    func carve(_ length: Int) -> UnsafeMutablePointer<Double> {
        precondition(length >= 0, "Arena: negative length")
        let size = (length + Arena.alignment - 1) / Arena.alignment * Arena.alignment
        precondition(size <= count - used, "Arena: \(length) doubles do not fit")
        defer { used += size }
        guard let base else { return Arena.placeholder }
        // In bounds: used + size ≤ count (checked above).
        return base + used
    }

    /// The next `length` entries as an index vector (Int has the size and alignment of Double: the doubles carved
    /// are rebound to Int and only ever accessed as such).
    func carveIndices(_ length: Int) -> UnsafeMutablePointer<Int> {
        let doubles = carve(length)
        guard doubles != Arena.placeholder else { return Arena.placeholderIndices }
        return UnsafeMutableRawPointer(doubles).bindMemory(to: Int.self, capacity: length)
    }
}
