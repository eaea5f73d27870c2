// fuzz-part: the part-file reader (Sharding.ResultArchive's deserializing initializer and header reader) and the merge
// of what it read (docs/FUZZING.md).
//
// Input: a `part.ballast`, or two concatenated (the second starts at the next `BALLASTPART1` after the first 12 bytes):
// then they are tried as shards 0/2 and 1/2 of one run.
//
// Invariants: no crash on any bytes; a file that reads has a readable header, the same bytes; written back and read
// again, it writes the same bytes; parts that pass `ballast merge`'s own check (`book.positions` are the shard's
// canonical positions) merge or throw, never crash.
//
// With BALLAST_FUZZ_WRITE_SEEDS=DIR, the target writes small synthetic parts (every scope and kind of array; one part
// of 5 accounts, and the two shards of 130 accounts concatenated) into DIR through `ResultArchive` itself, and exits:
// scripts/fuzz.sh --seeds uses it to remake Fuzz/corpus/part/ after a change of the format.

import Foundation
import FuzzSupport
import RiskModel
import Sharding

/// Reads one part; checks the header and the round trip.
func read(_ bytes: Data) -> ResultArchive? {
    let header = try? ResultArchive.header(of: bytes, path: "part.ballast")
    guard let archive = try? ResultArchive(serialized: bytes, path: "part.ballast") else { return nil }
    require(header == archive.header, "the header alone differs from the header of the whole file")
    let written = archive.serialized()
    guard let again = try? ResultArchive(serialized: written, path: "again.ballast") else {
        require(false, "a part written back does not read"); return nil
    }
    // One round makes text canonical (invalid UTF-8 becomes U+FFFD), so compare the second writing with the first.
    require(again.serialized() == written, "a part written back and read again writes other bytes")
    require(again.names == archive.names, "array names differ after a round trip")
    return archive
}

/// A synthetic part: shard `shard` of `count` of a book of `accounts` accounts, with every scope and kind.
func syntheticPart(accounts: Int, shard: Int, of count: Int) -> Data {
    let positions = AccountOrder.positions(accountCount: accounts, shard: shard, of: count).map(\.index)
    var archive = ResultArchive(header: Data("{\"format\":2,\"shard_index\":\(shard),\"shard_count\":\(count)}".utf8))
    let holdings = positions.map { $0 % 3 }
    let holdingCount = ResultArchive.CountsKey("book.holdingCount")
    archive.put("book.positions", .account, ints: positions)
    archive.put(holdingCount, counts: holdings)
    archive.put("assessment.exposure", .group(counts: holdingCount), doubles: (0 ..< holdings.reduce(0, +)).map { Double($0) * 1.5 })
    archive.put("assessment.status", .account, strings: positions.map { ["ok", "margin_call", "liquidatable"][$0 % 3] })
    archive.put("assessment.topup", .account, doubles: positions.map { $0 % 2 == 0 ? .nan : -Double($0) })
    archive.put("assessment.settlementHaircut", .same, doubles: [0.02])
    archive.put("rebalance.rows.asset", .group(counts: holdingCount), strings: holdings.flatMap { n in (0 ..< n).map { "A\($0)" } })
    let blocks = (positions.count + 127) / 128
    archive.put("stress.blockTotals", .block(size: 128, stride: 2), doubles: (0 ..< 2 * blocks).map { Double($0) })
    archive.put("stress.matrixFlops", .sum, ints: [positions.count * 1000, 7])
    return archive.serialized()
}

func writeSeeds(to directory: String) {
    let seeds = [
        "synthetic-5-accounts.ballast": syntheticPart(accounts: 5, shard: 0, of: 1),
        "synthetic-2-shards.ballast": syntheticPart(accounts: 130, shard: 0, of: 2) + syntheticPart(accounts: 130, shard: 1, of: 2),
    ]
    for (name, bytes) in seeds.sorted(by: { $0.key < $1.key }) {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
        do { try bytes.write(to: url) } catch { fatalError("cannot write \(url.path): \(error)") }
        print("wrote \(url.path) (\(bytes.count) bytes)")
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["BALLAST_FUZZ_WRITE_SEEDS"] {
        writeSeeds(to: directory)
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    let magic = Data("BALLASTPART1".utf8)
    var parts: [Data] = [bytes]
    if size > 2 * magic.count, let second = bytes[magic.count...].range(of: magic) {
        parts = [bytes[..<second.lowerBound], bytes[second.lowerBound...]].map { Data($0) }
    }
    var archives: [ResultArchive] = []
    for part in parts {
        guard let archive = read(part) else { return 0 }
        archives.append(archive)
    }
    // As `ballast merge` (ShardReports.merge): each part's accounts must be its shard's canonical positions.
    var accounts = 0
    for archive in archives {
        guard let p = try? archive.ints("book.positions"), p.count <= 1 << 16 else { return 0 }
        accounts += p.count
    }
    var positions: [[CanonicalPosition]] = []
    for (k, archive) in archives.enumerated() {
        let expected = AccountOrder.positions(accountCount: accounts, shard: k, of: archives.count)
        guard (try? archive.ints("book.positions")) == expected.map(\.index) else { return 0 }
        positions.append(expected)
    }
    if let merged = try? ResultArchive.merge(archives, positions: positions, accountCount: accounts) {
        require(Set(merged.names) == Set(archives[0].names), "the merge changed the array names")
        require((try? merged.ints("book.positions")) == Array(0 ..< accounts), "merged positions are not 0 ..< \(accounts)")
    }
    return 0
}
