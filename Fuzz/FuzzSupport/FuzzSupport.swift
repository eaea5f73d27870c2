// What the fuzz targets share (docs/FUZZING.md).
//
// Each target's main.swift exports `LLVMFuzzerTestOneInput`; `swift build --sanitize=fuzzer` compiles it as a library
// (`-parse-as-library`) and links libFuzzer's `main`, which calls it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A broken invariant: prints what broke and traps, so that libFuzzer keeps the input as `crash-…`.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: " + message(), file: file, line: line) }
}

/// Physical lines of a text as the CSV scanner counts them: 1 + line feeds + carriage returns not followed by a line
/// feed (a final line end opens one more, empty, line).
public func physicalLineCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var lines = 1
    for i in bytes.indices where bytes[i] == 0x0A || (bytes[i] == 0x0D && !(i + 1 < bytes.count && bytes[i + 1] == 0x0A)) {
        lines += 1
    }
    return lines
}

/// The start of some bytes as a quoted text, for invariant messages.
public func show(_ bytes: some Sequence<UInt8>) -> String {
    String(decoding: Array(bytes.prefix(200)), as: UTF8.self).debugDescription
}

/// BALLAST_FUZZ_STRICT=1: also fail on the known findings that are not fixed yet (docs/FUZZING.md), to check a fix.
public let strict: Bool = {
    guard let value = getenv("BALLAST_FUZZ_STRICT") else { return false }
    return String(cString: value) == "1"
}()
