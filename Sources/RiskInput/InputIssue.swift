/// One input problem, user-facing as `file:line: message` (or `file: message` when no line applies).
///
/// `file` is the path as the user would write it (the book directory as given joined with the file name,
/// e.g. `Data/sample/positions.csv`), or `--set KEY=VALUE` for a command-line override.
public struct InputIssue: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// 1-based physical line where the offending record starts; `nil` for whole-file problems.
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}

/// Every problem found in a book, in file order (prices, assets, positions, scenarios, config, --set).
public struct InputErrors: Error, Sendable, CustomStringConvertible {
    public let issues: [InputIssue]
    /// Warnings gathered before the load failed (same format as `LoadedBook.warnings`), for `ballast validate`.
    public let warnings: [String]

    public init(issues: [InputIssue], warnings: [String] = []) {
        self.issues = issues
        self.warnings = warnings
    }

    /// One issue per line, no trailing newline.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects the issues of one file, keeping the first `limit` and counting the rest.
struct IssueLog {
    static let limit = 100

    let file: String
    private(set) var kept: [InputIssue] = []
    private(set) var dropped = 0

    init(file: String) { self.file = file }

    var isEmpty: Bool { kept.isEmpty }
    var count: Int { kept.count + dropped }

    mutating func add(_ message: @autoclosure () -> String, line: Int? = nil) {
        if kept.count < Self.limit {
            kept.append(InputIssue(file: file, line: line, message: message()))
        } else {
            dropped += 1
        }
    }

    /// The kept issues followed, when some were dropped, by `... and N more problems in this file`.
    var issues: [InputIssue] {
        guard dropped > 0 else { return kept }
        let noun = dropped == 1 ? "problem" : "problems"
        return kept + [InputIssue(file: file, line: nil, message: "... and \(dropped) more \(noun) in this file")]
    }
}

/// How names (tickers, accounts, scenarios) and raw cell texts appear in messages.
enum Show {
    /// A name as is when it is plain (letters, digits and `_-.:/+@#`), else double-quoted with escapes,
    /// so that empty names, spaces and control characters stay visible and a message stays on one line.
    static func name(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            switch c {
            case "a" ... "z", "A" ... "Z", "0" ... "9", "_", "-", ".", ":", "/", "+", "@", "#": return true
            default: return c.value >= 0x80 && !c.properties.isWhitespace && c.properties.generalCategory != .control
            }
        }
        return plain ? s : quoted(s)
    }

    /// Always double-quoted, with `"` `\` and control characters escaped; long texts are shortened.
    static func quoted(_ s: String) -> String {
        var out = "\""
        var n = 0
        for c in s.unicodeScalars {
            n += 1
            if n > 60 { out += "…"; break }
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out += "\\u{" + String(c.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }
}
