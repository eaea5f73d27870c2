import Foundation

@testable import BookGenerator

/// A generated book read back with a minimal CSV reader (the generator never quotes).
struct ParsedBook {
    var book: GeneratedBook
    var directory: URL
    var priceHeader: [String]
    var dates: [String]
    /// prices[t][i], nil when the cell is empty.
    var prices: [[Double?]]
    var assetsHeader: String
    var assetRows: [[String]]
    var positionsHeader: String
    var positions: [(account: String, asset: String, quantity: Double)]
    var scenariosHeader: String
    var scenarios: [(name: String, asset: String, shock: Double)]

    var tickers: [String] { Array(priceHeader.dropFirst()) }

    func column(_ ticker: String) -> Int? { tickers.firstIndex(of: ticker) }

    func series(_ ticker: String) -> [Double?] {
        let i = column(ticker)!
        return prices.map { $0[i] }
    }

    /// Forward-filled (≤ 3 days) series, as the engine does (SPEC §3.1).
    func filledSeries(_ ticker: String) -> [Double?] {
        var out: [Double?] = []
        var last: Double?
        var run = 0
        for p in series(ticker) {
            if let p {
                last = p
                run = 0
                out.append(p)
            } else if let l = last, run < 3 {
                run += 1
                out.append(l)
            } else {
                out.append(nil)
            }
        }
        return out
    }

    /// Log returns of the latest `count` returns (forward-filled).
    func logReturns(_ ticker: String, last count: Int? = nil) -> [Double] {
        let s = filledSeries(ticker)
        var r: [Double] = []
        let start = count.map { max(1, s.count - $0) } ?? 1
        for t in start..<s.count {
            if let a = s[t], let b = s[t - 1] { r.append(Foundation.log(a / b)) }
        }
        return r
    }
}

func lines(_ url: URL) throws -> [Substring] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var ls = text.split(separator: "\n", omittingEmptySubsequences: false)
    if ls.last == "" { ls.removeLast() }
    return ls
}

func temporaryDirectory(_ tag: String) -> URL {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("ballast-bookgen-\(tag)-\(UUID().uuidString)")
}

func generateAndParse(_ spec: BookSpec, tag: String = "book") throws -> ParsedBook {
    let dir = temporaryDirectory(tag)
    let book = try BookGenerator.generate(spec, into: dir)
    let priceLines = try lines(book.pricesURL)
    let header = priceLines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    var dates: [String] = []
    var prices: [[Double?]] = []
    for line in priceLines.dropFirst() {
        let cells = line.split(separator: ",", omittingEmptySubsequences: false)
        dates.append(String(cells[0]))
        prices.append(cells.dropFirst().map { $0.isEmpty ? nil : Double($0)! })
    }
    let assetLines = try lines(book.assetsURL)
    let positionLines = try lines(book.positionsURL)
    let scenarioLines = try lines(book.scenariosURL)
    return ParsedBook(
        book: book, directory: dir, priceHeader: header, dates: dates, prices: prices,
        assetsHeader: String(assetLines[0]),
        assetRows: assetLines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) },
        positionsHeader: String(positionLines[0]),
        positions: positionLines.dropFirst().map { line in
            let c = line.split(separator: ",", omittingEmptySubsequences: false)
            return (String(c[0]), String(c[1]), Double(c[2])!)
        },
        scenariosHeader: String(scenarioLines[0]),
        scenarios: scenarioLines.dropFirst().map { line in
            let c = line.split(separator: ",", omittingEmptySubsequences: false)
            return (String(c[0]), String(c[1]), Double(c[2])!)
        })
}

func removeBook(_ parsed: ParsedBook) {
    try? FileManager.default.removeItem(at: parsed.directory)
}

func standardDeviation(_ x: [Double]) -> Double {
    let m = x.reduce(0, +) / Double(x.count)
    let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    return v.squareRoot()
}

func excessKurtosis(_ x: [Double]) -> Double {
    let n = Double(x.count)
    let m = x.reduce(0, +) / n
    let m2 = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n
    let m4 = x.reduce(0) { $0 + pow($1 - m, 4) } / n
    return m4 / (m2 * m2) - 3
}

/// The small book most tests use (tier "test": fast in a debug build).
let smallSpec = BookSpec(accounts: 300, assets: 30, days: 800, seed: 7, profile: .retail)
