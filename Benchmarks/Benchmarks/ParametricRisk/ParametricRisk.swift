// Parametric (delta-normal) VaR over a tier-L retail book, the naive loop it replaces, and the dgemm rates that
// bound it. All inputs are built in `setup` (outside the measured region) from a fixed SplitMix64 seed, so every
// run measures the same book. See ../../README.md for how to read the numbers.

import Benchmark
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

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
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

// MARK: - Synthetic data

/// Fixture sampling on LinearAlgebra's SplitMix64: the same sequence on every platform.
extension SplitMix64 {
    /// Uniform in [0, 1) with 53 random bits.
    mutating func uniform() -> Double { nextUnit() }
    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }
    mutating func logUniform(_ low: Double, _ high: Double) -> Double { exp(uniform(log(low), log(high))) }
    /// Standard normal by Box–Muller (one of the pair).
    mutating func normal() -> Double {
        let u1 = 1 - uniform()  // (0, 1]
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * uniform())
    }
    /// Uniform integer in `0 ..< bound`.
    mutating func index(_ bound: Int) -> Int { nextInt(below: bound) }
}

/// A universe of `n` assets: schedule, as-of prices and a daily covariance of simple returns from a factor model.
struct SyntheticMarket: Sendable {
    /// Assets 0–2 play the stablecoins (settlement and usual debt), 3–4 the majors also borrowed.
    static let stables = [(asset: 0, weight: 0.5), (asset: 1, weight: 0.3), (asset: 2, weight: 0.2)]
    static let volatileDebt = [(asset: 3, weight: 0.6), (asset: 4, weight: 0.4)]

    let schedule: CollateralSchedule
    let prices: [Double]
    let volatilities: [Double]
    let covariance: Matrix

    var assetCount: Int { prices.count }

    /// Σ = D_σ (L Lᵀ + Ψ) D_σ: a correlation from one market factor (loadings 0.45–0.85) and three sector
    /// factors (0.10–0.40, asset j in sector j mod 3), idiosyncratic Ψ = 1 − diag(L Lᵀ) ≥ 0.05, so Σ is
    /// positive definite with a unit diagonal; daily vols σ_j log-uniform in 1–6 %, majors (low index) calmer.
    init(assets n: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let factors = 4
        var loadings = Matrix(rows: n, columns: factors)
        var vols = [Double](repeating: 0, count: n)
        var prices = [Double](repeating: 1, count: n)
        var terms: [AssetTerms] = []
        for j in 0 ..< n {
            loadings[j, 0] = rng.uniform(0.45, 0.85)
            loadings[j, 1 + j % 3] = rng.uniform(0.10, 0.40)
            let systematic = loadings[j, 0] * loadings[j, 0] + loadings[j, 1 + j % 3] * loadings[j, 1 + j % 3]
            if systematic > 0.95 {
                let shrink = (0.95 / systematic).squareRoot()
                loadings[j, 0] *= shrink
                loadings[j, 1 + j % 3] *= shrink
            }
            let rank = Double(j) / Double(max(n - 1, 1))
            vols[j] = exp(log(0.01) + (log(0.06) - log(0.01)) * min(1, 0.5 * rank + 0.5 * rng.uniform()))
            let isStable = j < SyntheticMarket.stables.count
            prices[j] = isStable ? 1 : rng.logUniform(0.05, 60_000)
            let scheduleHaircut = isStable ? 0.02 : min(0.9, 0.05 + 4 * vols[j])
            // Stables trade without limit; the rest from $1M (thin tail) to $20B a day, majors deeper.
            let adv: Double? = isStable ? nil : exp(log(2e10) - rank * (log(2e10) - log(1e6)) + rng.uniform(-1, 1))
            terms.append(AssetTerms(ticker: String(format: "A%03d", j), scheduleHaircut: scheduleHaircut,
                                    averageDailyVolumeUSD: adv))
        }
        var sigma = Matrix(rows: n, columns: n)
        for i in 0 ..< n {
            for j in 0 ..< n {
                var correlation = 1.0
                if i != j {
                    correlation = 0
                    for f in 0 ..< factors { correlation += loadings[i, f] * loadings[j, f] }
                }
                sigma[i, j] = vols[i] * correlation * vols[j]
            }
        }
        schedule = CollateralSchedule(assets: terms)
        self.prices = prices
        volatilities = vols
        covariance = sigma
    }
}

/// A retail book like SPEC tier L (`ballast generate --profile retail`): 1–15 collateral holdings drawn with a
/// Zipf preference for popular assets, 85 % of accounts with 1–3 debts (mostly stablecoins), lognormal holding
/// sizes around $1,500, and debt sized so that about 81 % are ok, 11 % in margin call and 8 % liquidatable.
struct RetailFixture: Sendable {
    let market: SyntheticMarket
    let book: Book
    let config: RiskConfig
    let scale: NormalRiskScale

    /// Built once per process on first use (Swift globals and statics initialise lazily and thread-safely).
    static let tierL = RetailFixture(accounts: 100_000, assets: 200, seed: 0xBA11_A57)

    init(accounts: Int, assets n: Int, seed: UInt64) {
        market = SyntheticMarket(assets: n, seed: seed)
        config = RiskConfig()
        scale = NormalRiskScale(confidence: config.confidence, horizonDays: config.horizonDays)
        let haircuts = HaircutCalculator(schedule: market.schedule, volatilities: market.volatilities, z: scale.z,
                                         config: config)
        var rng = SplitMix64(seed: seed ^ 0x5EED_B00C)
        var cumulative: [Double] = []  // Zipf (s = 1) over asset index = popularity rank
        var total = 0.0
        for j in 0 ..< n {
            total += 1 / Double(j + 1)
            cumulative.append(total)
        }
        var builder = BookBuilder(assetCount: n)
        var taken = [Int](repeating: -1, count: n)  // account that last took the asset
        var debts: [Int] = []
        var held: [Int] = []
        for a in 0 ..< accounts {
            let id = "acct-\(a)"
            debts.removeAll(keepingCapacity: true)
            held.removeAll(keepingCapacity: true)
            if rng.uniform() < 0.85 {
                let u = rng.uniform()
                let count = u < 0.6 ? 1 : (u < 0.9 ? 2 : 3)
                for _ in 0 ..< count {
                    let list = rng.uniform() < 0.8 ? SyntheticMarket.stables : SyntheticMarket.volatileDebt
                    let j = Self.pick(list, &rng)
                    if taken[j] != a {
                        taken[j] = a
                        debts.append(j)
                    }
                }
            }
            let u = rng.uniform()
            let holdings = min(15, 1 + Int(15 * u * u.squareRoot()))
            while held.count < holdings {
                let x = rng.uniform() * total
                var lo = 0, hi = n - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
                }
                if taken[lo] != a {
                    taken[lo] = a
                    held.append(lo)
                }
            }
            let mu = log(1_500.0) + 1.4 * rng.normal()
            var hcv = 0.0
            for j in held {
                let value = min(5e6, max(50, exp(mu + rng.normal())))
                hcv += value * (1 - haircuts.haircut(asset: j, collateralUSD: value))
                builder.add(account: id, asset: j, quantity: value / market.prices[j])
            }
            guard !debts.isEmpty else { continue }
            let roll = rng.uniform()
            let targetRatio = roll < 0.81 ? rng.logUniform(1.15, 3.0)
                : roll < 0.92 ? rng.uniform(1.02, 1.09) : rng.uniform(0.60, 0.98)
            let debt = hcv / targetRatio
            let weights = debts.map { _ in 0.2 + rng.uniform() }
            let weightSum = weights.reduce(0, +)
            for (j, w) in zip(debts, weights) {
                builder.add(account: id, asset: j, quantity: -debt * w / weightSum / market.prices[j])
            }
        }
        book = builder.build()
    }

    static func pick(_ list: [(asset: Int, weight: Double)], _ rng: inout SplitMix64) -> Int {
        var u = rng.uniform() * list.reduce(0) { $0 + $1.weight }
        for entry in list {
            u -= entry.weight
            if u < 0 { return entry.asset }
        }
        return list[list.count - 1].asset
    }

    /// Volatility haircuts and the collateral figures of every account (settlement asset 0).
    func assess() -> CollateralAssessment {
        let haircuts = HaircutCalculator(schedule: market.schedule, volatilities: market.volatilities,
                                         z: scale.z, config: config)
        return CollateralAssessment.assess(book: book, prices: market.prices, haircuts: haircuts,
                                           settlementAsset: 0, config: config)
    }
}

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
