/// CSV or JSON text being built, in memory of its own that grows as needed: numbers and integers are formatted
/// straight into its free space (`DoubleText`), texts copied from their UTF-8 storage. `finish()` hands the bytes over.
///
/// Raw memory, as the hottest loop of the report phase: every write is preceded by `reserve` of the most bytes it
/// may store (`DoubleText.maxBytes` for a number, twice a text's length plus 3 for a quoted cell, the cells' bytes
/// plus one separator per cell for `appendLines`), so no store goes past `capacity`. Noncopyable: one owner frees it.
struct TextBuffer: ~Copyable {
    /// Start of the memory: `count` bytes written, `capacity` bytes allocated.
    private var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int
    private let numbers = DoubleText()

    init(capacity: Int = 1 << 20) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// The text written, as bytes the caller owns (the buffer is consumed).
    consuming func finish() -> RenderedText {
        let text = RenderedText(base: base, count: count)
        discard self
        return text
    }

    /// The text written, copied into an array (the buffer is consumed).
    consuming func bytes() -> [UInt8] {
        let copy = [UInt8](UnsafeRawBufferPointer(start: base, count: count))
        return copy
    }

    /// Empties the buffer, keeping its memory.
    mutating func removeAll() { count = 0 }

    /// Lines of cells rendered column by column into `cells`: cell (row r, column c) ends at `ends[c·rows + r]` and
    /// starts where the one before it in that order ends. Cells are separated by commas, lines end with LF.
    mutating func appendLines(cells: borrowing TextBuffer, ends: UnsafeBufferPointer<Int>, rows: Int, columns: Int) {
        reserve(cells.count &+ rows &* columns)
        for r in 0 ..< rows {
            var k = r
            for c in 0 ..< columns {
                let start = k == 0 ? 0 : ends[k &- 1]
                Self.copySmall(from: cells.base + start, to: base + count, byteCount: ends[k] &- start)
                count &+= ends[k] &- start
                put(c &+ 1 < columns ? 44 : 10)
                k &+= rows
            }
        }
    }

    /// Copies `byteCount` bytes (most cells are 1 to 24) with a few unaligned loads and stores instead of a call to
    /// memmove; reads and writes only the bytes given (the ranges do not overlap).
    @inline(__always)
    private static func copySmall(from source: UnsafeMutableRawPointer, to target: UnsafeMutableRawPointer, byteCount n: Int) {
        if n >= 8 {
            var i = 0
            while i &+ 8 < n {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
                i &+= 8
            }
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self), toByteOffset: n &- 8,
                              as: UInt64.self)
        } else if n >= 4 {
            target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self), toByteOffset: n &- 4,
                              as: UInt32.self)
        } else {
            for i in 0 ..< n { target.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        }
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count &+ extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(raw: UnsafeRawBufferPointer($0)) }
    }

    mutating func append(raw bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count &+= bytes.count
    }

    /// A number in shortest round-trip form (METHODOLOGY "Outputs": no rounding), the bytes of its `description`;
    /// NaN and infinities as an empty cell.
    @inline(__always)
    mutating func append(number x: Double) {
        guard x.isFinite else { return }
        reserve(DoubleText.maxBytes)
        count &+= numbers.write(x, to: base + count)
    }

    /// An integer count, as `String(x)` writes it.
    @inline(__always)
    mutating func append(integer x: Int) {
        let magnitude = x.magnitude
        guard magnitude < 100_000_000_000_000_000 else { return append(String(x)) }  // 17 digits or fewer below
        reserve(DoubleText.maxBytes)
        if x < 0 {
            base.storeBytes(of: 0x2d, toByteOffset: count, as: UInt8.self)  // "-"
            count &+= 1
        }
        let digits = magnitude == 0 ? 1 : numbers.digitCount(UInt64(magnitude))
        DoubleText.writeDigits(UInt64(magnitude), count: digits, to: base + count)
        count &+= digits
    }

    /// A CSV text cell (`CSVText.neutralised`, then quoted per RFC 4180 when it holds a comma, quote, CR or LF).
    mutating func append(csvText text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { append(csvUTF8: $0) }
        if done == nil { append(csvUTF8: Array(text.utf8)) }
    }

    private mutating func append(csvUTF8 utf8: some Collection<UInt8>) {
        guard let first = utf8.first else { return }
        let formula = first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
            || first == UInt8(ascii: "@")
        let quoted = utf8.contains { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }
        reserve(2 &* utf8.count &+ 3)
        if quoted { put(34) }
        if formula { put(39) }  // "'"
        if quoted {
            for byte in utf8 {
                if byte == 34 { put(34) }
                put(byte)
            }
            put(34)
        } else {
            for byte in utf8 { put(byte) }
        }
    }

    /// One byte into room already reserved.
    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }
}

/// Text rendered by a `TextBuffer`: its bytes, freed with the object.
final class RenderedText: @unchecked Sendable {
    // Sendable: the memory is written before the object exists and only read afterwards.
    private let base: UnsafeMutableRawPointer
    let count: Int

    init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    deinit { base.deallocate() }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// METHODOLOGY "Outputs" text-cell rules shared by every CSV writer.
public enum CSVText {
    /// `'` + text when the text starts with `=`, `+`, `-` or `@` (a spreadsheet formula); otherwise the text.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.utf8.first else { return text }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"): return "'" + text
        default: return text
        }
    }
}
