import Dispatch
import Foundation

/// Who holds the book: many small retail accounts, or few large institutional ones.
public enum BookProfile: String, Sendable, CaseIterable {
    /// 1–15 collateral holdings and 1–3 debts per account, $50 to $5M positions.
    case retail
    /// 50–500 holdings (capped at the number of assets), 1–5 debts, larger positions.
    case institutional
}

/// What to generate. Same spec (including the seed) → byte-identical files on every machine.
public struct BookSpec: Sendable, Equatable {
    public var accounts: Int
    public var assets: Int
    /// Price rows: calendar days starting 2019-01-01.
    public var days: Int
    public var seed: UInt64
    public var profile: BookProfile

    public init(accounts: Int, assets: Int, days: Int, seed: UInt64 = 42, profile: BookProfile = .retail) {
        self.accounts = accounts
        self.assets = assets
        self.days = days
        self.seed = seed
        self.profile = profile
    }

    /// Limits that keep generation practical (the price table is held in memory).
    public static let maxAccounts = 100_000_000
    public static let maxAssets = 10_000
    public static let maxDays = 36_500
    public static let maxPriceCells = 50_000_000

    /// Throws `BookGeneratorError.invalidSpec` naming every problem.
    public func validate() throws {
        var problems: [String] = []
        if accounts < 1 {
            problems.append("--accounts must be at least 1 (got \(accounts))")
        } else if accounts > BookSpec.maxAccounts {
            problems.append("--accounts must be at most \(BookSpec.maxAccounts) (got \(accounts))")
        }
        if assets < 4 {
            problems.append("--assets must be at least 4 (the book holds USDC, USDT, BTC and ETH; got \(assets))")
        } else if assets > BookSpec.maxAssets {
            problems.append("--assets must be at most \(BookSpec.maxAssets) (got \(assets))")
        }
        if days < 2 {
            problems.append("--days must be at least 2 (one return needs two price rows; got \(days))")
        } else if days > BookSpec.maxDays {
            problems.append("--days must be at most \(BookSpec.maxDays) (got \(days))")
        }
        if problems.isEmpty && assets * days > BookSpec.maxPriceCells {
            problems.append("--assets × --days must be at most \(BookSpec.maxPriceCells) price cells (got \(assets * days)); reduce one of them")
        }
        if !problems.isEmpty {
            throw BookGeneratorError.invalidSpec(problems.joined(separator: "; "))
        }
    }
}

/// Account counts by the status the generator aimed for (its own estimate of CR with
/// volatility haircuts; the engine's numbers differ slightly).
public struct IntendedStatusCounts: Sendable, Equatable {
    public var ok: Int
    public var marginCall: Int
    public var liquidatable: Int
    /// Accounts without debt (status ok, no ratio).
    public var noDebt: Int
}

/// What was written.
public struct GeneratedBook: Sendable {
    public var directory: URL
    public var pricesURL: URL
    public var assetsURL: URL
    public var positionsURL: URL
    public var scenariosURL: URL
    public var accounts: Int
    public var assets: Int
    /// Data rows of prices.csv (= days).
    public var priceRows: Int
    /// Data rows of positions.csv (lots count separately).
    public var positionRows: Int
    /// Distinct scenarios in scenarios.csv, and its data rows.
    public var scenarios: Int
    public var scenarioRows: Int
    public var tickers: [String]
    public var firstDate: String
    /// The last price row's date (the engine's as-of date).
    public var asOfDate: String
    public var intendedStatus: IntendedStatusCounts
    /// Accounts with one holding split over several rows.
    public var accountsWithLots: Int

    public var fileURLs: [URL] { [pricesURL, assetsURL, positionsURL, scenariosURL] }
}

public enum BookGeneratorError: Error, CustomStringConvertible, Sendable {
    /// The spec is unusable; the message says what to change.
    case invalidSpec(String)
    /// A file or directory could not be created or written.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidSpec(let message): return "invalid book spec: \(message)"
        case .io(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}

/// Deterministic synthetic books for `ballast generate` (METHODOLOGY "Inputs" input format, §5 tiers).
///
/// The model, in the order it is built (every step draws from its own xoshiro256** stream
/// derived from the seed, and only correctly rounded IEEE arithmetic touches the output, so the
/// bytes are the same on every machine and for every thread count):
///
/// - **Universe** — real tickers by popularity (BTC, ETH, USDC, USDT, DAI, SOL, BNB, …, LUNA,
///   FTT, …), then `TK0071`-style synthetic ones. Stablecoins: USDC, USDT, DAI; majors: BTC,
///   ETH, SOL, BNB, XRP, ADA; the rest are alts in sectors (platform, defi, exchange, …).
///   Assets with a real listing date list late (leading empty cells) only when the listing is
///   at least 400 rows before the last row, so the latest 366 rows stay complete; a few
///   synthetic assets list late at random under the same rule.
/// - **Prices** — daily log returns `μ + σ·(β_m·m_t + β_s·s_t + β_e·e_t)` with a market factor,
///   one factor per sector and idiosyncratic noise, each a GARCH(1,1) (α 0.07, β 0.91, variance
///   capped at 3× long run) driven by unit-variance Student-t(4) innovations. BTC σ ≈ 2.4 %,
///   ETH ≈ 3.1 %, majors 3.6–4.5 %, alts 3.8–6.2 %; correlations ≈ 0.5–0.9 among majors.
///   Stablecoins follow a mean-reverting (OU, φ 0.6) log deviation from 1.0 with daily vol
///   0.025–0.04 %. On the METHODOLOGY "Stress tests" replay episodes (when inside the book) every risky asset
///   crashes: covid −35…−45 %, china_ban ≈ −30 %, luna −22…−33 % with LUNA (or a stand-in alt)
///   −99 %, ftx −17…−28 % with FTT (or a stand-in) −75 %; the market factor is shocked too, so
///   volatility clusters afterwards. Short gaps (1–3 empty cells, separated by prices) are
///   sprinkled into a quarter of the non-stable assets, never on the last row, next to an
///   episode, or in the last 366 rows of BTC/ETH. Prices are written with 10 significant digits.
/// - **Schedule** — haircuts: stablecoins 0.02–0.05, majors 0.10–0.20, alts 0.20–0.50 rising
///   with volatility, the collapsing assets 0.90 (and not eligible); ~10 % of the non-stable
///   assets (alts only) `eligible=false`; `max_weight` 1 for stables/BTC/ETH, 0.5–0.8 majors,
///   0.2–0.5 alts; `adv_usd` 1e9–3e10 majors, 1e6–1e8 alts by popularity, 5e4–5e5 for a few thin
///   alts, empty (unlimited) for USDC; `cost_bps` 1–5 majors/stables, 10–100 alts.
/// - **Accounts** (`acct-` + zero-padded number, width ≥ 4 digits, rows grouped by account and
///   in assets.csv order within it) — retail: 1–15 holdings drawn Zipf-like by popularity, 85 %
///   with 1–3 debts (80 % stablecoins, else ETH/BTC), USD sizes lognormal (account level × holding
///   level) clipped to $50–$5M; institutional: 50–500 holdings (capped by the universe), 90 % with
///   1–5 debts, sizes clipped to $1k–$500M. A holding and a debt never share an asset. Each
///   indebted account's debt is set from its haircut-adjusted value (volatility haircuts with
///   the engine defaults: EWMA λ 0.94 over the latest 365 log returns, z = Φ⁻¹(0.99),
///   T = max(1, c / (0.1·adv))) so that its collateral ratio lands in: 81 % ok (1.15–3,
///   log-uniform), 11 % margin call (1.02–1.09), 8 % liquidatable (0.60–0.98). About 5 % of
///   accounts split one holding over 2–3 rows (lots). Quantities have 10 significant digits.
/// - **Scenarios** — 8–10 hypothetical shocks: `crypto_crash_30`, `btc_minus_50`,
///   `eth_minus_40`, `usdc_depeg_10`, `stablecoin_run`, `alt_winter`, `mild_down_5`,
///   `rates_up_rally` (positive shocks), `defi_exploit`, `exchange_failure` (the last two when
///   the universe has defi / exchange-token assets).
///
/// Accounts are generated in fixed chunks (2,048 retail / 32 institutional accounts), each from
/// a stream seeded by (seed, chunk index), in parallel batches, and written in chunk order.
public enum BookGenerator {
    /// The engine defaults the generator calibrates account debts against.
    static let window = 365
    static let ewmaLambda = 0.94
    static let z99 = 2.326_347_874_040_840_8  // Φ⁻¹(0.99)

    /// Writes prices.csv, assets.csv, positions.csv and scenarios.csv into `directory`
    /// (created if needed; existing files of those names are replaced). Each file is written
    /// as a hidden `.NAME.partial` and renamed into place when complete.
    public static func generate(_ spec: BookSpec, into directory: URL) throws -> GeneratedBook {
        try spec.validate()
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw BookGeneratorError.io(path: directory.path, reason: "cannot create directory: \(ErrorText.describe(error))")
        }
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw BookGeneratorError.io(path: directory.path, reason: "not a directory")
        }

        let universe = UniverseBuilder.build(assetCount: spec.assets, days: spec.days, seed: spec.seed)
        var table = PriceSimulator.simulate(universe: universe, days: spec.days, seed: spec.seed)
        PriceSimulator.addGaps(&table, universe: universe, seed: spec.seed)

        let pricesURL = directory.appendingPathComponent("prices.csv")
        let assetsURL = directory.appendingPathComponent("assets.csv")
        let positionsURL = directory.appendingPathComponent("positions.csv")
        let scenariosURL = directory.appendingPathComponent("scenarios.csv")

        try withOutput(pricesURL) { try writePrices(&table, universe: universe, to: $0) }
        try withOutput(assetsURL) { try writeAssets(universe, to: $0) }
        var scenarioCount = 0
        var scenarioRows = 0
        try withOutput(scenariosURL) { file in
            (scenarioCount, scenarioRows) = try writeScenarios(universe, to: file)
        }

        let sigma = ewmaVolatility(table)
        let last = spec.days - 1
        let asOf = (0..<universe.count).map { table[last, $0] }
        let ctx = AccountContext(profile: spec.profile, accountCount: spec.accounts, universe: universe,
                                 price: asOf, sigma: sigma, z: z99)
        var positions = (rows: 0, counts: [0, 0, 0, 0], lots: 0)
        try withOutput(positionsURL) { file in
            positions = try writePositions(ctx, seed: spec.seed, to: file)
        }

        return GeneratedBook(
            directory: directory, pricesURL: pricesURL, assetsURL: assetsURL, positionsURL: positionsURL,
            scenariosURL: scenariosURL, accounts: spec.accounts, assets: spec.assets, priceRows: spec.days,
            positionRows: positions.rows, scenarios: scenarioCount, scenarioRows: scenarioRows,
            tickers: universe.assets.map(\.ticker), firstDate: CivilDate.isoDate(row: 0),
            asOfDate: CivilDate.isoDate(row: last),
            intendedStatus: IntendedStatusCounts(ok: positions.counts[0], marginCall: positions.counts[1],
                                                 liquidatable: positions.counts[2], noDebt: positions.counts[3]),
            accountsWithLots: positions.lots)
    }

    private static func withOutput(_ url: URL, _ body: (OutputFile) throws -> Void) throws {
        let file = try OutputFile(url)
        do {
            try body(file)
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
    }

    /// Wide prices, 10 significant digits; the table is replaced by the values as written.
    static func writePrices(_ table: inout PriceTable, universe: Universe, to file: OutputFile) throws {
        try file.append { b in
            b.appendASCII("date")
            for a in universe.assets {
                b.append(ASCII.comma)
                b.appendASCII(a.ticker)
            }
            b.append(ASCII.newline)
        }
        for t in 0..<table.days {
            try file.append { b in
                CivilDate.appendISODate(row: t, to: &b)
                for i in 0..<table.assets {
                    b.append(ASCII.comma)
                    let v = table[t, i]
                    if !v.isNaN {
                        table[t, i] = b.appendSignificant(v, digits: 10)
                    }
                }
                b.append(ASCII.newline)
            }
        }
    }

    static func writeAssets(_ universe: Universe, to file: OutputFile) throws {
        try file.append { b in
            b.appendASCII("asset,haircut,eligible,max_weight,adv_usd,cost_bps\n")
            for a in universe.assets {
                b.appendASCII(a.ticker)
                b.append(ASCII.comma)
                b.appendSignificant(a.haircut, digits: 6)
                b.append(ASCII.comma)
                b.appendASCII(a.eligible ? "true" : "false")
                b.append(ASCII.comma)
                b.appendSignificant(a.maxWeight, digits: 6)
                b.append(ASCII.comma)
                if let adv = a.adv { b.appendSignificant(adv, digits: 3) }
                b.append(ASCII.comma)
                b.appendSignificant(a.costBps, digits: 6)
                b.append(ASCII.newline)
            }
        }
    }

    /// Hypothetical scenarios; returns (scenarios, rows).
    static func writeScenarios(_ universe: Universe, to file: OutputFile) throws -> (Int, Int) {
        let scenarios = hypotheticalScenarios(universe)
        var rows = 0
        try file.append { b in
            b.appendASCII("scenario,asset,shock\n")
            for s in scenarios {
                for (asset, shock) in s.shocks {
                    b.appendASCII(s.name)
                    b.append(ASCII.comma)
                    b.appendASCII(universe.assets[asset].ticker)
                    b.append(ASCII.comma)
                    b.appendSignificant(shock, digits: 6)
                    b.append(ASCII.newline)
                    rows += 1
                }
            }
        }
        return (scenarios.count, rows)
    }

    /// EWMA (λ = 0.94) daily volatility of each asset over the latest min(365, days − 1) log
    /// returns, after forward-filling gaps of up to 3 days (METHODOLOGY "Covariance").
    static func ewmaVolatility(_ table: PriceTable) -> [Double] {
        let days = table.days
        let w = min(window, days - 1)
        // λ^W by repeated multiplication (deterministic).
        var lambdaW = 1.0
        for _ in 0..<w { lambdaW *= ewmaLambda }
        let norm = (1 - ewmaLambda) / (1 - lambdaW)
        var sigma = [Double](repeating: 0, count: table.assets)
        var filled = [Double](repeating: .nan, count: days)
        for i in 0..<table.assets {
            var lastPrice = Double.nan
            var run = 0
            for t in 0..<days {
                let p = table[t, i]
                if !p.isNaN {
                    lastPrice = p
                    run = 0
                    filled[t] = p
                } else if !lastPrice.isNaN && run < 3 {
                    run += 1
                    filled[t] = lastPrice
                } else {
                    filled[t] = .nan
                }
            }
            var variance = 0.0
            var weight = norm
            for k in 0..<w {
                let t = days - 1 - k
                let a = filled[t], b = filled[t - 1]
                if !a.isNaN && !b.isNaN {
                    let r = DetMath.log(a / b)
                    variance += weight * r * r
                }
                weight *= ewmaLambda
            }
            sigma[i] = variance.squareRoot()
        }
        return sigma
    }

    /// Generates accounts chunk by chunk (in parallel within a batch) and writes the chunks
    /// in order.
    static func writePositions(_ ctx: AccountContext, seed: UInt64, to file: OutputFile) throws
        -> (rows: Int, counts: [Int], lots: Int)
    {
        try file.append { $0.appendASCII("account,asset,quantity\n") }
        let chunks = ctx.chunkCount
        let batch = max(4, 4 * ProcessInfo.processInfo.activeProcessorCount)
        var rows = 0
        var counts = [0, 0, 0, 0]
        var lots = 0
        var batchStart = 0
        while batchStart < chunks {
            let m = min(batch, chunks - batchStart)
            let slots = ChunkSlots(count: m)
            let results = slots.pointer
            defer { slots.release() }
            let base = batchStart
            DispatchQueue.concurrentPerform(iterations: m) { k in
                // Each iteration writes only its own slot.
                slots.pointer[k] = ChunkGenerator.run(ctx: ctx, seed: seed, chunk: base + k)
            }
            for k in 0..<m {
                try file.write(results[k].bytes)
                results[k].bytes = []
                rows += results[k].rows
                for s in 0..<4 { counts[s] += results[k].counts[s] }
                lots += results[k].lotAccounts
            }
            batchStart += m
        }
        return (rows, counts, lots)
    }
}

/// Result slots of one batch; every concurrent iteration writes a different slot and the
/// slots are read only after `concurrentPerform` returns.
private final class ChunkSlots: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<ChunkResult>
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = UnsafeMutablePointer<ChunkResult>.allocate(capacity: count)
        pointer.initialize(repeating: ChunkResult(), count: count)
    }

    func release() {
        pointer.deinitialize(count: count)
        pointer.deallocate()
    }
}
