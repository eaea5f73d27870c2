// swift-tools-version: 6.1
// Ballast's performance suite, a package of its own so that package-benchmark (and its malloc interposer)
// stays out of the main build. Run from this folder: `swift package --disable-sandbox benchmark`.
import PackageDescription

/// What every benchmark executable links: the harness, the shared fixture and the engine libraries it calls.
let suiteDependencies: [Target.Dependency] = [
    .product(name: "Benchmark", package: "benchmark"),
    "BenchmarkFixtures",
    .product(name: "LinearAlgebra", package: "Ballast"),
    .product(name: "RiskModel", package: "Ballast"),
    .product(name: "RiskMetrics", package: "Ballast"),
]

let package = Package(
    name: "BallastBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The engine itself. `name:` pins the package name so the product references below do not depend on
        // the name of the folder the repository is cloned into.
        .package(name: "Ballast", path: ".."),
        // ordo-one/package-benchmark, under its current name (the old URL still resolves but the plugin warns).
        // Naming the traits replaces its default set ["MallocInterposer", "RuntimeInterposer"]:
        // with "RuntimeInterposer" off, SwiftPM does not resolve ordo-one/swift-runtime-interposer (pulled in
        // only on Linux with Swift 6.3), which the local package mirror does not carry. Malloc counters stay on.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The shared synthetic data (tier-L market, retail book, return history, stress scenarios). Internal to
        // this package (no product); every suite depends on it, so all suites measure the same fixture.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "LinearAlgebra", package: "Ballast"),
                .product(name: "RiskModel", package: "Ballast"),
                .product(name: "RiskMetrics", package: "Ballast"),
            ],
            path: "Sources/BenchmarkFixtures"
        ),
        // Parametric VaR, its naive reference, and the dgemm peak.
        .executableTarget(
            name: "ParametricRisk",
            dependencies: suiteDependencies,
            path: "Benchmarks/ParametricRisk",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Historical and Monte Carlo VaR/ES (scenario losses).
        .executableTarget(
            name: "ScenarioRisk",
            dependencies: suiteDependencies,
            path: "Benchmarks/ScenarioRisk",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Stress testing: every account under every hypothetical scenario.
        .executableTarget(
            name: "StressTesting",
            dependencies: suiteDependencies,
            path: "Benchmarks/StressTesting",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Rebalancing: per-account QP solve time over full universes of 10–500 assets, and the tier-L book.
        .executableTarget(
            name: "RebalancingBenchmark",  // "Rebalancing" is taken by the engine library (target names are global)
            dependencies: suiteDependencies + [.product(name: "Rebalancing", package: "Ballast")],
            path: "Benchmarks/Rebalancing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The whole run phase by phase at tiers L and I, 1 and 2 threads (books from BookGenerator, seed 7).
        .executableTarget(
            name: "PipelinePhases",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RiskPipeline", package: "Ballast"),
                .product(name: "RiskReport", package: "Ballast"),
                .product(name: "BookGenerator", package: "Ballast"),
            ],
            path: "Benchmarks/Pipeline",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
