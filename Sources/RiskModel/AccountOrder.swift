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

    /// Book indices in canonical order.
    public static func canonical(_ book: Book) -> [Int] {
        let hashes = book.accountIDs.map(stableHash)
        return book.accountIDs.indices.sorted { a, b in
            if hashes[a] != hashes[b] { return hashes[a] < hashes[b] }
            return book.accountIDs[a].utf8.lexicographicallyPrecedes(book.accountIDs[b].utf8)
        }
    }

    /// The canonical positions shard `index` of `count` computes (all positions when `count` is 1), in order.
    public static func positions(accountCount: Int, shard index: Int, of count: Int) -> [Int] {
        precondition(count >= 1 && index >= 0 && index < count, "shard index out of range")
        var positions: [Int] = []
        var unit = index
        while unit * unitSize < accountCount {
            positions.append(contentsOf: unit * unitSize ..< min((unit + 1) * unitSize, accountCount))
            unit += count
        }
        return positions
    }
}

extension Book {
    /// The accounts `accounts` (book indices, in the order given) as a book of their own, each account's holdings in positions.csv order.
    public func subset(_ accounts: [Int]) -> Book {
        var ids: [String] = []
        ids.reserveCapacity(accounts.count)
        var starts = [0]
        starts.reserveCapacity(accounts.count + 1)
        var assets: [Int32] = [], quantities: [Double] = []
        for a in accounts {
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
