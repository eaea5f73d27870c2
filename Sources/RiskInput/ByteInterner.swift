#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing hash set of byte strings that numbers them 0, 1, 2, … in order of first insertion.
///
/// Used for account ids and tickers in positions.csv so that a row costs no `String` and no `Dictionary`
/// lookup: keys are hashed and compared as raw bytes, and kept in one contiguous arena.
struct ByteInterner {
    private var arena: [UInt8] = []
    /// Start of key i in `arena`; `starts[count]` is the arena's end.
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Each slot: the hash's high 32 bits << 32 | (key index + 1); 0 = empty. Keeping part of the hash in the
    /// slot rejects most non-matching keys without touching `hashes`, `starts` or `arena` (cache misses).
    private var slots: [UInt64]
    private var shift: UInt64

    init(capacity: Int = 16) {
        var bits: UInt64 = 4
        while (1 << bits) < 2 * capacity { bits += 1 }
        slots = [UInt64](repeating: 0, count: 1 << bits)
        shift = 64 - bits
    }

    var count: Int { hashes.count }

    /// The bytes of key i as a String.
    func string(_ i: Int) -> String {
        arena.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[starts[i] ..< starts[i + 1]]), as: UTF8.self) }
    }

    /// FNV-1a, 64 bit.
    @inline(__always)
    private static func hash(_ p: UnsafePointer<UInt8>, _ length: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in 0 ..< length { h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01B3 }
        return h
    }

    @inline(__always)
    private func slot(of h: UInt64) -> Int { Int(truncatingIfNeeded: (h &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    @inline(__always)
    private static func tag(_ h: UInt64) -> UInt64 { h & 0xFFFF_FFFF_0000_0000 }

    @inline(__always)
    private func matches(_ slotValue: UInt64, _ h: UInt64, _ p: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        guard slotValue & 0xFFFF_FFFF_0000_0000 == Self.tag(h) else { return false }
        let key = Int(slotValue & 0xFFFF_FFFF) - 1
        let s = starts[key]
        guard starts[key + 1] - s == length else { return false }
        if length == 0 { return true }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + s, p, length) == 0 }
    }

    /// Index of the key, if present.
    func find(_ p: UnsafePointer<UInt8>, _ length: Int) -> Int? {
        let h = Self.hash(p, length)
        let mask = slots.count - 1
        var i = slot(of: h)
        while true {
            let v = slots[i]
            if v == 0 { return nil }
            if matches(v, h, p, length) { return Int(v & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
    }

    /// Index of the key, inserting it when new.
    mutating func intern(_ p: UnsafePointer<UInt8>, _ length: Int) -> (index: Int, inserted: Bool) {
        let h = Self.hash(p, length)
        let mask = slots.count - 1
        var i = slot(of: h)
        while true {
            let v = slots[i]
            if v == 0 { break }
            if matches(v, h, p, length) { return (Int(v & 0xFFFF_FFFF) - 1, false) }
            i = (i + 1) & mask
        }
        let index = hashes.count
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: length))
        starts.append(arena.count)
        hashes.append(h)
        slots[i] = Self.tag(h) | UInt64(index + 1)
        if 2 * hashes.count > slots.count { grow() }
        return (index, true)
    }

    mutating func intern(_ s: String) -> (index: Int, inserted: Bool) {
        var bytes = Array(s.utf8)
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { intern($0.baseAddress!, $0.count - 1) }
    }

    func find(_ s: String) -> Int? {
        var bytes = Array(s.utf8)
        bytes.append(0)
        return bytes.withUnsafeBufferPointer { find($0.baseAddress!, $0.count - 1) }
    }

    private mutating func grow() {
        let size = slots.count * 2
        shift -= 1
        var fresh = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for (key, h) in hashes.enumerated() {
            var i = slot(of: h)
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = Self.tag(h) | UInt64(key + 1)
        }
        slots = fresh
    }
}

/// Open-addressing map from (account, asset) to an entry index, for accounts whose rows are not contiguous.
struct PairTable {
    private var keys: [UInt64]
    private var values: [Int32]
    private var shift: UInt64
    private(set) var count = 0
    private static let empty = UInt64.max

    init() {
        keys = [UInt64](repeating: Self.empty, count: 1 << 10)
        values = [Int32](repeating: 0, count: 1 << 10)
        shift = 64 - 10
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    @inline(__always)
    static func key(_ account: Int32, _ asset: Int32) -> UInt64 { UInt64(UInt32(account)) << 32 | UInt64(UInt32(asset)) }

    /// The entry of `key`, if present.
    @inline(__always)
    func find(_ key: UInt64) -> Int32? {
        let mask = keys.count - 1
        var i = slot(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// Adds a key known to be absent.
    mutating func insert(_ key: UInt64, _ value: Int32) {
        if 2 * (count + 1) > keys.count { grow() }
        let mask = keys.count - 1
        var i = slot(key)
        while keys[i] != Self.empty { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
        count += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [Int32](repeating: 0, count: oldKeys.count * 2)
        shift -= 1
        count = 0
        for (i, k) in oldKeys.enumerated() where k != Self.empty { insert(k, oldValues[i]) }
    }
}
