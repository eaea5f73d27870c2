import BookGenerator
import Foundation
import RiskPipeline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small generated book run once for the suite (the minimal part of PipelineTests' helpers).
enum TestRun {
    static let result: RunResult = {
        let book = try! temporaryDirectory("book")
        _ = try! BookGenerator.generate(BookSpec(accounts: 300, assets: 10, days: 500, seed: 11, profile: .retail), into: book)
        return try! RiskPipeline.run(RunOptions(bookDirectory: book, overrides: ["window=300", "mc_paths=500"], threads: 2))
    }()

    /// A fresh folder under the system's temporary folder.
    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ballast-tests-metrics-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The names in a folder, sorted (hidden ones included).
    static func names(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    /// The full path of `tool` when an executable of that name is on PATH.
    static func onPath(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `body` with this thread's file-system user id set to `uid` when the process is root (root ignores folder
    /// permissions), so that a folder's mode applies; as another user it just runs `body`. Linux only (setfsuid is
    /// per thread and `body` must not suspend); elsewhere `body` runs as is.
    static func withoutRootPermissions<T>(uid: UInt32 = 65534, _ body: () throws -> T) rethrows -> T {
        guard geteuid() == 0, let setfsuid = fileSystemUserSetter else { return try body() }
        let previous = UInt32(bitPattern: setfsuid(uid))
        defer { _ = setfsuid(previous) }
        return try body()
    }

    /// Whether `withoutRootPermissions` makes folder modes apply to this process.
    static var folderModesApply: Bool { geteuid() != 0 || fileSystemUserSetter != nil }

    private typealias SetFSUID = @convention(c) (UInt32) -> Int32
    /// glibc's setfsuid(2), looked up at run time (the Glibc module does not declare it).
    private static let fileSystemUserSetter: SetFSUID? = {
        #if os(Linux)
        guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "setfsuid") else { return nil }
        return unsafeBitCast(symbol, to: SetFSUID.self)
        #else
        return nil
        #endif
    }()
}

/// A reader of the Prometheus text exposition format, written here for the tests: `# HELP` and `# TYPE` lines and
/// samples with their labels unescaped. Fails on any other line.
struct Exposition {
    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    struct Malformed: Error, CustomStringConvertible {
        let line: String
        var description: String { "malformed line: \(line)" }
    }

    /// Help text and type per metric name; the samples in file order; metric names in order of first appearance;
    /// every line in order.
    var help: [String: String] = [:]
    var type: [String: String] = [:]
    var samples: [Sample] = []
    var names: [String] = []
    var lines: [String] = []

    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Malformed(line: "(no final newline)") }
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        for line in lines { try read(line) }
    }

    private mutating func read(_ line: String) throws {
        let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        if line.hasPrefix("# HELP "), words.count == 4 {
            help[words[2]] = Self.unescapeHelp(words[3])
            note(words[2])
        } else if line.hasPrefix("# TYPE "), words.count == 4 {
            type[words[2]] = words[3]
            note(words[2])
        } else {
            let sample = try Self.sample(line)
            samples.append(sample)
            note(sample.name)
        }
    }

    private mutating func note(_ name: String) {
        if names.last != name { names.append(name) }
    }

    /// The value of the series `name` with exactly `labels`, nil when absent.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// `name{label="value",…} VALUE`.
    static func sample(_ line: String) throws -> Sample {
        var rest = Substring(line)
        let name = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        guard !name.isEmpty else { throw Malformed(line: line) }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let (label, value) = try labelPair(&rest, line: line)
                guard labels.updateValue(value, forKey: label) == nil else { throw Malformed(line: line) }
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " ", let value = number(String(rest.dropFirst())) else { throw Malformed(line: line) }
        return Sample(name: name, labels: labels, value: value)
    }

    /// `label="escaped value"`, consumed from `rest`.
    static func labelPair(_ rest: inout Substring, line: String) throws -> (String, String) {
        let label = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        rest = rest.dropFirst(label.count)
        guard !label.isEmpty, rest.hasPrefix("=\"") else { throw Malformed(line: line) }
        rest = rest.dropFirst(2)
        var value = ""
        while let c = rest.popFirst() {
            if c == "\"" { return (label, value) }
            guard c == "\\" else { value.append(c); continue }
            switch rest.popFirst() {
            case "\\": value.append("\\")
            case "\"": value.append("\"")
            case "n": value.append("\n")
            default: throw Malformed(line: line)
            }
        }
        throw Malformed(line: line)
    }

    /// A sample value: a Go float, or `+Inf`, `-Inf`, `NaN`.
    static func number(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return text.contains(where: \.isLetter) && !text.contains("e") ? nil : Double(text)
        }
    }

    /// Help text escapes `\\` and `\n`.
    static func unescapeHelp(_ text: String) -> String {
        var out = "", escaped = false
        for c in text {
            if escaped { out.append(c == "n" ? "\n" : c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }
}
