// The whole nightly run, phase by phase, at tiers L and I (SPEC §5), with one and two worker threads: each
// iteration runs `Pipeline.run` and `ReportWriter.write` on a book made by `BookGenerator` (the code behind
// `ballast generate`, seed 7 as in ../shared/bench/speed.sh) and records every phase's wall time as its own metric,
// so one suite covers load, covariance, parametric, historical, Monte Carlo, haircuts, stress, rebalancing and the
// report, and shows the 1 → 2 thread speed-up per phase. The book is generated in `setup`, outside the measurement.

import Benchmark
import BookGenerator
import Dispatch
import Foundation
import RiskPipeline
import RiskReport

let benchmarks: @Sendable () -> Void = {
    for tier in Tier.allCases {
        for threads in [1, 2] { Suite.phases(tier: tier, threads: threads) }
    }
}

/// The benchmark tiers of SPEC §5 that issue 7 measures here (XL is measured with `ballast run`: one iteration
/// is half a minute and a gigabyte of report).
enum Tier: String, CaseIterable {
    case L, I

    var spec: BookSpec {
        switch self {
        case .L: BookSpec(accounts: 100_000, assets: 200, days: 1460, seed: 7, profile: .retail)
        case .I: BookSpec(accounts: 5000, assets: 500, days: 1460, seed: 7, profile: .institutional)
        }
    }

    /// Generated once per process into the temporary directory (reused if a previous run left it complete).
    func book() -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-benchmark-\(rawValue)-seed7")
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("positions.csv").path) {
            _ = try! BookGenerator.generate(spec, into: directory)
        }
        return directory
    }
}

enum Suite {
    static func phases(tier: Tier, threads: Int) {
        let spec = tier.spec
        Benchmark("pipeline/tier=\(tier.rawValue)/accounts=\(spec.accounts)/assets=\(spec.assets)/threads=\(threads)",
                  configuration: .init(metrics: [.wallClock, .peakMemoryResident] + PhaseMetric.all,
                                       timeUnits: .milliseconds, warmupIterations: 0,
                                       maxDuration: .seconds(60), maxIterations: 3)) { benchmark, book in
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-benchmark-out-\(tier.rawValue)")
            let started = DispatchTime.now()
            let result = try RiskPipeline.run(RunOptions(bookDirectory: book, threads: threads))
            let report = try ReportWriter.write(result, to: out, runStarted: started)
            for phase in Phase.allCases {
                let seconds = result.timings.seconds[phase] ?? report.seconds[phase] ?? 0
                benchmark.measurement(PhaseMetric.metric(phase), Int((seconds * 1e3).rounded()))
            }
            blackHole(result.book.accountCount)
        } setup: {
            tier.book()
        }
    }
}

/// One custom metric per SPEC §4 phase name, in milliseconds of wall time.
enum PhaseMetric {
    static func metric(_ phase: Phase) -> BenchmarkMetric {
        .custom("\(phase.rawValue) ms", polarity: .prefersSmaller, useScalingFactor: false)
    }

    static let all = Phase.allCases.map(metric)
}
