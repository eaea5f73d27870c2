import RiskMetrics
import RiskModel
import Rebalancing
import Testing

/// The shard unit must be a multiple of every phase's block size, or a shard's blocks would not be the whole run's.
@Suite struct BlockPlanTests {
    @Test func shardUnitIsAMultipleOfEveryPhasesBlock() {
        let blocks = [ParametricRiskCalculator.blockSize, StressTester.blockSize, ScenarioLossCalculator.blockSize,
                      RebalancingEngine.blockSize]
        for block in blocks { #expect(AccountOrder.unitSize % block == 0, "unit \(AccountOrder.unitSize), block \(block)") }
        // The least such multiple, found by counting up (independent of the plan's gcd/lcm).
        let least = (1 ... 1 << 20).first { n in blocks.allSatisfy { n % $0 == 0 } }
        #expect(AccountOrder.unitSize == least)
    }
}
