import RiskModel
import Yams

/// Where a config key got its value, to point cross-file problems at the right place.
struct ConfigOrigin {
    let file: String
    let line: Int?
    /// Order of application: later wins.
    let sequence: Int
}

/// Reads the YAML config file and `--set` overrides into a `RiskConfig` (METHODOLOGY "Inputs").
///
/// The file is a mapping of METHODOLOGY "Inputs" keys to scalars; each scalar's raw text goes to `RiskConfig.set` (so YAML's
/// own typing — timestamps, octal, booleans like `on` — never changes a value). `historical_scenarios` is a
/// mapping NAME → `[START, END]`, `"START..END"` or `{start: START, end: END}` that replaces the default replays;
/// empty or null means no replays.
struct ConfigReader {
    var config = RiskConfig()
    private(set) var origins: [String: ConfigOrigin] = [:]
    private var sequence = 0

    private mutating func record(_ key: String, file: String, line: Int?) {
        sequence += 1
        origins[key] = ConfigOrigin(file: file, line: line, sequence: sequence)
    }

    // MARK: YAML file

    /// Deepest nesting of flow collections (`[`, `{`) or block sequence entries (`- - -` on one line) accepted in a
    /// config file: a configuration needs three levels; Yams composes recursively, and a few thousand levels would
    /// overflow the stack.
    static let maxNesting = 64

    /// The deepest flow-collection nesting (brackets outside quotes) and the most `- ` entries opened on one line.
    static func nestingDepth(_ yaml: String) -> Int {
        var depth = 0, deepest = 0, quote: Character? = nil
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            var dashes = 0
            for token in line.split(separator: " ") {
                guard token == "-" else { break }
                dashes += 1
            }
            deepest = max(deepest, dashes)
            for c in line {
                if let q = quote {
                    if c == q { quote = nil }
                } else if c == "\"" || c == "'" {
                    quote = c
                } else if c == "#" {
                    break
                } else if c == "[" || c == "{" {
                    depth += 1
                    deepest = max(deepest, depth)
                } else if c == "]" || c == "}" {
                    depth = max(0, depth - 1)
                }
            }
        }
        return deepest
    }

    mutating func apply(yaml: String, log: inout IssueLog) {
        guard Self.nestingDepth(yaml) <= Self.maxNesting else {
            log.add("the YAML is nested more than \(Self.maxNesting) levels deep; a configuration is a mapping of keys to values")
            return
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                 .composer(let context, let problem, let mark, _):
                log.add("invalid YAML: \(problem)" + (context.map { " (\($0.text))" } ?? ""), line: mark.line)
            case .reader(let problem, _, _, _):
                log.add("invalid YAML: \(problem)")
            default:
                log.add("invalid YAML: \(error)")
            }
            return
        } catch {
            log.add("invalid YAML: \(error)")
            return
        }
        guard let root else { return }  // empty document: all defaults
        let pairs: Node.Mapping
        switch root {
        case .mapping(let m): pairs = m
        case .scalar(let s) where Self.isNull(s): return
        default:
            log.add("expected a mapping of config keys (key: value), found \(Self.kind(root))", line: root.mark?.line)
            return
        }
        var seen: [String: Int] = [:]
        for (keyNode, value) in pairs {
            let keyLine = keyNode.mark?.line
            guard case .scalar(let keyScalar) = keyNode else {
                log.add("a config key must be a plain name, found \(Self.kind(keyNode))", line: keyLine)
                continue
            }
            let key = keyScalar.string
            if let first = seen[key] {
                log.add("duplicate key \(Show.name(key)) (first on line \(first))", line: keyLine)
                continue
            }
            seen[key] = keyLine ?? 0
            if key == "historical_scenarios" {
                applyReplays(value, keyLine: keyLine, file: log.file, log: &log)
                continue
            }
            guard RiskConfig.keys.contains(key) || key.hasPrefix("historical_scenarios.") else {
                log.add(ConfigError.unknownKey(key).description, line: keyLine)
                continue
            }
            guard case .scalar(let scalar) = value else {
                log.add("\(key): expected a single value, found \(Self.kind(value))", line: value.mark?.line ?? keyLine)
                continue
            }
            do throws(ConfigError) {
                try config.set(key, to: scalar.string)
                record(key.hasPrefix("historical_scenarios.") ? "historical_scenarios" : key, file: log.file, line: keyLine)
            } catch {
                log.add(error.description, line: value.mark?.line ?? keyLine)
            }
        }
    }

    private mutating func applyReplays(_ value: Node, keyLine: Int?, file: String, log: inout IssueLog) {
        let expected = "expected a mapping NAME: [START, END] (or nothing, for no replays)"
        switch value {
        case .scalar(let s):
            guard Self.isNull(s) || s.string.trimmingWhitespace().lowercased() == "none" else {
                log.add("historical_scenarios: \(expected), found \(Show.quoted(s.string))", line: value.mark?.line ?? keyLine)
                return
            }
            config.historicalScenarios = []
            record("historical_scenarios", file: file, line: keyLine)
        case .sequence:
            log.add("historical_scenarios: \(expected), found a list", line: value.mark?.line ?? keyLine)
        case .mapping(let replays):
            config.historicalScenarios = []
            record("historical_scenarios", file: file, line: keyLine)
            var seen: [String: Int] = [:]
            for (nameNode, range) in replays {
                let line = nameNode.mark?.line
                guard case .scalar(let nameScalar) = nameNode else {
                    log.add("historical_scenarios: a scenario name must be a plain name, found \(Self.kind(nameNode))", line: line)
                    continue
                }
                let name = nameScalar.string
                if let first = seen[name] {
                    log.add("historical_scenarios: duplicate scenario \(Show.name(name)) (first on line \(first))", line: line)
                    continue
                }
                seen[name] = line ?? 0
                let shape = "historical_scenarios.\(name): expected [START, END], \"START..END\" or {start: START, end: END}"
                do throws(ConfigError) {
                    switch range {
                    case .sequence(let items):
                        let dates = items.compactMap { $0.scalar?.string.trimmingWhitespace() }
                        guard items.count == 2, dates.count == 2 else { log.add(shape, line: line); continue }
                        try config.setReplay(name: name, start: dates[0], end: dates[1])
                    case .scalar(let s):
                        guard s.string.contains("..") else { log.add(shape + ", found \(Show.quoted(s.string))", line: line); continue }
                        try config.setReplay(name: name, range: s.string)
                    case .mapping(let m):
                        let keys = m.keys.compactMap { $0.scalar?.string }
                        guard m.count == 2, Set(keys) == ["start", "end"],
                              let start = m["start"]?.scalar?.string, let end = m["end"]?.scalar?.string
                        else { log.add(shape, line: line); continue }
                        try config.setReplay(name: name, start: start.trimmingWhitespace(), end: end.trimmingWhitespace())
                    }
                } catch {
                    log.add(error.description, line: line)
                }
            }
        }
    }

    // MARK: --set overrides

    /// Applies `KEY=VALUE` overrides in order; a problem becomes an issue whose file part is `--set KEY=VALUE`
    /// (with the password of a `store` URL masked).
    mutating func apply(overrides: [String], issues: inout [InputIssue]) {
        for raw in overrides {
            let file = "--set \(Self.shown(raw))"
            guard let eq = raw.firstIndex(of: "="),
                  case let key = String(raw[..<eq]).trimmingWhitespace(), !key.isEmpty
            else {
                issues.append(InputIssue(file: file, line: nil, message: "expected KEY=VALUE, e.g. --set window=250"))
                continue
            }
            let value = String(raw[raw.index(after: eq)...])
            do throws(ConfigError) {
                try config.set(key, to: value)
                record(key.hasPrefix("historical_scenarios.") ? "historical_scenarios" : key, file: file, line: nil)
            } catch {
                issues.append(InputIssue(file: file, line: nil, message: error.description))
            }
        }
    }

    /// An override as messages show it: a `store` value (or text that is not KEY=VALUE, which may be a mistyped store
    /// URL) with its password masked, anything else verbatim.
    static func shown(_ raw: String) -> String {
        guard let eq = raw.firstIndex(of: "=") else { return StoreLocation.redacting(raw) }
        guard String(raw[..<eq]).trimmingWhitespace() == "store" else { return raw }
        return String(raw[...eq]) + StoreLocation.redacting(String(raw[raw.index(after: eq)...]))
    }

    /// Where the last set of `keys` was set (for a consistency problem between them), if anywhere.
    func origin(ofKeys keys: [String]) -> ConfigOrigin? {
        keys.compactMap { origins[$0] }.max { $0.sequence < $1.sequence }
    }

    // MARK: helpers

    private static func isNull(_ s: Node.Scalar) -> Bool {
        s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    private static func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "the value \(Show.quoted(s.string))"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}
