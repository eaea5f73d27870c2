import ArgumentParser
import Dispatch
import Foundation
import Logging
import OutputFolder
import ResultStore
import RiskModel
import RiskPipeline
import RiskReport

/// `--store URL`: the option every store command takes.
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Results store: \(StoreLocation.acceptedForms).", valueName: "URL"))
    var store: String

    /// The parsed URL; a bad one is a usage error (exit 2).
    func location() throws -> StoreLocation {
        do { return try StoreLocation(parsing: store) } catch {
            throw ValidationError("--store \(StoreLocation.redacting(store)): expected \(error.expected)")
        }
    }

    /// Opens the store; an unreachable store is exit 1.
    func open() throws -> any ResultStore { try StoreStep.open(try location()) }
}

/// The run's steps with a store: open it, compare with the previous stored run, store the run after its report.
enum StoreStep {
    static func open(_ location: StoreLocation) throws -> any ResultStore {
        do { return try ResultStores.open(location) } catch {
            Console.printErrors(["ballast: \(error)"])
            throw ExitCode(1)
        }
    }

    /// Before the report: the changes since the previous stored run of the book (nil without one), timed as the
    /// `store` phase.
    static func attachChanges(to result: inout RunResult, store: any ResultStore, progress: any RunProgress) throws {
        progress.begin(.report, detail: "comparing with the previous stored run of \(result.input.bookName)")
        let started = DispatchTime.now()
        do {
            result.changes = try RunHistory.changes(of: result, bookName: result.input.bookName, store: store,
                                                    workers: result.threads)
        } catch {
            Console.fail(progress, ["ballast: \(error) (no report was written)"])
            throw ExitCode(1)
        }
        result.timings.add(.store, seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
    }

    /// After the report: the run, in one transaction. A failure keeps the report and exits 1.
    static func write(_ result: RunResult, out: String, store: any ResultStore, logger: Logger, quiet: Bool) throws {
        let started = DispatchTime.now()
        do {
            let id = try RunHistory.store(result, bookName: result.input.bookName,
                                          reportFolder: URL(fileURLWithPath: out), into: store)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
            if !quiet {
                logger.info("stored as run \(id) of book \(result.input.bookName) (as of \(result.asOfDate)) in \(String(format: "%.2f", seconds)) s")
            }
        } catch {
            Console.printErrors(["ballast: \(error); the report in \(out)/ is complete"])
            throw ExitCode(1)
        }
    }
}

extension Ballast {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the runs in a results store: id, book, as-of date, book figures and status counts."
        )

        @OptionGroup var store: StoreOption

        @Option(name: .long, help: "Only the runs of this book.")
        var book: String?

        @Flag(name: .long, help: "JSON (one object per run) instead of a table.")
        var json = false

        func run() throws {
            let opened = try store.open()
            defer { opened.close() }
            let runs: [StoredRun]
            do {
                let all = try opened.runs(book: nil)
                if let book { _ = try RunHistory.resolveBook(book, runs: all) }
                runs = all.filter { book == nil || $0.bookName == book }
            } catch {
                Console.printErrors(["ballast history: \(error)"])
                throw ExitCode(2)
            }
            if json {
                print(HistoryListing.json(runs))
            } else if runs.isEmpty {
                Console.printErrors(["ballast history: the store holds no runs yet"])
            } else {
                print(HistoryListing.table(runs), terminator: "")
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the changes between two stored runs of a book (changes.csv, changes.json, changes.html).",
            discussion: """
                RUN_A and RUN_B are run ids or as-of dates (the latest run of that date), by default the book's last \
                two runs. The book defaults to the store's only book.
                """
        )

        @OptionGroup var store: StoreOption

        @Option(name: .long, help: "The book whose runs to compare.")
        var book: String?

        @Argument(help: "The earlier run and the later run (ids or as-of dates).")
        var runs: [String] = []

        @Option(name: .long, help: "Folder for changes.csv, changes.json and changes.html.")
        var out: String = "changes"

        @Option(name: .long, help: "Worker threads (default: all cores).")
        var threads: Int = ProcessStatistics.availableCores

        func validate() throws {
            try ThreadOption.check(threads)
            guard runs.isEmpty || runs.count == 2 else { throw ValidationError("give two runs (RUN_A RUN_B) or none") }
        }

        func run() throws {
            try Console.preflight(out, inputs: [], quiet: true)
            let location = try store.location()
            let opened = try StoreStep.open(location)
            defer { opened.close() }
            let changes: RunChanges
            do {
                let pair = try RunHistory.diffPair(store: opened, book: book, first: runs.first, second: runs.last)
                let history = try opened.runs(book: pair.after.bookName)
                let both = try RunHistory.snapshots(of: [pair.before, pair.after]) { () throws(StoreError) in
                    try ResultStores.open(location)
                }
                changes = RunChanges.compare(before: both[0], after: both[1], history: history, workers: threads)
            } catch {
                Console.printErrors(["ballast diff: \(error)"])
                if case .notFound = error { throw ExitCode(2) }
                throw ExitCode(1)
            }
            do {
                try ChangesReportWriter.write(changes, to: URL(fileURLWithPath: out), workers: threads)
            } catch {
                Console.printErrors(["ballast diff: \(error)"])
                throw ExitCode(1)
            }
            print("\(out): changes from run \(changes.before.runID.map(String.init) ?? "?") to run \(changes.after.runID.map(String.init) ?? "?")")
        }
    }
}

/// `ballast history`'s output.
enum HistoryListing {
    static let headers = ["id", "book", "as_of", "stored_at", "accounts", "ok", "margin_call", "liquidatable",
                          "var_param", "var_hist", "var_mc", "hcv_usd"]

    static func cells(_ run: StoredRun) -> [String] {
        [String(run.id), run.bookName, run.asOf, run.storedAt, String(run.accounts), String(run.ok),
         String(run.marginCall), String(run.liquidatable), usd(run.varParam), usd(run.varHist), usd(run.varMC),
         usd(run.hcv)]
    }

    static func usd(_ x: Double) -> String { x.isFinite ? String(format: "%.2f", x) : "" }

    /// Columns padded to their widest cell, numbers right-aligned.
    static func table(_ runs: [StoredRun]) -> String {
        let rows = [headers] + runs.map(cells)
        let widths = headers.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        let leftAligned: Set<Int> = [1, 2, 3]
        return rows.map { row in
            row.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return leftAligned.contains(c) ? text + pad : pad + text
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    static func json(_ runs: [StoredRun]) -> String {
        JSONValue.array(runs.map { run in
            .object([("id", .integer(Int(run.id))), ("book", .string(run.bookName)), ("as_of", .string(run.asOf)),
                     ("stored_at", .string(run.storedAt)), ("engine_version", .string(run.engineVersion)),
                     ("accounts", .integer(run.accounts)), ("ok", .integer(run.ok)),
                     ("margin_call", .integer(run.marginCall)), ("liquidatable", .integer(run.liquidatable)),
                     ("collateral_usd", .finite(run.collateral)), ("debt_usd", .finite(run.debt)),
                     ("hcv_usd", .finite(run.hcv)), ("var_param", .finite(run.varParam)),
                     ("var_hist", .finite(run.varHist)), ("var_mc", .finite(run.varMC))])
        }).rendered()
    }
}
