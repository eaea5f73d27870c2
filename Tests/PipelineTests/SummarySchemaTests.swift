import Foundation
import Testing

/// A validator for the subset of JSON Schema (draft 2020-12) that docs/summary.schema.json uses: type, const, enum,
/// required, properties, additionalProperties, items, min/maxItems, minimum, maximum, exclusive bounds, minLength,
/// pattern and local $ref. Unknown keywords fail loudly so the schema cannot silently outgrow the validator.
struct MiniSchemaValidator {
    let root: [String: Any]
    static let known: Set<String> = ["$schema", "$id", "title", "description", "type", "const", "enum", "required",
                                     "properties", "additionalProperties", "items", "minItems", "maxItems", "minimum",
                                     "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "pattern", "$ref",
                                     "$defs"]

    /// Every violation, as "path: problem".
    func validate(_ value: Any, against schema: [String: Any], at path: String = "$") -> [String] {
        var problems: [String] = []
        for key in schema.keys where !Self.known.contains(key) { problems.append("\(path): schema keyword \(key) is not supported") }
        if let ref = schema["$ref"] as? String {
            let name = String(ref.dropFirst("#/$defs/".count))
            let defs = root["$defs"] as? [String: Any] ?? [:]
            guard let target = defs[name] as? [String: Any] else { return ["\(path): unresolved \(ref)"] }
            return validate(value, against: target, at: path)
        }
        if let types = schema["type"] {
            let allowed = (types as? [String]) ?? [types as! String]
            if !allowed.contains(where: { Self.matches(value, type: $0) }) {
                return ["\(path): \(Self.describe(value)) is not of type \(allowed)"]
            }
        }
        if let constant = schema["const"], !Self.equal(constant, value) { problems.append("\(path): not \(constant)") }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) {
            problems.append("\(path): \(value) not in \(options)")
        }
        if let number = value as? NSNumber, !Self.isBool(value) {
            let x = number.doubleValue
            if let m = schema["minimum"] as? Double, x < m { problems.append("\(path): \(x) < \(m)") }
            if let m = schema["maximum"] as? Double, x > m { problems.append("\(path): \(x) > \(m)") }
            if let m = schema["exclusiveMinimum"] as? Double, x <= m { problems.append("\(path): \(x) ≤ \(m)") }
            if let m = schema["exclusiveMaximum"] as? Double, x >= m { problems.append("\(path): \(x) ≥ \(m)") }
        }
        if let text = value as? String {
            if let m = schema["minLength"] as? Int, text.count < m { problems.append("\(path): shorter than \(m)") }
            if let pattern = schema["pattern"] as? String,
               text.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): \"\(text)\" does not match \(pattern)")
            }
        }
        if let object = value as? [String: Any] {
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                problems.append("\(path): missing \(key)")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, member) in object {
                if let sub = properties[key] as? [String: Any] {
                    problems += validate(member, against: sub, at: "\(path).\(key)")
                } else if let extra = schema["additionalProperties"] {
                    if let allowed = extra as? Bool {
                        if !allowed { problems.append("\(path): unexpected key \(key)") }
                    } else if let sub = extra as? [String: Any] {
                        problems += validate(member, against: sub, at: "\(path).\(key)")
                    }
                }
            }
        }
        if let array = value as? [Any] {
            if let m = schema["minItems"] as? Int, array.count < m { problems.append("\(path): fewer than \(m) items") }
            if let m = schema["maxItems"] as? Int, array.count > m { problems.append("\(path): more than \(m) items") }
            if let items = schema["items"] as? [String: Any] {
                for (i, item) in array.enumerated() { problems += validate(item, against: items, at: "\(path)[\(i)]") }
            }
        }
        return problems
    }

    static func isBool(_ value: Any) -> Bool {
        // JSONSerialization gives booleans their own NSNumber subclass (and objCType "c"); numbers are plain NSNumber.
        guard value is NSNumber else { return false }
        return String(describing: type(of: value)).contains("Boolean")
    }

    static func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "null": return value is NSNull
        case "boolean": return isBool(value)
        case "number": return value is NSNumber && !isBool(value)
        case "integer":
            guard let n = value as? NSNumber, !isBool(value) else { return false }
            return n.doubleValue.rounded() == n.doubleValue
        default: return false
        }
    }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        if let x = a as? String, let y = b as? String { return x == y }
        if let x = a as? NSNumber, let y = b as? NSNumber { return x == y }
        return false
    }
    static func describe(_ value: Any) -> String { value is NSNull ? "null" : "\(type(of: value)) \(value)" }
}

@Suite struct SummarySchemaTests {
    static let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/summary.schema.json")

    func load() throws -> (MiniSchemaValidator, [String: Any]) {
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.schemaURL)) as! [String: Any]
        let out = try CLI.temporaryDirectory("schema").appendingPathComponent("r")
        let run = try CLI.run(["run", EndToEndTests.book.path, "--out", out.path, "--quiet", "--set", "mc_paths=500"])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        return (MiniSchemaValidator(root: schema), summary)
    }

    @Test func summaryOfARunValidatesAgainstTheSchema() throws {
        let (validator, summary) = try load()
        #expect(validator.validate(summary, against: validator.root) == [])
    }

    /// The validator and the schema can fail: broken summaries are rejected with the right reason.
    @Test func brokenSummariesAreRejected() throws {
        let (validator, summary) = try load()
        var missing = summary
        missing["book"] = nil
        #expect(validator.validate(missing, against: validator.root).contains("$: missing book"))
        var extra = summary
        extra["surprise"] = 1
        #expect(validator.validate(extra, against: validator.root).contains("$: unexpected key surprise"))
        var wrongType = summary
        wrongType["threads"] = "two"
        #expect(!validator.validate(wrongType, against: validator.root).isEmpty)
        var badStatus = summary
        var counts = badStatus["status_counts"] as! [String: Any]
        counts["ok"] = -1
        badStatus["status_counts"] = counts
        #expect(validator.validate(badStatus, against: validator.root).contains { $0.hasPrefix("$.status_counts.ok") })
        var badHash = summary
        badHash["inputs_sha256"] = ["prices.csv": "xyz", "assets.csv": "", "positions.csv": ""]
        #expect(validator.validate(badHash, against: validator.root).contains { $0.contains("does not match") })
    }
}
