import CKernels

/// Linear combinations of a few rows of one large matrix G, stored flat (row q of the combination starts at element
/// `offsets[q]`): out[t] = Σ_q c_q·G[o_q + t] for t in 0 ..< count. This is the sparse risk kernels' inner loop (an
/// account's losses over the scenarios, from the rows of its own holdings). Every element is summed in q order from
/// 0, each product rounded before it is added, so its value depends only on its own inputs — not on t, on `count`,
/// on the CPU's vector width or on how a caller splits the rows or the columns.
///
/// The C kernels (`CKernels`) read at most 16 rows per pass over t (resuming stored partial sums exactly), with
/// sixteen t per step in four four-lane registers; their AVX2 build runs where the CPU has it.
public enum RowCombination {
    /// out[t] = Σ_q c_q·G[o_q + t] for t in 0 ..< count (0 when there are no rows).
    public static func combine(_ g: UnsafeBufferPointer<Double>, count: Int, offsets: UnsafeBufferPointer<Int>,
                               coefficients c: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        precondition(c.count == offsets.count && out.count >= count, "RowCombination: buffer sizes")
        checkRows(g, count: count, offsets: offsets)
        guard count > 0 else { return }
        // Safe: every row q spans g[o_q ..< o_q + count] (checked above), out holds count elements.
        ballast_combine_rows(g.baseAddress, count, offsets.baseAddress, c.baseAddress, offsets.count, out.baseAddress)
    }

    /// `combine` into out, and in the same pass over the rows the number of t with base + Σ_q b_q·G[o_q + t] < 0
    /// (the sum formed in q order from 0, then added to base). `scratch` (count elements) holds the second sum's
    /// partial values between passes.
    public static func combineCountingNegative(_ g: UnsafeBufferPointer<Double>, count: Int,
                                               offsets: UnsafeBufferPointer<Int>, coefficients c: UnsafeBufferPointer<Double>,
                                               into out: UnsafeMutableBufferPointer<Double>,
                                               countingCoefficients b: UnsafeBufferPointer<Double>, base: Double,
                                               scratch: UnsafeMutableBufferPointer<Double>) -> Int {
        precondition(c.count == offsets.count && b.count == offsets.count && out.count >= count && scratch.count >= count,
                     "RowCombination: buffer sizes")
        checkRows(g, count: count, offsets: offsets)
        guard count > 0 else { return 0 }
        // Safe: as in `combine`; scratch holds count elements.
        return ballast_combine_rows_counting_negative(g.baseAddress, count, offsets.baseAddress, c.baseAddress,
                                                      b.baseAddress, offsets.count, base, out.baseAddress,
                                                      scratch.baseAddress)
    }

    /// Every row g[o_q ..< o_q + count] lies inside G.
    @inline(__always)
    static func checkRows(_ g: UnsafeBufferPointer<Double>, count: Int, offsets: UnsafeBufferPointer<Int>) {
        precondition(count >= 0, "RowCombination: negative count")
        for o in offsets { precondition(o >= 0 && o + count <= g.count, "RowCombination: row offset") }
    }
}
