// fuzz-decimal: `DecimalParser` (RiskInput) on one cell's bytes (docs/FUZZING.md).
//
// Invariants: the parser accepts exactly the documented grammar `[+-]digits[.digits][e[+-]digits]` (also `.5`, `5.`)
// after trimming spaces and tabs; what it accepts has the value Swift's own correctly rounded `Double(String)` gives,
// bit for bit (`.outOfRange` where that is infinite); and it reads only `bytes[start ..< end]`.

import FuzzSupport
@testable import RiskInput

/// The documented grammar, written independently of the parser.
func matchesGrammar(_ t: ArraySlice<UInt8>) -> Bool {
    var i = t.startIndex
    func digits() -> Int {
        let start = i
        while i < t.endIndex && t[i] >= 0x30 && t[i] <= 0x39 { i += 1 }
        return i - start
    }
    if i < t.endIndex && (t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-")) { i += 1 }
    var mantissaDigits = digits()
    if i < t.endIndex && t[i] == UInt8(ascii: ".") {
        i += 1
        mantissaDigits += digits()
    }
    guard mantissaDigits > 0 else { return false }
    if i < t.endIndex && (t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E")) {
        i += 1
        if i < t.endIndex && (t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-")) { i += 1 }
        guard digits() > 0 else { return false }
    }
    return i == t.endIndex
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var parser = DecimalParser()
    let result = bytes.withUnsafeBufferPointer { parser.parse($0, 0, $0.count) }

    // The same cell inside a larger buffer (digits on both sides): only start ..< end may be read.
    let padded = [UInt8(ascii: "7")] + bytes + [UInt8(ascii: "7")]
    let inside = padded.withUnsafeBufferPointer { parser.parse($0, 1, $0.count - 1) }
    require(inside == result || (isNaN(inside) && isNaN(result)), "\(show(bytes)): \(result) alone, \(inside) inside a row")

    var s = 0, e = bytes.count
    while s < e && (bytes[s] == 0x20 || bytes[s] == 0x09) { s += 1 }
    while e > s && (bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09) { e -= 1 }
    let text = bytes[s ..< e]
    if text.isEmpty {
        require(result == .empty, "\(show(bytes)): blank, parsed as \(result)")
        return 0
    }
    let grammar = matchesGrammar(text)
    let swift = grammar ? Double(String(decoding: text, as: UTF8.self)) : nil
    switch result {
    case .empty:
        require(false, "\(show(bytes)): not blank, parsed as empty")
    case .invalid:
        require(!grammar, "\(show(bytes)): matches the grammar, parsed as invalid")
    case .value(let v):
        require(grammar, "\(show(bytes)): outside the grammar, parsed as \(v)")
        require(v.isFinite, "\(show(bytes)): parsed as the non-finite \(v)")
        require(swift?.bitPattern == v.bitPattern, "\(show(bytes)): parsed as \(v), Double(String) says \(String(describing: swift))")
    case .outOfRange:
        require(grammar, "\(show(bytes)): outside the grammar, parsed as out of range")
        require(swift?.isInfinite == true, "\(show(bytes)): parsed as out of range, Double(String) says \(String(describing: swift))")
    }
    return 0
}

private func isNaN(_ r: ParsedNumber) -> Bool {
    if case .value(let v) = r { return v.isNaN }
    return false
}
