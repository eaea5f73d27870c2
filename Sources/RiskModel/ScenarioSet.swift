/// Hypothetical stress scenarios from scenarios.csv: relative price shocks per schedule asset.
///
/// `shocks[s * assetCount + j]` is the relative shock of asset j in scenario s (−0.35 = price falls 35 %);
/// assets a scenario does not list are 0. Scenarios are in order of first appearance.
public struct ScenarioSet: Sendable {
    public let names: [String]
    public let assetCount: Int
    public let shocks: [Double]

    public init(names: [String], assetCount: Int, shocks: [Double]) {
        precondition(shocks.count == names.count * assetCount, "scenario table shape")
        self.names = names
        self.assetCount = assetCount
        self.shocks = shocks
    }

    public static func empty(assetCount: Int) -> ScenarioSet { ScenarioSet(names: [], assetCount: assetCount, shocks: []) }
    public var count: Int { names.count }
}
