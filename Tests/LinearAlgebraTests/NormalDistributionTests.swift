import Foundation
import Testing
@testable import LinearAlgebra

// Reference values were computed independently with Python mpmath 1.3.0 at 60 significant
// digits and are quoted to 25 digits. The argument is always the exact binary value of the
// Double the test passes (mpmath.mpf(float)), not the decimal literal: for p = 1 − 1e−10 the
// decimal and the Double differ by ~1e−7 relative in the tail probability.
// - quantile: x solving log Φ(x) = log r with mpmath.findroot (r = min(p, 1 − p), computed
//   exactly), checked |Φ(x)/r − 1| < 1e−45; x = −x for p > ½.
//   (For moderate p this agrees with mpmath.sqrt(2)*mpmath.erfinv(2*mpf(p) - 1).)
// - cdf: mpmath.ncdf(x), cross-checked against erfc(−x/√2)/2 at 120 digits.
// - density: mpmath.npdf(x).

/// (p, Φ⁻¹(p)).
private let quantileReference: [(Double, Double)] = [
    (1e-300, -3.704709629936119923654704e+1),
    (1e-20, -9.262340089798407579572095),
    (1e-10, -6.361340902404056199100397),
    (0.001, -3.090232306167813535358005),
    (0.01, -2.326347874040841093075096),
    (0.025, -1.959963984540054211779584),
    (0.05, -1.644853626951472687952128),
    (0.1, -1.281551565544600435334517),
    (0.3, -5.244005127080408159694544e-1),
    (0.5, 0.0),
    (0.7, 5.244005127080406563136292e-1),
    (0.9, 1.281551565544600593487448),
    (0.95, 1.644853626951472284276316),
    (0.975, 1.959963984540053855604431),
    (0.99, 2.326347874040840767637189),
    (0.995, 2.575829303548900453857483),
    (0.999, 3.090232306167813277758202),
    (0.9999, 3.719016485455708386722759),
    (1 - 1e-10, 6.361340889697421864155442),
]

/// (x, Φ(x)).
private let cdfReference: [(Double, Double)] = [
    (-37, 5.725571222524576822683193e-300),
    (-30, 4.906713927148187059533809e-198),
    (-20, 2.753624118606233695075623e-89),
    (-10, 7.619853024160526065973343e-24),
    (-5, 2.866515718791939116737523e-7),
    (-3, 1.349898031630094526651815e-3),
    (-1.5, 6.680720126885806600449404e-2),
    (-1, 1.586552539314570514147675e-1),
    (-0.5, 3.085375387259868963622954e-1),
    (0, 5.0e-1),
    (0.5, 6.914624612740131036377046e-1),
    (1, 8.413447460685429485852325e-1),
    (1.5, 9.33192798731141933995506e-1),
    (3, 9.986501019683699054733482e-1),
    (5, 9.999997133484281208060883e-1),
    (8, 9.999999999999993779039426e-1),
]

/// (x, φ(x)).
private let densityReference: [(Double, Double)] = [
    (-37, 2.120006551524605626852045e-298),
    (-30, 1.473646134878547519049493e-196),
    (-20, 5.520948362159763189582736e-88),
    (-10, 7.694598626706419346339034e-23),
    (-5, 1.48671951473429770790824e-6),
    (-3, 4.431848411938007175602353e-3),
    (-1.5, 1.295175956658917276140996e-1),
    (-1, 2.419707245191433497978302e-1),
    (-0.5, 3.520653267642994777746804e-1),
    (0, 3.989422804014326779399461e-1),
    (0.5, 3.520653267642994777746804e-1),
    (1, 2.419707245191433497978302e-1),
    (1.5, 1.295175956658917276140996e-1),
    (3, 4.431848411938007175602353e-3),
    (5, 1.48671951473429770790824e-6),
    (8, 5.052271083536892287950185e-15),
]

private func relativeError(_ value: Double, _ reference: Double) -> Double {
    reference == 0 ? abs(value) : abs(value - reference) / abs(reference)
}

@Suite("NormalDistribution")
struct NormalDistributionTests {
    @Test("quantile matches 40-digit references to 2e-15 relative (absolute at p = 0.5)")
    func quantileReferenceValues() {
        var worst = 0.0
        for (p, expected) in quantileReference {
            let x = NormalDistribution.quantile(p)
            let error = relativeError(x, expected)
            worst = max(worst, error)
            #expect(error <= 2e-15, "quantile(\(p)) = \(x), expected \(expected), rel. error \(error)")
        }
        #expect(NormalDistribution.quantile(0.5) == 0)
        print("NormalDistribution.quantile: max relative error vs mpmath = \(worst)")
    }

    @Test("cdf matches 40-digit references to 1e-14 relative, deep tails included")
    func cdfReferenceValues() {
        var worst = 0.0
        for (x, expected) in cdfReference {
            let value = NormalDistribution.cdf(x)
            let error = relativeError(value, expected)
            worst = max(worst, error)
            #expect(error <= 1e-14, "cdf(\(x)) = \(value), expected \(expected), rel. error \(error)")
        }
        print("NormalDistribution.cdf: max relative error vs mpmath = \(worst)")
    }

    @Test("density matches references and the closed form")
    func densityReferenceValues() {
        for (x, expected) in densityReference {
            let value = NormalDistribution.density(x)
            #expect(relativeError(value, expected) <= 1e-14, "density(\(x)) = \(value), expected \(expected)")
        }
        // Closed form exp(−x²/2)/√(2π) where x² is exact (so the naive formula is accurate).
        for x in stride(from: -8.0, through: 8.0, by: 0.125) {
            let closedForm = exp(-x * x / 2) / (2 * Double.pi).squareRoot()
            #expect(relativeError(NormalDistribution.density(x), closedForm) <= 1e-14)
            #expect(NormalDistribution.density(x) == NormalDistribution.density(-x))
        }
        #expect(NormalDistribution.density(0) == 1 / (2 * Double.pi).squareRoot())
        #expect(NormalDistribution.density(40) == 0)
        #expect(NormalDistribution.density(-.infinity) == 0)
        #expect(NormalDistribution.density(.infinity) == 0)
        #expect(NormalDistribution.density(.nan).isNaN)
    }

    @Test("special arguments")
    func specialArguments() {
        #expect(NormalDistribution.quantile(0) == -.infinity)
        #expect(NormalDistribution.quantile(-0.5) == -.infinity)
        #expect(NormalDistribution.quantile(-.infinity) == -.infinity)
        #expect(NormalDistribution.quantile(1) == .infinity)
        #expect(NormalDistribution.quantile(1.5) == .infinity)
        #expect(NormalDistribution.quantile(.infinity) == .infinity)
        #expect(NormalDistribution.quantile(.nan).isNaN)
        // Subnormal tail probabilities still give finite, ordered results.
        let smallest = NormalDistribution.quantile(.leastNonzeroMagnitude)
        #expect(smallest.isFinite && smallest < -38.4 && smallest > -38.5)
        let subnormal = 1e-300 / 1e10  // 1e-310
        #expect(NormalDistribution.quantile(subnormal) > smallest)

        #expect(NormalDistribution.cdf(.nan).isNaN)
        #expect(NormalDistribution.cdf(-.infinity) == 0)
        #expect(NormalDistribution.cdf(.infinity) == 1)
        #expect(NormalDistribution.cdf(-40) == 0)
        #expect(NormalDistribution.cdf(40) == 1)
        #expect(NormalDistribution.cdf(0) == 0.5)
    }

    @Test("round trip cdf(quantile(p)) ≈ p")
    func roundTrip() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var probabilities: [Double] = [1e-300, 1e-200, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.5, 0.99, 0.999]
        for _ in 0..<500 { probabilities.append(pow(10, -300 * rng.nextUnit())) }  // log-uniform tail
        for _ in 0..<500 { probabilities.append(rng.nextUnit()) }
        for p in probabilities where p > 0 && p < 1 {
            let x = NormalDistribution.quantile(p)
            let back = NormalDistribution.cdf(x)
            if p <= 0.5 {
                // Relative condition number of Φ at x is about x²: allow a few ulps of that.
                let tolerance = 4e-16 * (2 + x * x)
                #expect(relativeError(back, p) <= tolerance, "p = \(p), x = \(x), cdf(x) = \(back)")
            } else {
                #expect(abs(back - p) <= 3 * p.ulp, "p = \(p), x = \(x), cdf(x) = \(back)")
            }
        }
    }

    @Test("symmetry quantile(1 − p) = −quantile(p)")
    func symmetry() {
        // Exact whenever 1 − q is representable, i.e. for every q in [0.5, 1).
        var rng = SplitMix64(seed: 0x5EED_0002)
        var qs: [Double] = [0.5, 0.6, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999, 0.9999, 1 - 1e-10, 1 - 1e-15]
        for _ in 0..<1000 { qs.append(0.5 + 0.5 * rng.nextUnit()) }
        for q in qs where q < 1 {
            #expect(NormalDistribution.quantile(1 - q) == -NormalDistribution.quantile(q), "q = \(q)")
        }
        // For p not tiny, 1 − p is rounded: the difference is only that rounding (≤ ulp(1)/2
        // in probability, i.e. ≤ 1.2e−16/φ(x) in x) plus the quantile's own error.
        for p in [1e-10, 1e-6, 0.001, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45] {
            let x = NormalDistribution.quantile(p)
            let mirrored = NormalDistribution.quantile(1 - p)
            let tolerance = 1.2e-16 / NormalDistribution.density(x) + 4e-15 * abs(x)
            #expect(abs(mirrored + x) <= tolerance, "p = \(p): \(mirrored) vs \(-x)")
        }
    }

    @Test("quantile and cdf are monotone, including across the AS241 branch points")
    func monotone() {
        // Branch points of PPND16 in the lower-tail probability r: |r − ½| = 0.425 and
        // √(−log r) = 5, i.e. r = exp(−25); mirrored for p > ½.
        let centres: [Double] = [0.075, 0.925, exp(-25.0), 1 - exp(-25.0), 0.5, 1e-300]
        for centre in centres {
            // Between consecutive doubles p the true quantile moves by less than an ulp, so
            // rounding noise may reverse a step by at most an ulp, never more.
            var p = centre
            for _ in 0..<200 { p = p.nextDown }
            var previous = NormalDistribution.quantile(p)
            for _ in 0..<400 {
                p = p.nextUp
                let x = NormalDistribution.quantile(p)
                #expect(x >= previous - previous.ulp, "quantile steps back at p = \(p)")
                previous = x
            }
            // On a grid coarser than that noise it is strictly increasing.
            let delta = max(1e-11 * min(centre, 1 - centre), 4 * centre.ulp)
            previous = NormalDistribution.quantile(centre - 100 * delta)
            for step in -99...100 {
                let x = NormalDistribution.quantile(centre + Double(step) * delta)
                #expect(x > previous, "quantile not increasing near p = \(centre)")
                previous = x
            }
        }
        var previous = NormalDistribution.cdf(-39)
        for x in stride(from: -39.0, through: 9.0, by: 0.001) {
            let c = NormalDistribution.cdf(x)
            #expect(c >= previous, "cdf not monotone at x = \(x)")
            previous = c
        }
    }

    @Test("known quantiles used by the risk engine")
    func familiarValues() {
        #expect(abs(NormalDistribution.quantile(0.99) - 2.3263478740408408) <= 4.5e-16)
        #expect(abs(NormalDistribution.quantile(0.975) - 1.959963984540054) <= 2.3e-16)
        #expect(abs(NormalDistribution.quantile(0.95) - 1.6448536269514722) <= 2.3e-16)
    }
}
