import ArgumentParser
import BookGenerator
import Dispatch
import Foundation
import Logging
import RiskInput
import RiskModel
import RiskPipeline
import OutputFolder
import RiskReport
import RunMetrics
import Sharding

/// The command line: maps options to a configuration, calls the pipeline, picks the writers. No risk logic here.
struct Ballast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballast",
        abstract: "Batch collateral-risk engine: VaR/ES, haircuts, ratios and a report for every account of a book.",
        discussion: """
            Exit codes: 0 success; 1 the run failed (the previous report is left untouched); \
            2 bad usage or bad input (one line per problem on stderr).
            """,
        version: EngineVersion.current,
        subcommands: [Run.self, Merge.self, Generate.self, Validate.self, History.self, Diff.self]
    )
}

/// Options shared by `run` and `validate`.
struct BookOptions: ParsableArguments {
    @Argument(help: "Book directory (prices.csv, assets.csv, positions.csv, optional scenarios.csv and config.yaml).")
    var book: String = "Data/sample"

    @Option(name: .long, help: "YAML config file (default: BOOK/config.yaml when present).")
    var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one config key, e.g. --set covariance=sample (repeatable).", valueName: "KEY=VALUE"))
    var overrides: [String] = []

    func runOptions(threads: Int) -> RunOptions {
        RunOptions(bookDirectory: URL(fileURLWithPath: book), configFile: config.map { URL(fileURLWithPath: $0) },
                   overrides: overrides, threads: threads)
    }
}

extension Ballast {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The nightly run: compute every account's risk and write the report.",
            discussion: "Writes the report (the CSV files, summary.json, report.html) into --out, atomically; with --store, then stores the run."
        )

        @OptionGroup var book: BookOptions

        @Option(name: .long, help: "Report folder.")
        var out: String = "report"

        @Option(name: .long, help: "Worker threads (default: all cores).")
        var threads: Int = ProcessStatistics.availableCores

        @Flag(name: .long, help: "No progress output on stderr.")
        var quiet = false

        @Option(name: .long, help: ArgumentHelp(
            "Compute only shard I of N (0-based) and write a partial report into --out for `ballast merge`.",
            valueName: "I/N"))
        var shard: String?

        @Option(name: .long, help: ArgumentHelp("Also store the run in a results store (overrides the config key store): "
                                                + "\(StoreLocation.acceptedForms).", valueName: "URL"))
        var store: String?

        @Option(name: .customLong("metrics-file"), help: ArgumentHelp(
            "Write the run's figures in the Prometheus text format to this file (atomically), for node_exporter's textfile collector.",
            valueName: "PATH"))
        var metricsFile: String?

        func validate() throws {
            try ThreadOption.check(threads)
            if let shard, ShardSpec(shard) == nil {
                throw ValidationError("--shard must be I/N with 0 ≤ I < N ≤ \(Limits.shardCount.upperBound), "
                                      + "e.g. --shard 0/4 (got \"\(shard)\")")
            }
            if shard != nil, store != nil || metricsFile != nil || book.overrides.contains(where: { $0.hasPrefix("store=") }) {
                // A shard's part.json keeps its --set texts, and a store URL may hold a password.
                throw ValidationError("--store, --set store=… and --metrics-file concern a whole run: give them without --shard")
            }
            if let metricsFile {
                do { try RunMetricsFile.preflight(path: metricsFile) } catch { throw ValidationError("\(error)") }
            }
        }

        func run() throws {
            try Console.preflight(out, inputs: [book.book] + (book.config.map { [$0] } ?? []), quiet: quiet)
            let started = DispatchTime.now()
            let progress = ConsoleProgress.make(quiet: quiet)
            let logger = Console.logger(quiet: quiet)
            var result: RunResult
            var options = book.runOptions(threads: threads)
            options.shard = shard.flatMap { ShardSpec($0) }
            if let store { options.overrides.append("store=\(store)") }
            // A store named on the command line is opened before the run, so a wrong URL or an unreachable server
            // fails at once; one from the config file is opened once the config is read.
            let namedStore = try store.flatMap { try? StoreLocation(parsing: $0) }.map(StoreStep.open)
            defer { namedStore?.close() }
            do {
                result = try RiskPipeline.run(options, progress: progress)
            } catch {
                switch error {
                case .input(let issues):
                    Console.fail(progress, issues.map(\.description))
                    throw ExitCode(2)
                case .computation(let message):
                    Console.fail(progress, ["ballast: run failed: \(message)"])
                    throw ExitCode(1)
                }
            }
            if let spec = options.shard {
                progress.begin(.report, detail: "writing part \(spec) to \(out)/")
                do {
                    try ShardReport.write(result, options: options, to: URL(fileURLWithPath: out))
                } catch {
                    Console.fail(progress, ["ballast: \(error)"])
                    throw ExitCode(1)
                }
                // A shard's warnings are the merge's to report (they concern the whole book).
                guard let seconds = Console.finish(progress, logger: logger, quiet: quiet, warnings: [], started: started) else { return }
                logger.info("done: shard \(spec), \(result.book.accountCount) of \(result.input.book.accountCount) accounts in \(String(format: "%.2f", seconds)) s → \(out)/ (merge the parts with `ballast merge`)")
                return
            }
            let configuredStore = namedStore == nil ? try result.config.store.map(StoreStep.open) : nil
            defer { configuredStore?.close() }
            let resultStore = namedStore ?? configuredStore
            if let resultStore { try StoreStep.attachChanges(to: &result, store: resultStore, progress: progress) }
            progress.begin(.report, detail: "writing \(out)/")
            let timings: PhaseTimings
            do {
                timings = try ReportWriter.write(result, to: URL(fileURLWithPath: out), runStarted: started)
            } catch {
                Console.fail(progress, ["ballast: \(error)"])
                throw ExitCode(1)
            }
            let seconds = Console.finish(progress, logger: logger, quiet: quiet, warnings: result.warnings, started: started)
            if let resultStore { try StoreStep.write(result, out: out, store: resultStore, logger: logger, quiet: quiet) }
            if let metricsFile { try writeMetrics(result, timings: timings, started: started, to: metricsFile) }
            guard let seconds else { return }
            let phases = Phase.summaryOrder.compactMap { phase in
                timings.seconds[phase].map { "\(phase.rawValue) \(String(format: "%.2f", $0))" }
            }.joined(separator: ", ")
            logger.info("done: \(result.book.accountCount) accounts in \(String(format: "%.2f", seconds)) s (\(phases)) → \(out)/")
        }

        /// The run's metrics file, after the report (and the store): its wall time runs to now.
        func writeMetrics(_ result: RunResult, timings: PhaseTimings, started: DispatchTime, to path: String) throws {
            let wall = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            do {
                try RunMetricsFile.write(result: result, bookName: result.input.bookName, wallSeconds: wall,
                                         finishedAt: Date(), timings: timings, to: path)
            } catch {
                Console.printErrors(["ballast: \(error); the report in \(out)/ is complete"])
                throw ExitCode(1)
            }
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the partial reports of `ballast run --shard I/N` into the whole report.",
            discussion: """
                The merged report is the report a single `ballast run` of the same book writes (same CSV bytes; \
                summary.json equal but for run metadata). The parts must be all N shards of one run (same engine, \
                inputs and configuration): a missing, duplicated or foreign part is refused and nothing is written.
                """
        )

        @Argument(help: "The shards' output folders (the --out of each `ballast run --shard`).")
        var parts: [String]

        @Option(name: .long, help: "Report folder.")
        var out: String = "report"

        @Option(name: .long, help: "Book directory, when it is not where the shards read it (its files must be the same).")
        var book: String?

        @Option(name: .long, help: "Worker threads (default: all cores).")
        var threads: Int = ProcessStatistics.availableCores

        @Flag(name: .long, help: "No progress output on stderr.")
        var quiet = false

        func validate() throws {
            try ThreadOption.check(threads)
            guard !parts.isEmpty else { throw ValidationError("give the shards' output folders") }
        }

        func run() throws {
            try Console.preflight(out, inputs: parts + (book.map { [$0] } ?? []), quiet: quiet)
            let started = DispatchTime.now()
            let progress = ConsoleProgress.make(quiet: quiet)
            let logger = Console.logger(quiet: quiet)
            let result: RunResult
            do {
                result = try MergedReport.write(parts.map { URL(fileURLWithPath: $0) }, to: URL(fileURLWithPath: out),
                                                bookDirectory: book.map { URL(fileURLWithPath: $0) }, threads: threads,
                                                progress: progress)
            } catch {
                switch error {
                case .merge(.parts(let lines)):
                    Console.fail(progress, lines)
                    throw ExitCode(2)
                case .merge(.pipeline(.input(let issues))):
                    Console.fail(progress, issues.map(\.description))
                    throw ExitCode(2)
                default:
                    Console.fail(progress, ["ballast: merge failed: \(error)"])
                    throw ExitCode(1)
                }
            }
            guard let seconds = Console.finish(progress, logger: logger, quiet: quiet, warnings: result.warnings,
                                               started: started) else { return }
            logger.info("done: \(parts.count) parts, \(result.book.accountCount) accounts merged in \(String(format: "%.2f", seconds)) s → \(out)/")
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every input file and print every problem, one line each (exit 0 only when usable)."
        )

        @OptionGroup var book: BookOptions

        func run() throws {
            let (issues, warnings) = RiskPipeline.validate(book.runOptions(threads: 1))
            Console.printErrors(warnings.map { "warning: \($0)" })
            if issues.isEmpty {
                print("\(book.book): ok")
                return
            }
            Console.printErrors(issues.map(\.description))
            throw ExitCode(2)
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a deterministic synthetic book (same seed, same bytes) in the input format."
        )

        @Option(help: "Number of accounts.") var accounts: Int
        @Option(help: "Number of assets (at least 4; USDC is always one).") var assets: Int
        @Option(help: "Number of daily price rows, from 2019-01-01.") var days: Int
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "retail (1–15 holdings) or institutional (50–500 holdings).") var profile: BookProfile = .retail
        @Option(help: "Output book directory.") var out: String

        func run() throws {
            let spec = BookSpec(accounts: accounts, assets: assets, days: days, seed: seed, profile: profile)
            do {
                let book = try BookGenerator.generate(spec, into: URL(fileURLWithPath: out))
                print("\(out): \(book.accounts) accounts, \(book.positionRows) position rows, \(book.assets) assets, "
                    + "\(book.priceRows) days (\(book.firstDate) to \(book.asOfDate)), \(book.scenarios) scenarios")
            } catch let error as BookGeneratorError {
                Console.printErrors(["ballast generate: \(error)"])
                if case .invalidSpec = error { throw ExitCode(2) }
                throw ExitCode(1)
            }
        }
    }
}

extension BookProfile: ExpressibleByArgument {}

/// The range of `--threads`.
enum ThreadOption {
    /// More workers than this only adds scheduling and memory (per-worker buffers) on any machine Ballast runs on.
    static let maximum = 1024

    static func check(_ threads: Int) throws {
        guard (1 ... maximum).contains(threads) else {
            throw ValidationError("--threads must be from 1 to \(maximum) (got \(threads))")
        }
    }
}

/// stderr output: progress log lines and error lines.
enum Console {
    /// Before any computation: refuses an --out Ballast may not replace (exit 2) and takes its lock, waiting for
    /// another run writing the same --out.
    static func preflight(_ out: String, inputs: [String], quiet: Bool) throws {
        do {
            try ReportFolder.preflight(out: out, inputs: inputs.map { URL(fileURLWithPath: $0) }) {
                if !quiet { printErrors(["ballast: --out \(out): another ballast run is writing it; waiting for it to finish"]) }
            }
        } catch {
            printErrors(["ballast: \(error)"])
            throw ExitCode(error.isRefusal ? 2 : 1)
        }
    }

    static func printErrors(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    /// Ends a command's progress display: clears the terminal bar, and unless quiet logs the warnings and returns the
    /// seconds since `started` for the closing line (nil when quiet).
    static func finish(_ progress: any RunProgress, logger: Logger, quiet: Bool, warnings: [String],
                       started: DispatchTime) -> Double? {
        if progress is TerminalBar { TerminalBar.clear() }
        guard !quiet else { return nil }
        for warning in warnings { logger.warning("\(warning)") }
        return Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
    }

    /// Prints `lines` after clearing the terminal bar (errors end a command).
    static func fail(_ progress: any RunProgress, _ lines: [String]) {
        if progress is TerminalBar { TerminalBar.clear() }
        printErrors(lines)
    }

    static func logger(quiet: Bool) -> Logger {
        var logger = Logger(label: "ballast") { label in
            quiet ? SwiftLogNoOpLogHandler() as any LogHandler : StreamLogHandler.standardError(label: label)
        }
        logger.logLevel = .info
        return logger
    }
}

/// Entry point: usage errors exit 2 (the README, "Other commands"), not ArgumentParser's default 64.
@main
enum Main {
    static func main() {
        do {
            var command = try Ballast.parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = Ballast.exitCode(for: error)
            if code == .success {
                print(Ballast.fullMessage(for: error))
                exit(0)
            }
            Console.printErrors([Ballast.fullMessage(for: error)])
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
