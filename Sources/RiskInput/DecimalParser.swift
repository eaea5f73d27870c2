#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of reading one numeric cell.
enum ParsedNumber: Equatable {
    case value(Double)
    /// Nothing but spaces.
    case empty
    /// Not a plain decimal number (`1,5e3`, `abc`, `inf`, `0x10`).
    case invalid
    /// A decimal number too large for a Double (`1e400`).
    case outOfRange
}

/// Correctly rounded parser of plain decimal numbers (`[+-]digits[.digits][e[+-]digits]`, `.5` and `5.` too),
/// straight from file bytes.
///
/// Fast path (Clinger 1990): when the significand has at most 19 digits, fits in 2^53 and the decimal exponent
/// is within ±22, `m × 10^e` or `m / 10^−e` is one correctly rounded IEEE operation on exact operands.
/// Anything else goes to the C library's `strtod` (correctly rounded in glibc and Apple's libc) on a
/// NUL-terminated scratch copy; the grammar is checked first, so `strtod`'s extras (hex, inf, nan,
/// leading spaces) never get through.
struct DecimalParser {
    /// NUL-terminated copy of a cell for `strtod`.
    private var scratch = [CChar](repeating: 0, count: 64)
    /// `strtod` follows LC_NUMERIC; when the process locale's decimal point is not `.`, use Swift's parser.
    private let cLocaleDecimalPoint: Bool

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    init() {
        if let point = localeconv()?.pointee.decimal_point {
            cLocaleDecimalPoint = String(cString: point) == "."
        } else {
            cLocaleDecimalPoint = true
        }
    }

    /// Parses `bytes[start ..< end]`, ignoring surrounding spaces and tabs.
    @inline(__always)
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> ParsedNumber {
        guard let base = bytes.baseAddress else { return .empty }
        var s = start, e = end
        while s < e && (base[s] == ascii.space || base[s] == ascii.tab) { s += 1 }
        while e > s && (base[e - 1] == ascii.space || base[e - 1] == ascii.tab) { e -= 1 }
        if s == e { return .empty }

        var i = s
        var negative = false
        if base[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if base[i] == UInt8(ascii: "+") { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits kept in `mantissa`
        var truncated = false   // more significant digits than fit
        var decimalExponent = 0
        var sawDigit = false
        while i < e {
            let d = base[i] &- 48
            guard d < 10 else { break }
            sawDigit = true
            if mantissa == 0 && d == 0 {
                // leading zero
            } else if digits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(d); digits += 1
            } else {
                truncated = true; decimalExponent += 1
            }
            i += 1
        }
        if i < e && base[i] == UInt8(ascii: ".") {
            i += 1
            while i < e {
                let d = base[i] &- 48
                guard d < 10 else { break }
                sawDigit = true
                if mantissa == 0 && d == 0 {
                    decimalExponent -= 1
                } else if digits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d); digits += 1; decimalExponent -= 1
                } else {
                    truncated = true
                }
                i += 1
            }
        }
        guard sawDigit else { return .invalid }
        if i < e && (base[i] == UInt8(ascii: "e") || base[i] == UInt8(ascii: "E")) {
            i += 1
            var negativeExponent = false
            if i < e && base[i] == UInt8(ascii: "-") { negativeExponent = true; i += 1 } else if i < e && base[i] == UInt8(ascii: "+") { i += 1 }
            var exponent = 0
            var sawExponentDigit = false
            while i < e {
                let d = base[i] &- 48
                guard d < 10 else { break }
                sawExponentDigit = true
                if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
                i += 1
            }
            guard sawExponentDigit else { return .invalid }
            decimalExponent += negativeExponent ? -exponent : exponent
        }
        guard i == e else { return .invalid }

        if mantissa == 0 { return .value(negative ? -0.0 : 0.0) }
        if !truncated && mantissa <= 1 << 53 && decimalExponent >= -22 && decimalExponent <= 22 {
            let m = Double(mantissa)
            let v = decimalExponent >= 0 ? m * Self.powersOfTen[decimalExponent] : m / Self.powersOfTen[-decimalExponent]
            return .value(negative ? -v : v)
        }
        let v = slowPath(base + s, e - s)
        return v.isFinite ? .value(v) : .outOfRange
    }

    /// `strtod` on a NUL-terminated copy (the text already matched the decimal grammar).
    private mutating func slowPath(_ p: UnsafePointer<UInt8>, _ length: Int) -> Double {
        if !cLocaleDecimalPoint {
            return Double(String(decoding: UnsafeBufferPointer(start: p, count: length), as: UTF8.self)) ?? .nan
        }
        if length + 1 > scratch.count { scratch = [CChar](repeating: 0, count: max(length + 1, 2 * scratch.count)) }
        return scratch.withUnsafeMutableBufferPointer { buffer in
            let s = buffer.baseAddress!
            UnsafeMutableRawPointer(s).copyMemory(from: p, byteCount: length)
            s[length] = 0
            return strtod(s, nil)
        }
    }

    /// Parses a Swift string (used for small files and tests).
    mutating func parse(_ text: String) -> ParsedNumber {
        var copy = Array(text.utf8)
        return copy.withUnsafeMutableBufferPointer { parse(UnsafeBufferPointer($0), 0, $0.count) }
    }
}
