import Foundation
import LinearAlgebra
@testable import RiskReport
import Testing

/// `DoubleText` writes the bytes of `description`: checked against `description` itself on whole decimals and their
/// neighbours, numbers near powers of two (ties between two shortest decimals), every magnitude, random bit patterns.
@Suite struct DoubleTextTests {
    let text = DoubleText()

    func written(_ x: Double) -> String {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: DoubleText.maxBytes, alignment: 8)
        defer { buffer.deallocate() }
        let count = text.write(x, to: buffer)
        return String(decoding: UnsafeRawBufferPointer(start: buffer, count: count), as: UTF8.self)
    }

    /// The values that differ from `description`, with both texts (at most 10).
    func mismatches(_ values: some Sequence<Double>) -> [String] {
        var found: [String] = []
        for x in values where x.isFinite && found.count < 10 {
            let mine = written(x)
            if mine != x.description { found.append("\(x.description) (bits \(String(x.bitPattern, radix: 16))) written as \(mine)") }
        }
        return found
    }

    @Test func wholeDecimalsAndTheirNeighbours() {
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.5, 1e-4, 5e-4, 1e15, 1e16, 9007199254740992, 9007199254740994,
                                .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, .pi, -2.5e-8]
        for exponent in -24 ... 24 {
            for digits in [1, 2, 3, 5, 7, 12, 99, 123, 1_001, 4_999, 12_345, 99_999, 123_457, 3_141_593, 99_999_999] {
                let x = Double(digits) * pow(10, Double(exponent))
                values += [x, x.nextUp, x.nextUp.nextUp, x.nextDown, x.nextDown.nextDown, -x]
                values.append(Double("\(digits)e\(exponent)")!)
            }
        }
        for cents in stride(from: 0, to: 2_000_000, by: 7) { values += [Double(cents) / 100, Double(cents) / 1024] }
        #expect(mismatches(values) == [])
    }

    /// Near 2^b the spacing of doubles is 2^(b−52): above 2^49 two decimals of the same length can be equally close
    /// (x.25 between x.2 and x.3), and below a power of two the rounding interval is lopsided.
    @Test func numbersNearPowersOfTwo() {
        var values: [Double] = []
        for b in -64 ... 60 {
            var up = Double(sign: .plus, exponent: b, significand: 1), down = up
            for _ in 0 ..< 2_000 {
                values += [up, down]
                up = up.nextUp
                down = down.nextDown
            }
        }
        #expect(mismatches(values) == [])
    }

    @Test func randomNumbersOfEveryMagnitude() {
        var rng = SplitMix64(seed: 17)
        var values: [Double] = []
        for _ in 0 ..< 200_000 {
            values.append(Double(bitPattern: rng.next()))
            let exponent = Int(rng.next() % 90) - 60
            let significand = 1 + Double(rng.next() >> 11) / Double(1 << 53)
            values.append(Double(sign: rng.next() & 1 == 0 ? .plus : .minus, exponent: exponent, significand: significand))
        }
        #expect(mismatches(values) == [])
    }

    /// The fixed-point ⌊log10(2^q)⌋ and ⌊log10(3/4·2^q)⌋ of `shortestDigits` for every q it is used with, against
    /// digit counts: ⌊log10(2^q)⌋ = −(digits of 2^−q) and ⌊log10(3·2^(q−2))⌋ = −(digits of ⌊2^(2−q)/3⌋).
    @Test func decimalExponentEstimates() {
        func digits(_ n: UInt128) -> Int { String(n).count }
        for q in -63 ..< 0 {
            #expect((q * 661_971_961_083) >> 41 == -digits(UInt128(1) << -q), "q = \(q)")
            #expect((q * 661_971_961_083 - 274_743_187_321) >> 41 == -digits((UInt128(1) << (2 - q)) / 3), "q = \(q)")
        }
    }

    @Test func eightDigitsAndDigitCounts() {
        var rng = SplitMix64(seed: 3)
        let samples = Array(0 ..< 200_000) + (0 ..< 200_000).map { _ in Int(rng.next() % 100_000_000) } + [99_999_999]
        for n in samples {
            let word = DoubleText.eightDigits(UInt64(n))
            let ascii = withUnsafeBytes(of: word.littleEndian) { String(decoding: $0, as: UTF8.self) }
            #expect(ascii == String(repeating: "0", count: 8 - String(n).count) + String(n), "\(n)")
        }
        var power: UInt64 = 1
        for count in 1 ... 19 {
            #expect(text.digitCount(power) == count && (count == 1 || text.digitCount(power - 1) == count - 1))
            if count < 19 { power *= 10 }
        }
    }

    /// Integers as `String(x)` writes them, through `TextBuffer`, and text cells neutralised and quoted.
    @Test func integersAndTextCellsThroughTheBuffer() {
        let integers = [0, 1, -1, 9, 10, 99_999_999, 100_000_000, 12_345_678_901_234_567, -98_765_432_109_876_543,
                        Int.max, Int.min]
        var buffer = TextBuffer(capacity: 16)
        for n in integers {
            buffer.append(integer: n)
            buffer.append(byte: 10)
        }
        for cell in ["acct-1", "-1", "=SUM(A1)", "a,b", "say \"hi\"", "", "line\nbreak", "tab\there"] {
            buffer.append(csvText: cell)
            buffer.append(byte: 10)
        }
        let expected = integers.map { String($0) + "\n" }.joined()
            + "acct-1\n'-1\n'=SUM(A1)\n\"a,b\"\n\"say \"\"hi\"\"\"\n\n\"line\nbreak\"\ntab\there\n"
        #expect(String(decoding: buffer.bytes(), as: UTF8.self) == expected)
    }
}
