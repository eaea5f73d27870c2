import Foundation

/// A range of real numbers with open or closed ends, with the text a user sees when a value falls outside it.
public struct NumberRange: Sendable, CustomStringConvertible {
    public let lower: Double
    public let upper: Double
    public let lowerIncluded: Bool
    public let upperIncluded: Bool
    /// What the value means ("a number of days", "a ratio"), placed before the range in messages.
    public let what: String

    public init(_ what: String, _ lower: Double, _ upper: Double, lowerIncluded: Bool, upperIncluded: Bool) {
        self.what = what
        self.lower = lower
        self.upper = upper
        self.lowerIncluded = lowerIncluded
        self.upperIncluded = upperIncluded
    }

    /// True for a finite value inside the range.
    public func contains(_ x: Double) -> Bool {
        guard x.isFinite else { return false }
        let aboveLower = lowerIncluded ? x >= lower : x > lower
        let belowUpper = upperIncluded ? x <= upper : x < upper
        return aboveLower && belowUpper
    }

    /// `a ratio in [0.001, 1000]`, with `(`/`)` for open ends.
    public var description: String {
        "\(what) in \(lowerIncluded ? "[" : "(")\(Self.show(lower)), \(Self.show(upper))\(upperIncluded ? "]" : ")")"
    }

    private static func show(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : String(format: "%g", x)
    }
}

/// The documented range of every numeric config key and of the numbers in the input files. The bounds are chosen so
/// that no computation overflows (a price ratio of at most 10³⁰ has a log return of at most 69, whose Monte Carlo
/// draws at the longest horizon stay far below `exp`'s overflow at 709) and no allocation is unbounded (the memory a
/// run needs is estimated from them and checked before the compute, `RunBudget`). docs/METHODOLOGY.md lists them.
public enum Limits {
    public static let confidence = NumberRange("a number", 0, 1, lowerIncluded: false, upperIncluded: false)
    /// Risk horizon, days: up to one year.
    public static let horizonDays = NumberRange("a number of days", 0, 365, lowerIncluded: false, upperIncluded: true)
    /// Return window, daily returns: up to 100,000 (274 years of daily prices).
    public static let window = 2 ... 100_000
    public static let ewmaLambda = NumberRange("a number", 0, 1, lowerIncluded: false, upperIncluded: false)
    /// Monte Carlo paths: up to ten million (memory is checked separately, per block of paths × assets).
    public static let monteCarloPaths = 1 ... 10_000_000
    public static let degreesOfFreedom = NumberRange("degrees of freedom", 2, 1e6, lowerIncluded: false, upperIncluded: true)
    /// Base liquidation horizon T₀, days: up to one year.
    public static let liquidationDays = NumberRange("a number of days", 0, 365, lowerIncluded: false, upperIncluded: true)
    public static let participation = NumberRange("a fraction of ADV", 0, 1, lowerIncluded: false, upperIncluded: true)
    /// Collateral ratios (liquidation, margin call, target).
    public static let ratio = NumberRange("a ratio", 1e-3, 1e3, lowerIncluded: true, upperIncluded: true)
    /// Backtest days: up to 100,000 (any history the window allows; 0 = off).
    public static let backtestDays = 0 ... 100_000
    /// ℓ, liquidation penalty: a fraction up to 1 (liquidators seize at most twice the debt they repay).
    public static let liquidationPenalty = NumberRange("a fraction", 0, 1, lowerIncluded: true, upperIncluded: true)
    /// φ, close factor: a positive fraction of the debt.
    public static let closeFactor = NumberRange("a fraction", 0, 1, lowerIncluded: false, upperIncluded: true)
    /// η, impact coefficient: up to 1000 (any larger value already moves every sold asset by the 99 % cap).
    public static let impactCoefficient = NumberRange("a number", 0, 1e3, lowerIncluded: true, upperIncluded: true)
    /// Cascade rounds: up to 10,000 (each round re-values only the accounts it cannot prove safe).
    public static let cascadeMaxRounds = 1 ... 10_000
    public static let costAversion = NumberRange("a number", 0, 1e6, lowerIncluded: true, upperIncluded: true)
    /// Shards of one run: at most one per 128-account unit of a billion-account book.
    public static let shardCount = 1 ... 10_000_000

    /// Prices, USD per unit: positive, between 10⁻¹⁵ and 10¹⁵ (a ratio between any two prices below 10³⁰).
    public static let price = NumberRange("a price", 1e-15, 1e15, lowerIncluded: true, upperIncluded: true)
    /// Collateral or debt of one account, USD: beyond it (or not finite) the account is flagged and left out, since
    /// its variances (squares, up to 10⁶⁰) and scenario losses would no longer be finite at every step.
    public static let maxAccountValueUSD = 1e30
    /// Largest relative price shock of scenarios.csv (+1000 = a price 1001 times today's).
    public static let maxShock = 1e3
    /// Average daily volume, USD.
    public static let adv = NumberRange("a volume in USD", 0, 1e18, lowerIncluded: false, upperIncluded: true)
    /// A day-on-day price ratio beyond this factor (up or down) is reported as a likely data error.
    public static let suspiciousDailyPriceRatio = 1e3

    /// Bytes an input file may hold: positions.csv tens of GB, the other CSVs a few GB, the config file 1 MiB.
    public static let maxPositionsBytes: Int64 = 64 << 30
    public static let maxTableBytes: Int64 = 4 << 30
    public static let maxConfigBytes: Int64 = 1 << 20
}
