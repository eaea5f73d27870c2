import Foundation
import RiskModel
import Sharding
import Testing

/// The part file's layout and what its reader refuses: groups name a counts array stored before them, with one count
/// ≥ 0 per account of the part, giving out exactly the group's elements.
@Suite struct ResultArchiveTests {
    static let counts = ResultArchive.CountsKey("n")

    /// Two accounts with 2 and 1 holdings, a per-holding array grouped by their counts.
    static func grouped() -> ResultArchive {
        var archive = ResultArchive()
        archive.put("book.positions", .account, ints: [0, 1])
        archive.put(counts, counts: [2, 1])
        archive.put("g", .group(counts: counts), doubles: [1, 2, 3])
        return archive
    }

    /// The bytes of the arrays alone (after the magic, the header and the array count).
    static func arrayBytes(_ archive: ResultArchive) -> Data {
        archive.serialized().dropFirst(12 + 8 + archive.header.count + 8)
    }

    /// 8 bytes, least significant first.
    static func word(_ value: UInt64) -> [UInt8] { (0 ..< 8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    static func text(_ s: String) -> [UInt8] { word(UInt64(s.utf8.count)) + Array(s.utf8) }

    @Test func everyNumberIsWrittenLeastSignificantByteFirst() {
        var archive = ResultArchive(header: Data("{}".utf8))
        archive.put("i", .account, ints: [-2])
        archive.put("x", .sum, doubles: [1.5])
        archive.put("b", .block(size: 128, stride: 3), strings: [])
        let expected: [UInt8] = Array("BALLASTPART1".utf8) + Self.word(2) + Array("{}".utf8) + Self.word(3)
            + Self.text("i") + Self.word(0) + Self.word(1) + Self.word(1) + Self.word(UInt64(bitPattern: -2))
            + Self.text("x") + Self.word(3) + Self.word(0) + Self.word(1) + Self.word((1.5).bitPattern)
            + Self.text("b") + Self.word(2) + Self.word(128) + Self.word(3) + Self.word(2) + Self.word(0)
        #expect(Array(archive.serialized()) == expected)
    }

    /// The archive's arrays up to (without) `name`, and from `name` on.
    static func split(_ archive: ResultArchive, at name: String) -> (before: Data, from: Data) {
        var head = ResultArchive(header: archive.header)
        for n in archive.names.prefix(while: { $0 != name }) { head.put(n, archive.entries[n]!.scope, archive.entries[n]!.values) }
        let before = arrayBytes(head)
        return (before, arrayBytes(archive).dropFirst(before.count))
    }

    @Test func aGroupIsWrittenWithItsCountsNameAndReadBackTyped() throws {
        let archive = Self.grouped()
        let g = Self.split(archive, at: "g").from
        #expect(Array(g) == Self.text("g") + Self.word(1) + Self.text("n") + Self.word(0) + Self.word(3)
            + [1.0, 2, 3].flatMap { Self.word($0.bitPattern) })
        let read = try ResultArchive(serialized: archive.serialized(), path: "p")
        #expect(read.entries["g"]?.scope == .group(counts: Self.counts))
        #expect(try read.counts(Self.counts) == [2, 1])
        #expect(read.serialized() == archive.serialized())
    }

    /// The file with the group's reference renamed to `name` (same length as "n").
    static func regrouped(by name: String, extra: (inout ResultArchive) -> Void = { _ in }) -> Data {
        var archive = ResultArchive()
        archive.put("book.positions", .account, ints: [0, 1])
        extra(&archive)
        archive.put(counts, counts: [2, 1])
        archive.put("g", .group(counts: counts), doubles: [1, 2, 3])
        var bytes = archive.serialized()
        let reference = Data(Self.text("g") + Self.word(1) + Self.text("n"))
        let at = bytes.range(of: reference)!
        bytes.replaceSubrange(at, with: Self.text("g") + Self.word(1) + Self.text(name))
        return bytes
    }

    @Test func aGroupNamingNoCountsArrayIsRefused() throws {
        #expect(try ResultArchive(serialized: Self.regrouped(by: "n"), path: "p").names == ["book.positions", "n", "g"])
        let refusals: [(String, Data)] = [
            ("missing", Self.regrouped(by: "z")),
            ("numbers", Self.regrouped(by: "m") { $0.put("m", .account, doubles: [2, 1]) }),
            ("texts", Self.regrouped(by: "m") { $0.put("m", .account, strings: ["2", "1"]) }),
            ("summed", Self.regrouped(by: "m") { $0.put("m", .sum, ints: [2, 1]) }),
            ("itself", Self.regrouped(by: "g")),
        ]
        for (what, bytes) in refusals {
            #expect(throws: ResultArchive.Failure.self, "\(what)") { try ResultArchive(serialized: bytes, path: "p") }
        }
    }

    @Test func aGroupBeforeItsCountsIsRefused() throws {
        let archive = Self.grouped()
        let (positions, rest) = Self.split(archive, at: "n")
        let (countsAndPositions, group) = Self.split(archive, at: "g")
        let counts = countsAndPositions.dropFirst(positions.count)
        #expect(positions + counts + group == Self.arrayBytes(archive))
        let start = archive.serialized().prefix(12 + 8 + archive.header.count + 8)
        #expect(start + positions + rest == archive.serialized())
        // positions, g, n: the group comes before the counts it names.
        #expect(throws: ResultArchive.Failure.unreadable(
            path: "p", reason: "array g is grouped by n, which is not an array of counts stored before it")) {
            try ResultArchive(serialized: start + positions + group + counts, path: "p")
        }
    }

    @Test func countsThatGiveOutAnotherNumberOfElementsAreRefused() {
        var archive = ResultArchive()
        archive.put(Self.counts, counts: [2, 1])
        archive.put("g", .group(counts: Self.counts), doubles: [1, 2])
        #expect(throws: ResultArchive.Failure.unreadable(path: "p", reason: "array g has 2 entries, its counts n say 3")) {
            try ResultArchive(serialized: archive.serialized(), path: "p")
        }
    }

    @Test func accountArraysOfDifferentLengthsAreRefused() {
        var archive = ResultArchive()
        archive.put("book.positions", .account, ints: [0, 1])
        archive.put("x", .account, doubles: [1])
        #expect(throws: ResultArchive.Failure.unreadable(path: "p", reason: "array x has 1 entries for 2 accounts")) {
            try ResultArchive(serialized: archive.serialized(), path: "p")
        }
    }

    /// The parts of the fuzz corpus written by `ballast run --shard` and by fuzz-part itself read, groups typed.
    @Test func thePartsOfTheFuzzCorpusRead() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/part")
        for (file, group) in [("run-shard-0-of-2.ballast", "parametric.componentVaR"),
                              ("synthetic-5-accounts.ballast", "assessment.exposure")] {
            let archive = try ResultArchive(serialized: Data(contentsOf: corpus.appendingPathComponent(file)), path: file)
            #expect(archive.entries[group]?.scope == .group(counts: ResultArchive.CountsKey("book.holdingCount")), "\(file)")
        }
    }

    /// Groups keep each account's elements together through a merge, accounts in canonical order.
    @Test func aMergeRegroupsByTheCounts() throws {
        var parts: [ResultArchive] = []
        for (positions, counts) in [([1], [1]), ([0, 2], [2, 0])] {
            var archive = ResultArchive()
            archive.put("book.positions", .account, ints: positions)
            archive.put(Self.counts, counts: counts)
            archive.put("g", .group(counts: Self.counts), ints: positions.enumerated().flatMap { k, p in
                Array(repeating: p, count: counts[k])
            })
            parts.append(try ResultArchive(serialized: archive.serialized(), path: "p"))
        }
        let merged = try ResultArchive.merge(parts, positions: [[1], [0, 2]].map { $0.map(CanonicalPosition.init) }, accountCount: 3)
        #expect(try merged.counts(Self.counts) == [2, 1, 0])
        #expect(try merged.ints("g") == [0, 0, 1])
        #expect(merged.entries["g"]?.scope == .group(counts: Self.counts))
    }
}
