/// The collateral schedule of `assets.csv`: one entry per asset, in that file's order.
/// That order is the risk universe's order everywhere in the engine (METHODOLOGY "Covariance").
public struct AssetTerms: Sendable, Equatable {
    /// Ticker, case-sensitive; a column of prices.csv.
    public var ticker: String
    /// Schedule haircut h_sched, a fraction in [0, 1).
    public var scheduleHaircut: Double
    /// May be bought as collateral when rebalancing.
    public var eligible: Bool
    /// Cap on the asset's share of an account's collateral value that rebalancing may buy up to, fraction in (0, 1].
    public var maxWeight: Double
    /// Average daily traded volume in USD; `nil` means unlimited liquidity.
    public var averageDailyVolumeUSD: Double?
    /// One-way trading cost (spread + fees) in basis points, ≥ 0.
    public var costBps: Double

    public init(ticker: String, scheduleHaircut: Double, eligible: Bool = true, maxWeight: Double = 1,
                averageDailyVolumeUSD: Double? = nil, costBps: Double = 10) {
        self.ticker = ticker
        self.scheduleHaircut = scheduleHaircut
        self.eligible = eligible
        self.maxWeight = maxWeight
        self.averageDailyVolumeUSD = averageDailyVolumeUSD
        self.costBps = costBps
    }

    /// One-way trading cost as a fraction of the traded USD amount (k_i in METHODOLOGY "Rebalancing").
    public var costFraction: Double { costBps / 10_000 }
}

/// All assets of the schedule, in `assets.csv` order, with a ticker → index map.
public struct CollateralSchedule: Sendable {
    public let assets: [AssetTerms]
    private let indexByTicker: [String: Int]

    public init(assets: [AssetTerms]) {
        self.assets = assets
        var index: [String: Int] = [:]
        index.reserveCapacity(assets.count)
        for (i, asset) in assets.enumerated() where index[asset.ticker] == nil { index[asset.ticker] = i }
        self.indexByTicker = index
    }

    public var count: Int { assets.count }
    public var tickers: [String] { assets.map(\.ticker) }
    public func index(of ticker: String) -> Int? { indexByTicker[ticker] }
    public subscript(index: Int) -> AssetTerms { assets[index] }
}
