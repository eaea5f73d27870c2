/// The fixed blocks of accounts every per-account phase works on, and the shard unit derived from them.
///
/// A dense block's numbers depend on which accounts share it, so a sharded run must form exactly the blocks of a whole
/// run: the shard unit (`AccountOrder.unitSize`) is the least common multiple of every block size, which makes every
/// block of a shard a block of the whole run. Change a block size here and the unit follows.
public enum BlockPlan {
    /// Accounts per block of the parametric phase (one exposures × covariance product per block).
    public static let parametricAccounts = 128
    /// Accounts per block of the stress phase (one exposures × scenario moves product per block).
    public static let stressAccounts = 128
    /// Accounts per block of the historical and Monte Carlo losses (a (2·block) × paths product buffer per worker).
    public static let scenarioLossAccounts = 128
    /// Accounts per block of the rebalancing phase (per-account QPs; the block only groups work).
    public static let rebalancingAccounts = 16

    /// Every per-account block size.
    public static let accountBlockSizes = [parametricAccounts, stressAccounts, scenarioLossAccounts, rebalancingAccounts]

    /// Canonical positions per shard unit: the least common multiple of every block size.
    public static let shardUnit = accountBlockSizes.reduce(1) { lcm($0, $1) }

    static func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
