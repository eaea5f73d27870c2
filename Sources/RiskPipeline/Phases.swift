import Dispatch
import Foundation

/// The pipeline's phases, in run order, under the names of METHODOLOGY "Outputs" (`phases_s`).
public enum Phase: String, Sendable, CaseIterable {
    case load, covariance, haircuts, parametric, historical
    case monteCarlo = "monte_carlo"
    case stress, rebalance, backtest, cascade, report
    /// Reading the previous stored run of the book and comparing it with this run (before the report; storing the
    /// run itself comes after the report, whose summary.json it stores, and is logged instead).
    case store

    /// The order in which summary.json lists them.
    public static let summaryOrder: [Phase] = [.load, .covariance, .parametric, .historical, .monteCarlo, .haircuts,
                                              .stress, .rebalance, .report, .backtest, .cascade, .store]
}

extension Phase {
    /// The phases a run reports progress for, in order (the report phase is the writer's; the comparison with the
    /// stored previous run is shown as the start of the report phase).
    public static let progressOrder: [Phase] = [.load, .covariance, .haircuts, .parametric, .historical, .monteCarlo,
                                                .backtest, .stress, .rebalance, .cascade, .report]
}

/// Where a run reports which phase it is in. The CLI draws a progress bar on a terminal, log lines otherwise.
public protocol RunProgress: Sendable {
    /// Called when `phase` starts; `detail` says what it works on (counts, method).
    func begin(_ phase: Phase, detail: String)
    /// Called while `phase` runs to say where it is (a cascade's scenario and round); a terminal redraws its line,
    /// a log ignores it (one line per phase is enough there).
    func update(_ phase: Phase, detail: String)
}

extension RunProgress {
    public func update(_ phase: Phase, detail: String) {}
}

/// Reports nothing.
public struct SilentProgress: RunProgress {
    public init() {}
    public func begin(_ phase: Phase, detail: String) {}
}

/// Wall-clock seconds per phase.
public struct PhaseTimings: Sendable {
    public private(set) var seconds: [Phase: Double] = [:]
    public init() {}

    /// Runs `body`, adding its wall time to `phase`.
    public mutating func measure<T, E: Error>(_ phase: Phase, _ body: () throws(E) -> T) throws(E) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[phase, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    public mutating func add(_ phase: Phase, seconds value: Double) { seconds[phase, default: 0] += value }
    public var total: Double { seconds.values.reduce(0, +) }
}

public enum ProcessStatistics {
    /// Peak resident set size of this process in bytes (getrusage; Linux reports KiB).
    public static var peakResidentBytes: Int {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
        #endif
    }

    /// Cores available to this process.
    public static var availableCores: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// The engine's version, written to summary.json and printed by `ballast --version`.
public enum EngineVersion {
    public static let current = "0.1.0"
}
