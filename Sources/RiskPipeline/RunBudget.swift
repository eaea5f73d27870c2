import Foundation
import RiskInput
import RiskMetrics
import RiskModel

/// The memory a run will need, estimated from the book's shape and the configuration before anything is computed,
/// and checked against the memory available: a run that cannot fit stops at once with a message naming what to
/// lower, instead of dying in a failed allocation (or swapping for hours) after the load.
///
/// The estimate counts the large arrays only (each within a small factor of its real size): the Monte Carlo and
/// historical move tables (assets × paths, assets × returns), the covariance and its factors (assets²), the
/// per-worker block buffers, the per-holding and per-account result arrays, the stress tables and the cascades'
/// per-worker state.
public struct RunBudget: Sendable {
    public let assets: Int
    public let accounts: Int
    public let holdings: Int
    public let workers: Int
    public let config: RiskConfig
    public let stressScenarios: Int

    /// Bytes of per-holding results (quantities, exposures, haircuts, HCV, component VaRs, targets, trades, …).
    static let bytesPerHolding = 160
    /// Bytes of per-account results (some 40 figures of 8 bytes, ids, statuses, orderings).
    static let bytesPerAccount = 640
    /// Bytes per account of one worker's cascade state (shares, valuation, marks: six numbers).
    static let cascadeBytesPerAccountAndWorker = 48
    /// Bytes per holding of the cascade's books (the rebalanced copy: asset and value).
    static let cascadeBytesPerHolding = 32
    /// Square matrices of assets² kept at once (covariance, its factor, the return-window copies, solver systems).
    static let assetSquareMatrices = 6

    public init(loaded: LoadedBook, workers: Int) {
        assets = loaded.schedule.count
        accounts = loaded.book.accountCount
        holdings = loaded.book.holdingCount
        self.workers = workers
        config = loaded.config
        stressScenarios = loaded.scenarios.names.count + loaded.config.historicalScenarios.count
    }

    /// The Monte Carlo move table, assets × paths doubles: usually the largest array of a run.
    public var monteCarloBytes: Int { 8 * assets * config.monteCarloPaths }

    /// The estimated peak, in bytes.
    public var estimatedBytes: Int {
        let n = assets, paths = config.monteCarloPaths, rows = 2 * ScenarioLossCalculator.blockSize
        let market = 8 * n * (config.window + 1) * 2 + 8 * n * n * Self.assetSquareMatrices
        let perWorker = 8 * rows * (paths + config.window + n) + ScenarioLossCalculator.sparseTaskBytes
        let stress = 8 * (stressScenarios + 1) * (n + accounts / StressTester.blockSize * 8 + accounts)
        let cascade = config.cascade == .off ? 0
            : workers * accounts * Self.cascadeBytesPerAccountAndWorker + holdings * Self.cascadeBytesPerHolding
        // Dense blocks also keep G in Float and Gᵀ (1.5 × G more).
        return monteCarloBytes * 5 / 2 + market + workers * perWorker + stress + cascade
            + holdings * Self.bytesPerHolding + accounts * Self.bytesPerAccount
    }

    /// An input issue when the estimate exceeds `available` bytes, nil when it fits (or `available` is unknown).
    public func check(available: Int64? = MemoryInfo.availableBytes()) -> InputIssue? {
        guard let available, Int64(estimatedBytes) > available else { return nil }
        let mc = "Monte Carlo \(assets) assets × \(config.monteCarloPaths) paths = \(MemoryInfo.describe(Int64(monteCarloBytes)))"
        return InputIssue(file: "ballast", line: nil, message:
            "this run needs about \(MemoryInfo.describe(Int64(estimatedBytes))) of memory (\(mc); \(accounts) accounts, \(holdings) holdings, "
            + "\(workers) threads) but \(MemoryInfo.describe(available)) is available: lower mc_paths or --threads, "
            + "or split the book with --shard")
    }
}
