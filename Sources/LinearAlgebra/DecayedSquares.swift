import CKernels

/// Exponentially weighted sums of squares U = Σ_d λ^{age(d)}·y_d² (the latest value with weight 1) and the rolling
/// EWMA volatility forecasts built on them. Fixed summation orders with fused multiply-adds (see `CKernels.h`): the
/// results depend only on the data, not on the CPU (the C kernels run their FMA build where the CPU has it).
public enum DecayedSquares {
    /// Σ_d λ^{n−1−d}·y_d² over the n values of y (y_{n−1} with weight 1): the oldest n mod 4 by Horner's rule, the
    /// rest in four lanes with step λ⁴ (independent multiply-add chains).
    public static func sum(_ y: UnsafeBufferPointer<Double>, lambda: Double) -> Double {
        guard let values = y.baseAddress else { return 0 }
        return ballast_decayed_squares(values, y.count, lambda)
    }

    /// out[b] = multiplier·√max(scale·U_b, 0) for every b of `out`, U_b the decayed squares of the window
    /// y[b ..< b + window]. U slides in O(1) per day, U ← λ·U + (y_in² − λ^W·y_out²) (one fused multiply-add in the
    /// chain; `lambdaPowerWindow` = λ^W), and is recomputed from the window (`sum`) when it falls below
    /// `refreshFraction` of its largest value since it was last recomputed, which bounds the rounding errors the
    /// slide accumulates relative to the current value.
    public static func rollingForecasts(_ y: UnsafeBufferPointer<Double>, window: Int, lambda: Double,
                                        lambdaPowerWindow: Double, scale: Double, multiplier: Double,
                                        refreshFraction: Double, into out: UnsafeMutableBufferPointer<Double>) {
        guard let target = out.baseAddress else { return }
        precondition(window >= 1 && y.count >= window + out.count - 1, "DecayedSquares: y covers every window")
        // Safe: the kernel reads y[0 ..< window + out.count − 1] and writes out[0 ..< out.count].
        ballast_ewma_forecasts(y.baseAddress, window, out.count, lambda, lambdaPowerWindow, scale, multiplier,
                               refreshFraction, target)
    }
}
