import CKernels

/// Small SIMD kernels on contiguous `Double` buffers, used by the per-account loops.
/// Each accumulates in four SIMD4 lanes: a fixed summation order, so results are deterministic.

/// Σ x_i·y_i over two buffers of equal length.
@inlinable
public func dot(_ x: UnsafeBufferPointer<Double>, _ y: UnsafeBufferPointer<Double>) -> Double {
    precondition(x.count == y.count, "dot: lengths differ")
    let n = x.count
    var acc = SIMD4<Double>()
    var i = 0
    while i + 4 <= n {
        // Safe: i + 3 < n, both buffers hold n elements.
        let a = SIMD4(x[i], x[i + 1], x[i + 2], x[i + 3])
        let b = SIMD4(y[i], y[i + 1], y[i + 2], y[i + 3])
        acc += a * b
        i += 4
    }
    var total = acc.sum()
    while i < n {
        total += x[i] * y[i]
        i += 1
    }
    return total
}

/// Σ x_i·y_i over two arrays of equal length.
@inlinable
public func dot(_ x: [Double], _ y: [Double]) -> Double {
    x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in dot(px, py) } }
}

/// Σ x_i in a fixed order.
@inlinable
public func sum(_ x: UnsafeBufferPointer<Double>) -> Double {
    let n = x.count
    var acc = SIMD4<Double>()
    var i = 0
    while i + 4 <= n {
        acc += SIMD4(x[i], x[i + 1], x[i + 2], x[i + 3])
        i += 4
    }
    var total = acc.sum()
    while i < n {
        total += x[i]
        i += 1
    }
    return total
}

/// Correlated draws of a block of paths from their independent normals: x_p = F·z_p, i.e.
/// x[p·n + t] = Σ_j z[p·n + j]·Fᵀ[j, t], each sum from 0 over j ascending, each product rounded and then added (the
/// bits of one y ← y + z_j·Fᵀ[j, :] per row j in order). `transposedFactor` is Fᵀ (n × n row-major);
/// `firstNonZero[j]` the index of row j's first non-zero entry (n for a row of zeros), which lets a triangular or
/// rank-deficient factor skip its zeros. The C kernel in `CKernels` (AVX2 where the CPU has it) keeps four paths ×
/// eight entries in registers over every row, so Fᵀ is read once per four paths instead of once per path.
public func correlatedDraws(transposedFactor ft: UnsafeBufferPointer<Double>, firstNonZero: UnsafeBufferPointer<Int>,
                            normals z: UnsafeBufferPointer<Double>, into x: UnsafeMutableBufferPointer<Double>) {
    let n = firstNonZero.count
    precondition(ft.count == n * n && z.count == x.count && (n == 0 || z.count % n == 0),
                 "correlatedDraws: the factor is not n × n or the blocks are not whole paths of n")
    guard n > 0, let factor = ft.baseAddress, let first = firstNonZero.baseAddress, let normals = z.baseAddress,
          let draws = x.baseAddress else { return }
    // Safe: Fᵀ holds n·n elements, first n, z and x whole paths of n each (checked above).
    ballast_factor_paths(factor, n, first, normals, z.count / n, draws)
}
