import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

@Suite struct HaircutAndRatioTests {
    let z99 = 2.3263478740408408

    @Test func volatilityHaircutClosedFormAndLiquidityHorizon() {
        var config = RiskConfig()
        config.participation = 0.1
        let schedule = CollateralSchedule(assets: [AssetTerms(ticker: "T", scheduleHaircut: 0.05, averageDailyVolumeUSD: 1_000_000)])
        let calc = HaircutCalculator(schedule: schedule, volatilities: [0.04], z: z99, config: config)
        // Small holding: T = T₀ = 1 day.
        #expect(relativeError(calc.haircut(asset: 0, collateralUSD: 10_000), 1 - exp(-z99 * 0.04)) < 1e-15)
        // 400,000 USD at 10 % of 1M ADV: T = 4 days, √T = 2.
        #expect(relativeError(calc.haircut(asset: 0, collateralUSD: 400_000), 1 - exp(-z99 * 0.04 * 2)) < 1e-15)
        // Low volatility: the schedule floor binds.
        let calm = HaircutCalculator(schedule: schedule, volatilities: [0.001], z: z99, config: config)
        #expect(calm.haircut(asset: 0, collateralUSD: 1) == 0.05)
    }

    @Test func haircutsRiseWithPositionSizeUnderTheVolatilityModel() {
        let schedule = CollateralSchedule(assets: [AssetTerms(ticker: "T", scheduleHaircut: 0.0, averageDailyVolumeUSD: 5e6)])
        let calc = HaircutCalculator(schedule: schedule, volatilities: [0.05], z: z99, config: RiskConfig())
        var previous = 0.0
        for size in stride(from: 1e3, through: 1e9, by: 2.5e7) {
            let h = calc.haircut(asset: 0, collateralUSD: size)
            #expect(h >= previous)
            #expect(h < 1)
            previous = h
        }
        #expect(calc.haircut(asset: 0, collateralUSD: 1e9) > calc.haircut(asset: 0, collateralUSD: 1e5))
    }

    @Test func ratiosStatusTopupAndExcess() {
        // Settlement asset 0 (USDC-like, schedule haircut 0.02); collateral asset 1 with haircut 0.2.
        let schedule = CollateralSchedule(assets: [AssetTerms(ticker: "USDC", scheduleHaircut: 0.02),
                                                   AssetTerms(ticker: "ETH", scheduleHaircut: 0.2)])
        var config = RiskConfig()
        config.haircutModel = .schedule
        var builder = BookBuilder(assetCount: 2)
        // ok: HCV 1,600 vs debt 1,000 → CR 1.6
        builder.add(account: "ok", asset: 1, quantity: 1)
        builder.add(account: "ok", asset: 0, quantity: -1000)
        // margin call: HCV 1,600 vs 1,500 → 1.0667
        builder.add(account: "mc", asset: 1, quantity: 1)
        builder.add(account: "mc", asset: 0, quantity: -1500)
        // liquidatable: 1,600 vs 2,000 → 0.8; lots summed: 0.5 + 0.5 ETH
        builder.add(account: "liq", asset: 1, quantity: 0.5)
        builder.add(account: "liq", asset: 0, quantity: -2000)
        builder.add(account: "liq", asset: 1, quantity: 0.5)
        let calc = HaircutCalculator(schedule: schedule, volatilities: [0, 0.05], z: z99, config: config)
        let a = CollateralAssessment.assess(book: builder.build(), prices: [1, 2000], haircuts: calc, settlementAsset: 0, config: config)
        #expect(a.status == [.ok, .marginCall, .liquidatable])
        #expect(a.collateralRatio[0] == 1.6)
        #expect(relativeError(a.collateralRatio[1], 1600.0 / 1500) < 1e-15)
        #expect(a.collateralRatio[2] == 0.8)
        #expect(a.healthFactor(2, config: config) == 0.8)
        // top-up restores 1.25: (1.25·2,000 − 1,600) / 0.98
        #expect(relativeError(a.topup[2], 900 / 0.98) < 1e-15)
        #expect(a.excess[2] == 0)
        // excess of the ok account: (1,600 − 1,250) / 0.98
        #expect(relativeError(a.excess[0], 350 / 0.98) < 1e-15)
        #expect(a.liquidationBuffer[1] == 100)
        #expect(a.equity(2) == 0)
        // Adding the top-up in USDC lands exactly on the target ratio.
        let restored = (a.hcv[2] + a.topup[2] * 0.98) / a.debt[2]
        #expect(relativeError(restored, 1.25) < 1e-15)
    }

    @Test func statusBoundariesAreStrict() {
        let config = RiskConfig()
        #expect(AccountStatus.of(ratio: 1.0, config: config) == .marginCall)
        #expect(AccountStatus.of(ratio: 0.999999, config: config) == .liquidatable)
        #expect(AccountStatus.of(ratio: 1.1, config: config) == .ok)
        #expect(AccountStatus.of(ratio: .nan, config: config) == .ok)
    }
}
