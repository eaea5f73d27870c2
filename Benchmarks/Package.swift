// swift-tools-version: 6.1
// Ballast's performance suite, a package of its own so that package-benchmark (and its malloc interposer)
// stays out of the main build. Run from this folder: `swift package --disable-sandbox benchmark`.
import PackageDescription

let package = Package(
    name: "BallastBenchmarks",
    platforms: [.macOS(.v14)],
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
        .executableTarget(
            name: "ParametricRisk",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LinearAlgebra", package: "Ballast"),
                .product(name: "RiskModel", package: "Ballast"),
                .product(name: "RiskMetrics", package: "Ballast"),
            ],
            path: "Benchmarks/ParametricRisk",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
