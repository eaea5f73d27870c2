// swift-tools-version: 6.1
import PackageDescription

/// No unsafe flags, so Ballast can be a versioned dependency (SwiftPM refuses one with unsafe flags). Every module is
/// compiled for the compiler's default target (runs on any x86-64 CPU): the kernels whose speed depends on AVX2 and
/// FMA are in `CKernels`, which picks its x86-64-v3 build at run time, with the same bits. Exclusivity is enforced as
/// Swift does by default (statically, and at run time where the compiler cannot prove an access safe), so hot loops
/// keep their state in locals, inout structs and raw buffers rather than in class or global storage.

let package = Package(
    name: "Ballast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ballast", targets: ["ballast"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
        .library(name: "RiskModel", targets: ["RiskModel"]),
        .library(name: "RiskMetrics", targets: ["RiskMetrics"]),
        .library(name: "Rebalancing", targets: ["Rebalancing"]),
        .library(name: "RiskPipeline", targets: ["RiskPipeline"]),
        .library(name: "OutputFolder", targets: ["OutputFolder"]),
        .library(name: "Sharding", targets: ["Sharding"]),
        .library(name: "RiskReport", targets: ["RiskReport"]),
        .library(name: "BookGenerator", targets: ["BookGenerator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System library: OpenBLAS's CBLAS and LAPACKE (Debian libopenblas-dev, liblapacke-dev).
        .systemLibrary(
            name: "CLinearAlgebra",
            path: "Sources/CLinearAlgebra",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // Kernels whose speed depends on AVX2 + FMA: built for x86-64-v3 and portably, chosen at run time, same bits.
        .target(name: "CKernels", exclude: ["README.md"]),
        // Matrix, BLAS/LAPACK behind safe signatures, normal distribution, order statistics. The only importer of C.
        .target(name: "LinearAlgebra", dependencies: ["CLinearAlgebra", "CKernels"], exclude: ["README.md"]),
        // Market data, collateral schedule, book (CSR), scenarios, configuration. No BLAS.
        .target(name: "RiskModel", exclude: ["README.md"]),
        // Readers and validation of a book directory and its configuration.
        .target(name: "RiskInput", dependencies: [
            "RiskModel", .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        // Covariance, haircuts, ratios, parametric / historical / Monte Carlo VaR/ES, stress.
        .target(name: "RiskMetrics", dependencies: ["RiskModel", "LinearAlgebra"], exclude: ["README.md"]),
        // Optimized target collateral: the QP solver and its problem builder (SPEC §3.6).
        .target(name: "Rebalancing", dependencies: ["RiskModel", "RiskMetrics", "LinearAlgebra"], exclude: ["README.md"]),
        // Runs the stages over the book: batches, parallelism, phase timings.
        .target(name: "RiskPipeline", dependencies: [
            "RiskModel", "RiskInput", "RiskMetrics", "Rebalancing", "LinearAlgebra",
        ], exclude: ["README.md"]),
        // The report folder: written atomically, only over what Ballast wrote (marker, exchange, lock, fsync).
        .target(name: "OutputFolder", dependencies: ["RiskPipeline"], exclude: ["README.md"]),
        // Sharded runs: the part file format, the merge of parts into the whole run's result.
        .target(name: "Sharding", dependencies: [
            "RiskModel", "RiskInput", "RiskMetrics", "Rebalancing", "RiskPipeline", "OutputFolder",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"]),
        // CSV, JSON and HTML writers.
        .target(name: "RiskReport", dependencies: [
            "RiskModel", "RiskInput", "RiskPipeline", "OutputFolder", "Sharding", "LinearAlgebra",
        ], exclude: ["README.md"]),
        // The results store (SQLite with GRDB, PostgreSQL with PostgresNIO): runs written whole, read back, compared.
        .target(name: "ResultStore", dependencies: [
            "RiskModel", "RiskMetrics", "RiskPipeline", "RiskReport", "LinearAlgebra",
            .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        // Run metrics for operations: a run's figures as a Prometheus text file (node_exporter's textfile collector).
        .target(name: "RunMetrics", dependencies: [
            "RiskPipeline", "RiskMetrics", .product(name: "Prometheus", package: "swift-prometheus"),
        ], exclude: ["README.md"]),
        // Deterministic synthetic books.
        .target(name: "BookGenerator", exclude: ["README.md"]),
        // The command line: maps options to a configuration, calls the pipeline, picks writers.
        .executableTarget(name: "ballast", dependencies: [
            "RiskPipeline", "RiskReport", "OutputFolder", "Sharding", "RiskInput", "RiskModel", "BookGenerator", "ResultStore",
            "RunMetrics",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["README.md"]),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "CKernels"]),
        .testTarget(name: "BookGeneratorTests", dependencies: ["BookGenerator"]),
        .testTarget(name: "RiskInputTests", dependencies: ["RiskInput", "RiskModel", "LinearAlgebra"]),
        .testTarget(name: "ShardingTests", dependencies: ["Sharding", "RiskModel"]),
        .testTarget(name: "RiskMetricsTests", dependencies: ["RiskMetrics", "RiskModel", "LinearAlgebra"]),
        .testTarget(name: "RebalancingTests", dependencies: ["Rebalancing", "RiskMetrics", "RiskModel", "LinearAlgebra"]),
        // The CLI harness and CSV reader the test targets share.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ResultStoreTests", dependencies: [
            "TestSupport", "ResultStore", "RiskPipeline", "RiskReport", "RiskModel", "RiskMetrics", "LinearAlgebra", "BookGenerator", "ballast",
        ]),
        .testTarget(name: "RunMetricsTests", dependencies: ["RunMetrics", "RiskPipeline", "RiskMetrics", "BookGenerator"]),
        .testTarget(name: "PipelineTests", dependencies: [
            "TestSupport", "RiskPipeline", "RiskReport", "OutputFolder", "Sharding", "RiskInput", "RiskModel", "RiskMetrics", "Rebalancing",
            "BookGenerator", "ballast", "LinearAlgebra",
        ]),
    ]
)

// Fuzz targets (issue 12; docs/FUZZING.md): libFuzzer harnesses for the CSV readers, the decimal parser, the YAML config
// reader and the part-file reader. Declared only when BALLAST_FUZZ=1, so normal builds and tests never compile them (they
// link only with `--sanitize=fuzzer`); scripts/fuzz.sh builds them in .build-fuzz with BALLAST_FUZZ=1.
if Context.environment["BALLAST_FUZZ"] == "1" {
    // (product, target, the module it reads with): the part file is Sharding's.
    let fuzzTargets: [(String, String, Target.Dependency)] = [
        ("fuzz-csv", "FuzzCSV", "RiskInput"), ("fuzz-decimal", "FuzzDecimal", "RiskInput"),
        ("fuzz-config", "FuzzConfig", "RiskInput"), ("fuzz-part", "FuzzPart", "Sharding"),
    ]
    package.targets += [.target(name: "FuzzSupport", path: "Fuzz/FuzzSupport")] + fuzzTargets.map { _, target, reader in
        .executableTarget(name: target, dependencies: ["FuzzSupport", reader, "RiskModel"], path: "Fuzz/\(target)")
    }
    package.products += fuzzTargets.map { product, target, _ in .executable(name: product, targets: [target]) }
}
