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
    /// Key index + 1 in each slot, 0 = empty.
    private var slots: [Int32]
    private var shift: UInt64

    init(capacity: Int = 16) {
        var bits: UInt64 = 4
        while (1 << bits) < 2 * capacity { bits += 1 }
        slots = [Int32](repeating: 0, count: 1 << bits)
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
    private func matches(_ key: Int, _ h: UInt64, _ p: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        guard hashes[key] == h else { return false }
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
            let k = Int(slots[i])
            if k == 0 { return nil }
            if matches(k - 1, h, p, length) { return k - 1 }
            i = (i + 1) & mask
        }
    }

    /// Index of the key, inserting it when new.
    mutating func intern(_ p: UnsafePointer<UInt8>, _ length: Int) -> (index: Int, inserted: Bool) {
        let h = Self.hash(p, length)
        let mask = slots.count - 1
        var i = slot(of: h)
        while true {
            let k = Int(slots[i])
            if k == 0 { break }
            if matches(k - 1, h, p, length) { return (k - 1, false) }
            i = (i + 1) & mask
        }
        let index = hashes.count
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: length))
        starts.append(arena.count)
        hashes.append(h)
        slots[i] = Int32(index + 1)
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
        var fresh = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for (key, h) in hashes.enumerated() {
            var i = slot(of: h)
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = Int32(key + 1)
        }
        slots = fresh
    }
}
