// Parametric (delta-normal) VaR over a tier-L retail book, the naive loop it replaces, and the dgemm rates that
// bound it. All inputs are built in `setup` (outside the measured region) from a fixed SplitMix64 seed, so every
// run measures the same book (`RetailFixture.tierL`, shared with the other suites through the BenchmarkFixtures
// target). See ../../README.md for how to read the numbers.

import Benchmark
import BenchmarkFixtures
import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel

// MARK: - Suite

let benchmarks: @Sendable () -> Void = {
    for kernel in [ParametricRiskCalculator.Kernel.automatic, .dense] {
        for workers in [2, 1] { Suite.parametricVaR(workers: workers, kernel: kernel) }
    }
    Suite.naiveVaR()
    Suite.sparseVaR()
    for threads in [2, 1] { Suite.dgemmPeak(threads: threads) }
    Suite.dgemmBlock()
}

enum Suite {
    static let tierL = "accounts=100k/assets=200"

    /// 1–2. The engine: haircuts + collateral assessment + parametric VaR/ES/component VaR/liquidation distance.
    static func parametricVaR(workers: Int, kernel: ParametricRiskCalculator.Kernel) {
        let kernelName = kernel == .dense ? "dense" : "auto"
        Benchmark("parametricVaR/\(tierL)/kernel=\(kernelName)/workers=\(workers)",
                  configuration: .bookRun(Metric.accountsPerSecond, Metric.blockMFLOPs)) {
            (benchmark: Benchmark, fixture: RetailFixture) in
            let run = EngineRun(fixture, workers: workers, kernel: kernel)
            let accounts = Double(fixture.book.accountCount)
            benchmark.measurement(Metric.accountsPerSecond, Int(accounts / run.totalSeconds))
            benchmark.measurement(Metric.blockMFLOPs, Int(run.risk.matrixFlops / run.computeSeconds / 1e6))
            blackHole(run.risk.bookValueAtRisk)
        } setup: {
            RetailFixture.tierL
        }
    }

    /// 3. The reference: the same haircuts and assessment, then eᵀΣe per account with a dense double loop.
    static func naiveVaR() {
        Benchmark("naiveVaR/\(tierL)", configuration: .naiveRun) { (benchmark: Benchmark, fixture: RetailFixture) in
            var valueAtRisk: [Double] = []
            let elapsed = ContinuousClock().measure {
                let assessment = fixture.assess()
                valueAtRisk = NaiveReference.denseValueAtRisk(fixture, exposure: assessment.exposure)
            }
            let accounts = Double(fixture.book.accountCount)
            let n = Double(fixture.market.assetCount)
            benchmark.measurement(Metric.accountsPerSecond, Int(accounts / elapsed.seconds))
            benchmark.measurement(Metric.mflops, Int(accounts * (2 * n * n + 2 * n) / elapsed.seconds / 1e6))
            blackHole(valueAtRisk)
        } setup: {
            let fixture = RetailFixture.tierL
            NaiveReference.validate(fixture)
            return fixture
        }
    }

    /// Extra reference: the same VaR from the account's own holdings only (k² terms instead of n²), the lower
    /// bound of work for a book of small accounts.
    static func sparseVaR() {
        Benchmark("sparseVaR/\(tierL)", configuration: .bookRun(Metric.accountsPerSecond)) {
            (benchmark: Benchmark, fixture: RetailFixture) in
            var valueAtRisk: [Double] = []
            let elapsed = ContinuousClock().measure {
                let assessment = fixture.assess()
                valueAtRisk = NaiveReference.sparseValueAtRisk(fixture, exposure: assessment.exposure)
            }
            benchmark.measurement(Metric.accountsPerSecond, Int(Double(fixture.book.accountCount) / elapsed.seconds))
            blackHole(valueAtRisk)
        } setup: {
            let fixture = RetailFixture.tierL
            NaiveReference.validate(fixture)
            return fixture
        }
    }

    /// 4. The machine's dgemm peak: one 2000 × 2000 × 2000 product with OpenBLAS on `threads` threads.
    static func dgemmPeak(threads: Int) {
        Benchmark("dgemm/n=2000/threads=\(threads)", configuration: .dgemmPeak) {
            (benchmark: Benchmark, operands: GemmOperands) in
            let elapsed = ContinuousClock().measure {
                BLASThreads.with(threads) { gemm(operands.a, operands.b, into: &operands.c) }
            }
            benchmark.measurement(Metric.mflops, Int(operands.flops / elapsed.seconds / 1e6))
            blackHole(operands.c[0, 0])
        } setup: {
            GemmOperands(m: 2000, k: 2000, n: 2000, seed: 0x2000)
        }
    }

    /// 5. The parametric kernel's block product, (2·128 accounts) × n times Σ (n × n) on one BLAS thread, as each
    /// worker of `ParametricRiskCalculator` runs it. One iteration is `GemmOperands.blockRepeats` products.
    static func dgemmBlock() {
        let rows = 2 * ParametricRiskCalculator.blockSize
        Benchmark("dgemm/block=\(rows)x200x200/threads=1", configuration: .blockProducts) {
            (benchmark: Benchmark, operands: GemmOperands) in
            let elapsed = ContinuousClock().measure {
                BLASThreads.with(1) {
                    for _ in 0 ..< GemmOperands.blockRepeats { operands.multiplyRaw() }
                }
            }
            let flops = operands.flops * Double(GemmOperands.blockRepeats)
            benchmark.measurement(Metric.mflops, Int(flops / elapsed.seconds / 1e6))
            blackHole(operands.c[0, 0])
        } setup: {
            GemmOperands(m: rows, k: 200, n: 200, seed: 0x256, right: RetailFixture.tierL.market.covariance)
        }
    }
}

// MARK: - Metrics and configurations

enum Metric {
    /// Accounts processed per second of the iteration (haircuts + assessment + VaR).
    static let accountsPerSecond = BenchmarkMetric.custom("accounts/s", polarity: .prefersLarger,
                                                          useScalingFactor: false)
    /// `ParametricRisk.matrixFlops` / time of `ParametricRiskCalculator.compute` alone, in MFLOP/s.
    static let blockMFLOPs = BenchmarkMetric.custom("block MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
    /// Floating-point operations of the product (2·m·n·k for dgemm) / wall time, in MFLOP/s.
    static let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)
}

extension Benchmark.Configuration {
    /// Integers printed as they are (no K/M scaling), so that MFLOP/s and accounts/s read directly.
    static func exact(_ metrics: [BenchmarkMetric]) -> [BenchmarkMetric: BenchmarkUnits] {
        Dictionary(uniqueKeysWithValues: metrics.map { ($0, .count) })
    }

    /// One iteration = one pass over the whole 100k-account book (≈ 0.1–1 s).
    static func bookRun(_ custom: BenchmarkMetric...) -> Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident] + custom,
            timeUnits: .milliseconds,
            units: exact(custom),
            warmupIterations: 1, maxDuration: .seconds(5), maxIterations: 10)
    }

    /// The naive loop takes seconds per pass: fewer iterations, a longer time budget.
    static var naiveRun: Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, .peakMemoryResident,
                      Metric.accountsPerSecond, Metric.mflops],
            timeUnits: .milliseconds,
            units: exact([Metric.accountsPerSecond, Metric.mflops]),
            warmupIterations: 1, maxDuration: .seconds(15), maxIterations: 5)
    }

    /// One iteration = one 2000³ product (16 GFLOP).
    static var dgemmPeak: Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, Metric.mflops],
            timeUnits: .milliseconds,
            units: exact([Metric.mflops]),
            warmupIterations: 1, maxDuration: .seconds(5), maxIterations: 10)
    }

    /// One iteration = `GemmOperands.blockRepeats` block products.
    static var blockProducts: Benchmark.Configuration {
        .init(
            metrics: [.wallClock, .cpuTotal, .throughput, Metric.mflops],
            timeUnits: .milliseconds,
            units: exact([Metric.mflops]),
            warmupIterations: 2, maxDuration: .seconds(3), maxIterations: 20)
    }
}

// MARK: - The engine, timed by phase

/// One pass of the engine as the pipeline runs it: volatility haircuts and the collateral assessment, then
/// `ParametricRiskCalculator.compute` (which pins OpenBLAS to one thread and spreads blocks over `workers`).
struct EngineRun {
    let risk: ParametricRisk
    let totalSeconds: Double
    let computeSeconds: Double

    init(_ fixture: RetailFixture, workers: Int, kernel: ParametricRiskCalculator.Kernel) {
        let clock = ContinuousClock()
        let start = clock.now
        let assessment = fixture.assess()
        let computeStart = clock.now
        risk = ParametricRiskCalculator.compute(
            book: fixture.book, assessment: assessment, covariance: fixture.market.covariance,
            tickers: fixture.market.schedule.tickers, scale: fixture.scale, config: fixture.config, workers: workers,
            kernel: kernel)
        let end = clock.now
        totalSeconds = start.duration(to: end).seconds
        computeSeconds = computeStart.duration(to: end).seconds
    }
}

// MARK: - The naive reference

enum NaiveReference {
    /// VaR = z·√h·√(eᵀΣe) per account, the textbook way: scatter the account's exposures into a dense n-vector
    /// and run the full n × n double loop in plain Swift (no BLAS, no blocking, no use of sparsity or symmetry).
    /// Raw buffers only drop bounds checks; the loop is otherwise as written.
    static func denseValueAtRisk(_ fixture: RetailFixture, exposure: [Double],
                                 accounts: Range<Int>? = nil) -> [Double] {
        let book = fixture.book
        let n = fixture.market.assetCount
        let range = accounts ?? 0 ..< book.accountCount
        let varPerSigma = fixture.scale.varPerSigma
        var valueAtRisk = [Double](repeating: 0, count: range.count)
        var dense = [Double](repeating: 0, count: n)
        fixture.market.covariance.elements.withUnsafeBufferPointer { sigma in
            for a in range {
                for k in book.holdings(of: a) { dense[Int(book.assetIndex[k])] = exposure[k] }
                var variance = 0.0
                dense.withUnsafeBufferPointer { e in
                    for i in 0 ..< n {
                        var row = 0.0
                        for j in 0 ..< n { row += sigma[i * n + j] * e[j] }
                        variance += e[i] * row
                    }
                }
                valueAtRisk[a - range.lowerBound] = varPerSigma * max(variance, 0).squareRoot()
                for k in book.holdings(of: a) { dense[Int(book.assetIndex[k])] = 0 }
            }
        }
        return valueAtRisk
    }

    /// VaR from the quadratic form over the account's own holdings, Σ_k Σ_l e_k Σ[j_k, j_l] e_l, in plain Swift.
    static func sparseValueAtRisk(_ fixture: RetailFixture, exposure: [Double],
                                  accounts: Range<Int>? = nil) -> [Double] {
        let book = fixture.book
        let n = fixture.market.assetCount
        let range = accounts ?? 0 ..< book.accountCount
        let varPerSigma = fixture.scale.varPerSigma
        var valueAtRisk = [Double](repeating: 0, count: range.count)
        fixture.market.covariance.elements.withUnsafeBufferPointer { sigma in
            for a in range {
                let holdings = book.holdings(of: a)
                var variance = 0.0
                for k in holdings {
                    let row = Int(book.assetIndex[k]) * n
                    var sum = 0.0
                    for l in holdings { sum += sigma[row + Int(book.assetIndex[l])] * exposure[l] }
                    variance += exposure[k] * sum
                }
                valueAtRisk[a - range.lowerBound] = varPerSigma * max(variance, 0).squareRoot()
            }
        }
        return valueAtRisk
    }

    /// Checks that both references and the engine agree on the first 2,000 accounts, so that the benchmarks are
    /// known to compute the same figure. Both sum the same products in a different order;
    /// 1e-9 relative on VaR (≈ 5e-10 on the variance) leaves room for that and catches any real disagreement.
    static func validate(_ fixture: RetailFixture) {
        let assessment = fixture.assess()
        let engine = ParametricRiskCalculator.compute(
            book: fixture.book, assessment: assessment, covariance: fixture.market.covariance,
            tickers: fixture.market.schedule.tickers, scale: fixture.scale, config: fixture.config, workers: 2)
        let checked = 0 ..< min(2_000, fixture.book.accountCount)
        let dense = denseValueAtRisk(fixture, exposure: assessment.exposure, accounts: checked)
        let sparse = sparseValueAtRisk(fixture, exposure: assessment.exposure, accounts: checked)
        for a in checked {
            for (name, x) in [("dense", dense[a]), ("sparse", sparse[a])] {
                let y = engine.valueAtRisk[a]
                let scale = max(abs(x), abs(y))
                precondition(scale == 0 || abs(x - y) <= 1e-9 * scale,
                             "\(name) reference VaR \(x) and engine VaR \(y) of account \(a) disagree")
            }
        }
    }
}

// MARK: - dgemm operands

/// Operands of C = A·B, kept across iterations so that only the product is measured. A class so that the
/// benchmark closure writes C in place (no copy-on-write of 32 MB per iteration); each benchmark owns one.
final class GemmOperands: @unchecked Sendable {
    /// Block products per iteration of `dgemm/block=…` (one product is ≈ 20 MFLOP, well under a millisecond).
    static let blockRepeats = 50

    let a: Matrix
    let b: Matrix
    var c: Matrix
    /// 2·m·n·k.
    let flops: Double

    init(m: Int, k: Int, n: Int, seed: UInt64, right: Matrix? = nil) {
        var rng = SplitMix64(seed: seed)
        a = Matrix(rows: m, columns: k, elements: (0 ..< m * k).map { _ in rng.uniform(-1, 1) })
        if let right {
            precondition(right.rows == k && right.columns == n, "right operand is \(right.rows)×\(right.columns)")
            b = right
        } else {
            b = Matrix(rows: k, columns: n, elements: (0 ..< k * n).map { _ in rng.uniform(-1, 1) })
        }
        c = Matrix(rows: m, columns: n)
        flops = 2 * Double(m) * Double(n) * Double(k)
    }

    /// The raw-buffer gemm the parametric kernel calls on its block workspace.
    func multiplyRaw() {
        a.elements.withUnsafeBufferPointer { x in
            b.elements.withUnsafeBufferPointer { sigma in
                c.elements.withUnsafeMutableBufferPointer { y in
                    gemm(m: a.rows, n: b.columns, k: a.columns, a: x, b: sigma, c: y)
                }
            }
        }
    }
}
