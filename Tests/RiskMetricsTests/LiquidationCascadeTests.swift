import Foundation
import LinearAlgebra
import RiskMetrics
import RiskModel
import Testing

/// SPEC §3.8 on hand-computed books: the liquidation arithmetic of each round, the price impact that couples
/// accounts, and the properties every cascade must have.
@Suite struct LiquidationCascadeTests {
    /// Asset 0: volatile collateral (σ = 5 % daily, ADV 10,000 USD); asset 1: a stablecoin (no ADV, σ = 0);
    /// asset 2: collateral without ADV (σ = 4 %).
    static let volatilities = [0.05, 0.0, 0.04]
    static let advs: [Double?] = [10_000, nil, nil]

    static func market(haircut: Double = 0, model: HaircutModel = .schedule) -> CascadeMarket {
        var config = RiskConfig()
        config.haircutModel = model
        let schedule = CollateralSchedule(assets: advs.indices.map {
            AssetTerms(ticker: "A\($0)", scheduleHaircut: haircut, averageDailyVolumeUSD: advs[$0])
        })
        return CascadeMarket(haircuts: HaircutCalculator(schedule: schedule, volatilities: volatilities, z: 2.33, config: config))
    }

    /// A book from per-account lists of (asset, USD value: + collateral, − debt).
    static func book(_ accounts: [[(Int, Double)]]) -> CascadeBook {
        var rowStart = [0], asset: [Int32] = [], value: [Double] = []
        for holdings in accounts {
            for (j, v) in holdings {
                asset.append(Int32(j))
                value.append(v)
            }
            rowStart.append(value.count)
        }
        return CascadeBook(rowStart: rowStart, asset: asset, value: value,
                           excluded: [Bool](repeating: false, count: accounts.count))
    }

    static func parameters(closeFactor: Double = 0.5, penalty: Double = 0.05, impact: Double = 0,
                           maxRounds: Int = 50) -> CascadeParameters {
        CascadeParameters(liquidationRatio: 1, closeFactor: closeFactor, penalty: penalty, impactCoefficient: impact,
                          maxRounds: maxRounds)
    }

    static func run(_ books: [CascadeBook], shocks: [[Double]], _ parameters: CascadeParameters,
                    market: CascadeMarket = market(), workers: Int = 1) -> [[CascadeOutcome]] {
        let scenarios = StressScenarios(names: shocks.indices.map { "s\($0)" },
                                        sources: shocks.map { _ in .hypothetical }, shocks: Matrix(shocks))
        return LiquidationCascade.run(books: books, scenarios: scenarios, market: market, parameters: parameters,
                                      workers: workers)
    }

    static func close(_ x: Double, _ y: Double, _ tolerance: Double = 1e-12) -> Bool {
        abs(x - y) <= tolerance * max(1, abs(x), abs(y))
    }

    /// 1,000 USD of asset 0 against 750 USD of stablecoin debt, asset 0 down 30 %: C = 700 < D, liquidatable.
    static let oneAccount = book([[(0, 1000), (1, -750)]])

    /// φ = 1: one liquidation repays R = min(750, 700/1.05) = 666.67, which seizes all 700 of collateral
    /// (quantities exactly 0); the rest of the debt, 83.33, is shortfall — against §3.5's max(0, 750 − 700) = 50.
    @Test func fullCloseFactorExhaustsTheCollateralInOneRound() {
        let o = Self.run([Self.oneAccount], shocks: [[-0.3, 0, 0]], Self.parameters(closeFactor: 1))[0][0]
        let repaid = 700 / 1.05
        #expect(o.rounds == 1 && o.accountsLiquidated == 1 && o.liquidatedByCascade == 0)
        #expect(Self.close(o.debtRepaidUSD, repaid))
        #expect(o.collateralSoldUSD == 700 && o.soldUSD[0] == 700)
        #expect(Self.close(o.shortfallUSD, 750 - repaid))
        // Today's equity 250, final equity 0 − (750 − R).
        #expect(Self.close(o.totalLossUSD, 250 + 750 - repaid))
        #expect(o.priceImpact == [0, 0, 0] && !o.reachedRoundLimit)
    }

    /// φ = 0.5: each round repays half the debt while the collateral lasts — R = 375, 187.5, 93.75 (seizing 1.05·R
    /// each), then the remaining 10.9375 of collateral covers only R = 10.9375/1.05: exhausted in round 4.
    @Test func halfCloseFactorLiquidatesRoundAfterRound() {
        let o = Self.run([Self.oneAccount], shocks: [[-0.3, 0, 0]], Self.parameters())[0][0]
        let repaid = [375, 187.5, 93.75, 10.9375 / 1.05]
        #expect(o.rounds == 4 && o.accountsLiquidated == 1 && o.liquidatedByCascade == 0)
        #expect(Self.close(o.debtRepaidUSD, repaid.reduce(0, +)))
        #expect(Self.close(o.collateralSoldUSD, 700))
        #expect(Self.close(o.shortfallUSD, 750 - repaid.reduce(0, +)))
    }

    /// The round limit stops the cascade with the flag set; the figures are those after the last round allowed.
    @Test func roundLimitStopsAndFlags() {
        let o = Self.run([Self.oneAccount], shocks: [[-0.3, 0, 0]], Self.parameters(maxRounds: 2))[0][0]
        #expect(o.rounds == 2 && o.reachedRoundLimit)
        #expect(Self.close(o.debtRepaidUSD, 375 + 187.5))
        // After two rounds C = 700 − 393.75 − 196.875 = 109.375 against D = 187.5.
        #expect(Self.close(o.shortfallUSD, 187.5 - 109.375))
        let unlimited = Self.run([Self.oneAccount], shocks: [[-0.3, 0, 0]], Self.parameters(maxRounds: 4))[0][0]
        #expect(unlimited.rounds == 4 && !unlimited.reachedRoundLimit)
    }

    /// Account A (1,000 of asset 0 against 950) is liquidatable after a 10 % fall; B (1,000 against 895, CR 1.0056)
    /// is not. A's sales of 498.75 USD move asset 0 by η·σ·√(V/ADV) = 1.117 % (η = 1), which pushes B below the
    /// threshold in round 2. With η = 0 the price never moves and B survives.
    @Test func salesOfOneAccountLiquidateAnotherInRoundTwo() {
        let book = Self.book([[(0, 1000), (1, -950)], [(0, 1000), (1, -895)]])
        let withImpact = Self.run([book], shocks: [[-0.1, 0, 0]], Self.parameters(impact: 1))[0][0]
        let without = Self.run([book], shocks: [[-0.1, 0, 0]], Self.parameters(impact: 0))[0][0]
        #expect(without.accountsLiquidated == 1 && without.liquidatedByCascade == 0)
        #expect(withImpact.accountsLiquidated == 2 && withImpact.liquidatedByCascade == 1)
        let firstSale = 1.05 * 475
        let firstImpact = 0.05 * (firstSale / 10_000).squareRoot()
        #expect(900 * (1 - firstImpact) < 895)   // the hand computation's premise
        // The final impact follows from the total sold of asset 0.
        let v = withImpact.soldUSD[0]
        #expect(Self.close(withImpact.priceImpact[0], (1 - 0.05 * (v / 10_000).squareRoot()) - 1))
        #expect(Self.close(v, withImpact.collateralSoldUSD))
    }

    /// Debt without collateral cannot be liquidated (nothing to seize): all of it is shortfall.
    @Test func debtWithoutCollateralIsShortfall() {
        let o = Self.run([Self.book([[(1, -100)]])], shocks: [[-0.3, 0, 0]], Self.parameters(impact: 1))[0][0]
        #expect(o.accountsLiquidated == 0 && o.rounds == 0)
        #expect(o.shortfallUSD == 100 && o.totalLossUSD == 0)
    }

    /// Sales of an asset without ADV are counted but do not move its price.
    @Test func assetWithoutADVIsSoldWithoutImpact() {
        let o = Self.run([Self.book([[(2, 1000), (1, -900)]])], shocks: [[0, 0, -0.2]], Self.parameters(impact: 1))[0][0]
        #expect(o.accountsLiquidated == 1)
        #expect(o.soldUSD[2] > 0 && o.priceImpact[2] == 0)
        #expect(Self.close(o.soldUSD[2], o.collateralSoldUSD))
    }
}

/// Properties on random books: round 1 is the stress test, impact only adds liquidations, threads change nothing.
@Suite struct LiquidationCascadePropertyTests {
    /// Accounts with collateral in assets 1… and debts in the stablecoin 0, which nobody holds as collateral.
    static func stablecoinDebtBook(accounts: Int, assets n: Int, seed: UInt64) -> (Book, [Double]) {
        var rng = SplitMix64(seed: seed)
        var builder = BookBuilder(assetCount: n)
        for a in 0 ..< accounts {
            var used = Set<Int>()
            for _ in 0 ..< 1 + rng.nextInt(0 ..< 4) {
                let j = 1 + rng.nextInt(0 ..< n - 1)
                if used.insert(j).inserted { builder.add(account: "a\(a)", asset: j, quantity: rng.nextUniform(1 ... 100)) }
            }
            builder.add(account: "a\(a)", asset: 0, quantity: -rng.nextUniform(50 ... 2_000))
        }
        let prices = [1.0] + (1 ..< n).map { _ in rng.nextUniform(1 ... 50) }
        return (builder.build(), prices)
    }

    static func setting(assets n: Int, seed: UInt64) -> (CascadeMarket, CollateralSchedule, [Double], StressScenarios) {
        var rng = SplitMix64(seed: seed)
        let schedule = CollateralSchedule(assets: (0 ..< n).map {
            AssetTerms(ticker: "A\($0)", scheduleHaircut: 0.1, averageDailyVolumeUSD: $0 == 0 ? nil : rng.nextUniform(2_000 ... 50_000))
        })
        let vols = [0] + (1 ..< n).map { _ in rng.nextUniform(0.01 ... 0.08) }
        let haircuts = HaircutCalculator(schedule: schedule, volatilities: vols, z: 2.33, config: RiskConfig())
        let shocks = (0 ..< 4).map { _ in [0] + (1 ..< n).map { _ in -rng.nextUniform(0 ... 0.4) } }
        let scenarios = StressScenarios(names: ["a", "b", "c", "d"], sources: Array(repeating: .hypothetical, count: 4),
                                        shocks: Matrix(shocks))
        return (CascadeMarket(haircuts: haircuts), schedule, vols, scenarios)
    }

    /// With debts in an asset nobody sells, a larger η moves every sold price further down and can only add
    /// liquidations; and whatever η, every account liquidatable at P⁰ that has collateral is liquidated in round 1:
    /// the cascade's round-1 liquidations are the stress test's liquidatable accounts.
    @Test func largerImpactNeverLiquidatesFewerAccounts() {
        let n = 8
        let (book, prices) = Self.stablecoinDebtBook(accounts: 400, assets: n, seed: 7)
        let (market, schedule, vols, scenarios) = Self.setting(assets: n, seed: 11)
        var config = RiskConfig()
        config.haircutModel = .volatility
        let haircuts = HaircutCalculator(schedule: schedule, volatilities: vols, z: 2.33, config: config)
        let assessment = CollateralAssessment.assess(book: book, prices: prices, haircuts: haircuts, settlementAsset: 0,
                                                     config: config)
        let stress = StressTester.run(book: book, assessment: assessment, scenarios: scenarios, haircuts: haircuts,
                                      config: config, workers: 1)
        let cascadeBook = CascadeBook(book: book, assessment: assessment)
        var previous = [Int](repeating: 0, count: scenarios.count)
        for eta in [0.0, 0.25, 0.5, 1, 2, 4, 8] {
            let parameters = CascadeParameters(liquidationRatio: 1, closeFactor: 0.5, penalty: 0.05,
                                               impactCoefficient: eta, maxRounds: 200)
            let outcomes = LiquidationCascade.run(books: [cascadeBook], scenarios: scenarios, market: market,
                                                  parameters: parameters, workers: 2)[0]
            for s in outcomes.indices {
                #expect(outcomes[s].accountsLiquidated >= previous[s], "η = \(eta), scenario \(s)")
                #expect(outcomes[s].accountsLiquidated - outcomes[s].liquidatedByCascade
                        == stress.scenarios[s].accountsLiquidatable, "η = \(eta), scenario \(s)")
                previous[s] = outcomes[s].accountsLiquidated
            }
            // Without impact no price moves after P⁰: only accounts liquidatable there are ever liquidated.
            if eta == 0 { #expect(outcomes.allSatisfy { $0.liquidatedByCascade == 0 }) }
        }
        #expect(previous.contains { $0 > 0 })
    }

    /// The same outcomes, bit for bit, on 1, 2 and 5 workers.
    @Test func threadCountDoesNotChangeAnything() {
        let n = 8
        let (book, prices) = Self.stablecoinDebtBook(accounts: 300, assets: n, seed: 3)
        let (market, schedule, vols, scenarios) = Self.setting(assets: n, seed: 5)
        let haircuts = HaircutCalculator(schedule: schedule, volatilities: vols, z: 2.33, config: RiskConfig())
        let assessment = CollateralAssessment.assess(book: book, prices: prices, haircuts: haircuts, settlementAsset: 0,
                                                     config: RiskConfig())
        let books = [CascadeBook(book: book, assessment: assessment)]
        let parameters = CascadeParameters(config: RiskConfig())
        let one = LiquidationCascade.run(books: books, scenarios: scenarios, market: market, parameters: parameters, workers: 1)
        for workers in [2, 5] {
            #expect(LiquidationCascade.run(books: books, scenarios: scenarios, market: market, parameters: parameters,
                                           workers: workers) == one)
        }
    }
}
