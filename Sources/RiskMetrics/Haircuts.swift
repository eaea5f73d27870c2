import Foundation
import RiskModel

/// Haircuts of METHODOLOGY "Haircuts", as fractions of collateral value.
///
/// `schedule`: h_i = h_sched. `volatility` (liquidity-adjusted): T_i = max(T₀, c_i / (participation·adv_i)) days,
/// h_i = max(h_sched, 1 − exp(−z·σ_i·√T_i)), with σ_i the daily log-return volatility and z = Φ⁻¹(α).
public struct HaircutCalculator: Sendable {
    public let model: HaircutModel
    /// z = Φ⁻¹(confidence).
    public let z: Double
    /// Daily log-return volatility per schedule asset.
    public let volatilities: [Double]
    public let scheduleHaircuts: [Double]
    /// ADV in USD per asset; nil = unlimited.
    public let averageDailyVolumes: [Double?]
    /// Base liquidation horizon T₀ in days.
    public let baseLiquidationDays: Double
    /// Share of ADV sold per day.
    public let participation: Double

    public init(schedule: CollateralSchedule, volatilities: [Double], z: Double, config: RiskConfig) {
        self.model = config.haircutModel
        self.z = z
        self.volatilities = volatilities
        self.scheduleHaircuts = schedule.assets.map(\.scheduleHaircut)
        self.averageDailyVolumes = schedule.assets.map(\.averageDailyVolumeUSD)
        self.baseLiquidationDays = config.liquidationDays
        self.participation = config.participation
    }

    /// Liquidation horizon in days of a holding worth `collateralUSD` of asset `asset`.
    @inlinable public func liquidationDays(asset: Int, collateralUSD: Double) -> Double {
        guard let adv = averageDailyVolumes[asset] else { return baseLiquidationDays }
        return max(baseLiquidationDays, collateralUSD / (participation * adv))
    }

    /// Haircut of a holding worth `collateralUSD` (≥ 0) of asset `asset`.
    @inlinable public func haircut(asset: Int, collateralUSD: Double) -> Double {
        let scheduled = scheduleHaircuts[asset]
        guard model == .volatility else { return scheduled }
        let horizon = liquidationDays(asset: asset, collateralUSD: collateralUSD)
        return max(scheduled, -expm1(-z * volatilities[asset] * horizon.squareRoot()))
    }

    /// Haircut of a marginal unit (T = T₀), e.g. of the settlement asset or of an asset not yet held.
    @inlinable public func marginalHaircut(asset: Int) -> Double { haircut(asset: asset, collateralUSD: 0) }
}

/// A haircut calculator with each asset's size-independent terms computed once, for loops that value many holdings
/// (stress tests, cascades): a holding within T₀ days of liquidity gets the marginal haircut without evaluating the
/// formula, which gives the same value there.
struct HaircutTable: Sendable {
    let calculator: HaircutCalculator
    /// participation·ADV per asset, USD per day; +∞ when the haircut never depends on the holding's size (schedule
    /// model or no ADV).
    let liquidityScale: [Double]
    /// The haircut at T = T₀, per asset.
    let marginalHaircut: [Double]
    /// T₀ in days.
    let baseDays: Double

    init(_ calculator: HaircutCalculator) {
        self.calculator = calculator
        let n = calculator.volatilities.count
        liquidityScale = (0 ..< n).map { j in
            guard calculator.model == .volatility, let adv = calculator.averageDailyVolumes[j] else { return .infinity }
            return calculator.participation * adv
        }
        marginalHaircut = (0 ..< n).map { calculator.marginalHaircut(asset: $0) }
        baseDays = calculator.baseLiquidationDays
    }

    /// Haircut of a collateral holding worth `value` USD of asset j.
    @inline(__always) func haircut(asset j: Int, value: Double) -> Double {
        value / liquidityScale[j] <= baseDays ? marginalHaircut[j] : calculator.haircut(asset: j, collateralUSD: value)
    }
}
