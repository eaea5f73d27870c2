import Crypto
import Foundation
import RiskModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of one input file, read once and whole, checked to be UTF-8, with the path to show the user and the
/// SHA-256 of exactly these bytes (the checksum summary.json records is that of what was parsed, even when the file
/// changes during the run).
struct SourceFile {
    let url: URL
    /// The path as the user would write it (`Data/sample/prices.csv`).
    let display: String
    /// The file's bytes (a UTF-8 byte order mark, if any, is still there; `CSVScanner` skips it).
    let bytes: [UInt8]
    /// SHA-256 of `bytes`, lowercase hex.
    let sha256: String

    /// (file name, SHA-256) for the summary.
    var checksum: (name: String, sha256: String) { (url.lastPathComponent, sha256) }

    /// Reads and checks a file of at most `maxBytes`; a problem (not found, not a regular file, too large for the
    /// limit or for the memory available, unreadable, not UTF-8) becomes one issue in `log`.
    static func load(_ url: URL, display: String, maxBytes: Int64, log: inout IssueLog) -> SourceFile? {
        let bytes: [UInt8]
        switch readBytes(path: url.path, maxBytes: maxBytes) {
        case .success(let b): bytes = b
        case .failure(let problem):
            log.add(problem.message)
            return nil
        }
        if bytes.count >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)) {
            log.add("the file is UTF-16 encoded; save it as UTF-8")
            return nil
        }
        if let bad = firstInvalidUTF8(bytes) {
            var line = 1
            for i in 0 ..< bad where bytes[i] == UInt8(ascii: "\n") { line += 1 }
            let what = bytes[bad] == 0
                ? "a NUL byte (is it a binary or UTF-16 file?)"
                : "byte 0x" + String(bytes[bad], radix: 16, uppercase: true)
            log.add("not valid UTF-8: unexpected \(what); save the file as UTF-8", line: line)
            return nil
        }
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return SourceFile(url: url, display: display, bytes: bytes, sha256: digest)
    }

    struct ReadProblem: Error { let message: String }

    /// Reads a whole regular file with POSIX calls (no intermediate `Data` copy: positions.csv may be hundreds of
    /// MB). A FIFO, device or directory is refused before any read (opened non-blocking, so a FIFO without a
    /// writer cannot hang the run); so is a file above `maxBytes` or above the memory available to hold it.
    static func readBytes(path: String, maxBytes: Int64) -> Result<[UInt8], ReadProblem> {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        guard fd >= 0 else { return .failure(ReadProblem(message: describe(errno: errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(ReadProblem(message: describe(errno: errno))) }
        if let kind = nonRegularKind(info.st_mode) {
            return .failure(ReadProblem(message: "is \(kind), not a regular file"))
        }
        let size = Int64(info.st_size)
        if size > maxBytes {
            return .failure(ReadProblem(message: "the file is \(MemoryInfo.describe(size)), above the limit of "
                                        + "\(MemoryInfo.describe(maxBytes)) for this file"))
        }
        if let available = MemoryInfo.availableBytes(), size > available {
            return .failure(ReadProblem(message: "the file is \(MemoryInfo.describe(size)) but only "
                                        + "\(MemoryInfo.describe(available)) of memory is available to read it"))
        }
        return readAll(fd, expected: Int(size), maxBytes: maxBytes)
    }

    /// The kind of a file that is not a regular file, for the message; nil for a regular file.
    private static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    /// Reads to the end: one chunk of the announced size (+1 to meet end of file), then more if the file grew,
    /// never past `maxBytes`.
    private static func readAll(_ fd: Int32, expected: Int, maxBytes: Int64) -> Result<[UInt8], ReadProblem> {
        var bytes: [UInt8] = []
        var chunk = max(expected, 0) + 1
        while true {
            var failure: Int32 = 0
            var atEnd = false
            let piece = [UInt8](unsafeUninitializedCapacity: chunk) { buffer, initialized in
                initialized = 0
                while initialized < chunk {
                    // Safe: at most chunk − initialized bytes are written after the initialized prefix.
                    let n = read(fd, buffer.baseAddress! + initialized, chunk - initialized)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if n == 0 { atEnd = true; return }
                    initialized += n
                }
            }
            if failure != 0 { return .failure(ReadProblem(message: describe(errno: failure))) }
            if bytes.isEmpty { bytes = piece } else { bytes.append(contentsOf: piece) }
            if atEnd { return .success(bytes) }
            if Int64(bytes.count) > maxBytes {
                return .failure(ReadProblem(message: "the file grew above the limit of \(MemoryInfo.describe(maxBytes)) while it was read"))
            }
            chunk = 1 << 20
        }
    }

    private static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT, ENOTDIR: return "file not found"
        case EACCES, EPERM: return "cannot read the file: permission denied"
        case EISDIR: return "is a directory, not a file"
        default: return "cannot read the file: " + String(cString: strerror(code))
        }
    }
}

/// Offset of the first byte that breaks UTF-8 (or is NUL), or nil when the whole buffer is valid.
func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
    bytes.withUnsafeBufferPointer { buffer -> Int? in
        guard let base = buffer.baseAddress else { return nil }
        let n = buffer.count
        var i = 0
        while i < n {
            // ASCII fast path, 8 bytes at a time: no high bit and no zero byte.
            while i + 8 <= n {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let high = w & 0x8080_8080_8080_8080
                let zero = (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080
                if high | zero != 0 { break }
                i += 8
            }
            guard i < n else { return nil }
            let b0 = base[i]
            if b0 == 0 { return i }
            if b0 < 0x80 { i += 1; continue }
            let length: Int
            var lowest: UInt8 = 0x80, highest: UInt8 = 0xBF  // allowed range of the second byte
            switch b0 {
            case 0xC2 ... 0xDF: length = 2
            case 0xE0: length = 3; lowest = 0xA0
            case 0xE1 ... 0xEC, 0xEE ... 0xEF: length = 3
            case 0xED: length = 3; highest = 0x9F
            case 0xF0: length = 4; lowest = 0x90
            case 0xF1 ... 0xF3: length = 4
            case 0xF4: length = 4; highest = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            let b1 = base[i + 1]
            guard b1 >= lowest && b1 <= highest else { return i }
            for k in 2 ..< length where base[i + k] & 0xC0 != 0x80 { return i }
            i += length
        }
        return nil
    }
}
