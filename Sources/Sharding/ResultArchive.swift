import Foundation
import RiskModel

/// Named arrays of a run's results for part of a book, in a compact binary file, and the merge that puts the parts
/// of a sharded run back together.
///
/// Every array says how a merge combines it (`Scope`): per account (placed at the accounts' canonical positions),
/// in groups of variable length per account (a holding's figures, an account's target rows), per block of
/// accounts (partial sums that one run adds in block order), summed over the parts (diagnostic counts) or equal in
/// every part (a scalar of the market, such as the settlement haircut). Numbers are stored as their IEEE-754 bits,
/// so a merge reproduces them exactly.
///
/// File layout: the magic `BALLASTPART1`, a UInt64 byte length, a JSON header of that length (the caller's
/// metadata), then a UInt64 array count and the arrays: for each, its name, scope, kind and element count, then the
/// elements. Every number (lengths, codes, counts, integers, IEEE-754 bits) is 8 bytes, least significant byte first
/// whatever the machine; a text is its UTF-8 byte length, then its bytes. The format's version is the part header's
/// `format` (`ShardReport.format`).
public struct ResultArchive: Sendable {
    /// The name of a per-account array of counts (each ≥ 0, one per account of the part) that groups other arrays:
    /// account a owns the next `counts[a]` elements of each (`Scope.group`). Stored by `put(_:counts:)` before any
    /// array it groups; a part file whose group names anything else is refused when read.
    public struct CountsKey: Hashable, Sendable {
        public let name: String
        public init(_ name: String) { self.name = name }
    }

    /// How a merge combines an array.
    public enum Scope: Sendable, Equatable {
        /// One element per account of the part, in the part's order.
        case account
        /// Per account of the part, `counts[a]` consecutive elements (`counts`: stored before this array).
        case group(counts: CountsKey)
        /// Per block of `size` canonical positions, `stride` consecutive elements; blocks placed by canonical block.
        case block(size: Int, stride: Int)
        /// Added element by element over the parts.
        case sum
        /// The same in every part (the merge checks it).
        case same
    }

    public enum Values: Sendable, Equatable {
        case doubles([Double])
        case ints([Int])
        case strings([String])

        public var count: Int {
            switch self {
            case .doubles(let v): return v.count
            case .ints(let v): return v.count
            case .strings(let v): return v.count
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public let scope: Scope
        public let values: Values
    }

    /// Why an archive cannot be read or merged; `path` is the file or folder concerned.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        case mismatch(String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): return "\(path): \(reason)"
            case .mismatch(let reason): return reason
            }
        }
    }

    /// The caller's metadata (a JSON object, written first so it can be read without the arrays).
    public var header: Data
    public private(set) var names: [String] = []
    public private(set) var entries: [String: Entry] = [:]

    public init(header: Data = Data("{}".utf8)) { self.header = header }

    public mutating func put(_ name: String, _ scope: Scope, _ values: Values) {
        precondition(entries[name] == nil, "archive: \(name) stored twice")
        if case .group(let counts) = scope {
            precondition(holdsCounts(counts), "archive: \(name) is grouped by \(counts.name), not stored before it")
        }
        names.append(name)
        entries[name] = Entry(scope: scope, values: values)
    }

    /// Stores the counts that group other arrays (one per account, each ≥ 0).
    public mutating func put(_ key: CountsKey, counts: [Int]) {
        precondition(counts.allSatisfy { $0 >= 0 }, "archive: negative count in \(key.name)")
        put(key.name, .account, ints: counts)
    }

    public mutating func put(_ name: String, _ scope: Scope, doubles: [Double]) { put(name, scope, .doubles(doubles)) }
    public mutating func put(_ name: String, _ scope: Scope, ints: [Int]) { put(name, scope, .ints(ints)) }
    public mutating func put(_ name: String, _ scope: Scope, strings: [String]) { put(name, scope, .strings(strings)) }

    public func doubles(_ name: String) throws(Failure) -> [Double] {
        guard case .doubles(let v)? = entries[name]?.values else { throw .mismatch("archive has no number array \(name)") }
        return v
    }

    public func ints(_ name: String) throws(Failure) -> [Int] {
        guard case .ints(let v)? = entries[name]?.values else { throw .mismatch("archive has no integer array \(name)") }
        return v
    }

    public func strings(_ name: String) throws(Failure) -> [String] {
        guard case .strings(let v)? = entries[name]?.values else { throw .mismatch("archive has no text array \(name)") }
        return v
    }

    public func double(_ name: String) throws(Failure) -> Double {
        let v = try doubles(name)
        guard v.count == 1 else { throw .mismatch("archive: \(name) is not one number") }
        return v[0]
    }

    public func int(_ name: String) throws(Failure) -> Int {
        let v = try ints(name)
        guard v.count == 1 else { throw .mismatch("archive: \(name) is not one integer") }
        return v[0]
    }

    public func counts(_ key: CountsKey) throws(Failure) -> [Int] { try ints(key.name) }

    /// Whether `key` names an account-scope integer array already stored (what a group scope may name).
    func holdsCounts(_ key: CountsKey) -> Bool {
        guard let entry = entries[key.name], entry.scope == .account, case .ints = entry.values else { return false }
        return true
    }

    /// How many elements the counts `key` give out in all: nil unless `key` names an account-scope integer array
    /// already stored whose counts are all ≥ 0 and sum without overflow.
    func groupSize(_ key: CountsKey) -> Int? {
        guard holdsCounts(key), case .ints(let counts) = entries[key.name]!.values else { return nil }
        var total = 0
        for c in counts {
            let (sum, overflow) = total.addingReportingOverflow(c)
            guard c >= 0, !overflow else { return nil }
            total = sum
        }
        return total
    }

    // MARK: - File format

    static let magic = Array("BALLASTPART1".utf8)

    /// The file's bytes (layout above).
    public func serialized() -> Data {
        var out = Data()
        out.append(contentsOf: Self.magic)
        Self.append(UInt64(header.count), to: &out)
        out.append(header)
        Self.append(UInt64(names.count), to: &out)
        for name in names {
            let entry = entries[name]!
            Self.append(string: name, to: &out)
            Self.append(entry.scope, to: &out)
            Self.append(entry.values, to: &out)
        }
        return out
    }

    /// The scope's code (0 account, 1 group, 2 block, 3 sum, 4 same), then the counts' name or the block size and
    /// stride.
    static func append(_ scope: Scope, to out: inout Data) {
        switch scope {
        case .account: append(UInt64(0), to: &out)
        case .group(let counts): append(UInt64(1), to: &out); append(string: counts.name, to: &out)
        case .block(let size, let stride):
            append(UInt64(2), to: &out); append(UInt64(size), to: &out); append(UInt64(stride), to: &out)
        case .sum: append(UInt64(3), to: &out)
        case .same: append(UInt64(4), to: &out)
        }
    }

    /// The kind (0 numbers, 1 integers, 2 texts), the element count, then the elements.
    static func append(_ values: Values, to out: inout Data) {
        switch values {
        case .doubles(let v):
            append(UInt64(0), to: &out); append(UInt64(v.count), to: &out)
            appendLittleEndian(v.map(\.bitPattern), to: &out)
        case .ints(let v):
            append(UInt64(1), to: &out); append(UInt64(v.count), to: &out)
            appendLittleEndian(v.map { UInt64(bitPattern: Int64($0)) }, to: &out)
        case .strings(let v):
            append(UInt64(2), to: &out); append(UInt64(v.count), to: &out)
            for s in v { append(string: s, to: &out) }
        }
    }

    /// Reads a part file's bytes, refusing anything the writer never stores (`check`).
    public init(serialized data: Data, path: String) throws(Failure) {
        let read = data.withUnsafeBytes { raw in
            Result { () throws(Failure) -> ResultArchive in try ResultArchive(bytes: raw, path: path) }
        }
        self = try read.get()
    }

    /// Reads a part file's bytes (`init(serialized:path:)`).
    private init(bytes: UnsafeRawBufferPointer, path: String) throws(Failure) {
        var reader = ByteReader(bytes: bytes, path: path)
        header = try reader.header()
        var accounts: Int?
        for _ in 0 ..< (try reader.count()) {
            let name = try reader.string()
            let scope = try reader.scope(of: name)
            let values = try reader.values(of: name)
            try check(name, scope, values, accounts: &accounts, path: path)
            names.append(name)
            entries[name] = Entry(scope: scope, values: values)
        }
        guard reader.atEnd else { throw .unreadable(path: path, reason: "trailing bytes after the last array") }
    }

    /// Refuses an array stored twice, account arrays of different lengths (`accounts`: the length of the first), and a
    /// group whose counts are not an account array of counts stored before it, or give out another number of elements.
    private func check(_ name: String, _ scope: Scope, _ values: Values, accounts: inout Int?,
                       path: String) throws(Failure) {
        if entries[name] != nil { throw .unreadable(path: path, reason: "array \(name) appears twice") }
        switch scope {
        case .account:
            if let n = accounts, n != values.count {
                throw .unreadable(path: path, reason: "array \(name) has \(values.count) entries for \(n) accounts")
            }
            accounts = values.count
        case .group(let counts):
            guard let size = groupSize(counts) else {
                throw .unreadable(path: path, reason: "array \(name) is grouped by \(counts.name), "
                    + "which is not an array of counts stored before it")
            }
            guard size == values.count else {
                throw .unreadable(path: path, reason: "array \(name) has \(values.count) entries, "
                    + "its counts \(counts.name) say \(size)")
            }
        case .block, .sum, .same:
            break
        }
    }

    /// Reads only the JSON header of a part file (cheap validation before loading the arrays).
    public static func header(of data: Data, path: String) throws(Failure) -> Data {
        let read = data.withUnsafeBytes { raw in
            Result { () throws(Failure) -> Data in
                var reader = ByteReader(bytes: raw, path: path)
                return try reader.header()
            }
        }
        return try read.get()
    }

    /// The words in little-endian byte order: copied as they are on little-endian machines (all Ballast runs on),
    /// swapped word by word elsewhere.
    static func appendLittleEndian(_ words: [UInt64], to out: inout Data) {
        #if _endian(little)
        words.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        words.map(\.littleEndian).withUnsafeBytes { out.append(contentsOf: $0) }
        #endif
    }

    static func append(_ value: UInt64, to out: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    static func append(string: String, to out: inout Data) {
        let bytes = Array(string.utf8)
        append(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    // MARK: - Merge

    /// Combines the parts of a sharded run into one archive over all `accountCount` canonical positions.
    /// `positions[p]` are part p's canonical positions, in the part's account order. Account arrays are placed at
    /// their positions; group arrays keep each account's elements together, accounts in canonical order; block
    /// arrays are placed by canonical block; sums are added in part order (exact for the integer-valued counts they
    /// hold); `same` arrays must be equal in every part. Every position must come from exactly one part.
    public static func merge(_ parts: [ResultArchive], positions canonical: [[CanonicalPosition]],
                             accountCount: Int) throws(Failure) -> ResultArchive {
        var parts = parts
        return try merge(consuming: &parts, positions: canonical, accountCount: accountCount)
    }

    /// `merge`, taking each array out of `parts` as soon as it is merged (the parts come out without arrays): the
    /// parts and the merged archive are never held whole at the same time (at a million accounts each is 600 MB).
    public static func merge(consuming parts: inout [ResultArchive], positions canonical: [[CanonicalPosition]],
                             accountCount: Int) throws(Failure) -> ResultArchive {
        precondition(parts.count == canonical.count && !parts.isEmpty, "merge: one position list per part")
        let positions = canonical.map { $0.map(\.index) }
        let (owner, slot) = try owners(positions, accountCount: accountCount)
        let names = parts[0].names
        for (p, part) in parts.enumerated() where Set(part.names) != Set(names) {
            throw .mismatch("part \(p) holds different arrays than part 0")
        }
        // Per counts array, each part's group offsets: taken before any array leaves the parts.
        let groupStarts = try groupOffsets(parts, positions: positions)
        var merged = ResultArchive(header: parts[0].header)
        for name in names {
            let entry = parts[0].entries[name]!
            for (p, part) in parts.enumerated() where part.entries[name]!.scope != entry.scope {
                throw .mismatch("part \(p): array \(name) has another scope than in part 0")
            }
            if entry.scope == .same {
                for (p, part) in parts.enumerated() where !sameBits(part.entries[name]!.values, entry.values) {
                    throw .mismatch("part \(p): \(name) differs from part 0 (the shards did not see the same market)")
                }
                merged.put(name, .same, entry.values)
            } else {
                var groupStart: [[Int]] = []
                if case .group(let counts) = entry.scope { groupStart = groupStarts[counts]! }
                let layout = Layout(scope: entry.scope, accountCount: accountCount, owner: owner, slot: slot,
                                    positions: positions, groupStart: groupStart, name: name)
                merged.put(name, entry.scope, try combined(name, like: entry.values, parts, layout))
            }
            for p in parts.indices { parts[p].entries[name] = nil }
        }
        return merged
    }

    /// For every counts array that groups an array of part 0, each part's group offsets (`starts`).
    private static func groupOffsets(_ parts: [ResultArchive], positions: [[Int]]) throws(Failure) -> [CountsKey: [[Int]]] {
        var offsets: [CountsKey: [[Int]]] = [:]
        for name in parts[0].names {
            guard case .group(let counts)? = parts[0].entries[name]?.scope, offsets[counts] == nil else { continue }
            offsets[counts] = try starts(of: counts, in: parts, positions: positions)
        }
        return offsets
    }

    /// The parts' array `name`, of the kind of part 0's (`first`), combined by `layout`: numbers and integers added
    /// for `.sum` (integers checked for overflow), texts taken from part 0.
    private static func combined(_ name: String, like first: Values, _ parts: [ResultArchive],
                                 _ layout: Layout) throws(Failure) -> Values {
        switch first {
        case .doubles:
            let arrays = try parts.map { part throws(Failure) -> [Double] in try part.doubles(name) }
            return .doubles(try layout.combine(arrays, zero: 0.0, add: +))
        case .ints:
            let arrays = try parts.map { part throws(Failure) -> [Int] in try part.ints(name) }
            var overflow = false
            let sums = try layout.combine(arrays, zero: 0) { a, b in
                let (sum, o) = a.addingReportingOverflow(b)
                overflow = overflow || o
                return sum
            }
            if overflow { throw .mismatch("\(name): the parts' sum overflows") }
            return .ints(sums)
        case .strings:
            let arrays = try parts.map { part throws(Failure) -> [String] in try part.strings(name) }
            return .strings(try layout.combine(arrays, zero: "", add: { a, _ in a }))
        }
    }

    /// For each canonical position, the part that holds it and its index in that part; every position exactly once.
    private static func owners(_ positions: [[Int]], accountCount: Int) throws(Failure) -> (owner: [Int32], slot: [Int32]) {
        var owner = [Int32](repeating: -1, count: accountCount)
        var slot = [Int32](repeating: -1, count: accountCount)
        for (p, list) in positions.enumerated() {
            for (i, position) in list.enumerated() {
                guard position >= 0 && position < accountCount else {
                    throw .mismatch("part \(p) covers account position \(position), outside the book's \(accountCount) accounts")
                }
                guard owner[position] < 0 else {
                    throw .mismatch("account position \(position) is covered by parts \(owner[position]) and \(p)")
                }
                owner[position] = Int32(p)
                slot[position] = Int32(i)
            }
        }
        if let missing = owner.firstIndex(of: -1) {
            throw .mismatch("no part covers account position \(missing): a shard is missing")
        }
        return (owner, slot)
    }

    /// Each part's offsets of its accounts' groups (counts summed: one more than the accounts). Checked again here,
    /// as in the reader: one count ≥ 0 per account of the part, summing without overflow.
    private static func starts(of key: CountsKey, in parts: [ResultArchive], positions: [[Int]]) throws(Failure) -> [[Int]] {
        var result: [[Int]] = []
        for (p, part) in parts.enumerated() {
            let counts = try part.counts(key)
            guard counts.count == positions[p].count else {
                throw .mismatch("part \(p): \(key.name) has \(counts.count) entries for \(positions[p].count) accounts")
            }
            var s = [0]
            s.reserveCapacity(counts.count + 1)
            for c in counts {
                let (next, overflow) = s[s.count - 1].addingReportingOverflow(c)
                guard c >= 0, !overflow else { throw .mismatch("part \(p): \(key.name) holds an impossible count \(c)") }
                s.append(next)
            }
            result.append(s)
        }
        return result
    }

    /// Where each part's elements of one array go in the merged array.
    private struct Layout {
        let scope: Scope
        let accountCount: Int
        let owner: [Int32]
        let slot: [Int32]
        let positions: [[Int]]
        let groupStart: [[Int]]
        let name: String

        func combine<T>(_ arrays: [[T]], zero: T, add: (T, T) -> T) throws(Failure) -> [T] {
            switch scope {
            case .account:
                for (p, array) in arrays.enumerated() where array.count != positions[p].count {
                    throw .mismatch("part \(p): \(name) has \(array.count) entries for \(positions[p].count) accounts")
                }
                return (0 ..< accountCount).map { arrays[Int(owner[$0])][Int(slot[$0])] }
            case .group:
                for (p, array) in arrays.enumerated() where array.count != groupStart[p].last! {
                    throw .mismatch("part \(p): \(name) has \(array.count) entries, its counts say \(groupStart[p].last!)")
                }
                var out: [T] = []
                out.reserveCapacity(arrays.reduce(0) { $0 + $1.count })
                for position in 0 ..< accountCount {
                    let p = Int(owner[position]), i = Int(slot[position])
                    out.append(contentsOf: arrays[p][groupStart[p][i] ..< groupStart[p][i + 1]])
                }
                return out
            case .block(let size, let stride):
                // Sizes from the file: no step may overflow (size ≥ 1 is checked when the file is read).
                func blocks(_ n: Int) -> Int { n == 0 ? 0 : (n - 1) / size + 1 }
                for (p, list) in positions.enumerated() {
                    let (entries, overflow) = blocks(list.count).multipliedReportingOverflow(by: stride)
                    guard !overflow, arrays[p].count == entries else {
                        throw .mismatch("part \(p): \(name) has \(arrays[p].count) entries for \(blocks(list.count)) blocks")
                    }
                }
                let blockCount = blocks(accountCount)
                let (total, overflow) = blockCount.multipliedReportingOverflow(by: stride)
                guard !overflow, total <= arrays.reduce(0, { $0 + $1.count }) else {
                    throw .mismatch("\(name): the parts do not hold its \(blockCount) blocks")
                }
                var out = [T](repeating: zero, count: total)
                var filled = [Bool](repeating: false, count: blockCount)
                for (p, list) in positions.enumerated() {
                    for b in 0 ..< blocks(list.count) {
                        let firstPosition = list[b * size]
                        guard firstPosition % size == 0 else {
                            throw .mismatch("part \(p): its blocks of \(name) do not start on block boundaries")
                        }
                        let global = firstPosition / size
                        filled[global] = true
                        for k in 0 ..< stride { out[global * stride + k] = arrays[p][b * stride + k] }
                    }
                }
                if let hole = filled.firstIndex(of: false) { throw .mismatch("no part holds block \(hole) of \(name)") }
                return out
            case .sum:
                guard arrays.allSatisfy({ $0.count == arrays[0].count }) else {
                    throw .mismatch("\(name) has different lengths in the parts")
                }
                return (0 ..< arrays[0].count).map { k in arrays.dropFirst().reduce(arrays[0][k]) { add($0, $1[k]) } }
            case .same:
                return arrays[0]
            }
        }
    }

    /// Equal element by element, numbers by their bits (NaN equals NaN).
    private static func sameBits(_ a: Values, _ b: Values) -> Bool {
        switch (a, b) {
        case (.doubles(let x), .doubles(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.bitPattern == $1.bitPattern }
        case (.ints(let x), .ints(let y)): return x == y
        case (.strings(let x), .strings(let y)): return x == y
        default: return false
        }
    }
}

/// Sequential reads from a part file's bytes with bounds checks. Numbers are read as 8 little-endian bytes
/// wherever they are (`loadUnaligned`), arrays of numbers copied in one go on little-endian machines.
private struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    /// The magic, then the JSON header (its UInt64 length, its bytes).
    mutating func header() throws(ResultArchive.Failure) -> Data {
        guard (try? self.bytes(ResultArchive.magic.count)) == ResultArchive.magic else {
            throw .unreadable(path: path, reason: "not a Ballast part file (no BALLASTPART1 header)")
        }
        return Data(try self.bytes(try count()))
    }

    /// An array's scope: its code (0 account, 1 group and the counts' name, 2 block and its size and stride, 3 sum,
    /// 4 same).
    mutating func scope(of name: String) throws(ResultArchive.Failure) -> ResultArchive.Scope {
        switch try count() {
        case 0: return .account
        case 1: return .group(counts: ResultArchive.CountsKey(try string()))
        case 2:
            let size = try count(), stride = try count()
            guard size >= 1 else { throw .unreadable(path: path, reason: "array \(name) has blocks of 0 accounts") }
            return .block(size: size, stride: stride)
        case 3: return .sum
        case 4: return .same
        default: throw .unreadable(path: path, reason: "unknown scope of array \(name)")
        }
    }

    /// An array's elements: their kind (0 numbers, 1 integers, 2 texts), their count, then the elements.
    mutating func values(of name: String) throws(ResultArchive.Failure) -> ResultArchive.Values {
        let kind = try count()
        let n = try count()
        switch kind {
        case 0: return .doubles(try words(n) { Double(bitPattern: $0) })
        case 1: return .ints(try words(n) { Int(Int64(bitPattern: $0)) })
        case 2: return .strings(try strings(n))
        default: throw .unreadable(path: path, reason: "unknown element kind of array \(name)")
        }
    }

    /// The next `n` bytes, checked to be there.
    private mutating func take(_ n: Int) throws(ResultArchive.Failure) -> UnsafeRawBufferPointer {
        guard n >= 0, remaining >= n else { throw .unreadable(path: path, reason: "truncated (the shard may still be writing, or failed)") }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])
    }

    mutating func bytes(_ n: Int) throws(ResultArchive.Failure) -> [UInt8] { Array(try take(n)) }

    mutating func count() throws(ResultArchive.Failure) -> Int {
        let value = UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self))
        guard value <= UInt64(Int.max) else { throw .unreadable(path: path, reason: "corrupt length") }
        return Int(value)
    }

    mutating func string() throws(ResultArchive.Failure) -> String {
        let n = try count()
        return String(decoding: try take(n), as: UTF8.self)
    }

    /// `n` strings. Each takes at least its 8-byte length, so a count the remaining bytes cannot hold is refused before
    /// anything is allocated (a corrupt count would otherwise ask for terabytes: fuzz-part, docs/FUZZING.md).
    mutating func strings(_ n: Int) throws(ResultArchive.Failure) -> [String] {
        guard n <= remaining / 8 else { throw .unreadable(path: path, reason: "truncated array") }
        var out: [String] = []
        out.reserveCapacity(n)
        for _ in 0 ..< n { out.append(try string()) }
        return out
    }

    /// `n` 8-byte little-endian words, each made into a `T` of 8 bytes by `make` (a Double from its bits, an Int):
    /// on a little-endian machine, where `make` keeps the bits as they are, the bytes are copied as they are.
    mutating func words<T>(_ n: Int, _ make: (UInt64) -> T) throws(ResultArchive.Failure) -> [T] {
        precondition(MemoryLayout<T>.size == 8 && MemoryLayout<T>.stride == 8)
        guard n <= remaining / 8 else { throw .unreadable(path: path, reason: "truncated array") }
        let raw = try take(8 * n)
        return [T](unsafeUninitializedCapacity: n) { elements, initialized in
            #if _endian(little)
            UnsafeMutableRawBufferPointer(elements).copyMemory(from: raw)
            #else
            for i in 0 ..< n {
                (elements.baseAddress! + i).initialize(to: make(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
            #endif
            initialized = n
        }
    }
}
