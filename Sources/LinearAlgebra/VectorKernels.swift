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

/// y ← y + α·x (each element: multiply, then add; the C kernel in `CKernels`, AVX2 where the CPU has it).
public func axpy(_ alpha: Double, _ x: UnsafeBufferPointer<Double>, _ y: UnsafeMutableBufferPointer<Double>) {
    precondition(x.count == y.count, "axpy: lengths differ")
    guard let source = x.baseAddress, let target = y.baseAddress else { return }
    // Safe: both buffers hold x.count elements.
    ballast_axpy(alpha, source, target, x.count)
}
