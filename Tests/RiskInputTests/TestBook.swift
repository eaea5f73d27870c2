import Foundation
import RiskInput
import RiskModel

/// A small book written into a fresh temporary directory, removed on `deinit`.
final class TestBook {
    let url: URL

    static let prices = """
        date,BTC,ETH,USDC,DOGE
        2024-01-01,40000,2000,1,0.1
        2024-01-02,41000,,1,0.1
        2024-01-03,42000,2100,1.0001,0.1

        """
    static let assets = """
        asset,haircut,eligible,max_weight,adv_usd,cost_bps
        ETH,0.15,,,,
        BTC,0.1,true,0.5,1e9,5
        USDC,0,FALSE,1,,0

        """
    static let positions = """
        account,asset,quantity
        A1,BTC,1
        A1,USDC,-5000
        A2,ETH,2
        A1,BTC,0.5

        """
    static let scenarios = """
        scenario,asset,shock
        crash,BTC,-0.3
        crash,ETH,-0.4
        rally,BTC,0.2

        """

    /// The valid base book with some files replaced (a nil content removes the file).
    init(_ files: [String: String?] = [:], scenarios: Bool = true) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        var all: [String: String?] = ["prices.csv": Self.prices, "assets.csv": Self.assets, "positions.csv": Self.positions]
        if scenarios { all["scenarios.csv"] = Self.scenarios }
        for (name, content) in files { all[name] = content }
        for (name, content) in all {
            if let content { try write(name, content) }
        }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ content: String) throws {
        try Data(content.utf8).write(to: url.appendingPathComponent(name))
    }

    func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: url.appendingPathComponent(name))
    }

    func load(config: URL? = nil, overrides: [String] = []) -> Result<LoadedBook, InputErrors> {
        do {
            return .success(try BookLoader.load(directory: url, configFile: config, overrides: overrides))
        } catch {
            return .failure(error)
        }
    }

    /// The issues of a failed load as printed, with this directory's path removed (`positions.csv:3: …`).
    func issues(config: URL? = nil, overrides: [String] = []) -> [String] {
        switch load(config: config, overrides: overrides) {
        case .success: return []
        case .failure(let errors): return errors.issues.map { strip($0.description) }
        }
    }

    func strip(_ text: String) -> String {
        text.replacingOccurrences(of: url.path + "/", with: "")
    }

    /// The loaded book, or nil with the issues recorded as a test failure by the caller.
    func loaded(config: URL? = nil, overrides: [String] = []) throws -> LoadedBook {
        try load(config: config, overrides: overrides).get()
    }
}
