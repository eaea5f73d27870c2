import RiskModel

/// The cascade's parameters (METHODOLOGY "Liquidation cascades under stress"), from the configuration.
public struct CascadeParameters: Sendable, Equatable {
    /// CR below which an account is liquidated.
    public var liquidationRatio: Double
    /// φ: share of the remaining debt one liquidation repays, fraction in (0, 1].
    public var closeFactor: Double
    /// ℓ: collateral seized per USD of debt repaid is 1 + ℓ USD, fraction.
    public var penalty: Double
    /// η: price impact of cumulative sales V on an asset, η·σ·√(V/ADV), dimensionless.
    public var impactCoefficient: Double
    /// Rounds after which the cascade stops.
    public var maxRounds: Int

    /// The largest fall the sales can cause, fraction of the stressed price.
    public static let maxImpact = 0.99

    public init(liquidationRatio: Double, closeFactor: Double, penalty: Double, impactCoefficient: Double,
                maxRounds: Int) {
        self.liquidationRatio = liquidationRatio
        self.closeFactor = closeFactor
        self.penalty = penalty
        self.impactCoefficient = impactCoefficient
        self.maxRounds = maxRounds
    }

    public init(config: RiskConfig) {
        self.init(liquidationRatio: config.liquidationRatio, closeFactor: config.closeFactor,
                  penalty: config.liquidationPenalty, impactCoefficient: config.impactCoefficient,
                  maxRounds: config.cascadeMaxRounds)
    }
}

/// A book as the cascade sees it: per account, its holdings as (asset, value in USD at today's prices), positive for
/// collateral and negative for debt, in compressed rows. The run's book with its exposures, or the book as it would
/// be after the recommended rebalancing.
public struct CascadeBook: Sendable {
    /// Account a's holdings are rows `rowStart[a] ..< rowStart[a + 1]`.
    public let rowStart: [Int]
    /// Schedule index of each row's asset.
    public let asset: [Int32]
    /// Each row's value at today's prices, USD: > 0 collateral, < 0 debt.
    public let value: [Double]
    /// Accounts left out of the cascade and its totals (flagged invalid by the assessment).
    public let excluded: [Bool]

    public init(rowStart: [Int], asset: [Int32], value: [Double], excluded: [Bool]) {
        precondition(rowStart.count == excluded.count + 1 && asset.count == value.count
                     && rowStart.last == value.count, "cascade book: inconsistent rows")
        self.rowStart = rowStart
        self.asset = asset
        self.value = value
        self.excluded = excluded
    }

    /// The run's book at today's prices: the assessment's exposures.
    public init(book: Book, assessment: CollateralAssessment) {
        self.init(rowStart: book.rowStart, asset: book.assetIndex, value: assessment.exposure,
                  excluded: assessment.invalid)
    }

    public var accountCount: Int { excluded.count }
    @inlinable public func rows(of account: Int) -> Range<Int> { rowStart[account] ..< rowStart[account + 1] }

    /// Accounts the cascade may liquidate: included and owing something today (debts only shrink in a cascade).
    func indebtedAccounts() -> [Int32] {
        (0 ..< accountCount).compactMap { a in
            !excluded[a] && rows(of: a).contains { value[$0] < 0 } ? Int32(a) : nil
        }
    }
}
