import LinearAlgebra

/// Parametric VaR of positions given sparsely (a list of (asset, quantity)) under a covariance: V(q, p, Σ, s) =
/// s·√(eᵀΣe) with exposures e = q∘p (USD), Σ of daily log returns and s = z·√h (VaR per unit σ). The same formula as
/// an account's `var_param` (ParametricRisk), evaluated on the position's own assets only.
public enum PositionVaR {
    /// V(q, p, Σ, s) in USD for one position: `assets[i]` (index into `prices` and Σ) held in `quantities[i]` asset
    /// units (negative for debt); entries of one asset add up. Assets with `inUniverse` false carry no risk.
    public static func value(assets: [Int], quantities: [Double], prices: [Double], covariance: Matrix,
                             inUniverse: [Bool], varPerSigma: Double) -> Double {
        precondition(assets.count == quantities.count, "PositionVaR: one quantity per asset")
        var pair = PositionPair(assetCount: covariance.rows)
        for (j, q) in zip(assets, quantities) where inUniverse[j] { pair.add(asset: j, first: q, second: 0) }
        return covariance.elements.withUnsafeBufferPointer { s in
            prices.withUnsafeBufferPointer { p in pair.values(prices: p, covariance: s, varPerSigma: varPerSigma).x }
        }
    }
}

/// Two positions on one set of assets, valued together under one covariance: V(q₁, p, Σ, s) and V(q₂, p, Σ, s)
/// (USD) share every gathered entry of Σ. A reusable workspace: `add` the holdings, `values` reads and clears them.
/// Work is O(k²) in the k assets added, never O(n) in the n assets of Σ (but for the one-time allocation).
public struct PositionPair {
    /// Per asset of Σ: its position in `touched`, or −1.
    private var slot: [Int32]
    /// The assets added, in order of first addition; their quantities (q₁, q₂) in asset units.
    private var touched: [Int] = []
    private var quantity: [SIMD2<Double>] = []
    /// The touched assets sorted, and their exposures (e₁, e₂) in USD, for the kernel.
    private var sorted: [Int] = []
    private var exposure: [SIMD2<Double>] = []

    /// A workspace for positions in `assetCount` assets (the order of Σ).
    public init(assetCount: Int) {
        slot = [Int32](repeating: -1, count: assetCount)
    }

    /// Adds `first` units of `asset` to position 1 and `second` units to position 2.
    public mutating func add(asset: Int, first: Double, second: Double) {
        let s = Int(slot[asset])
        if s >= 0 {
            quantity[s] += SIMD2(first, second)
        } else {
            slot[asset] = Int32(touched.count)
            touched.append(asset)
            quantity.append(SIMD2(first, second))
        }
    }

    /// (V(q₁, p, Σ, s), V(q₂, p, Σ, s)) in USD with `prices` p (USD per unit) and Σ (n × n, row-major, symmetric);
    /// a negative quadratic form (rounding on a singular Σ) counts as 0. Clears the workspace.
    public mutating func values(prices: UnsafeBufferPointer<Double>, covariance: UnsafeBufferPointer<Double>,
                                varPerSigma: Double) -> SIMD2<Double> {
        let n = slot.count
        precondition(prices.count >= n && covariance.count == n * n, "PositionPair: prices and Σ cover the assets")
        guard !touched.isEmpty else { return SIMD2() }
        sorted = touched
        sorted.sort()
        exposure.removeAll(keepingCapacity: true)
        for j in sorted { exposure.append(quantity[Int(slot[j])] * prices[j]) }
        let forms = sorted.withUnsafeBufferPointer { indices in
            exposure.withUnsafeBufferPointer { x in
                DenseKernels.pairedQuadraticForms(covariance.baseAddress!, lda: n, indices: indices.baseAddress!,
                                                  x: x.baseAddress!, count: indices.count)
            }
        }
        clear()
        return varPerSigma * SIMD2(max(forms.x, 0).squareRoot(), max(forms.y, 0).squareRoot())
    }

    /// Forgets the assets added (O(k)).
    private mutating func clear() {
        for j in touched { slot[j] = -1 }
        touched.removeAll(keepingCapacity: true)
        quantity.removeAll(keepingCapacity: true)
    }
}
