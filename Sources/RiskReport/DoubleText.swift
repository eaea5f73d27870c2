/// A Double written as the bytes of its `description` (METHODOLOGY "Outputs": the shortest decimal that reads back as
/// the same Double, no rounding), straight into a byte buffer: no String is made.
///
/// Numbers of the CSV files are almost all in 2^-11 ... 2^53 (about 0.0005 to 9·10^15) and not whole: those take the
/// path below, which finds the shortest digits with 64- and 128-bit integer arithmetic, exactly; whole numbers below
/// 2^53 are written as integers. Everything else (zero, subnormal, tiny or huge numbers) is written by the standard
/// library itself (`Double.write(to:)`, the formatter of `description`).
///
/// The shortest digits (`shortestDigits`) follow R. Giulietti's "Schubfach" method ("The Schubfach way to render
/// doubles", 2020), computed exactly instead of with its 126-bit approximations of powers of ten: for x = c·2^q with
/// −63 ≤ q < 0 the products c·10^e (e ≤ 19) fit in 128 bits, so the rounding interval's ends are compared with the
/// candidate decimals without error. Among the decimals of fewest digits in the interval it picks the one closest to
/// x, an even last digit on a tie: the choice `description` documents ("Always Short", "Always Close"), and the tests
/// compare both on millions of numbers (whole decimals, their neighbours, ties, random bit patterns).
public struct DoubleText {
    /// Room a number needs in the buffer: at most 24 bytes written ("-0.000" and 17 digits, or a standard-library
    /// text such as "-2.2250738585072014e-308"), and the digits are stored 8 bytes at a time, up to 8 bytes past the
    /// last digit: every store of `write` stays within 40 bytes of `p`.
    public static let maxBytes = 40

    /// 10^e for e in 0 ... 19, in memory of its own: the hot loop reads it through a pointer (a global array would be
    /// checked for initialisation at every read).
    private let tenToThe: UnsafePointer<UInt64>

    /// Written once, when first used, and only read afterwards.
    nonisolated(unsafe) private static let powers: UnsafeMutablePointer<UInt64> = {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 20)
        var p: UInt64 = 1
        for e in 0 ..< 20 {
            (table + e).initialize(to: p)
            if e < 19 { p *= 10 }
        }
        return table  // never freed: one table for the process
    }()

    public init() { tenToThe = UnsafePointer(Self.powers) }

    /// Writes `x` (finite) at `p` exactly as `x.description` reads; returns the number of bytes. `p` must have
    /// `maxBytes` bytes of room.
    @inline(__always)
    public func write(_ x: Double, to p: UnsafeMutableRawPointer) -> Int {
        let bits = x.bitPattern
        let biased = Int(truncatingIfNeeded: (bits >> 52) & 0x7ff)
        let c = bits & ((1 << 52) - 1) | (1 << 52)
        let q = biased &- 1075
        let negative = bits >> 63 != 0
        p.storeBytes(of: 0x2d, as: UInt8.self)  // "-", kept only when negative
        let out = p + (negative ? 1 : 0)
        let sign = negative ? 1 : 0
        if q <= 0 && q >= -52 && c & ((1 << UInt64(-q)) &- 1) == 0 {
            return sign &+ writeWhole(c >> UInt64(-q), to: out)
        }
        if bits << 1 == 0 {
            out.storeBytes(of: 0x30_2e30, as: UInt32.self)  // "0.0" (and a zero byte after it)
            return sign &+ 3
        }
        // 2^-11 ≤ |x| < 2^53 and not whole (2^-11 below a power of two would need 10^20).
        guard q < 0 && (q > -63 || q == -63 && c != 1 << 52) else { return Self.standard(x, to: p) }
        var (digits, exponent) = shortestDigits(significand: c, exponent: q)
        // 16 or 17 digits (10^17 after rounding up 17 nines), fewer once the trailing zeros are gone.
        var count = digits >= 10_000_000_000_000_000 ? (digits >= 100_000_000_000_000_000 ? 18 : 17) : 16
        if digits % 10 == 0 {
            let before = exponent
            Self.removeTrailingZeros(&digits, &exponent)
            count &-= exponent &- before
        }
        // The power of ten of the first digit: −4 ... 15 for 2^-11 ≤ |x| < 2^53.
        let first = exponent &+ count &- 1
        return sign &+ Self.place(digits, count: count, first: first, to: out)
    }

    /// Divides `digits` (≥ 1, at most 10^17) by 10 while it ends in 0, adding 1 to `exponent` each time: by 10^8, 10^4,
    /// 10^2 and 10 (a short decimal such as 3.25 comes out of `shortestDigits` as 3250000000000000·10^-15).
    @inline(__always)
    static func removeTrailingZeros(_ digits: inout UInt64, _ exponent: inout Int) {
        while divide(&digits, &exponent, by: 100_000_000, zeros: 8) {}
        _ = divide(&digits, &exponent, by: 10_000, zeros: 4)
        _ = divide(&digits, &exponent, by: 100, zeros: 2)
        _ = divide(&digits, &exponent, by: 10, zeros: 1)
    }

    /// Divides `digits` by `divisor` = 10^`zeros` when it is a multiple of it, adding `zeros` to `exponent`;
    /// returns whether it did.
    @inline(__always)
    private static func divide(_ digits: inout UInt64, _ exponent: inout Int, by divisor: UInt64, zeros: Int) -> Bool {
        guard digits % divisor == 0 else { return false }
        digits /= divisor
        exponent &+= zeros
        return true
    }

    /// "123.0": a whole number below 2^53 (`description` writes these digits, then ".0").
    @inline(__always)
    private func writeWhole(_ n: UInt64, to out: UnsafeMutableRawPointer) -> Int {
        let count = digitCount(n)
        Self.writeDigits(n, count: count, to: out)
        out.storeBytes(of: 0x302e, toByteOffset: count, as: UInt16.self)  // ".0"
        return count &+ 2
    }

    /// Writes the `count` digits of `digits`·10^(first − count + 1) as "0.00ddd", "ddd.ddd" or "ddd00.0", as
    /// `description` does for −4 ≤ first ≤ 15.
    @inline(__always)
    private static func place(_ digits: UInt64, count: Int, first: Int, to out: UnsafeMutableRawPointer) -> Int {
        if first < 0 {
            // "0.000ddd": "0." and up to three zeros in one 8-byte store, the digits after them.
            out.storeBytes(of: 0x3030_3030_3030_3030, as: UInt64.self)
            out.storeBytes(of: 0x2e, toByteOffset: 1, as: UInt8.self)
            writeDigits(digits, count: count, to: out + (1 &- first))
            return 1 &- first &+ count
        }
        if first &+ 1 < count {
            // "ddd.ddd": the digits one byte on, then the integer part moved back over the gap.
            writeDigits(digits, count: count, to: out + 1)
            var i = 0
            while i <= first {
                out.storeBytes(of: out.load(fromByteOffset: i &+ 1, as: UInt8.self), toByteOffset: i, as: UInt8.self)
                i &+= 1
            }
            out.storeBytes(of: 0x2e, toByteOffset: first &+ 1, as: UInt8.self)
            return count &+ 1
        }
        // "ddd00.0"
        writeDigits(digits, count: count, to: out)
        var i = count
        while i <= first {
            out.storeBytes(of: 0x30, toByteOffset: i, as: UInt8.self)
            i &+= 1
        }
        out.storeBytes(of: 0x302e, toByteOffset: first &+ 1, as: UInt16.self)  // ".0"
        return first &+ 3
    }

    /// The standard library's text of `x` (zero, subnormal, |x| < 2^-11 or ≥ 2^53).
    @inline(never)
    static func standard(_ x: Double, to p: UnsafeMutableRawPointer) -> Int {
        var stream = RawTextStream(start: p)
        x.write(to: &stream)
        return stream.count
    }
}

extension DoubleText {
    /// The decimal d·10^k (d = `digits`, k = `exponent`) with the fewest digits that reads back as x = c·2^q
    /// (c = `significand` in [2^52, 2^53), −63 ≤ q < 0), the closest to x among those, an even last digit on a tie.
    ///
    /// x reads back from the decimals in its rounding interval: from x − 2^(q−1) to x + 2^(q−1) (from x − 2^(q−2)
    /// below a power of two, c = 2^52), ends included when c is even. With k = ⌊log10 of the interval's width⌋, the
    /// interval holds at least one multiple of 10^k and at most one of 10^(k+1): the answer is that multiple of 10^(k+1)
    /// if there is one (sp10 or tp10, the ones either side of x), else the closer of s·10^k and t·10^k in the interval
    /// (s = ⌊x·10^-k⌋, t = s + 1). The interval's ends and x, times 4·10^-k, are compared as integers: each is
    /// (4c + δ)·10^-k·2^q, computed as a 128-bit product shifted right and rounded to odd, so that it equals an
    /// integer when exact and sits strictly between two integers otherwise, which keeps every comparison with 4·s,
    /// 4·t (multiples of 4) and 2·(s + t) exact.
    @inline(__always)
    func shortestDigits(significand c: UInt64, exponent q: Int) -> (digits: UInt64, exponent: Int) {
        let belowPowerOfTwo = c == 1 << 52
        // ⌊log10(2^q)⌋, or ⌊log10(3/4·2^q)⌋ below a power of two: fixed-point log10(2) and log10(3/4), exact for
        // |q| < 5000 (the tests check the q used here).
        let k = belowPowerOfTwo ? (q &* 661_971_961_083 &- 274_743_187_321) >> 41 : (q &* 661_971_961_083) >> 41
        let scale = tenToThe[-k]
        let shift = UInt64(-q)
        let open: UInt64 = c & 1  // odd c: the interval's ends do not read back as x
        let fourC = c << 2
        let middle = Self.scaledRoundingToOdd(fourC, scale, shift: shift)
        let lower = Self.scaledRoundingToOdd(belowPowerOfTwo ? fourC &- 1 : fourC &- 2, scale, shift: shift)
        let upper = Self.scaledRoundingToOdd(fourC &+ 2, scale, shift: shift)
        let s = middle >> 2
        let sp10 = 10 &* (s / 10), tp10 = sp10 &+ 10
        let sp10In = lower &+ open <= sp10 << 2, tp10In = (tp10 << 2) &+ open <= upper
        if sp10In != tp10In { return (sp10In ? sp10 : tp10, k) }
        let t = s &+ 1
        let sIn = lower &+ open <= s << 2, tIn = (t << 2) &+ open <= upper
        if sIn != tIn { return (sIn ? s : t, k) }
        let midpoint = (s &+ t) << 1
        return (middle < midpoint || middle == midpoint && s & 1 == 0 ? s : t, k)
    }

    /// ⌊x·scale / 2^shift⌋ with its lowest bit set when the quotient is not whole (1 ≤ shift ≤ 63; the quotient
    /// below 2^64).
    @inline(__always)
    static func scaledRoundingToOdd(_ x: UInt64, _ scale: UInt64, shift: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: scale)
        let quotient = high << (64 &- shift) | low >> shift
        return quotient | (low << (64 &- shift) == 0 ? 0 : 1)
    }

    /// The number of decimal digits of `n` (1 ≤ n < 10^19).
    @inline(__always)
    func digitCount(_ n: UInt64) -> Int {
        let bits = 64 &- n.leadingZeroBitCount
        let guess = (bits &* 1233) >> 12  // ⌊bits·log10(2)⌋: n has guess or guess + 1 digits
        return guess &+ (n >= tenToThe[guess] ? 1 : 0)
    }

    /// Writes the `count` digits of `n` (n < 10^count, count ≤ 17) at `p`; the 8 bytes after them may be overwritten.
    @inline(__always)
    static func writeDigits(_ n: UInt64, count: Int, to p: UnsafeMutableRawPointer) {
        guard count > 8 else {
            p.storeBytes(of: eightDigits(n) >> UInt64(8 &* (8 &- count)), as: UInt64.self)
            return
        }
        let high = n / 100_000_000, low = n &- high &* 100_000_000
        if count > 16 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: high / 100_000_000) | 0x30, as: UInt8.self)
            p.storeBytes(of: eightDigits(high % 100_000_000), toByteOffset: 1, as: UInt64.self)
        } else {
            p.storeBytes(of: eightDigits(high) >> UInt64(8 &* (16 &- count)), as: UInt64.self)
        }
        p.storeBytes(of: eightDigits(low), toByteOffset: count &- 8, as: UInt64.self)
    }

    /// The eight decimal digits of `n` (< 10^8) as ASCII, the first digit in the lowest byte (little-endian stores),
    /// split in halves, quarters and digits in the lanes of one 64-bit word (the tests check all 10^8 values).
    @inline(__always)
    static func eightDigits(_ n: UInt64) -> UInt64 {
        let high4 = (n &* 109_951_163) >> 40  // n / 10_000 for n < 10^8
        let fours = high4 | (n &- high4 &* 10_000) << 32
        let high2 = ((fours &* 5243) >> 19) & 0x0000_007f_0000_007f  // lane / 100 for lanes < 10^4
        let pairs = high2 | (fours &- high2 &* 100) << 16
        let high1 = ((pairs &* 103) >> 10) & 0x000f_000f_000f_000f  // lane / 10 for lanes < 100
        let singles = high1 | (pairs &- high1 &* 10) << 8
        return singles | 0x3030_3030_3030_3030
    }
}

/// The standard library's number text, written into raw memory (what `Double.write(to:)` calls).
struct RawTextStream: TextOutputStream {
    let start: UnsafeMutableRawPointer
    var count = 0

    mutating func write(_ string: String) {
        for byte in string.utf8 {
            start.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
            count += 1
        }
    }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress else { return }
        (start + count).copyMemory(from: base, byteCount: buffer.count)
        count += buffer.count
    }
}
