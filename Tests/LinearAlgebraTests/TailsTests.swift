import Foundation
import LinearAlgebra
import Testing

// Reference values computed independently with Python mpmath 1.3.0 at 60 significant digits, quoted to 22 digits,
// for the exact binary value of each Double argument (mpmath.mpf(float)):
// - χ²₁ survival: mpmath.erfc(mpmath.sqrt(x/2)); χ²₂ survival: mpmath.exp(−x/2).
// - binomial: mpmath.fsum(binomial(n, j)·p^j·(1 − p)^(n − j) for j ≤ x) with p = mpf(1 − 0.99) (= 0.010000000000000009),
//   mpf(1 − 0.975) and 0.5.

private func relative(_ x: Double, _ y: Double) -> Double {
    let scale = max(abs(x), abs(y))
    return scale == 0 ? 0 : abs(x - y) / scale
}

@Suite struct TailsTests {
    @Test func chiSquaredOneDegreeSurvival() {
        let reference: [(Double, Double)] = [
            (1e-8, 0.9999202115440526942235),
            (0.5, 0.4795001221869534623173),
            (3.841458820694124, 0.05000000000000005743537),   // the 95 % quantile
            (6.634896601021214, 0.01000000000000000868499),   // the 99 % quantile
            (50, 1.537459794428034850188e-12),
            (100, 1.523970604832105213195e-23),
            (1000, 1.795832784800726194589e-219),
            (1370, 6.942937364643267735757e-300),
        ]
        for (x, p) in reference { #expect(relative(Tails.chiSquared1Survival(x), p) < 1e-12, "x = \(x)") }
        #expect(Tails.chiSquared1Survival(0) == 1)
        #expect(Tails.chiSquared1Survival(.infinity) == 0)
        #expect(Tails.chiSquared1Survival(.nan).isNaN)
    }

    @Test func chiSquaredTwoDegreesSurvival() {
        let reference: [(Double, Double)] = [
            (0.5, 0.7788007830714048682452),
            (5.991464547107979, 0.05000000000000007357247),
            (100, 1.928749847963917783017e-22),
            (1370, 3.223145390850646732169e-298),
        ]
        for (x, p) in reference { #expect(relative(Tails.chiSquared2Survival(x), p) < 1e-12, "x = \(x)") }
        #expect(Tails.chiSquared2Survival(0) == 1)
    }

    @Test func binomialCDFAgainstMpmath() {
        let p99 = 1 - 0.99
        let basel: [Double] = [
            0.08105851616218127794652, 0.2857517387939523654924, 0.5431689733157253277419, 0.7581166977648827415852,
            0.8921876269036249861581, 0.9588168159301514947525, 0.9862985521447962914711, 0.9959746612881921593141,
            0.9989434675026431668839, 0.999749809931259490651, 0.9999461013709529595421, 0.9999893611923730078214,
            0.9999980641362445495285,
        ]
        let table = Tails.binomialCDFs(trials: 250, probability: p99)
        #expect(table.count == 251 && table[250] == 1)
        for (x, reference) in basel.enumerated() {
            #expect(relative(table[x], reference) < 1e-13, "x = \(x)")
            #expect(Tails.binomialCDF(x, trials: 250, probability: p99) == table[x])
        }
        let p975 = 1 - 0.975
        let second: [(Int, Double)] = [
            (0, 0.00000317912679341689669459), (5, 0.01394414986993396933356), (12, 0.5182600335509947849219),
            (13, 0.6285347685137440984962), (20, 0.9839279968916851465527), (21, 0.9914274291180443925879),
            (22, 0.9956141750812449545031), (25, 0.9995373056204496155739), (26, 0.9997973291120882106016),
            (30, 0.9999947517684219731941),
        ]
        for (x, reference) in second {
            #expect(relative(Tails.binomialCDF(x, trials: 500, probability: p975), reference) < 1e-13, "x = \(x)")
        }
    }

    /// (1 − p)ⁿ = 2⁻³⁰⁰⁰ underflows: the scaled recurrence still gives full relative accuracy, deep in the tail too.
    @Test func binomialCDFWhenTheFirstTermUnderflows() {
        let reference: [(Int, Double)] = [
            (1300, 1.489820240457104153066e-13), (1400, 0.0001392819805196168663056), (1450, 0.03533452240587887032768),
            (1500, 0.5072830492578978745747), (1600, 0.9998792049685774872237),
        ]
        for (x, value) in reference {
            #expect(relative(Tails.binomialCDF(x, trials: 3000, probability: 0.5), value) < 1e-12, "x = \(x)")
        }
        #expect(Tails.binomialCDF(0, trials: 3000, probability: 0.5) == 0)   // 2⁻³⁰⁰⁰ is below every double
    }

    @Test func binomialCDFEdges() {
        #expect(Tails.binomialCDF(-1, trials: 10, probability: 0.3) == 0)
        #expect(Tails.binomialCDF(10, trials: 10, probability: 0.3) == 1)
        #expect(Tails.binomialCDF(0, trials: 0, probability: 0.3) == 1)
        // n = 1: P(X ≤ 0) = 1 − p.
        #expect(relative(Tails.binomialCDF(0, trials: 1, probability: 0.3), 0.7) < 1e-15)
        // Monotone and ending at 1.
        let table = Tails.binomialCDFs(trials: 400, probability: 0.07)
        for x in 1 ..< table.count { #expect(table[x] >= table[x - 1]) }
        #expect(table.last == 1)
    }
}
