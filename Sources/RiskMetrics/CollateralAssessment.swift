import RiskModel

/// Status of an account by its collateral ratio (METHODOLOGY "Ratios, status and recommendations").
public enum AccountStatus: String, Sendable, CaseIterable {
    case ok
    case marginCall = "margin_call"
    case liquidatable

    /// liquidatable if CR < liquidation_ratio, margin_call if CR < margin_call_ratio, else ok; no debt (NaN) → ok.
    @inlinable public static func of(ratio: Double, config: RiskConfig) -> AccountStatus {
        if ratio.isNaN { return .ok }
        if ratio < config.liquidationRatio { return .liquidatable }
        if ratio < config.marginCallRatio { return .marginCall }
        return .ok
    }
}

/// Per-holding and per-account collateral figures of METHODOLOGY "Haircuts"–3.4, struct-of-arrays.
/// Holding arrays follow the book's CSR order; account arrays follow the book's account order. USD throughout.
public struct CollateralAssessment: Sendable {
    /// e = q·p per holding (negative for debt).
    public var exposure: [Double]
    /// Haircut per holding, NaN for debt rows (and zero-quantity rows).
    public var haircut: [Double]
    /// c·(1 − h) per collateral holding, 0 for debt rows.
    public var holdingHCV: [Double]

    /// C: collateral value.
    public var collateral: [Double]
    /// D: debt value.
    public var debt: [Double]
    /// HCV = Σ c_i (1 − h_i).
    public var hcv: [Double]
    /// CR = HCV / D, NaN when D = 0.
    public var collateralRatio: [Double]
    public var status: [AccountStatus]
    /// HCV − liquidation_ratio·D.
    public var liquidationBuffer: [Double]
    /// max(0, target_ratio·D − HCV) / (1 − h_settlement).
    public var topup: [Double]
    /// max(0, HCV − target_ratio·D) / (1 − h_settlement).
    public var excess: [Double]
    /// Haircut of a marginal unit of the settlement asset (T = T₀).
    public var settlementHaircut: Double
    /// Accounts whose figures are not finite (a quantity × price that overflows): flagged in the report,
    /// their cells left empty and their holdings kept out of book totals. The run goes on.
    public var invalid: [Bool]

    public init(exposure: [Double], haircut: [Double], holdingHCV: [Double], collateral: [Double], debt: [Double],
                hcv: [Double], collateralRatio: [Double], status: [AccountStatus], liquidationBuffer: [Double],
                topup: [Double], excess: [Double], settlementHaircut: Double, invalid: [Bool]) {
        self.exposure = exposure
        self.haircut = haircut
        self.holdingHCV = holdingHCV
        self.collateral = collateral
        self.debt = debt
        self.hcv = hcv
        self.collateralRatio = collateralRatio
        self.status = status
        self.liquidationBuffer = liquidationBuffer
        self.topup = topup
        self.excess = excess
        self.settlementHaircut = settlementHaircut
        self.invalid = invalid
    }

    /// Health factor CR / liquidation_ratio (NaN without debt).
    public func healthFactor(_ account: Int, config: RiskConfig) -> Double {
        collateralRatio[account] / config.liquidationRatio
    }

    /// Computes every figure for the book at the as-of prices `prices` (USD per unit, schedule order).
    public static func assess(book: Book, prices: [Double], haircuts: HaircutCalculator, settlementAsset: Int,
                              config: RiskConfig) -> CollateralAssessment {
        let holdings = book.holdingCount, accounts = book.accountCount
        var exposure = [Double](repeating: 0, count: holdings)
        var haircut = [Double](repeating: .nan, count: holdings)
        var holdingHCV = [Double](repeating: 0, count: holdings)
        var collateral = [Double](repeating: 0, count: accounts)
        var debt = [Double](repeating: 0, count: accounts)
        var hcv = [Double](repeating: 0, count: accounts)
        var ratio = [Double](repeating: .nan, count: accounts)
        var status = [AccountStatus](repeating: .ok, count: accounts)
        var buffer = [Double](repeating: 0, count: accounts)
        var topup = [Double](repeating: 0, count: accounts)
        var excess = [Double](repeating: 0, count: accounts)
        var invalid = [Bool](repeating: false, count: accounts)
        let settlementHaircut = haircuts.marginalHaircut(asset: settlementAsset)
        let settlementValue = 1 - settlementHaircut
        for a in 0 ..< accounts {
            var c = 0.0, d = 0.0, h = 0.0
            for k in book.holdings(of: a) {
                let j = Int(book.assetIndex[k])
                let e = book.quantity[k] * prices[j]
                exposure[k] = e
                if e > 0 {
                    let cut = haircuts.haircut(asset: j, collateralUSD: e)
                    haircut[k] = cut
                    holdingHCV[k] = e * (1 - cut)
                    c += e
                    h += holdingHCV[k]
                } else {
                    d -= e
                }
            }
            invalid[a] = !(c <= Limits.maxAccountValueUSD && d <= Limits.maxAccountValueUSD && h.isFinite)
            collateral[a] = c
            debt[a] = d
            hcv[a] = h
            if d > 0 { ratio[a] = h / d }
            status[a] = AccountStatus.of(ratio: ratio[a], config: config)
            buffer[a] = h - config.liquidationRatio * d
            topup[a] = max(0, config.targetRatio * d - h) / settlementValue
            excess[a] = max(0, h - config.targetRatio * d) / settlementValue
        }
        return CollateralAssessment(exposure: exposure, haircut: haircut, holdingHCV: holdingHCV, collateral: collateral,
                                    debt: debt, hcv: hcv, collateralRatio: ratio, status: status,
                                    liquidationBuffer: buffer, topup: topup, excess: excess,
                                    settlementHaircut: settlementHaircut, invalid: invalid)
    }
}

extension CollateralAssessment {
    /// E = C − D.
    public func equity(_ account: Int) -> Double { collateral[account] - debt[account] }
}
