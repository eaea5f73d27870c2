import Foundation
import Prometheus
import RiskMetrics
import RiskPipeline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A run's figures for operations, in the Prometheus text exposition format (version 0.0.4), for node_exporter's
/// textfile collector: `ballast run … --metrics-file PATH`.
///
/// Every series is a gauge labelled `book` (the book's name) and describes the last successful run: its wall time and
/// each phase's, accounts by status, book VaR and ES by method, accounts, holdings, warnings, and when it finished.
/// `write` replaces PATH atomically (temporary file beside it, fsync, rename), so node_exporter never reads half a file.
public enum RunMetricsFile {
    /// The book VaR/ES methods, as the `method` label (the suffixes of accounts.csv's `var_*` columns).
    public static let methods = ["param", "hist", "mc"]

    /// The run's metrics as a Prometheus text file.
    /// - Parameters:
    ///   - result: the run (a whole book; a shard's result would give that shard's figures).
    ///   - bookName: the `book` label's value; any text (quotes, backslashes and newlines are escaped).
    ///   - wallSeconds: the run's wall time in seconds, from start to the report committed.
    ///   - finishedAt: when the run finished (`ballast_last_success_timestamp_seconds`, Unix seconds).
    ///   - timings: seconds per phase; nil takes `result.timings` (which lacks the report phase: pass the timings
    ///     `ReportWriter.write` returns to include it). Phases that did not run are 0, as in summary.json.
    public static func render(result: RunResult, bookName: String, wallSeconds: Double, finishedAt: Date,
                              timings: PhaseTimings? = nil) -> String {
        let run = RunFigures(result: result, wallSeconds: wallSeconds, finishedAt: finishedAt,
                             timings: timings ?? result.timings)
        return MetricFamily.all(run).map { $0.rendered(book: bookName) }.joined()
    }

    /// Renders the run's metrics and writes them to `path` atomically (`writeAtomically`).
    public static func write(result: RunResult, bookName: String, wallSeconds: Double, finishedAt: Date,
                             timings: PhaseTimings? = nil, to path: String) throws(RunMetricsError) {
        let text = render(result: result, bookName: bookName, wallSeconds: wallSeconds, finishedAt: finishedAt,
                          timings: timings)
        try writeAtomically(text, to: path)
    }

    /// Writes `text` to `path` so that a reader finds the previous file or the new one, whole: a temporary file
    /// `.NAME.tmp-PID-RANDOM` in the same folder (not `*.prom`, so the textfile collector skips it), fsynced, renamed
    /// over `path`, then the folder fsynced. Nothing else is touched; on failure the temporary file is removed and
    /// `path` is left as it was. The file's mode is 0644 less the umask.
    public static func writeAtomically(_ text: String, to path: String) throws(RunMetricsError) {
        let target = try MetricsPath(path)
        try target.checkFolder()
        try target.refuseFolderAtPath()
        let temporary = try target.createTemporary()
        do throws(RunMetricsError) {
            try temporary.writeAll(Array(text.utf8))
            try target.replace(with: temporary.path)
        } catch {
            _ = unlink(temporary.path)
            throw error
        }
        target.syncFolder()
    }

    /// Checks, before a run computes anything, that `path` could be written: a file name in an existing folder this
    /// process may create files in, and not a folder. `write` checks again.
    public static func preflight(path: String) throws(RunMetricsError) {
        let target = try MetricsPath(path)
        try target.checkFolder()
        try target.refuseFolderAtPath()
        try target.checkWritable()
    }

    /// The book's name for the `book` label until the configuration names it: the last path component of the book
    /// folder, `.` and `..` resolved against the working directory (`Data/sample/` → `sample`).
    public static func defaultBookName(directory: URL) -> String {
        directory.standardizedFileURL.lastPathComponent
    }
}

/// Why the metrics file was not written. Each message names the path, what is wrong and what to do.
public enum RunMetricsError: Error, Equatable, CustomStringConvertible {
    /// The path cannot name a file (empty, or `.` / `..` as its last component).
    case badPath(path: String, reason: String)
    /// The folder that should hold the file does not exist (or is not a folder).
    case directoryMissing(path: String, directory: String)
    /// This process may not create files in the folder (permissions, read-only file system).
    case notWritable(path: String, directory: String, reason: String)
    /// The path is a folder (or ends in `/`): it cannot be replaced by a file.
    case isDirectory(path: String)
    /// Writing, syncing or renaming failed (disk full, I/O error).
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .badPath(let path, let reason):
            return "metrics file \"\(path)\": \(reason); give a file path such as /var/lib/node_exporter/textfile_collector/ballast.prom"
        case .directoryMissing(let path, let directory):
            return "metrics file \(path): folder \(directory) does not exist; create it (node_exporter's textfile "
                + "directory) or give --metrics-file a path in an existing folder"
        case .notWritable(let path, let directory, let reason):
            return "metrics file \(path): cannot create files in \(directory) (\(reason)); make the folder writable "
                + "for this user or give --metrics-file a path in a writable folder"
        case .isDirectory(let path):
            return "metrics file \(path): is a folder; give --metrics-file a file path inside it, e.g. \(path)/ballast.prom"
        case .writeFailed(let path, let reason):
            return "metrics file \(path): write failed (\(reason)); the previous file, if any, is unchanged"
        }
    }
}

/// The figures the metrics show, taken from a run.
struct RunFigures {
    /// Run wall time, seconds per phase (every `Phase`, 0 when it did not run) and the finish time in Unix seconds.
    let wallSeconds: Double
    let phaseSeconds: [(phase: String, seconds: Double)]
    let finishedUnixSeconds: Double
    /// Accounts and holdings computed; valid accounts by status (every `AccountStatus`, 0 when none); invalid ones.
    let accounts: Int
    let holdings: Int
    let statusCounts: [(status: String, accounts: Int)]
    let invalidAccounts: Int
    /// Book VaR and ES in USD by method (`RunMetricsFile.methods` order).
    let valueAtRisk: [Double]
    let expectedShortfall: [Double]
    let warnings: Int

    init(result r: RunResult, wallSeconds: Double, finishedAt: Date, timings: PhaseTimings) {
        self.wallSeconds = wallSeconds
        phaseSeconds = Phase.summaryOrder.map { ($0.rawValue, timings.seconds[$0] ?? 0) }
        finishedUnixSeconds = finishedAt.timeIntervalSince1970
        accounts = r.book.accountCount
        holdings = r.book.holdingCount
        let totals = r.bookFigures.totals
        statusCounts = AccountStatus.allCases.map { ($0.rawValue, totals.count($0)) }
        invalidAccounts = totals.invalid
        valueAtRisk = [r.parametric.bookValueAtRisk, r.historical.bookValueAtRisk, r.monteCarlo.bookValueAtRisk]
        expectedShortfall = [r.parametric.bookExpectedShortfall, r.historical.bookExpectedShortfall,
                             r.monteCarlo.bookExpectedShortfall]
        warnings = r.warnings.count
    }
}

/// One metric: its name and help text, and its series (extra labels beside `book`, and a value).
struct MetricFamily {
    typealias Series = (labels: [(String, String)], value: Double)
    /// Namespace `ballast`, base name and unit (`seconds`, `usd`, or none for counts): swift-prometheus joins the
    /// non-empty parts with `_`.
    let descriptor: MetricNameDescriptor
    let series: [Series]
    var name: String { descriptor.name }

    init(_ metricName: String, unit: String = "", _ help: String, _ series: [Series]) {
        descriptor = MetricNameDescriptor(namespace: "ballast", metricName: metricName, unitName: unit, helpText: help)
        self.series = series
    }

    /// A metric with one series and no label but `book`.
    init(_ metricName: String, unit: String = "", _ help: String, value: Double) {
        self.init(metricName, unit: unit, help, [(labels: [], value: value)])
    }

    /// Every metric of the file, in the file's order.
    static func all(_ run: RunFigures) -> [MetricFamily] {
        let byMethod = { (values: [Double]) -> [Series] in
            zip(RunMetricsFile.methods, values).map { (labels: [("method", $0)], value: $1) }
        }
        let last = "the last successful ballast run"
        return [
            MetricFamily("run_duration", unit: "seconds", "Wall time of \(last), from start to report committed, in seconds.",
                         value: run.wallSeconds),
            MetricFamily("phase_duration", unit: "seconds",
                         "Wall time of each phase of \(last) in seconds (summary.json phases_s; 0 when the phase did not run).",
                         run.phaseSeconds.map { (labels: [("phase", $0.phase)], value: $0.seconds) }),
            MetricFamily("accounts", "Accounts computed by \(last).", value: Double(run.accounts)),
            MetricFamily("holdings", "Holdings (account and asset pairs) computed by \(last).", value: Double(run.holdings)),
            MetricFamily("accounts_by_status", "Valid accounts by today's status (ok, margin_call, liquidatable) in \(last).",
                         run.statusCounts.map { (labels: [("status", $0.status)], value: Double($0.accounts)) }),
            MetricFamily("invalid_accounts",
                         "Accounts left out of the book totals and status counts (collateral or debt out of range) in \(last).",
                         value: Double(run.invalidAccounts)),
            MetricFamily("book_value_at_risk", unit: "usd",
                         "Book value at risk at the configured confidence and horizon in USD, by method (param, hist, mc).",
                         byMethod(run.valueAtRisk)),
            MetricFamily("book_expected_shortfall", unit: "usd",
                         "Book expected shortfall at the configured confidence and horizon in USD, by method (param, hist, mc).",
                         byMethod(run.expectedShortfall)),
            MetricFamily("warnings", "Warnings of \(last) (summary.json warnings).", value: Double(run.warnings)),
            MetricFamily("last_success_timestamp", unit: "seconds", "Unix time at which \(last) finished, in seconds.",
                         value: run.finishedUnixSeconds),
        ]
    }

    /// The metric's `# HELP` and `# TYPE` lines, then one line per series in `series` order.
    ///
    /// swift-prometheus formats every line (name, escaped label values, help text, value); its registry emits the
    /// metrics, and the series of a metric, in the order of its dictionaries (random per process). So each series
    /// is emitted from a registry of its own, and the HELP and TYPE lines are taken once, from the first.
    func rendered(book: String) -> String {
        var lines: [Substring] = []
        for (index, one) in series.enumerated() {
            let registry = PrometheusCollectorRegistry()
            registry.makeGauge(descriptor: descriptor, labels: [("book", book)] + one.labels).set(to: one.value)
            let emitted = registry.emitToString().split(separator: "\n")
            precondition(emitted.count == 3, "one gauge emits HELP, TYPE and one sample")
            lines += index == 0 ? emitted : emitted.suffix(1)
        }
        return lines.map { Self.canonicalValue($0) + "\n" }.joined()
    }

    /// The line with a non-finite sample value spelled as the format spells it (`+Inf`, `-Inf`, `NaN`; Swift prints
    /// `inf`, `-inf`, `nan`). Comment lines and finite values are unchanged.
    static func canonicalValue(_ line: Substring) -> String {
        guard !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else { return String(line) }
        let spelled = ["inf": "+Inf", "+inf": "+Inf", "-inf": "-Inf", "nan": "NaN", "-nan": "NaN"]
        guard let value = spelled[String(line[line.index(after: space)...])] else { return String(line) }
        return String(line[...space]) + value
    }
}

/// The metrics file's path, its folder and the names beside it.
struct MetricsPath {
    /// The path as given, its folder (`.` for a bare name) and its last component.
    let path: String
    let folder: String
    let name: String

    init(_ path: String) throws(RunMetricsError) {
        guard !path.isEmpty else { throw .badPath(path: path, reason: "the path is empty") }
        guard !path.hasSuffix("/") else { throw .isDirectory(path: String(path.dropLast())) }
        self.path = path
        let slash = path.lastIndex(of: "/")
        name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard name != "." && name != ".." else { throw .badPath(path: path, reason: "names a folder, not a file") }
    }

    /// Throws unless the folder exists and is a folder.
    func checkFolder() throws(RunMetricsError) {
        var info = stat()
        guard stat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .directoryMissing(path: path, directory: folder)
        }
    }

    /// Throws when the path is a folder (or a symbolic link to one): rename cannot replace it with a file.
    func refuseFolderAtPath() throws(RunMetricsError) {
        var info = stat()
        if stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR { throw .isDirectory(path: path) }
    }

    /// Throws unless this process may create files in the folder (checked with its effective ids, as `open` will).
    func checkWritable() throws(RunMetricsError) {
        guard faccessat(AT_FDCWD, folder, W_OK | X_OK, AT_EACCESS) == 0 else { throw failure(creating: errno) }
    }

    /// Creates a new temporary file beside the path (exclusive, not following links), open for writing.
    func createTemporary() throws(RunMetricsError) -> TemporaryFile {
        for _ in 0 ..< 8 {
            let candidate = "\(folder)/.\(name).tmp-\(getpid())-\(String(UInt32.random(in: .min ... .max), radix: 16))"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if descriptor >= 0 { return TemporaryFile(path: candidate, descriptor: descriptor, target: path) }
            if errno != EEXIST { throw failure(creating: errno) }
        }
        throw .writeFailed(path: path, reason: "could not pick a free temporary name beside it")
    }

    /// Renames `temporary` over the path, replacing the file (or link) there.
    func replace(with temporary: String) throws(RunMetricsError) {
        guard rename(temporary, path) != 0 else { return }
        let code = errno
        switch code {
        case EISDIR, ENOTEMPTY, EEXIST: throw .isDirectory(path: path)
        default: throw failure(creating: code)
        }
    }

    /// fsyncs the folder so that the rename is durable; best effort (some file systems refuse it, and the file is in
    /// place either way).
    func syncFolder() {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }

    /// The error for `code` from creating or renaming a file in the folder.
    func failure(creating code: Int32) -> RunMetricsError {
        switch code {
        case ENOENT, ENOTDIR: return .directoryMissing(path: path, directory: folder)
        case EACCES, EPERM, EROFS: return .notWritable(path: path, directory: folder, reason: describe(code))
        default: return .writeFailed(path: path, reason: describe(code))
        }
    }
}

/// An open temporary file beside the metrics file.
struct TemporaryFile {
    let path: String
    let descriptor: Int32
    /// The metrics file it will replace (for error messages).
    let target: String

    /// Writes `bytes`, fsyncs and closes the file.
    func writeAll(_ bytes: [UInt8]) throws(RunMetricsError) {
        var failed: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { failed = written < 0 ? errno : EIO; return }
                offset += written
            }
        }
        if failed == 0 && fsync(descriptor) != 0 { failed = errno }
        if close(descriptor) != 0 && failed == 0 { failed = errno }
        if failed != 0 { throw .writeFailed(path: target, reason: describe(failed)) }
    }
}

/// strerror's text for an errno value.
func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
