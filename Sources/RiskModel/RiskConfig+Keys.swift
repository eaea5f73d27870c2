import Foundation

/// A configuration problem: an unknown key or a value out of range. `description` is user-facing.
public enum ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    case unknownKey(String)
    case invalidValue(key: String, value: String, expected: String)
    /// Keys that each look fine alone but disagree; `keys` are the keys concerned, to point at where they were set.
    case inconsistent(keys: [String], message: String)

    public var description: String {
        switch self {
        case .unknownKey(let key):
            return "unknown config key \"\(key)\" (known keys: \(RiskConfig.keys.joined(separator: ", ")))"
        case .invalidValue(let key, let value, let expected):
            return "\(key): \"\(value)\" is not valid; expected \(expected)"
        case .inconsistent(_, let message):
            return message
        }
    }
}

/// One config key, declared once: its name, its one-line meaning, how its text becomes the setting and how the
/// setting is written back (summary.json, report.html, the shipped defaults file). `--set`, the YAML reader, the
/// effective configuration and the documentation all read `RiskConfig.declarations`.
public struct ConfigKey: @unchecked Sendable {  // immutable; its closures capture only key paths and constants
    public let name: String
    /// What the key means, with its unit: the comment of the key in the shipped defaults file.
    public let meaning: String
    let parse: (String, inout RiskConfig) throws(ConfigError) -> Void
    public let render: (RiskConfig) -> ConfigValue

    /// Sets the key in `config` from its (trimmed) text.
    public func apply(_ text: String, to config: inout RiskConfig) throws(ConfigError) { try parse(text, &config) }

    static func number(_ name: String, _ path: WritableKeyPath<RiskConfig, Double>, _ range: NumberRange,
                       _ meaning: String) -> ConfigKey {
        ConfigKey(name: name, meaning: meaning, parse: { (text, config) throws(ConfigError) in
            guard let x = Double(text), range.contains(x) else {
                throw .invalidValue(key: name, value: text, expected: range.description)
            }
            config[keyPath: path] = x
        }, render: { .number($0[keyPath: path]) })
    }

    static func integer(_ name: String, _ path: WritableKeyPath<RiskConfig, Int>, _ range: ClosedRange<Int>,
                        _ what: String, _ meaning: String) -> ConfigKey {
        ConfigKey(name: name, meaning: meaning, parse: { (text, config) throws(ConfigError) in
            guard let x = Int(text), range.contains(x) else {
                throw .invalidValue(key: name, value: text, expected: "\(what) from \(range.lowerBound) to \(range.upperBound)")
            }
            config[keyPath: path] = x
        }, render: { .integer($0[keyPath: path]) })
    }

    static func boolean(_ name: String, _ path: WritableKeyPath<RiskConfig, Bool>, _ meaning: String) -> ConfigKey {
        ConfigKey(name: name, meaning: meaning, parse: { (text, config) throws(ConfigError) in
            switch text.lowercased() {
            case "true", "yes", "1": config[keyPath: path] = true
            case "false", "no", "0": config[keyPath: path] = false
            default: throw .invalidValue(key: name, value: text, expected: "true or false")
            }
        }, render: { .boolean($0[keyPath: path]) })
    }

    static func choice<E: RawRepresentable & CaseIterable>(_ name: String, _ path: WritableKeyPath<RiskConfig, E>,
                                                           _ meaning: String) -> ConfigKey where E.RawValue == String {
        ConfigKey(name: name, meaning: meaning, parse: { (text, config) throws(ConfigError) in
            guard let e = E(rawValue: text) else {
                throw .invalidValue(key: name, value: text,
                                    expected: "one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
            }
            config[keyPath: path] = e
        }, render: { .text($0[keyPath: path].rawValue) })
    }
}

extension RiskConfig {
    /// Every config key, in METHODOLOGY "Inputs" order, declared once (`historical_scenarios` also takes `historical_scenarios.NAME`).
    public static let declarations: [ConfigKey] = [
        .number("confidence", \.confidence, Limits.confidence, "VaR/ES confidence level α, strictly between 0 and 1"),
        .number("horizon_days", \.horizonDays, Limits.horizonDays, "risk horizon h in days (> 0); VaR/ES scale with √h"),
        .integer("window", \.window, Limits.window, "a whole number of returns",
                 "number of daily log returns used (the latest `window` returns)"),
        .choice("covariance", \.covariance, "covariance estimator: sample, ewma or ledoit_wolf"),
        .number("ewma_lambda", \.ewmaLambda, Limits.ewmaLambda, "RiskMetrics decay λ of the ewma estimator, in (0, 1)"),
        .boolean("allow_short_history", \.allowShortHistory,
                 "accept assets with less history than `window` (pairwise estimate, PSD-repaired)"),
        .integer("mc_paths", \.monteCarloPaths, Limits.monteCarloPaths, "a whole number of paths", "Monte Carlo paths"),
        ConfigKey(name: "mc_seed", meaning: "Monte Carlo seed: same seed → same numbers, whatever the thread count",
                  parse: { (text, config) throws(ConfigError) in
                      guard let seed = UInt64(text) else {
                          throw .invalidValue(key: "mc_seed", value: text, expected: "a whole number ≥ 0")
                      }
                      config.monteCarloSeed = seed
                  }, render: { .integer(Int(clamping: $0.monteCarloSeed)) }),
        .choice("mc_distribution", \.monteCarloDistribution, "Monte Carlo draws: normal or student_t"),
        .number("mc_dof", \.monteCarloDegreesOfFreedom, Limits.degreesOfFreedom,
                "degrees of freedom of student_t draws (> 2), scaled to the same covariance"),
        .choice("haircut_model", \.haircutModel, "haircuts: schedule (assets.csv) or volatility (liquidity-adjusted)"),
        .number("liquidation_days", \.liquidationDays, Limits.liquidationDays, "base liquidation horizon T₀ in days"),
        .number("participation", \.participation, Limits.participation,
                "share of an asset's ADV that can be sold per day, in (0, 1]"),
        .number("liquidation_ratio", \.liquidationRatio, Limits.ratio, "collateral ratio below which an account is liquidatable"),
        .number("margin_call_ratio", \.marginCallRatio, Limits.ratio, "collateral ratio below which an account gets a margin call"),
        .number("target_ratio", \.targetRatio, Limits.ratio, "collateral ratio that rebalancing and top-ups restore"),
        ConfigKey(name: "settlement_asset", meaning: "asset of assets.csv in which top-ups and excess are quoted",
                  parse: { (text, config) throws(ConfigError) in
                      guard !text.isEmpty else {
                          throw .invalidValue(key: "settlement_asset", value: text, expected: "an asset ticker of assets.csv")
                      }
                      config.settlementAsset = text
                  }, render: { .text($0.settlementAsset) }),
        .choice("rebalance", \.rebalance, "accounts to rebalance: none, breaching (below margin_call_ratio) or all"),
        .choice("objective", \.objective, "rebalancing anchor: min_variance (hedge the debts) or tracking (least change)"),
        .number("cost_aversion", \.costAversion, Limits.costAversion,
                "θ: weight of trading costs against risk when rebalancing (≥ 0)"),
        ConfigKey(name: "as_of", meaning: "the run's date yyyy-mm-dd: later rows of prices.csv are ignored; empty = its last row",
                  parse: { (text, config) throws(ConfigError) in
                      guard text.isEmpty || text == "none" || ISODate.isValid(text) else {
                          throw .invalidValue(key: "as_of", value: text,
                                              expected: "an ISO date yyyy-mm-dd, or empty for the last row of prices.csv")
                      }
                      config.asOf = text.isEmpty || text == "none" ? nil : text
                  }, render: { .text($0.asOf ?? "") }),
        .integer("backtest_days", \.backtestDays, Limits.backtestDays, "a whole number of days",
                 "days of the VaR backtest (each forecast from the `window` returns before its day); 0 turns it off"),
        .choice("cascade", \.cascade, "liquidation cascades under stress: on or off"),
        .number("liquidation_penalty", \.liquidationPenalty, Limits.liquidationPenalty,
                "ℓ: liquidators seize (1 + ℓ) USD of collateral per USD of debt repaid, in [0, 1]"),
        .number("close_factor", \.closeFactor, Limits.closeFactor,
                "φ: share of the remaining debt one liquidation repays, in (0, 1]"),
        .number("impact_coefficient", \.impactCoefficient, Limits.impactCoefficient,
                "η: price impact of liquidation sales, η·σ·√(sold/ADV), capped at 99 %"),
        .integer("cascade_max_rounds", \.cascadeMaxRounds, Limits.cascadeMaxRounds, "a whole number of rounds",
                 "rounds after which a cascade stops (warning when it was still liquidating)"),
        ConfigKey(name: "book_name", meaning: "the book's name in the results store; empty = the book folder's name",
                  parse: { (text, config) throws(ConfigError) in
                      guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                          throw .invalidValue(key: "book_name", value: text, expected: "a name without control characters")
                      }
                      config.bookName = text
                  }, render: { .text($0.bookName) }),
        ConfigKey(name: "store", meaning: "results store: sqlite:PATH or postgresql://user[:password]@host[:port]/database; empty = none",
                  parse: { (text, config) throws(ConfigError) in
                      guard !text.isEmpty && text != "none" else { config.store = nil; return }
                      do throws(StoreLocationError) {
                          config.store = try StoreLocation(parsing: text)
                      } catch {
                          // The value is shown with its password masked: error messages reach logs and terminals.
                          throw .invalidValue(key: "store", value: StoreLocation.redacting(text), expected: error.expectedText)
                      }
                  }, render: { .text($0.store?.redacted ?? "") }),
        ConfigKey(name: "historical_scenarios", meaning: "historical stress replays, NAME: [START, END], in order",
                  parse: { (text, config) throws(ConfigError) in
                      guard text.isEmpty || text == "none" else {
                          throw .invalidValue(key: "historical_scenarios", value: text,
                                              expected: "empty or none (set one replay with historical_scenarios.NAME=START..END)")
                      }
                      config.historicalScenarios = []
                  }, render: { .replays($0.historicalScenarios) }),
    ]

    /// Every config key's name, in declaration order.
    public static let keys = declarations.map(\.name)

    /// The declaration of `name`, nil for an unknown key.
    public static func declaration(_ name: String) -> ConfigKey? { declarations.first { $0.name == name } }

    /// Sets one key from its text form; the single place where strings become typed settings.
    ///
    /// `historical_scenarios.NAME=START..END` adds or replaces one replay, `historical_scenarios.NAME=` removes it,
    /// and `historical_scenarios=` (empty) or `none` removes them all.
    public mutating func set(_ key: String, to rawValue: String) throws(ConfigError) {
        let value = rawValue.trimmingWhitespace()
        if let declared = Self.declaration(key) {
            try declared.apply(value, to: &self)
            return
        }
        let prefix = "historical_scenarios."
        guard key.hasPrefix(prefix), key.count > prefix.count else { throw .unknownKey(key) }
        let name = String(key.dropFirst(prefix.count))
        if value.isEmpty || value == "none" {
            historicalScenarios.removeAll { $0.name == name }
        } else {
            try setReplay(name: name, range: value)
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
            throw .inconsistent(keys: ["margin_call_ratio", "liquidation_ratio"],
                                message: "margin_call_ratio (\(marginCallRatio)) must be ≥ liquidation_ratio (\(liquidationRatio))")
        }
        if targetRatio < marginCallRatio {
            throw .inconsistent(keys: ["target_ratio", "margin_call_ratio"],
                                message: "target_ratio (\(targetRatio)) must be ≥ margin_call_ratio (\(marginCallRatio))")
        }
        var seen = Set<String>()
        for replay in historicalScenarios where !seen.insert(replay.name).inserted {
            throw .inconsistent(keys: ["historical_scenarios"],
                                message: "historical scenario \"\(replay.name)\" is declared twice")
        }
    }

    /// The effective configuration as ordered (key, value) pairs, for the summary.
    public var effectiveEntries: [(key: String, value: ConfigValue)] {
        Self.declarations.map { ($0.name, $0.render(self)) }
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
