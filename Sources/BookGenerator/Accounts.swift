// positions.csv: accounts generated in fixed-size chunks, each from its own random stream
// derived from (seed, chunk index), so the bytes do not depend on how chunks are scheduled.

/// Everything an account generator reads; immutable and shared by all worker threads.
final class AccountContext: Sendable {
    let profile: BookProfile
    let accountCount: Int
    let idWidth: Int
    let assetCount: Int
    let tickerBytes: [[UInt8]]
    /// As-of (last row) prices.
    let price: [Double]
    /// EWMA daily volatility of the last `window` log returns.
    let sigma: [Double]
    let scheduleHaircut: [Double]
    /// participation × adv (USD per day); +∞ when unlimited.
    let dailyLiquidity: [Double]
    /// Zipf-like popularity weights (asset order = popularity) and their running sums.
    let weights: [Double]
    let cumulative: [Double]
    /// Debt candidates with relative weights.
    let stableDebt: [(asset: Int, weight: Double)]
    let volatileDebt: [(asset: Int, weight: Double)]
    let z: Double

    init(profile: BookProfile, accountCount: Int, universe: Universe, price: [Double], sigma: [Double], z: Double) {
        self.profile = profile
        self.accountCount = accountCount
        idWidth = max(4, decimalWidth(accountCount))
        assetCount = universe.count
        tickerBytes = universe.assets.map { Array($0.ticker.utf8) }
        self.price = price
        self.sigma = sigma
        scheduleHaircut = universe.assets.map { $0.haircut }
        dailyLiquidity = universe.assets.map { a in a.adv.map { 0.10 * $0 } ?? .infinity }
        var w: [Double] = []
        var cum: [Double] = []
        var total = 0.0
        for i in 0..<universe.count {
            // Zipf (s = 1) over popularity rank; the collapsed and thin assets are held less.
            var wi = 1.0 / Double(i + 1)
            let a = universe.assets[i]
            if a.haircut >= 0.9 { wi *= 0.3 }
            if a.isThin { wi *= 0.5 }
            w.append(wi)
            total += wi
            cum.append(total)
        }
        weights = w
        cumulative = cum
        var stables: [(asset: Int, weight: Double)] = []
        for (t, wt) in [("USDC", 0.5), ("USDT", 0.3), ("DAI", 0.2)] {
            if let i = universe.index(of: t) { stables.append((i, wt)) }
        }
        stableDebt = stables
        var vol: [(asset: Int, weight: Double)] = []
        for (t, wt) in [("ETH", 0.6), ("BTC", 0.4)] {
            if let i = universe.index(of: t) { vol.append((i, wt)) }
        }
        volatileDebt = vol
        self.z = z
    }

    var chunkSize: Int { profile == .retail ? 2048 : 32 }
    var chunkCount: Int { (accountCount + chunkSize - 1) / chunkSize }
}

enum Intended: Int {
    case ok = 0, marginCall, liquidatable, noDebt
}

struct ChunkResult {
    var bytes: [UInt8] = []
    var rows = 0
    var counts = [0, 0, 0, 0]  // Intended raw values
    var lotAccounts = 0
}

struct ChunkGenerator {
    let ctx: AccountContext
    var rng: Xoshiro
    var mark: [UInt32]
    var stamp: UInt32 = 0
    // Scratch per account.
    var debtAssets: [Int] = []
    var holdAssets: [Int] = []
    var holdValues: [Double] = []
    var keys: [(key: Double, asset: Int)] = []
    var rows: [(asset: Int, value: Double)] = []
    var idBytes: [UInt8] = []

    init(ctx: AccountContext, seed: UInt64, chunk: Int) {
        self.ctx = ctx
        rng = Xoshiro(seed: deriveSeed(seed, 0x31, UInt64(chunk)))
        mark = [UInt32](repeating: 0, count: ctx.assetCount)
    }

    static func run(ctx: AccountContext, seed: UInt64, chunk: Int) -> ChunkResult {
        var g = ChunkGenerator(ctx: ctx, seed: seed, chunk: chunk)
        var result = ChunkResult()
        let first = chunk * ctx.chunkSize
        let last = min(ctx.accountCount, first + ctx.chunkSize)
        result.bytes.reserveCapacity((last - first) * (ctx.profile == .retail ? 300 : 9_000))
        for account in first..<last {
            g.account(account, into: &result)
        }
        return result
    }

    @inline(__always)
    mutating func pickWeighted(_ list: [(asset: Int, weight: Double)]) -> Int {
        var total = 0.0
        for e in list { total += e.weight }
        var u = rng.uniform() * total
        for e in list {
            u -= e.weight
            if u < 0 { return e.asset }
        }
        return list[list.count - 1].asset
    }

    @inline(__always)
    mutating func drawZipf() -> Int {
        let cum = ctx.cumulative
        let u = rng.uniform() * cum[cum.count - 1]
        var lo = 0
        var hi = cum.count - 1
        while lo < hi {
            let mid = (lo + hi) >> 1
            if cum[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Volatility haircut of a holding worth `value` USD (METHODOLOGY "Haircuts", T₀ = 1, participation 0.1).
    @inline(__always)
    func haircut(asset: Int, value: Double) -> Double {
        let t = max(1, value / ctx.dailyLiquidity[asset])
        let hv = 1 - DetMath.exp(-ctx.z * ctx.sigma[asset] * t.squareRoot())
        return max(ctx.scheduleHaircut[asset], hv)
    }

    mutating func account(_ index: Int, into result: inout ChunkResult) {
        let retail = ctx.profile == .retail
        let n = ctx.assetCount
        stamp &+= 1
        if stamp == 0 {
            for i in mark.indices { mark[i] = 0 }
            stamp = 1
        }
        debtAssets.removeAll(keepingCapacity: true)
        holdAssets.removeAll(keepingCapacity: true)
        holdValues.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)

        // 1. Debt assets (chosen first so that collateral never nets against them).
        let hasDebt = rng.uniform() < (retail ? 0.85 : 0.90)
        if hasDebt {
            let nDebt: Int
            if retail {
                let u = rng.uniform()
                nDebt = u < 0.6 ? 1 : (u < 0.9 ? 2 : 3)
            } else {
                nDebt = rng.int(in: 1...5)
            }
            for _ in 0..<nDebt where debtAssets.count < n - 1 {
                for _ in 0..<20 {
                    let a = (rng.uniform() < 0.8 || ctx.volatileDebt.isEmpty) ? pickWeighted(ctx.stableDebt) : pickWeighted(ctx.volatileDebt)
                    if mark[a] != stamp {
                        mark[a] = stamp
                        debtAssets.append(a)
                        break
                    }
                }
            }
        }
        let statusRoll = rng.uniform()
        let intended: Intended = statusRoll < 0.81 ? .ok : (statusRoll < 0.92 ? .marginCall : .liquidatable)
        let targetCR: Double
        switch intended {
        case .ok: targetCR = rng.logUniform(1.15, 3.0)
        case .marginCall: targetCR = rng.uniform(1.02, 1.09)
        default: targetCR = rng.uniform(0.60, 0.98)
        }

        // 2. Collateral assets: Zipf-like preference for the popular (major) assets.
        let available = n - debtAssets.count
        var nHold: Int
        if retail {
            let u = rng.uniform()
            nHold = 1 + Int(15 * u * u.squareRoot())  // 1...15, mean ≈ 6.5
        } else {
            nHold = Int(rng.logUniform(50, 501))
        }
        nHold = max(1, min(nHold, available))
        if nHold * 3 <= available {
            var attempts = 0
            while holdAssets.count < nHold && attempts < 64 * nHold {
                attempts += 1
                let a = drawZipf()
                if mark[a] != stamp {
                    mark[a] = stamp
                    holdAssets.append(a)
                }
            }
        }
        if holdAssets.count < nHold {
            // Weighted sampling without replacement (Efraimidis–Spirakis): top keys ln(u)/w.
            keys.removeAll(keepingCapacity: true)
            for a in 0..<n where mark[a] != stamp {
                keys.append((DetMath.log(rng.uniformOpen()) / ctx.weights[a], a))
            }
            keys.sort { $0.key > $1.key || ($0.key == $1.key && $0.asset < $1.asset) }
            var k = 0
            while holdAssets.count < nHold && k < keys.count {
                let a = keys[k].asset
                mark[a] = stamp
                holdAssets.append(a)
                k += 1
            }
        }

        // 3. Sizes (USD): lognormal, account level times holding level, heavy tailed.
        let mu: Double, spread: Double, lo: Double, hi: Double
        if retail {
            mu = 7.313 + 1.4 * rng.normal()  // ln 1500
            spread = 1.0; lo = 50; hi = 5e6
        } else {
            mu = 12.43 + 1.0 * rng.normal()  // ln 250,000
            spread = 1.2; lo = 1e3; hi = 5e8
        }
        var hcv = 0.0
        for a in holdAssets {
            let v = min(hi, max(lo, DetMath.exp(mu + spread * rng.normal())))
            holdValues.append(v)
            hcv += v * (1 - haircut(asset: a, value: v))
        }

        // 4. Debt sized so that CR = HCV / D hits the intended status band.
        let debt = hcv / targetCR
        var status = Intended.noDebt
        if !debtAssets.isEmpty && debt >= 1 {
            status = intended
            var w: [Double] = []
            var wsum = 0.0
            for _ in debtAssets {
                let x = 0.2 + rng.uniform()
                w.append(x)
                wsum += x
            }
            for (k, a) in debtAssets.enumerated() {
                rows.append((a, -debt * w[k] / wsum))
            }
        }
        result.counts[status.rawValue] += 1

        // 5. Lots: ~5 % of accounts split one holding into 2–3 rows.
        var lotAsset = -1
        var lotFractions: (Double, Double, Double) = (1, 0, 0)
        var lotCount = 1
        if rng.uniform() < 0.05 && !holdAssets.isEmpty {
            lotAsset = holdAssets[rng.int(below: holdAssets.count)]
            lotCount = rng.uniform() < 0.6 ? 2 : 3
            let f1 = 0.2 + rng.uniform(), f2 = 0.2 + rng.uniform(), f3 = lotCount == 3 ? 0.2 + rng.uniform() : 0
            let s = f1 + f2 + f3
            lotFractions = (f1 / s, f2 / s, f3 / s)
            result.lotAccounts += 1
        }

        for (k, a) in holdAssets.enumerated() {
            rows.append((a, holdValues[k]))
        }
        rows.sort { $0.asset < $1.asset }

        // 6. Rows.
        idBytes.removeAll(keepingCapacity: true)
        idBytes.appendASCII("acct-")
        idBytes.appendUInt(UInt64(index + 1), width: ctx.idWidth)
        idBytes.append(ASCII.comma)
        for row in rows {
            let quantity = row.value / ctx.price[row.asset]
            if row.asset == lotAsset {
                let fr = [lotFractions.0, lotFractions.1, lotFractions.2]
                for l in 0..<lotCount {
                    writeRow(asset: row.asset, quantity: quantity * fr[l], into: &result)
                }
            } else {
                writeRow(asset: row.asset, quantity: quantity, into: &result)
            }
        }
    }

    @inline(__always)
    func writeRow(asset: Int, quantity: Double, into result: inout ChunkResult) {
        result.bytes.append(contentsOf: idBytes)
        result.bytes.append(contentsOf: ctx.tickerBytes[asset])
        result.bytes.append(ASCII.comma)
        result.bytes.appendSignificant(quantity, digits: 10)
        result.bytes.append(ASCII.newline)
        result.rows += 1
    }
}
