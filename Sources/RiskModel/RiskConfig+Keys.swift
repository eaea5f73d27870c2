import Foundation

/// A configuration problem: an unknown key or a value out of range. `description` is user-facing.
public enum ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    case unknownKey(String)
    case invalidValue(key: String, value: String, expected: String)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .unknownKey(let key):
            return "unknown config key \"\(key)\" (known keys: \(RiskConfig.keys.joined(separator: ", ")))"
        case .invalidValue(let key, let value, let expected):
            return "\(key): \"\(value)\" is not valid; expected \(expected)"
        case .inconsistent(let message):
            return message
        }
    }
}

extension RiskConfig {
    /// Every config key, in SPEC §2 order (`historical_scenarios` also takes `historical_scenarios.NAME`).
    public static let keys = [
        "confidence", "horizon_days", "window", "covariance", "ewma_lambda", "allow_short_history",
        "mc_paths", "mc_seed", "mc_distribution", "mc_dof", "haircut_model", "liquidation_days",
        "participation", "liquidation_ratio", "margin_call_ratio", "target_ratio", "settlement_asset",
        "rebalance", "objective", "cost_aversion", "historical_scenarios",
    ]

    /// Sets one key from its text form; the single place where strings become typed settings.
    ///
    /// `historical_scenarios.NAME=START..END` adds or replaces one replay, `historical_scenarios.NAME=` removes it,
    /// and `historical_scenarios=` (empty) or `none` removes them all.
    public mutating func set(_ key: String, to rawValue: String) throws(ConfigError) {
        let value = rawValue.trimmingWhitespace()
        switch key {
        case "confidence": confidence = try Self.number(key, value, "a number strictly between 0 and 1") { $0 > 0 && $0 < 1 }
        case "horizon_days": horizonDays = try Self.number(key, value, "a number of days > 0") { $0 > 0 }
        case "window": window = try Self.integer(key, value, "a whole number of returns ≥ 2") { $0 >= 2 }
        case "covariance": covariance = try Self.choice(key, value)
        case "ewma_lambda": ewmaLambda = try Self.number(key, value, "a number strictly between 0 and 1") { $0 > 0 && $0 < 1 }
        case "allow_short_history": allowShortHistory = try Self.boolean(key, value)
        case "mc_paths": monteCarloPaths = try Self.integer(key, value, "a whole number of paths ≥ 1") { $0 >= 1 }
        case "mc_seed":
            guard let seed = UInt64(value) else { throw .invalidValue(key: key, value: value, expected: "a whole number ≥ 0") }
            monteCarloSeed = seed
        case "mc_distribution": monteCarloDistribution = try Self.choice(key, value)
        case "mc_dof": monteCarloDegreesOfFreedom = try Self.number(key, value, "degrees of freedom > 2") { $0 > 2 }
        case "haircut_model": haircutModel = try Self.choice(key, value)
        case "liquidation_days": liquidationDays = try Self.number(key, value, "a number of days > 0") { $0 > 0 }
        case "participation": participation = try Self.number(key, value, "a fraction of ADV in (0, 1]") { $0 > 0 && $0 <= 1 }
        case "liquidation_ratio": liquidationRatio = try Self.number(key, value, "a ratio > 0") { $0 > 0 }
        case "margin_call_ratio": marginCallRatio = try Self.number(key, value, "a ratio > 0") { $0 > 0 }
        case "target_ratio": targetRatio = try Self.number(key, value, "a ratio > 0") { $0 > 0 }
        case "settlement_asset":
            guard !value.isEmpty else { throw .invalidValue(key: key, value: value, expected: "an asset ticker of assets.csv") }
            settlementAsset = value
        case "rebalance": rebalance = try Self.choice(key, value)
        case "objective": objective = try Self.choice(key, value)
        case "cost_aversion": costAversion = try Self.number(key, value, "a number ≥ 0") { $0 >= 0 }
        case "historical_scenarios":
            guard value.isEmpty || value == "none" else {
                throw .invalidValue(key: key, value: value,
                                    expected: "empty or none (set one replay with historical_scenarios.NAME=START..END)")
            }
            historicalScenarios = []
        default:
            let prefix = "historical_scenarios."
            guard key.hasPrefix(prefix), key.count > prefix.count else { throw .unknownKey(key) }
            let name = String(key.dropFirst(prefix.count))
            if value.isEmpty || value == "none" {
                historicalScenarios.removeAll { $0.name == name }
            } else {
                try setReplay(name: name, range: value)
            }
        }
    }

    /// Adds or replaces the replay `name` from `START..END` (ISO dates, START before END).
    public mutating func setReplay(name: String, range: String) throws(ConfigError) {
        let key = "historical_scenarios.\(name)"
        let parts = range.components(separatedBy: "..")
        guard parts.count == 2 else {
            throw .invalidValue(key: key, value: range, expected: "START..END with ISO dates, e.g. 2020-03-11..2020-03-13")
        }
        let start = parts[0].trimmingWhitespace(), end = parts[1].trimmingWhitespace()
        try setReplay(name: name, start: start, end: end)
    }

    /// Adds or replaces the replay `name` (keeps its place when it exists, else appends).
    public mutating func setReplay(name: String, start: String, end: String) throws(ConfigError) {
        let key = "historical_scenarios.\(name)"
        guard !name.isEmpty else { throw .invalidValue(key: key, value: name, expected: "a non-empty scenario name") }
        guard ISODate.isValid(start), ISODate.isValid(end) else {
            throw .invalidValue(key: key, value: "\(start)..\(end)", expected: "two ISO dates yyyy-mm-dd")
        }
        guard start < end else {
            throw .invalidValue(key: key, value: "\(start)..\(end)", expected: "a start date before the end date")
        }
        let replay = HistoricalReplay(name: name, startDate: start, endDate: end)
        if let i = historicalScenarios.firstIndex(where: { $0.name == name }) {
            historicalScenarios[i] = replay
        } else {
            historicalScenarios.append(replay)
        }
    }

    /// Checks relations between keys that each look fine alone.
    public func checkConsistency() throws(ConfigError) {
        if marginCallRatio < liquidationRatio {
            throw .inconsistent("margin_call_ratio (\(marginCallRatio)) must be ≥ liquidation_ratio (\(liquidationRatio))")
        }
        if targetRatio < marginCallRatio {
            throw .inconsistent("target_ratio (\(targetRatio)) must be ≥ margin_call_ratio (\(marginCallRatio))")
        }
        var seen = Set<String>()
        for replay in historicalScenarios where !seen.insert(replay.name).inserted {
            throw .inconsistent("historical scenario \"\(replay.name)\" is declared twice")
        }
    }

    /// The effective configuration as ordered (key, value) pairs, for the summary.
    public var effectiveEntries: [(key: String, value: ConfigValue)] {
        [
            ("confidence", .number(confidence)), ("horizon_days", .number(horizonDays)),
            ("window", .integer(window)), ("covariance", .text(covariance.rawValue)),
            ("ewma_lambda", .number(ewmaLambda)), ("allow_short_history", .boolean(allowShortHistory)),
            ("mc_paths", .integer(monteCarloPaths)), ("mc_seed", .integer(Int(clamping: monteCarloSeed))),
            ("mc_distribution", .text(monteCarloDistribution.rawValue)), ("mc_dof", .number(monteCarloDegreesOfFreedom)),
            ("haircut_model", .text(haircutModel.rawValue)), ("liquidation_days", .number(liquidationDays)),
            ("participation", .number(participation)), ("liquidation_ratio", .number(liquidationRatio)),
            ("margin_call_ratio", .number(marginCallRatio)), ("target_ratio", .number(targetRatio)),
            ("settlement_asset", .text(settlementAsset)), ("rebalance", .text(rebalance.rawValue)),
            ("objective", .text(objective.rawValue)), ("cost_aversion", .number(costAversion)),
            ("historical_scenarios", .replays(historicalScenarios)),
        ]
    }

    // MARK: parsing helpers

    private static func number(_ key: String, _ value: String, _ expected: String,
                               _ valid: (Double) -> Bool) throws(ConfigError) -> Double {
        guard let x = Double(value), x.isFinite, valid(x) else {
            throw .invalidValue(key: key, value: value, expected: expected)
        }
        return x
    }

    private static func integer(_ key: String, _ value: String, _ expected: String,
                                _ valid: (Int) -> Bool) throws(ConfigError) -> Int {
        guard let x = Int(value), valid(x) else { throw .invalidValue(key: key, value: value, expected: expected) }
        return x
    }

    private static func boolean(_ key: String, _ value: String) throws(ConfigError) -> Bool {
        switch value.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw .invalidValue(key: key, value: value, expected: "true or false")
        }
    }

    private static func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ value: String) throws(ConfigError) -> E
    where E.RawValue == String {
        guard let e = E(rawValue: value) else {
            throw .invalidValue(key: key, value: value,
                                expected: "one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return e
    }
}

/// A typed config value, for writing the effective configuration.
public enum ConfigValue: Sendable, Equatable {
    case number(Double), integer(Int), text(String), boolean(Bool), replays([HistoricalReplay])
}

/// ISO calendar dates `yyyy-mm-dd`.
public enum ISODate {
    /// True for a real calendar date written as `yyyy-mm-dd`.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        func digits(_ range: Range<Int>) -> Int? {
            var v = 0
            for i in range {
                let b = bytes[i]
                guard b >= 48 && b <= 57 else { return nil }
                v = v * 10 + Int(b - 48)
            }
            return v
        }
        guard let y = digits(0 ..< 4), let m = digits(5 ..< 7), let d = digits(8 ..< 10), (1 ... 12).contains(m), d >= 1
        else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return d <= days
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF.
    public func trimmingWhitespace() -> String {
        let ws: Set<Character> = [" ", "\t", "\r", "\n"]
        var s = Substring(self)
        while let f = s.first, ws.contains(f) { s = s.dropFirst() }
        while let l = s.last, ws.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
