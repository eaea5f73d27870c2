import Foundation

/// Named arrays of a run's results for part of a book, in a compact binary file, and the merge that puts the parts
/// of a sharded run back together.
///
/// Every array says how a merge combines it (`Scope`): per account (placed at the accounts' canonical positions),
/// in groups of variable length per account (a holding's figures, an account's target rows), per block of
/// accounts (partial sums that one run adds in block order), summed over the parts (diagnostic counts) or equal in
/// every part (a scalar of the market, such as the settlement haircut). Numbers are stored as their IEEE-754 bits,
/// so a merge reproduces them exactly.
///
/// File layout (little-endian): the magic `BALLASTPART1`, a UInt64 byte length, a JSON header of that length (the
/// caller's metadata), then the arrays: for each, its name, scope, kind and element count, then the elements.
public struct ResultArchive: Sendable {
    /// How a merge combines an array.
    public enum Scope: Sendable, Equatable {
        /// One element per account of the part, in the part's order.
        case account
        /// Per account of the part, `counts[a]` consecutive elements (the counts: an account-scope integer array).
        case group(counts: String)
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
        names.append(name)
        entries[name] = Entry(scope: scope, values: values)
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

    // MARK: - File format

    static let magic = Array("BALLASTPART1".utf8)

    public func serialized() -> Data {
        var out = Data()
        out.append(contentsOf: Self.magic)
        Self.append(UInt64(header.count), to: &out)
        out.append(header)
        Self.append(UInt64(names.count), to: &out)
        for name in names {
            let entry = entries[name]!
            Self.append(string: name, to: &out)
            switch entry.scope {
            case .account: Self.append(UInt64(0), to: &out)
            case .group(let counts): Self.append(UInt64(1), to: &out); Self.append(string: counts, to: &out)
            case .block(let size, let stride):
                Self.append(UInt64(2), to: &out); Self.append(UInt64(size), to: &out); Self.append(UInt64(stride), to: &out)
            case .sum: Self.append(UInt64(3), to: &out)
            case .same: Self.append(UInt64(4), to: &out)
            }
            switch entry.values {
            case .doubles(let v):
                Self.append(UInt64(0), to: &out); Self.append(UInt64(v.count), to: &out)
                Self.appendLittleEndian(v.map(\.bitPattern), to: &out)
            case .ints(let v):
                Self.append(UInt64(1), to: &out); Self.append(UInt64(v.count), to: &out)
                Self.appendLittleEndian(v.map { UInt64(bitPattern: Int64($0)) }, to: &out)
            case .strings(let v):
                Self.append(UInt64(2), to: &out); Self.append(UInt64(v.count), to: &out)
                for s in v { Self.append(string: s, to: &out) }
            }
        }
        return out
    }

    public init(serialized data: Data, path: String) throws(Failure) {
        var reader = ByteReader(data: data, path: path)
        guard (try? reader.bytes(Self.magic.count)) == Self.magic else {
            throw .unreadable(path: path, reason: "not a Ballast part file (no BALLASTPART1 header)")
        }
        let headerLength = try reader.count()
        header = Data(try reader.bytes(headerLength))
        let entryCount = try reader.count()
        for _ in 0 ..< entryCount {
            let name = try reader.string()
            let scope: Scope
            switch try reader.count() {
            case 0: scope = .account
            case 1: scope = .group(counts: try reader.string())
            case 2:
                let size = try reader.count(), stride = try reader.count()
                guard size >= 1 else { throw .unreadable(path: path, reason: "array \(name) has blocks of 0 accounts") }
                scope = .block(size: size, stride: stride)
            case 3: scope = .sum
            case 4: scope = .same
            default: throw .unreadable(path: path, reason: "unknown scope of array \(name)")
            }
            let kind = try reader.count()
            let count = try reader.count()
            let values: Values
            switch kind {
            case 0: values = .doubles(try reader.doubles(count))
            case 1: values = .ints(try reader.int64s(count).map { Int($0) })
            case 2: values = .strings(try reader.strings(count))
            default: throw .unreadable(path: path, reason: "unknown element kind of array \(name)")
            }
            if entries[name] != nil { throw .unreadable(path: path, reason: "array \(name) appears twice") }
            names.append(name)
            entries[name] = Entry(scope: scope, values: values)
        }
        guard reader.atEnd else { throw .unreadable(path: path, reason: "trailing bytes after the last array") }
    }

    /// Reads only the JSON header of a part file (cheap validation before loading the arrays).
    public static func header(of data: Data, path: String) throws(Failure) -> Data {
        var reader = ByteReader(data: data, path: path)
        guard (try? reader.bytes(magic.count)) == magic else {
            throw .unreadable(path: path, reason: "not a Ballast part file (no BALLASTPART1 header)")
        }
        return Data(try reader.bytes(try reader.count()))
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
    public static func merge(_ parts: [ResultArchive], positions: [[Int]], accountCount: Int) throws(Failure) -> ResultArchive {
        precondition(parts.count == positions.count && !parts.isEmpty, "merge: one position list per part")
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
        let first = parts[0]
        for (p, part) in parts.enumerated() where Set(part.names) != Set(first.names) {
            throw .mismatch("part \(p) holds different arrays than part 0")
        }
        var merged = ResultArchive(header: first.header)
        // Group offsets per part, by counts array name.
        var groupStarts: [String: [[Int]]] = [:]
        func starts(_ countsName: String) throws(Failure) -> [[Int]] {
            if let cached = groupStarts[countsName] { return cached }
            var result: [[Int]] = []
            for (p, part) in parts.enumerated() {
                let counts = try part.ints(countsName)
                // One count ≥ 0 per account, summing without overflow (checked: the file's numbers are not trusted).
                guard counts.count == positions[p].count else {
                    throw .mismatch("part \(p): \(countsName) has \(counts.count) entries for \(positions[p].count) accounts")
                }
                var s = [0]
                s.reserveCapacity(counts.count + 1)
                for c in counts {
                    let (next, overflow) = s[s.count - 1].addingReportingOverflow(c)
                    guard c >= 0, !overflow else { throw .mismatch("part \(p): \(countsName) holds an impossible count \(c)") }
                    s.append(next)
                }
                result.append(s)
            }
            groupStarts[countsName] = result
            return result
        }
        for name in first.names {
            let entry = first.entries[name]!
            for (p, part) in parts.enumerated() where part.entries[name]!.scope != entry.scope {
                throw .mismatch("part \(p): array \(name) has another scope than in part 0")
            }
            if entry.scope == .same {
                for (p, part) in parts.enumerated() where !sameBits(part.entries[name]!.values, entry.values) {
                    throw .mismatch("part \(p): \(name) differs from part 0 (the shards did not see the same market)")
                }
                merged.put(name, .same, entry.values)
                continue
            }
            var groupStart: [[Int]] = []
            if case .group(let countsName) = entry.scope { groupStart = try starts(countsName) }
            let layout = Layout(scope: entry.scope, accountCount: accountCount, owner: owner, slot: slot,
                                positions: positions, groupStart: groupStart, name: name)
            switch entry.values {
            case .doubles:
                let arrays = try parts.map { part throws(Failure) -> [Double] in try part.doubles(name) }
                merged.put(name, entry.scope, .doubles(try layout.combine(arrays, zero: 0.0, add: +)))
            case .ints:
                let arrays = try parts.map { part throws(Failure) -> [Int] in try part.ints(name) }
                var overflow = false
                let sums = try layout.combine(arrays, zero: 0) { a, b in
                    let (sum, o) = a.addingReportingOverflow(b)
                    overflow = overflow || o
                    return sum
                }
                if overflow { throw .mismatch("\(name): the parts' sum overflows") }
                merged.put(name, entry.scope, .ints(sums))
            case .strings:
                let arrays = try parts.map { part throws(Failure) -> [String] in try part.strings(name) }
                merged.put(name, entry.scope, .strings(try layout.combine(arrays, zero: "", add: { a, _ in a })))
            }
        }
        return merged
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

/// Sequential reads from a part file's bytes with bounds checks.
private struct ByteReader {
    let data: Data
    let path: String
    var offset = 0

    init(data: Data, path: String) {
        self.data = data
        self.path = path
    }

    var atEnd: Bool { offset == data.count }

    mutating func bytes(_ n: Int) throws(ResultArchive.Failure) -> [UInt8] {
        guard n >= 0, data.count - offset >= n else { throw .unreadable(path: path, reason: "truncated (the shard may still be writing, or failed)") }
        defer { offset += n }
        let start = data.startIndex + offset
        return Array(data[start ..< start + n])
    }

    mutating func count() throws(ResultArchive.Failure) -> Int {
        let raw = try bytes(8)
        var value: UInt64 = 0
        for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        guard value <= UInt64(Int.max) else { throw .unreadable(path: path, reason: "corrupt length") }
        return Int(value)
    }

    mutating func string() throws(ResultArchive.Failure) -> String {
        let n = try count()
        return String(decoding: try bytes(n), as: UTF8.self)
    }

    /// `n` strings. Each takes at least its 8-byte length, so a count the remaining bytes cannot hold is refused before
    /// anything is allocated (a corrupt count would otherwise ask for terabytes: fuzz-part, docs/FUZZING.md).
    mutating func strings(_ n: Int) throws(ResultArchive.Failure) -> [String] {
        guard n <= (data.count - offset) / 8 else { throw .unreadable(path: path, reason: "truncated array") }
        var out: [String] = []
        out.reserveCapacity(n)
        for _ in 0 ..< n { out.append(try string()) }
        return out
    }

    mutating func doubles(_ n: Int) throws(ResultArchive.Failure) -> [Double] {
        guard n <= (data.count - offset) / 8 else { throw .unreadable(path: path, reason: "truncated array") }
        let start = data.startIndex + offset
        offset += 8 * n
        return data[start ..< start + 8 * n].withUnsafeBytes { raw in
            (0 ..< n).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) }
        }
    }

    mutating func int64s(_ n: Int) throws(ResultArchive.Failure) -> [Int64] {
        guard n <= (data.count - offset) / 8 else { throw .unreadable(path: path, reason: "truncated array") }
        let start = data.startIndex + offset
        offset += 8 * n
        return data[start ..< start + 8 * n].withUnsafeBytes { raw in
            (0 ..< n).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
        }
    }
}
