import Foundation
import RiskModel
import Sharding
import Testing

/// Inputs fuzz-part found (Fuzz/, docs/FUZZING.md): each crashed the process, each is now an error.
@Suite struct FuzzRegressionTests {
    /// fuzz-part: a text array whose element count no file could hold made the reader reserve room for all of them
    /// first (a count of 2^62 asked for 2^66 bytes: a crash, not "truncated").
    @Test func partTextArrayCountBeyondTheFile() throws {
        var archive = ResultArchive(header: Data("{}".utf8))
        archive.put("s", .account, strings: [])
        var bytes = archive.serialized()
        // The array's element count is the file's last 8 bytes.
        bytes.replaceSubrange(bytes.count - 8 ..< bytes.count, with: [0, 0, 0, 0, 0, 0, 0, 0x40])
        #expect(throws: ResultArchive.Failure.unreadable(path: "p", reason: "truncated array")) {
            try ResultArchive(serialized: bytes, path: "p")
        }
    }

    /// Blocks of 0 accounts: the merge divided by the block size.
    @Test func partBlocksOfZeroAccounts() {
        var archive = ResultArchive()
        archive.put("book.positions", .account, ints: [0])
        archive.put("b", .block(size: 0, stride: 1), doubles: [1])
        #expect(throws: ResultArchive.Failure.self) { try ResultArchive(serialized: archive.serialized(), path: "p") }
    }

    /// fuzz-part: group counts that are negative, overflow when summed, or are fewer than the accounts made the merge
    /// trap (a range with its bounds reversed, an overflow, an index out of range). The reader now refuses such a
    /// file, and the merge such an archive built in memory.
    @Test(arguments: [[-1, 1], [Int.max, 1], [0]])
    func partImpossibleGroupCounts(counts: [Int]) throws {
        var archive = ResultArchive()
        archive.put("book.positions", .account, ints: [0, 1])
        archive.put("n", .account, ints: counts)  // not `put(_:counts:)`, which refuses negative counts
        archive.put("g", .group(counts: ResultArchive.CountsKey("n")), doubles: [])
        #expect(throws: ResultArchive.Failure.self) { try ResultArchive(serialized: archive.serialized(), path: "p") }
        #expect(throws: ResultArchive.Failure.self) {
            try ResultArchive.merge([archive], positions: [[0, 1].map(CanonicalPosition.init)], accountCount: 2)
        }
    }

    /// Block strides from the file multiplied past Int.max (or into an allocation of exabytes) in the merge.
    @Test(arguments: [1 << 62, Int.max])
    func partBlockStrideBeyondTheParts(stride: Int) throws {
        var archive = ResultArchive()
        archive.put("book.positions", .account, ints: [0, 1])
        archive.put("b", .block(size: 1, stride: stride), doubles: [])
        let part = try ResultArchive(serialized: archive.serialized(), path: "p")
        #expect(throws: ResultArchive.Failure.self) {
            try ResultArchive.merge([part], positions: [[0, 1].map(CanonicalPosition.init)], accountCount: 2)
        }
    }

    /// Integer sums over the parts that overflow trapped in the merge.
    @Test func partIntegerSumOverflow() throws {
        let positions = (0 ..< 2).map { AccountOrder.positions(accountCount: 130, shard: $0, of: 2) }
        let parts = try positions.map { list in
            var archive = ResultArchive()
            archive.put("book.positions", .account, ints: list.map(\.index))
            archive.put("work", .sum, ints: [Int.max])
            return try ResultArchive(serialized: archive.serialized(), path: "p")
        }
        #expect(throws: ResultArchive.Failure.self) {
            try ResultArchive.merge(parts, positions: positions, accountCount: 130)
        }
    }
}
