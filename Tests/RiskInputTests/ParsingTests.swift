import LinearAlgebra
import Foundation
@testable import RiskInput
import Testing

@Suite struct DecimalParserTests {
    @Test func grammar() {
        var parser = DecimalParser()
        #expect(parser.parse("1.5") == .value(1.5))
        #expect(parser.parse(" -2 ") == .value(-2))
        #expect(parser.parse("+.5") == .value(0.5))
        #expect(parser.parse("5.") == .value(5))
        #expect(parser.parse("1e3") == .value(1000))
        #expect(parser.parse("1E-3") == .value(0.001))
        #expect(parser.parse("0") == .value(0))
        #expect(parser.parse("") == .empty)
        #expect(parser.parse("   ") == .empty)
        for bad in ["1,5", "abc", "inf", "nan", "0x10", "1e", "1e+", ".", "-", "1.2.3", "1 2", "--1", "1e5x"] {
            #expect(parser.parse(bad) == .invalid, "\(bad)")
        }
        #expect(parser.parse("1e400") == .outOfRange)
        #expect(parser.parse("-1e400") == .outOfRange)
        #expect(parser.parse("1e-400") == .value(0))
    }

    /// Must agree bit for bit with Swift's own correctly rounded parser, on both the fast and the strtod path.
    @Test func correctlyRounded() {
        var parser = DecimalParser()
        var random = SplitMix64(seed: 42)
        var texts = ["0.1", "0.3", "123456789012345678", "9007199254740993", "2.2250738585072011e-308",
                     "4.9e-324", "1.7976931348623157e308", "0.000000000000000000000000001", "12345678901234567890.5"]
        for _ in 0 ..< 20000 {
            let x = Double(bitPattern: random.next() >> 2) // positive, wide range of exponents
            texts.append("\(x)")
            let digits = Int(random.next() % 20) + 1
            var s = ""
            for _ in 0 ..< digits { s += String(random.next() % 10) }
            let point = Int(random.next() % UInt64(digits + 1))
            s.insert(".", at: s.index(s.startIndex, offsetBy: point))
            texts.append(s)
            texts.append(s + "e\(Int(random.next() % 40) - 20)")
        }
        for text in texts where text != "." {
            let expected = Double(text)!
            if expected.isFinite {
                #expect(parser.parse(text) == .value(expected), "\(text)")
                #expect(parser.parse("-" + text) == .value(-expected), "-\(text)")
            }
        }
    }
}

@Suite struct CSVScannerTests {
    private func records(_ text: String) -> [(line: Int, cells: [String])] {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = CSVScanner(buffer)
            var fields: [CSVField] = []
            var out: [(Int, [String])] = []
            while case .record(let line) = scanner.next(into: &fields) {
                out.append((line, fields.map { scanner.text($0) }))
            }
            return out
        }
    }

    @Test func rfc4180() {
        let r = records("a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\r\n\"multi\nline\",\"\",z\n\n \n")
        #expect(r.map(\.line) == [1, 2, 3])
        #expect(r.map(\.cells) == [["a", "b", "c"], ["x,1", "say \"hi\"", ""], ["multi\nline", "", "z"]])
        #expect(records("\u{FEFF}h\n1").map(\.cells) == [["h"], ["1"]])
        #expect(records("").isEmpty)
        #expect(records("a,b,").map(\.cells) == [["a", "b", ""]])
        #expect(records("a\rb\r").map(\.cells) == [["a"], ["b"]])
    }
}
