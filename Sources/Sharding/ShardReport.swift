import Crypto
import Dispatch
import Foundation
import OutputFolder
import RiskInput
import RiskMetrics
import RiskModel
import RiskPipeline
import Rebalancing

/// The partial report of `ballast run --shard I/N` and the merge of `ballast merge`.
///
/// A shard computes the accounts of its canonical units (`AccountOrder`) exactly as a whole run computes them —
/// same blocks, same kernels, same market — and writes, instead of CSV files, everything a merge needs to
/// reproduce the whole run: every per-account and per-holding figure, the stress blocks' partial sums, the solver
/// and kernel counts (`ResultArchive`, file `part.ballast`), and `part.json` with what identifies the run (engine,
/// inputs' SHA-256, effective configuration, shard I of N). The merge checks that the parts belong together, loads
/// the same book, recomputes the market (covariance, scenario moves, Monte Carlo paths: deterministic), puts the
/// parts' figures back in canonical order, recomputes the book-level figures from them (book VaR/ES from the
/// summed exposures, stress totals in block order, rebalancing totals) into the `RunResult` a whole run would have
/// returned: written by the same writers, it gives the same bytes.
public enum ShardReport {
    public static let archiveName = "part.ballast"
    public static let headerName = "part.json"
    /// Format of the part files; a merge refuses parts of another format.
    public static let format = 2

    /// What identifies a shard's run; every part of one merge must agree on all of it but `shardIndex`.
    public struct Header: Codable, Equatable, Sendable {
        public var format: Int
        public var engineVersion: String
        public var shardIndex: Int
        public var shardCount: Int
        public var unitSize: Int
        public var accounts: Int
        public var holdings: Int
        /// Absolute path of the book directory the shard read (the merge reads it again unless told otherwise).
        public var bookDirectory: String
        public var configFile: String?
        public var overrides: [String]
        /// SHA-256 of every input file, by file name, in reading order.
        public var inputsSHA256: [[String]]
        /// The effective configuration as summary.json renders it.
        public var config: String

        enum CodingKeys: String, CodingKey {
            case format, engineVersion = "engine_version", shardIndex = "shard_index", shardCount = "shard_count"
            case unitSize = "unit_size", accounts, holdings, bookDirectory = "book_directory", configFile = "config_file"
            case overrides, inputsSHA256 = "inputs_sha256", config
        }

        /// Shard I of N with 0 ≤ I < N within the shard limit, and counts that are not negative.
        var isPlausible: Bool {
            Limits.shardCount.contains(shardCount) && (0 ..< shardCount).contains(shardIndex) && accounts >= 0
                && holdings >= 0 && unitSize >= 1
        }

        /// The fields that must agree between parts, with a name for the error message.
        func identity() -> [(String, String)] {
            [("format", "\(format)"), ("engine version", engineVersion), ("shard count", "\(shardCount)"),
             ("unit size", "\(unitSize)"), ("account count", "\(accounts)"), ("holding count", "\(holdings)"),
             ("input files", inputsSHA256.map { $0.joined(separator: " ") }.joined(separator: "; ")),
             ("configuration", config)]
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        /// A part is unusable or the parts do not belong together: the user's to fix (exit 2).
        case parts([String])
        /// The book could not be loaded or computed again.
        case pipeline(PipelineError)
        case cannotWrite(String)

        public var description: String {
            switch self {
            case .parts(let lines): return lines.joined(separator: "\n")
            case .pipeline(let error): return error.description
            case .cannotWrite(let reason): return reason
            }
        }
    }

    // MARK: - Shard side

    /// Writes the shard's part into `destination` atomically (a staging folder renamed in, as for a report).
    public static func write(_ r: RunResult, options: RunOptions, to destination: URL) throws(Failure) {
        guard let shard = r.shard else { preconditionFailure("ShardReport.write needs a shard's result") }
        let sums = r.input.inputChecksums.map { ($0.name, $0.sha256) }
        let header = Header(format: format, engineVersion: EngineVersion.current, shardIndex: shard.index,
                            shardCount: shard.count, unitSize: AccountOrder.unitSize,
                            accounts: r.input.book.accountCount, holdings: r.input.book.holdingCount,
                            bookDirectory: options.bookDirectory.standardizedFileURL.path,
                            configFile: options.configFile?.standardizedFileURL.path, overrides: options.overrides,
                            inputsSHA256: sums.map { [$0.0, $0.1] },
                            config: configText(r.config))
        let headerBytes: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            headerBytes = try encoder.encode(header)
        } catch {
            throw .cannotWrite("cannot encode the part header: \(error)")
        }
        let archive = ResultArchive.of(r, header: headerBytes)
        do {
            let folder = try ReportFolder(destination: destination)
            do {
                let bytes = archive.serialized()
                try folder.stream(to: archiveName) { write in
                    try bytes.withUnsafeBytes { try write($0) }
                    try PartChecksum.trailer(of: bytes).withUnsafeBytes { try write($0) }
                }
                try folder.write(Array(headerBytes) + [10], to: headerName)
                try folder.commit()
            } catch {
                folder.discard()
                throw error
            }
        } catch {
            throw .cannotWrite("\(error)")
        }
    }

    // MARK: - Merge side

    /// Reads, checks and merges the parts in `partDirectories` into the whole run's result.
    /// `bookDirectory` replaces the book path the shards recorded (the book must be the same: its SHA-256 are
    /// checked). Nothing is written when a part is missing, duplicated, unreadable or from another run.
    @discardableResult
    public static func merge(_ partDirectories: [URL], bookDirectory: URL? = nil, threads: Int,
                             progress: any RunProgress = SilentProgress()) throws(Failure) -> RunResult {
        var timings = PhaseTimings()
        progress.begin(.load, detail: "\(partDirectories.count) part\(partDirectories.count == 1 ? "" : "s")")
        var parts = try readParts(partDirectories)
        try checkOneRun(parts)
        let first = parts[0].header
        // The same book and configuration, and the market computed again.
        let options = RunOptions(bookDirectory: bookDirectory ?? URL(fileURLWithPath: first.bookDirectory),
                                 configFile: first.configFile.map { URL(fileURLWithPath: $0) },
                                 overrides: first.overrides, threads: threads)
        let market: MarketContext
        do { market = try RiskPipeline.prepare(options, timings: &timings, progress: progress) } catch {
            throw .pipeline(error)
        }
        try checkSameBook(market, options: options, header: first)
        let merged = try mergedArchive(&parts)
        do {
            return try Assembly.assemble(market: market, archive: merged, threads: threads, timings: timings)
        } catch {
            throw .pipeline(error)
        }
    }

    /// A part as read: where it is, its header and its arrays (or why they cannot be read, reported once the parts
    /// are known to belong together). The merge takes the arrays out.
    struct Part {
        let directory: URL
        let header: Header
        var archive: Result<ResultArchive, ResultArchive.Failure>?
        var path: String { directory.appendingPathComponent(archiveName).path }
    }

    /// Every part readable, undamaged (SHA-256 trailer), with a readable header; all problems at once.
    static func readParts(_ directories: [URL]) throws(Failure) -> [Part] {
        var parts: [Part] = []
        var problems: [String] = []
        for directory in directories {
            let path = directory.appendingPathComponent(archiveName).path
            guard let file = FileManager.default.contents(atPath: path) else {
                problems.append("\(directory.path): no \(archiveName) (not a shard's output, or the shard has not finished)")
                continue
            }
            guard let bytes = PartChecksum.verified(file) else {
                problems.append("\(path): the part file is damaged (its SHA-256 does not match its contents): "
                    + "rerun shard \(directory.lastPathComponent)")
                continue
            }
            do {
                let header = try JSONDecoder().decode(Header.self, from: try ResultArchive.header(of: bytes, path: path))
                guard header.isPlausible else {
                    problems.append("\(path): the part header names shard \(header.shardIndex) of \(header.shardCount) "
                        + "for \(header.accounts) accounts: not a part Ballast wrote; rerun the shard")
                    continue
                }
                // Read now, so that one part's bytes at a time are in memory (160 MB at a quarter of a million
                // accounts), not all of them beside their arrays.
                let archive = Result { () throws(ResultArchive.Failure) in try ResultArchive(serialized: bytes, path: path) }
                parts.append(Part(directory: directory, header: header, archive: archive))
            } catch {
                problems.append("\(path): unreadable part header (written by another version of Ballast?): rerun the shard")
            }
        }
        guard problems.isEmpty else { throw .parts(problems) }
        guard !parts.isEmpty else { throw .parts(["ballast merge: no parts given"]) }
        return parts
    }

    /// All parts of one run of this engine, each shard exactly once.
    static func checkOneRun(_ parts: [Part]) throws(Failure) {
        let first = parts[0]
        var problems: [String] = []
        for part in parts {
            for ((field, expected), (_, actual)) in zip(first.header.identity(), part.header.identity()) where expected != actual {
                problems.append("\(part.directory.path): \(field) differs from \(first.directory.path) "
                    + "(parts of different runs cannot be merged)")
            }
        }
        guard problems.isEmpty else { throw .parts(problems) }
        guard first.header.format == format, first.header.engineVersion == EngineVersion.current else {
            throw .parts(["\(first.directory.path): written by engine \(first.header.engineVersion) (part format "
                + "\(first.header.format)); this is \(EngineVersion.current) (format \(format)): rerun the shards"])
        }
        var seen = [Int: Int]()
        for (k, part) in parts.enumerated() {
            if let other = seen[part.header.shardIndex] {
                problems.append("\(part.directory.path): shard \(part.header.shardIndex)/\(part.header.shardCount) is also "
                    + "\(parts[other].directory.path) (duplicated shard)")
            }
            seen[part.header.shardIndex] = k
        }
        let count = first.header.shardCount
        let missing = (0 ..< count).filter { seen[$0] == nil }
        if !missing.isEmpty {
            problems.append("ballast merge: missing shard\(missing.count > 1 ? "s" : "") "
                + missing.map { "\($0)/\(count)" }.joined(separator: ", ")
                + " (run \(missing.count > 1 ? "them" : "it"), or retry the failed array tasks, then merge again)")
        }
        guard problems.isEmpty else { throw .parts(problems) }
    }

    /// The book the merge loaded is the one the shards read, under the same configuration.
    static func checkSameBook(_ market: MarketContext, options: RunOptions, header: Header) throws(Failure) {
        let sums = market.loaded.inputChecksums.map { [$0.name, $0.sha256] }
        if sums != header.inputsSHA256 {
            throw .parts(["\(options.bookDirectory.path): the book's files differ from the ones the shards read "
                + "(SHA-256 changed): rerun the shards on this book"])
        }
        if configText(market.config) != header.config {
            throw .parts(["\(options.bookDirectory.path): the effective configuration differs from the shards' "
                + "(config file changed?): rerun the shards"])
        }
    }

    /// The parts' arrays, each part's accounts checked to be its shard's, merged back in canonical order (and taken
    /// out of `parts`, so that each array is freed once merged).
    static func mergedArchive(_ parts: inout [Part]) throws(Failure) -> ResultArchive {
        let accounts = parts[0].header.accounts, count = parts[0].header.shardCount
        var archives: [ResultArchive] = []
        var positions: [[CanonicalPosition]] = []
        for i in parts.indices {
            let part = parts[i]
            parts[i].archive = nil
            do {
                guard let read = part.archive else { preconditionFailure("a part's arrays are merged once") }
                let archive = try read.get()
                let expected = AccountOrder.positions(accountCount: accounts, shard: part.header.shardIndex, of: count)
                guard try archive.ints(ResultKey.positions) == expected.map(\.index) else {
                    throw ResultArchive.Failure.mismatch("\(part.path): its accounts are not shard \(part.header.shardIndex)/\(count)'s")
                }
                archives.append(archive)
                positions.append(expected)
            } catch {
                throw .parts(["\(error)"])
            }
        }
        do {
            return try ResultArchive.merge(consuming: &archives, positions: positions, accountCount: accounts)
        } catch {
            throw .parts(["ballast merge: \(error)"])
        }
    }

    /// The effective configuration as one line per key (what every part of one run must agree on).
    static func configText(_ config: RiskConfig) -> String {
        config.effectiveEntries.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
    }
}

/// The SHA-256 that closes every part file (its last 32 bytes, over every byte before them): a merge refuses a part
/// in which any byte changed (a flipped bit on disk or in transfer would otherwise give a wrong VaR, silently).
public enum PartChecksum {
    public static let byteCount = 32

    /// The 32 digest bytes of `bytes`.
    public static func trailer(of bytes: Data) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// The part's archive bytes without the trailer when the trailer matches them, nil otherwise.
    public static func verified(_ file: Data) -> Data? {
        guard file.count > byteCount else { return nil }
        let body = file.prefix(file.count - byteCount)
        let stored = file.suffix(byteCount)
        return Array(SHA256.hash(data: body)) == Array(stored) ? body : nil
    }
}
