import LinearAlgebra
import RiskModel

/// G shared read-only by the workers: in double precision, and in single precision when dense blocks screen
/// their paths (`LossWorkspace.screenedProduct`). Sound to share because neither array is mutated while the
/// parallel loop runs and both outlive it (the views are created inside `withUnsafeBufferPointer`).
struct ScenarioMoves: @unchecked Sendable {
    /// G, n × S (asset-major).
    let double: UnsafeBufferPointer<Double>
    /// G in Float (n × S) and Gᵀ in double precision (S × n: one path's moves contiguous), or nil.
    let single: UnsafeBufferPointer<Float>?
    let pathMajor: UnsafeBufferPointer<Double>?
}

/// A dense block's screening buffers, allocated at its first screened block.
struct ScreeningBuffers {
    /// The block's rows in Float (m × n) and their single-precision product with G (m × S).
    var input: [Float] = []
    var output: [Float] = []
    /// One row's values in double precision, for its selections.
    var row: [Double] = []
    /// Each row's candidate paths: `paths[rowStart[r] ..< rowStart[r + 1]]`.
    var rowStart: [Int] = []
    var paths: [Int32] = []
    /// Breaches each buffer row has for certain (its uncertain paths are among its candidates).
    var certainBreaches: [Int] = []
    /// Whether a path is a candidate of some row; the candidates' union in path order; each path's column in it.
    var marked: [Bool] = []
    var union: [Int] = []
    var column: [Int32] = []
    /// Gᵀ's rows of the union (|U| × n).
    var gathered: [Double] = []
}

extension LossWorkspace {
    /// The largest share of the S paths a block's candidates may take before the block is computed in full instead.
    static let screenedUnionLimit = 0.25

    /// Dense block by single-precision screening, exact in double precision where it matters:
    ///
    /// 1. Ŷ = X·G in Float (sgemm, twice dgemm's speed), each entry within ε_r = c·Σ_j |x_{r,j}|·M_j of the
    ///    double-precision product (c = `SinglePrecision.productErrorFactor`, M_j the largest |G| of asset j).
    /// 2. Loss row: with t̂ its k-th largest Ŷ value, the k largest losses are among the paths with Ŷ ≥ t̂ − 2ε
    ///    (the k-th largest loss is ≥ t̂ − ε, so each of the k largest has Ŷ ≥ t̂ − 2ε). Buffer row: a path with
    ///    B + Ŷ below −ε breaches for certain, above ε not; the others are its candidates.
    /// 3. The candidates' union U: G's columns gathered, one dgemm X·G_U in double precision; VaR/ES from each
    ///    loss row's candidates, breach counts = certain + the candidates that breach.
    ///
    /// The results are those of the full double-precision product up to its rounding (summation order). Returns
    /// nil (the caller does the full product) without single-precision moves, when a row's bound could overflow
    /// Float, or when the union exceeds `screenedUnionLimit` of the paths.
    mutating func screenedProduct(_ job: LossJob, accounts: Range<Int>, rows m: Int, moves: ScenarioMoves,
                                  _ outputs: LossOutputs) -> Double? {
        guard let single = moves.single, let pathMajor = moves.pathMajor, let bounds = rowBounds(job, rows: m) else {
            return nil
        }
        prepareScreening(rows: m)
        singleProduct(rows: m, moves: single)
        selectCandidates(job, accounts: accounts, rows: m, bounds: bounds)
        let union = screening.union.count
        guard Double(union) <= Self.screenedUnionLimit * Double(scenarios) else {
            clearMarks()
            return nil
        }
        exactProduct(rows: m, pathMajor: pathMajor)
        finishScreened(job, accounts: accounts, outputs)
        clearMarks()
        return 2 * Double(m) * Double(assets) * (Double(scenarios) + Double(union))
    }

    /// ε_r of every row, or nil when a row's Σ_j |x_{r,j}|·M_j could overflow Float.
    private func rowBounds(_ job: LossJob, rows m: Int) -> [Double]? {
        let n = assets, factor = SinglePrecision.productErrorFactor(terms: n)
        let moveSum = job.largestMoves.reduce(0, +)
        var bounds = [Double](repeating: 0, count: m)
        for r in 0 ..< m {
            var reach = 0.0, coefficientSum = 0.0
            for j in 0 ..< n {
                reach += abs(denseInput[r * n + j]) * job.largestMoves[j]
                coefficientSum += abs(denseInput[r * n + j])
            }
            guard reach < Self.singlePrecisionReach else { return nil }
            // Values below Float's normal range lose up to half its subnormal spacing absolutely, not relatively.
            bounds[r] = factor * reach * (1 + 1e-12)
                + SinglePrecision.underflowAllowance(terms: n, coefficientSum: coefficientSum, otherSum: moveSum)
        }
        return bounds
    }

    /// Rows whose Σ_j |x_{r,j}|·M_j reaches this are not screened (Float's range ends at 3.4e38).
    static let singlePrecisionReach = 1e36

    private mutating func prepareScreening(rows m: Int) {
        let capacity = 2 * ScenarioLossCalculator.blockSize
        if screening.input.isEmpty {
            screening.input = [Float](repeating: 0, count: capacity * assets)
            screening.output = [Float](repeating: 0, count: capacity * scenarios)
            screening.row = [Double](repeating: 0, count: scenarios)
            screening.marked = [Bool](repeating: false, count: scenarios)
            screening.column = [Int32](repeating: -1, count: scenarios)
        }
        for i in 0 ..< m * assets { screening.input[i] = Float(denseInput[i]) }
    }

    private mutating func singleProduct(rows m: Int, moves: UnsafeBufferPointer<Float>) {
        let n = assets, scenarios = self.scenarios
        screening.input.withUnsafeBufferPointer { x in
            screening.output.withUnsafeMutableBufferPointer { y in sgemm(m: m, n: scenarios, k: n, a: x, b: moves, c: y) }
        }
    }

    /// Each row's candidate paths (step 2), the buffer rows' certain breaches, and the union U in path order.
    private mutating func selectCandidates(_ job: LossJob, accounts: Range<Int>, rows m: Int, bounds: [Double]) {
        let scenarios = self.scenarios
        // The buffers are moved out of `screening` while the rows are scanned through their pointers.
        var paths = screening.paths, marked = screening.marked, row = screening.row
        screening.paths = []
        screening.marked = []
        screening.row = []
        paths.removeAll(keepingCapacity: true)
        var rowStart = [0], certain = [Int](repeating: 0, count: m)
        screening.output.withUnsafeBufferPointer { output in
        marked.withUnsafeMutableBufferPointer { marked in
        row.withUnsafeMutableBufferPointer { row in
            for r in 0 ..< m {
                let values = UnsafeBufferPointer(rebasing: output[r * scenarios ..< (r + 1) * scenarios])
                if let a = accountOfDebtRow(r, accounts: accounts) {
                    certain[r] = Self.screenBufferRow(values, base: job.bufferBase(a), bound: bounds[r],
                                                      into: &paths, marking: marked)
                } else if r < accounts.count && !job.assessment.invalid[accounts.lowerBound + r] {
                    Self.screenLossRow(values, tail: job.tail, bound: bounds[r], scratch: row, into: &paths,
                                       marking: marked)
                }
                rowStart.append(paths.count)
            }
        }
        }
        }
        (screening.paths, screening.marked, screening.row) = (paths, marked, row)
        screening.rowStart = rowStart
        screening.certainBreaches = certain
        screening.union.removeAll(keepingCapacity: true)
        for s in 0 ..< scenarios where screening.marked[s] {
            screening.column[s] = Int32(screening.union.count)
            screening.union.append(s)
        }
    }

    /// A loss row: with t̂ the k-th largest of its single-precision values, the paths with Ŷ ≥ t̂ − 2ε.
    private static func screenLossRow(_ values: UnsafeBufferPointer<Float>, tail: Int, bound: Double,
                                      scratch: UnsafeMutableBufferPointer<Double>, into paths: inout [Int32],
                                      marking marked: UnsafeMutableBufferPointer<Bool>) {
        let count = values.count
        for s in 0 ..< count { scratch[s] = Double(values[s]) }
        let kth = OrderStatistics.upperTail(UnsafeMutableBufferPointer(rebasing: scratch[0 ..< count]),
                                            count: tail).kthLargest
        let threshold = kth - 2 * bound
        for s in 0 ..< count where Double(values[s]) >= threshold {
            paths.append(Int32(s))
            marked[s] = true
        }
    }

    /// A buffer row: the paths whose B + Ŷ is within ±ε (candidates); returns those below −ε (certain breaches).
    private static func screenBufferRow(_ values: UnsafeBufferPointer<Float>, base: Double, bound: Double,
                                        into paths: inout [Int32], marking marked: UnsafeMutableBufferPointer<Bool>)
        -> Int {
        var certain = 0
        for s in 0 ..< values.count {
            let value = base + Double(values[s])
            if value < -bound {
                certain += 1
            } else if value <= bound {
                paths.append(Int32(s))
                marked[s] = true
            }
        }
        return certain
    }

    /// The account whose buffer row is r, if r is a buffer row.
    private func accountOfDebtRow(_ r: Int, accounts: Range<Int>) -> Int? {
        guard r >= accounts.count else { return nil }
        for i in 0 ..< accounts.count where debtRow[i] == r { return accounts.lowerBound + i }
        return nil
    }

    /// X·G_U in double precision into `denseOutput` (m × |U|), from Gᵀ's rows of the union (contiguous copies).
    private mutating func exactProduct(rows m: Int, pathMajor: UnsafeBufferPointer<Double>) {
        let n = assets, width = screening.union.count
        guard width > 0 else { return }
        if screening.gathered.count < n * width { screening.gathered = [Double](repeating: 0, count: n * width) }
        screening.gathered.withUnsafeMutableBufferPointer { gathered in
            for (c, s) in screening.union.enumerated() {
                _ = UnsafeMutableBufferPointer(rebasing: gathered[c * n ..< (c + 1) * n])
                    .update(fromContentsOf: pathMajor[s * n ..< (s + 1) * n])
            }
        }
        denseInput.withUnsafeBufferPointer { x in
            screening.gathered.withUnsafeBufferPointer { g in
                denseOutput.withUnsafeMutableBufferPointer { y in gemm(m: m, n: width, k: n, a: x, b: g, .transposed, c: y) }
            }
        }
    }

    /// Each account's VaR/ES from its candidates' exact losses, and its breaches.
    private mutating func finishScreened(_ job: LossJob, accounts: Range<Int>, _ outputs: LossOutputs) {
        let width = screening.union.count
        for a in accounts where !job.assessment.invalid[a] {
            let r = a - accounts.lowerBound
            let candidates = screening.rowStart[r] ..< screening.rowStart[r + 1]
            for (i, p) in candidates.enumerated() {
                screening.row[i] = denseOutput[r * width + Int(screening.column[Int(screening.paths[p])])]
            }
            var breaches = job.settledBreaches(a)
            if debtRow[r] >= 0 { breaches = screenedBreaches(job, account: a, row: debtRow[r]) }
            screening.row.withUnsafeMutableBufferPointer { values in
                job.finish(a, losses: UnsafeMutableBufferPointer(rebasing: values[0 ..< candidates.count]),
                           breaches: breaches, outputs)
            }
        }
    }

    /// A buffer row's certain breaches plus those of its candidates, B + (X·G_U) < 0.
    private func screenedBreaches(_ job: LossJob, account a: Int, row d: Int) -> Int {
        let base = job.bufferBase(a), width = screening.union.count
        var count = screening.certainBreaches[d]
        for p in screening.rowStart[d] ..< screening.rowStart[d + 1] {
            let column = Int(screening.column[Int(screening.paths[p])])
            if base + denseOutput[d * width + column] < 0 { count += 1 }
        }
        return count
    }

    /// Unmarks the union's paths for the next block.
    private mutating func clearMarks() {
        for s in screening.union {
            screening.marked[s] = false
            screening.column[s] = -1
        }
    }
}
