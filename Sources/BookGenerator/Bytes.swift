import Foundation

// Byte-level text building and file output for the generator: numbers are formatted into
// [UInt8] buffers without intermediate Strings and written in large chunks.

enum ASCII {
    static let comma = UInt8(ascii: ",")
    static let newline = UInt8(ascii: "\n")
    static let minus = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let zero = UInt8(ascii: "0")
}

/// Exact powers of ten 10^0 ... 10^22 (every one is representable in a Double).
let exactPowersOfTen: [Double] = {
    var p: [Double] = []
    var v = 1.0
    for _ in 0...22 {
        p.append(v)
        v *= 10
    }
    return p
}()

let powersOfTenU64: [UInt64] = {
    var p: [UInt64] = []
    var v: UInt64 = 1
    for _ in 0...19 {
        p.append(v)
        v = v &* 10
    }
    return p
}()

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendASCII(_ s: String) {
        append(contentsOf: s.utf8)
    }

    /// Decimal digits of v, left-padded with zeros to `width`.
    mutating func appendUInt(_ v: UInt64, width: Int = 0) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = v
        var count = 0
        Swift.withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[19 - count] = ASCII.zero + UInt8(n % 10)
                n /= 10
                count += 1
            } while n > 0
        }
        if width > count {
            for _ in 0..<(width - count) { append(ASCII.zero) }
        }
        Swift.withUnsafeBytes(of: &digits) { raw in
            append(contentsOf: raw[(20 - count)...])
        }
    }

    /// Appends `value` rounded to `digits` significant digits in plain decimal notation
    /// (no exponent, trailing fractional zeros removed) and returns the Double that the
    /// written text denotes (what a correct parser reads back).
    @discardableResult
    mutating func appendSignificant(_ value: Double, digits: Int) -> Double {
        precondition(digits >= 1 && digits <= 17)
        guard value.isFinite else {
            appendASCII("nan")
            return .nan
        }
        if value == 0 {
            append(ASCII.zero)
            return 0
        }
        var x = value
        if x < 0 {
            append(ASCII.minus)
            x = -x
        }
        let (mantissa, exponent) = decimalDigits(x, digits: digits)
        // value ≈ mantissa × 10^(exponent − digits + 1), mantissa has exactly `digits` digits.
        var m = mantissa
        var scale = exponent - digits + 1
        // Strip trailing zeros of the mantissa for both printing and reconstruction.
        var nd = digits
        while nd > 1 && m % 10 == 0 {
            m /= 10
            nd -= 1
            scale += 1
        }
        // Render m × 10^scale.
        let start = count
        appendUInt(m)
        if scale > 0 {
            for _ in 0..<scale { append(ASCII.zero) }
        } else if scale < 0 {
            let frac = -scale
            if frac >= nd {
                // 0.000ddd
                insert(contentsOf: repeatElement(ASCII.zero, count: frac - nd + 2), at: start)
                self[start + 1] = ASCII.dot
            } else {
                insert(ASCII.dot, at: start + nd - frac)
            }
        }
        // Exact reconstruction: one correctly rounded operation on exact operands equals
        // the correctly rounded decimal.
        let parsed: Double
        if scale >= 0 && scale <= 22 {
            parsed = Double(m) * exactPowersOfTen[scale]
        } else if scale < 0 && -scale <= 22 {
            parsed = Double(m) / exactPowersOfTen[-scale]
        } else {
            parsed = Double("\(m)e\(scale)") ?? x
        }
        return value < 0 ? -parsed : parsed
    }
}

/// (mantissa with exactly `digits` digits, decimal exponent of the leading digit) for x > 0.
@inline(__always)
func decimalDigits(_ x: Double, digits: Int) -> (UInt64, Int) {
    var e = Int((Double(x.exponent) * 0.301_029_995_663_981_2).rounded(.down))
    let lower = powersOfTenU64[digits - 1]
    let upper = powersOfTenU64[digits]
    for _ in 0..<6 {
        let p = digits - 1 - e
        let scaled: Double
        if p >= 0 {
            if p <= 22 {
                scaled = x * exactPowersOfTen[p]
            } else {
                var s = x
                var q = p
                while q > 22 { s *= 1e22; q -= 22 }
                scaled = s * exactPowersOfTen[q]
            }
        } else {
            if -p <= 22 {
                scaled = x / exactPowersOfTen[-p]
            } else {
                var s = x
                var q = -p
                while q > 22 { s /= 1e22; q -= 22 }
                scaled = s / exactPowersOfTen[q]
            }
        }
        let r = scaled.rounded()
        if r >= Double(upper) {
            e += 1
            continue
        }
        if r < Double(lower) {
            e -= 1
            continue
        }
        return (UInt64(r), e)
    }
    // Unreachable for finite positive input; fall back to a safe value.
    return (lower, e)
}

/// A file written through a large byte buffer, created as `<name>.partial` and renamed into
/// place by `commit()`.
final class OutputFile {
    let finalURL: URL
    let partialURL: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let flushThreshold = 1 << 22

    init(_ url: URL) throws {
        finalURL = url
        partialURL = url.deletingLastPathComponent()
            .appendingPathComponent("." + url.lastPathComponent + ".partial")
        let path = partialURL.path
        _ = try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw BookGeneratorError.io(path: path, reason: "cannot create file")
        }
        do {
            handle = try FileHandle(forWritingTo: partialURL)
        } catch {
            throw BookGeneratorError.io(path: path, reason: "\(ErrorText.describe(error))")
        }
        buffer.reserveCapacity(flushThreshold + (1 << 16))
    }

    /// Appends through the internal buffer.
    func append(_ body: (inout [UInt8]) -> Void) throws {
        body(&buffer)
        if buffer.count >= flushThreshold { try flush() }
    }

    /// Writes a large block (flushes the internal buffer first, keeps order).
    func write(_ bytes: [UInt8]) throws {
        if bytes.count < 1 << 16 {
            buffer.append(contentsOf: bytes)
            if buffer.count >= flushThreshold { try flush() }
            return
        }
        try flush()
        try rawWrite(bytes)
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try rawWrite(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func rawWrite(_ bytes: [UInt8]) throws {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw BookGeneratorError.io(path: finalURL.path, reason: "write failed: \(ErrorText.describe(error))")
        }
    }

    /// Flushes, closes and renames the file into place.
    func commit() throws {
        try flush()
        do {
            try handle.close()
        } catch {
            throw BookGeneratorError.io(path: finalURL.path, reason: "close failed: \(ErrorText.describe(error))")
        }
        let fm = FileManager.default
        if fm.fileExists(atPath: finalURL.path) {
            do { try fm.removeItem(at: finalURL) } catch {
                throw BookGeneratorError.io(path: finalURL.path, reason: "cannot replace existing file: \(ErrorText.describe(error))")
            }
        }
        do {
            try fm.moveItem(at: partialURL, to: finalURL)
        } catch {
            throw BookGeneratorError.io(path: finalURL.path, reason: "cannot move file into place: \(ErrorText.describe(error))")
        }
    }

    /// Closes and deletes the partial file (after an error).
    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: partialURL)
    }
}
