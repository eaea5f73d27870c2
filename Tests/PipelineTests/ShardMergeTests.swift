import BookGenerator
import Dispatch
import Foundation
import RiskModel
import RiskPipeline
import RiskReport
import Sharding
import Testing

/// Sharded runs (issue 8): the merge of any N-way split equals one run of the whole book, byte for byte in the CSV
/// files and equal but for run metadata in summary.json and report.html; parts that do not make one whole run
/// are refused with a clear error and no report.
@Suite(.serialized) struct ShardMergeTests {
    /// A retail book (sparse kernels) and an institutional one (dense block products, where a block's numbers
    /// depend on which accounts share it), with rebalancing of every account so every column is filled.
    static let books: [(name: String, directory: URL)] = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-tests-shards-\(getpid())")
        let specs = [("retail", BookSpec(accounts: 1500, assets: 24, days: 520, seed: 11, profile: .retail)),
                     ("institutional", BookSpec(accounts: 420, assets: 60, days: 520, seed: 12, profile: .institutional))]
        return specs.map { name, spec in
            let directory = root.appendingPathComponent(name)
            if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("positions.csv").path) {
                _ = try! BookGenerator.generate(spec, into: directory)
            }
            return (name, directory)
        }
    }()

    static let overrides = ["rebalance=all", "mc_paths=2000"]

    static func options(_ book: URL, shard: ShardSpec? = nil, overrides: [String] = Self.overrides) -> RunOptions {
        RunOptions(bookDirectory: book, overrides: overrides, threads: 2, shard: shard)
    }

    /// Runs the N shards in-process into `root/part-I`.
    static func runShards(_ book: URL, count: Int, root: URL, overrides: [String] = Self.overrides) throws -> [URL] {
        try (0 ..< count).map { i in
            let part = root.appendingPathComponent("part-\(i)")
            let spec = ShardSpec(index: i, count: count)!
            let result = try RiskPipeline.run(options(book, shard: spec, overrides: overrides))
            try ShardReport.write(result, options: options(book, shard: spec, overrides: overrides), to: part)
            return part
        }
    }

    /// summary.json without what describes the run rather than the book (timings, memory, thread count).
    static func comparableSummary(_ url: URL) throws -> NSDictionary {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        for key in ["phases_s", "wall_s", "peak_rss_bytes", "threads"] { json.removeValue(forKey: key) }
        return json as NSDictionary
    }

    /// report.html without the run-metadata panel (wall time, memory, threads, phase timings).
    static func comparableHTML(_ url: URL) throws -> String {
        let html = try String(contentsOf: url, encoding: .utf8)
        guard let start = html.range(of: "<div class=\"meta\">"),
              let end = html.range(of: "</tbody></table></div>", range: start.upperBound ..< html.endIndex)
                .flatMap({ html.range(of: "</tbody></table></div>", range: $0.upperBound ..< html.endIndex) }) else {
            Issue.record("report.html has no run-metadata panel")
            return html
        }
        return String(html[..<start.lowerBound]) + String(html[end.upperBound...])
    }

    @Test(arguments: [1, 2, 4, 7])
    func mergedReportEqualsTheWholeRun(shards: Int) throws {
        for (name, book) in Self.books {
            let root = try CLI.temporaryDirectory("shards-\(name)-\(shards)")
            defer { try? FileManager.default.removeItem(at: root) }
            let whole = root.appendingPathComponent("whole")
            let single = try RiskPipeline.run(Self.options(book))
            if name == "institutional" {
                // The case that needs canonical blocks: dense block products in every per-account phase.
                #expect(single.parametric.denseBlocks > 0 && single.historical.denseBlocks > 0
                    && single.monteCarlo.denseBlocks > 0 && single.stress.denseBlocks > 0)
            }
            try ReportWriter.write(single, to: whole, runStarted: .now())
            let parts = try Self.runShards(book, count: shards, root: root)
            let merged = root.appendingPathComponent("merged")
            // The parts in another order than their indices: the merge sorts them out.
            let result = try MergedReport.write(parts.reversed(), to: merged, threads: 2)
            #expect(result.book.accountCount == result.input.book.accountCount)
            for file in ["accounts.csv", "holdings.csv", "stress.csv", "backtest.csv", "cascade.csv", "cascade_assets.csv"] {
                let a = try Data(contentsOf: whole.appendingPathComponent(file))
                let b = try Data(contentsOf: merged.appendingPathComponent(file))
                #expect(a == b, "\(name), \(shards) shards: \(file) differs")
            }
            #expect(try Self.comparableSummary(whole.appendingPathComponent("summary.json"))
                == Self.comparableSummary(merged.appendingPathComponent("summary.json")), "\(name), \(shards) shards: summary.json")
            #expect(try Self.comparableHTML(whole.appendingPathComponent("report.html"))
                == Self.comparableHTML(merged.appendingPathComponent("report.html")), "\(name), \(shards) shards: report.html")
        }
    }

    @Test func shardsPartitionTheBookWhateverTheFileOrder() throws {
        // Every account in exactly one shard, and the canonical order does not depend on positions.csv's order.
        let ids = (0 ..< 1000).map { "acct-\($0)" }
        let book = Book(accountIDs: ids, rowStart: Array(0 ... 1000), assetIndex: [Int32](repeating: 0, count: 1000),
                        quantity: [Double](repeating: 1, count: 1000))
        let reversed = Book(accountIDs: ids.reversed(), rowStart: Array(0 ... 1000),
                            assetIndex: [Int32](repeating: 0, count: 1000), quantity: [Double](repeating: 1, count: 1000))
        let order = AccountOrder.canonical(book).fileRows.map { ids[$0.index] }
        let orderReversed = AccountOrder.canonical(reversed).fileRows.map { reversed.accountIDs[$0.index] }
        #expect(order == orderReversed)
        for n in [1, 3, 8] {
            let covered = (0 ..< n).flatMap { AccountOrder.positions(accountCount: 1000, shard: $0, of: n) }
            #expect(covered.map(\.index).sorted() == Array(0 ..< 1000))
        }
        // FNV-1a 64 of "a" (published test vector).
        #expect(AccountOrder.stableHash("a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test func incompleteDuplicatedOrForeignPartsAreRefusedAndNothingIsWritten() throws {
        let (_, book) = Self.books[0]
        let root = try CLI.temporaryDirectory("shards-refused")
        defer { try? FileManager.default.removeItem(at: root) }
        let parts = try Self.runShards(book, count: 3, root: root)
        let foreignRoot = root.appendingPathComponent("foreign")
        let foreign = try Self.runShards(book, count: 3, root: foreignRoot, overrides: Self.overrides + ["confidence=0.975"])
        let out = root.appendingPathComponent("report")
        func refusal(_ list: [URL]) -> String? {
            do {
                try MergedReport.write(list, to: out, threads: 1)
                return nil
            } catch {
                return "\(error)"
            }
        }
        let missing = refusal([parts[0], parts[2]])
        #expect(missing?.contains("missing shard 1/3") == true, "\(missing ?? "merged")")
        let duplicated = refusal([parts[0], parts[1], parts[1], parts[2]])
        #expect(duplicated?.contains("duplicated shard") == true, "\(duplicated ?? "merged")")
        let mixed = refusal([parts[0], foreign[1], parts[2]])
        #expect(mixed?.contains("configuration differs") == true, "\(mixed ?? "merged")")
        // A part of another book.
        let otherBook = try Self.runShards(Self.books[1].directory, count: 3, root: root.appendingPathComponent("other"))
        let otherPart = refusal([parts[0], otherBook[1], parts[2]])
        #expect(otherPart?.contains("input files differs") == true, "\(otherPart ?? "merged")")
        // The right parts, but the merge pointed at another book than the one the shards read.
        do {
            try MergedReport.write(parts, to: out, bookDirectory: Self.books[1].directory, threads: 1)
            Issue.record("merged against another book")
        } catch {
            #expect("\(error)".contains("differ from the ones the shards read"), "\(error)")
        }
        let notAPart = refusal([parts[0], parts[1], root])
        #expect(notAPart?.contains("no part.ballast") == true, "\(notAPart ?? "merged")")
        // A part from another engine version.
        let tampered = root.appendingPathComponent("tampered")
        try FileManager.default.copyItem(at: parts[2], to: tampered)
        let path = tampered.appendingPathComponent(ShardReport.archiveName)
        let body = try #require(PartChecksum.verified(Data(contentsOf: path)))
        var archive = try ResultArchive(serialized: body, path: path.path)
        var header = try JSONSerialization.jsonObject(with: archive.header) as! [String: Any]
        header["engine_version"] = "0.0.1"
        archive.header = try JSONSerialization.data(withJSONObject: header)
        let rewritten = archive.serialized()
        try (rewritten + PartChecksum.trailer(of: rewritten)).write(to: path)
        let version = refusal([parts[0], parts[1], tampered])
        #expect(version?.contains("engine version differs") == true, "\(version ?? "merged")")
        // A truncated part (a shard killed while writing would have left no part at all: the folder is renamed in
        // only when complete; this is a copy damaged afterwards).
        let truncated = root.appendingPathComponent("truncated")
        try FileManager.default.copyItem(at: parts[2], to: truncated)
        let truncatedPath = truncated.appendingPathComponent(ShardReport.archiveName)
        let bytes = try Data(contentsOf: truncatedPath)
        try bytes.prefix(bytes.count / 2).write(to: truncatedPath)
        let damaged = refusal([parts[0], parts[1], truncated])
        #expect(damaged?.contains("damaged") == true, "\(damaged ?? "merged")")
        #expect(!FileManager.default.fileExists(atPath: out.path), "a refused merge must write no report")
        // And the three right parts merge.
        #expect(refusal(parts) == nil)
    }

    @Test func cliRefusesAMissingShardWithExitCode2() throws {
        let (_, book) = Self.books[0]
        let root = try CLI.temporaryDirectory("shards-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        for i in [0, 2] {
            let outcome = try CLI.run(["run", book.path, "--shard", "\(i)/3", "--out", root.appendingPathComponent("p\(i)").path,
                                       "--quiet"] + Self.overrides.flatMap { ["--set", $0] })
            #expect(outcome.status == 0, "\(outcome.stderr)")
        }
        let merge = try CLI.run(["merge", root.appendingPathComponent("p0").path, root.appendingPathComponent("p2").path,
                                 "--out", root.appendingPathComponent("report").path, "--quiet"])
        #expect(merge.status == 2)
        #expect(merge.stderr.contains("ballast merge: missing shard 1/3"), "\(merge.stderr)")
        #expect(!merge.stderr.contains("Fatal error"))
        let bad = try CLI.run(["run", book.path, "--shard", "3/3", "--out", root.appendingPathComponent("x").path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--shard must be I/N with 0 ≤ I < N"), "\(bad.stderr)")
    }
}
