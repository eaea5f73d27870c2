/// The largest reachable coverage of METHODOLOGY "Rebalancing", a linear program solved exactly by a greedy.
///
///     maximize   Σ g_i·y_i − Σ k_i·|y_i − c_i|
///     subject to Σ y_i = Σ c_i,  0 ≤ y_i ≤ u_i   (u_i ≥ c_i)
///
/// Proof of exactness. Write y = c + p − m with 0 ≤ p ≤ u − c, 0 ≤ m ≤ c; since k ≥ 0 a pair with p_i, m_i > 0
/// never beats the pair reduced by min(p_i, m_i), so the split is exact and the LP becomes
/// max (g − k)ᵀp − (g + k)ᵀm subject to 1ᵀp = 1ᵀm. For a fixed volume V = 1ᵀp = 1ᵀm the two halves separate
/// into two fractional knapsacks: the best buys B(V) fill the largest g − k first (B concave, piecewise linear)
/// and the cheapest sells S(V) empty the smallest g + k first (S convex). B(V) − S(V) is concave in V, so it is
/// maximised by increasing V while the marginal buy value exceeds the marginal sell value — which is what the
/// greedy does, one breakpoint at a time. An asset meeting itself gains −2k_i ≤ 0, so the loop stops before that.
/// Ties are broken by asset position (stable sort), so the maximiser is deterministic.
public enum CoverageLP {
    /// Returns the maximal coverage and writes a maximiser into `y` (length n). `order` is scratch of 2n Ints.
    /// All arrays hold at least n elements; only the first n are read.
    public static func maximize(n: Int, current c: UnsafePointer<Double>, upper u: UnsafePointer<Double>,
                                value g: UnsafePointer<Double>, cost k: UnsafePointer<Double>,
                                y: UnsafeMutablePointer<Double>, order: UnsafeMutablePointer<Int>) -> Double {
        let buyers = sortedBuyers(0 ..< n, current: c, upper: u, value: g, cost: k, into: order)
        return maximize(n: n, current: c, upper: u, value: g, cost: k, buyers: order, buyerCount: buyers, y: y,
                        sellerScratch: order + n)
    }

    /// Writes the indices of `range` with room to buy (u_i > c_i) into `order` by decreasing g − k, ties by index,
    /// and returns how many. An insertion sort: it keeps ties in index order and allocates nothing (the solver's
    /// working sets and an account's holdings are small; the rebalancer merges in the rest of its universe presorted).
    public static func sortedBuyers(_ range: Range<Int>, current c: UnsafePointer<Double>, upper u: UnsafePointer<Double>,
                                    value g: UnsafePointer<Double>, cost k: UnsafePointer<Double>,
                                    into order: UnsafeMutablePointer<Int>) -> Int {
        var buyers = 0
        for i in range where u[i] > c[i] {
            let v = g[i] - k[i]
            var j = buyers
            while j > 0, g[order[j - 1]] - k[order[j - 1]] < v { order[j] = order[j - 1]; j -= 1 }
            order[j] = i
            buyers += 1
        }
        return buyers
    }

    /// The greedy with the buyers given: `buyers[0 ..< buyerCount]` are exactly the indices with u_i > c_i, by
    /// decreasing g − k, ties by increasing index. `sellerScratch` holds at least n Ints.
    public static func maximize(n: Int, current c: UnsafePointer<Double>, upper u: UnsafePointer<Double>,
                                value g: UnsafePointer<Double>, cost k: UnsafePointer<Double>,
                                buyers buy: UnsafePointer<Int>, buyerCount buyers: Int,
                                y: UnsafeMutablePointer<Double>, sellerScratch sell: UnsafeMutablePointer<Int>) -> Double {
        for i in 0 ..< n { y[i] = c[i] }
        // Sellers (c > 0) by increasing g + k, ties in index order.
        var sellers = 0
        for i in 0 ..< n where c[i] > 0 {
            let v = g[i] + k[i]
            var j = sellers
            while j > 0, g[sell[j - 1]] + k[sell[j - 1]] > v { sell[j] = sell[j - 1]; j -= 1 }
            sell[j] = i
            sellers += 1
        }
        var bi = 0, si = 0
        var room = buyers > 0 ? u[buy[0]] - c[buy[0]] : 0
        var left = sellers > 0 ? c[sell[0]] : 0
        while bi < buyers && si < sellers {
            let b = buy[bi], s = sell[si]
            if g[b] - k[b] <= g[s] + k[s] { break }
            let amount = min(room, left)
            y[b] += amount
            y[s] -= amount
            room -= amount
            left -= amount
            if room <= 0 {
                y[b] = u[b]   // exactly on the cap
                bi += 1
                if bi < buyers { room = u[buy[bi]] - c[buy[bi]] }
            }
            if left <= 0 {
                y[s] = 0      // exactly emptied
                si += 1
                if si < sellers { left = c[sell[si]] }
            }
        }
        var total = 0.0
        for i in 0 ..< n { total += g[i] * y[i] - k[i] * abs(y[i] - c[i]) }
        return total
    }

    /// Array convenience for tests and one-off callers.
    public static func maximize(current c: [Double], upper u: [Double], value g: [Double], cost k: [Double]) -> (coverage: Double, y: [Double]) {
        let n = c.count
        precondition(u.count == n && g.count == n && k.count == n, "CoverageLP: lengths differ")
        if n == 0 { return (0, []) }
        var y = [Double](repeating: 0, count: n)
        var order = [Int](repeating: 0, count: 2 * max(n, 1))
        let best = y.withUnsafeMutableBufferPointer { py in
            order.withUnsafeMutableBufferPointer { po in
                maximize(n: n, current: c, upper: u, value: g, cost: k, y: py.baseAddress!, order: po.baseAddress!)
            }
        }
        return (best, y)
    }
}
