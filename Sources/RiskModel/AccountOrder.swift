/// The order in which the engine computes accounts, and how a sharded run splits them.
///
/// Accounts are computed in *canonical order*: sorted by a 64-bit FNV-1a hash of the account id's UTF-8 bytes, ties
/// (equal hashes) by the id bytes. It depends only on the ids, never on the order of positions.csv, so a shard can
/// compute it from the same book and a sharded run forms exactly the same blocks of accounts as a whole run: the
/// per-account kernels work on fixed blocks (`BlockPlan`), and a dense block's numbers depend on which accounts share
/// it.
///
/// Canonical positions are cut into units of `unitSize` (a multiple of every block size); shard I of N computes the
/// units u with u mod N = I, in order. Every block of a shard is then a block of the whole run, with the same
/// accounts in the same order, so each account's figures are bit-identical whichever way the book is split.
public enum AccountOrder {
    /// Canonical positions per unit: a multiple of every per-account block size of the engine (`BlockPlan`).
    public static let unitSize = BlockPlan.shardUnit

    /// FNV-1a, 64 bits, of the UTF-8 bytes (stable across runs, machines and Swift versions, unlike `Hasher`).
    public static func stableHash(_ id: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// The book's accounts in canonical order: entry p is the file row of the account at canonical position p.
    public static func canonical(_ book: Book) -> CanonicalOrder {
        let hashes = book.accountIDs.map(stableHash)
        let sorted = book.accountIDs.indices.sorted { a, b in
            if hashes[a] != hashes[b] { return hashes[a] < hashes[b] }
            return book.accountIDs[a].utf8.lexicographicallyPrecedes(book.accountIDs[b].utf8)
        }
        return CanonicalOrder(fileRows: sorted.map(FileRow.init))
    }

    /// The canonical positions shard `index` of `count` computes (all positions when `count` is 1), in order.
    public static func positions(accountCount: Int, shard index: Int, of count: Int) -> [CanonicalPosition] {
        precondition(count >= 1 && index >= 0 && index < count, "shard index out of range")
        var positions: [CanonicalPosition] = []
        var unit = index
        while unit * unitSize < accountCount {
            positions += (unit * unitSize ..< min((unit + 1) * unitSize, accountCount)).map(CanonicalPosition.init)
            unit += count
        }
        return positions
    }
}

// The two account index spaces. A run's result arrays are indexed by a third, plain `Int`: the computed account
// (0 ..< count, the run's accounts in canonical order; see `ComputedAccounts`). Typing the first two keeps a file
// row from being used where a canonical position or an array index is meant.

/// An account's row in the book as loaded: its place among positions.csv's accounts (in order of first
/// appearance), 0-based. The report's rows follow this order.
public struct FileRow: Hashable, Comparable, Sendable {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: FileRow, b: FileRow) -> Bool { a.index < b.index }
}

/// An account's place in the whole book's canonical order (`AccountOrder`), 0-based: what shards split and what the
/// per-account kernels' blocks follow.
public struct CanonicalPosition: Hashable, Comparable, Sendable {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: CanonicalPosition, b: CanonicalPosition) -> Bool { a.index < b.index }
}

/// The whole book in canonical order: canonical position → file row.
public struct CanonicalOrder: Sendable {
    /// `fileRows[p]`: the file row of the account at canonical position p.
    public let fileRows: [FileRow]
    public subscript(position: CanonicalPosition) -> FileRow { fileRows[position.index] }
    public var count: Int { fileRows.count }
}

/// The accounts a run computed (the whole book or one shard's part) and where each comes from. Every per-account
/// result array is indexed by the computed account a in 0 ..< count: the run's accounts in canonical order.
public struct ComputedAccounts: Sendable {
    /// `fileRows[a]`: computed account a's row in positions.csv.
    public let fileRows: [FileRow]
    /// `canonicalPositions[a]`: computed account a's place in the whole book's canonical order.
    public let canonicalPositions: [CanonicalPosition]
    /// The computed accounts sorted by file row: the order of the report's rows.
    public let inFileOrder: [Int]

    /// The accounts at `positions` (increasing) of the whole book `order`.
    public init(positions: [CanonicalPosition], of order: CanonicalOrder) {
        canonicalPositions = positions
        fileRows = positions.map { order[$0] }
        if positions.count == order.count {
            // The whole book: the file rows are a permutation of 0 ..< count; invert it.
            var inverse = [Int](repeating: 0, count: positions.count)
            for (computed, row) in fileRows.enumerated() { inverse[row.index] = computed }
            inFileOrder = inverse
        } else {
            let rows = fileRows
            inFileOrder = rows.indices.sorted { rows[$0] < rows[$1] }
        }
    }

    /// The whole book, every account computed.
    public init(wholeBook order: CanonicalOrder) {
        self.init(positions: (0 ..< order.count).map(CanonicalPosition.init), of: order)
    }

    public var count: Int { fileRows.count }
}

extension Book {
    /// The accounts at `rows` (in the order given) as a book of their own, each account's holdings in positions.csv order.
    public func subset(_ rows: [FileRow]) -> Book {
        var ids: [String] = []
        ids.reserveCapacity(rows.count)
        var starts = [0]
        starts.reserveCapacity(rows.count + 1)
        var assets: [Int32] = [], quantities: [Double] = []
        for row in rows {
            let a = row.index
            ids.append(accountIDs[a])
            for k in holdings(of: a) {
                assets.append(assetIndex[k])
                quantities.append(quantity[k])
            }
            starts.append(assets.count)
        }
        return Book(accountIDs: ids, rowStart: starts, assetIndex: assets, quantity: quantities)
    }
}
