import Dispatch
import Foundation
import Synchronization
import RiskPipeline
import RiskReport

/// How a run meets the store: before its report, the changes since the previous stored run of its book; after its
/// report, the run itself; and the runs `ballast history` lists and `ballast diff` compares.
public enum RunHistory {
    /// The stored run a new run of `book` as of `asOf` is compared with: the latest stored run of the book whose
    /// as-of date is on or before `asOf` (the previous night when backfilling in order; the night's earlier run when a
    /// night is rerun), nil when there is none.
    public static func previousRun(in runs: [StoredRun], book: String, asOf: String) -> StoredRun? {
        runs.filter { $0.bookName == book && $0.asOf <= asOf }.max { ($0.asOf, $0.id) < ($1.asOf, $1.id) }
    }

    /// The changes since the previous stored run of the book (nil when the store holds none), with every stored run
    /// of the book for the history chart.
    public static func changes(of result: RunResult, bookName: String, store: any ResultStore,
                               workers: Int) throws(StoreError) -> RunChanges? {
        let stored = try store.runs(book: bookName)
        guard let previous = previousRun(in: stored, book: bookName, asOf: result.asOfDate) else { return nil }
        let before = try store.snapshot(run: previous.id)
        let after = RunSnapshot(result, bookName: bookName)
        return RunChanges.compare(before: before, after: after, history: stored, workers: workers)
    }

    /// Stores a run whose report is complete in `reportFolder` (its summary.json is stored with it).
    @discardableResult
    public static func store(_ result: RunResult, bookName: String, reportFolder: URL,
                             into store: any ResultStore) throws(StoreError) -> Int64 {
        let summary: String
        do {
            summary = try String(contentsOf: reportFolder.appendingPathComponent("summary.json"), encoding: .utf8)
        } catch {
            throw .write("cannot read the report's summary.json: \(error.localizedDescription)")
        }
        let config = SummaryReport.configJSON(result.config).rendered()
        return try store.write(RunRecord(result, bookName: bookName, summaryJSON: summary, configJSON: config))
    }

    /// The two runs `ballast diff` compares: `first`/`second` each a run id or an as-of date (the latest run of
    /// that date), by default the book's last two runs. The book defaults to the store's only book.
    public static func diffPair(store: any ResultStore, book: String?, first: String?,
                                second: String?) throws(StoreError) -> (before: StoredRun, after: StoredRun) {
        let runs = try store.runs(book: nil)
        let bookName = try resolveBook(book, runs: runs)
        let ofBook = runs.filter { $0.bookName == bookName }
        if let first, let second {
            return (try pick(first, in: ofBook, book: bookName), try pick(second, in: ofBook, book: bookName))
        }
        guard ofBook.count >= 2 else {
            throw .notFound("diff needs two stored runs of book \(bookName); the store holds \(ofBook.count)")
        }
        return (ofBook[ofBook.count - 2], ofBook[ofBook.count - 1])
    }

    /// The snapshots of `runs`, each read over its own connection (`open()` makes one per run) at the same time:
    /// a diff waits for the slower read, not the sum.
    public static func snapshots(of runs: [StoredRun],
                                 open: @Sendable () throws(StoreError) -> any ResultStore) throws(StoreError) -> [RunSnapshot] {
        let results = Mutex<[Result<RunSnapshot, StoreError>?]>(Array(repeating: nil, count: runs.count))
        DispatchQueue.concurrentPerform(iterations: runs.count) { i in
            let result: Result<RunSnapshot, StoreError>
            do throws(StoreError) {
                let store = try open()
                defer { store.close() }
                result = .success(try store.snapshot(run: runs[i].id))
            } catch {
                result = .failure(error)
            }
            results.withLock { $0[i] = result }
        }
        return try results.withLock { $0 }.map { result throws(StoreError) -> RunSnapshot in try result!.get() }
    }

    /// The book a command means: the one named (which must have stored runs), else the store's only book.
    public static func resolveBook(_ book: String?, runs: [StoredRun]) throws(StoreError) -> String {
        let books = Array(Set(runs.map(\.bookName))).sorted()
        if let book {
            guard books.contains(book) else {
                throw .notFound("no stored run of book \"\(book)\"" + (books.isEmpty ? "; the store holds no runs yet"
                    : "; books in the store: " + books.joined(separator: ", ")))
            }
            return book
        }
        guard books.count == 1, let only = books.first else {
            throw .notFound(books.isEmpty ? "the store holds no runs yet"
                : "the store holds several books (\(books.joined(separator: ", "))): choose one with --book")
        }
        return only
    }

    /// A run of `book` named by its id or its as-of date (YYYY-MM-DD: the latest run of that date).
    static func pick(_ name: String, in runs: [StoredRun], book: String) throws(StoreError) -> StoredRun {
        if let id = Int64(name), let run = runs.first(where: { $0.id == id }) { return run }
        if let run = runs.last(where: { $0.asOf == name }) { return run }
        throw .notFound("no stored run of book \(book) has id or as-of date \"\(name)\" (see ballast history)")
    }
}
