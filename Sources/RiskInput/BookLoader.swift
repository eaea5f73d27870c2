// RiskInput — module overview (the folder README.md has the short version).
//
// Reads and checks a book directory (METHODOLOGY "Inputs") into the `RiskModel` types: `BookLoader.load` returns a
// `LoadedBook` or throws `InputErrors` holding every problem at once (`file:line: message`, at most 100 per
// file, in the order prices, assets, positions, scenarios, config, --set).
//
// - May import: `RiskModel`, `Yams` (config), Foundation / libc. No BLAS, no other Ballast module.
// - Files: `CSVScanner` (RFC 4180 over bytes), `DecimalParser` (correctly rounded numbers from bytes),
//   `ByteInterner` (byte-string hash tables), one reader per input file, `ConfigReader` (YAML + `--set`),
//   `BookLoader` (order of reading, cross-file checks).
// - Hot path: `PositionsReader` (8 M rows at tier XL). No `String`, `Dictionary` or allocation per row;
//   see its doc comment before changing it.
// - Conventions: tickers, dates, numbers and column names are trimmed of spaces/tabs; account ids are
//   verbatim. Unknown columns of assets/positions/scenarios are warnings; prices.csv columns that are not
//   in assets.csv are ignored silently.

import Foundation
import RiskModel

/// A book directory read and checked: everything the risk stages need.
public struct LoadedBook: Sendable {
    public let directory: URL
    /// The collateral schedule, in assets.csv order (the risk universe's order).
    public let schedule: CollateralSchedule
    /// Columns = schedule assets, in schedule order (prices.csv columns that are not assets are dropped).
    public let prices: PriceHistory
    public let book: Book
    /// Columns = schedule assets; empty when the book has no scenarios.csv.
    public let scenarios: ScenarioSet
    /// Defaults < config file < `--set` overrides.
    public let config: RiskConfig
    /// Every file read (prices, assets, positions, scenarios if present, config if used), for checksums.
    public let inputFiles: [URL]
    /// SHA-256 (lowercase hex) of the bytes parsed from each input file, by file name, in `inputFiles` order.
    public let inputChecksums: [(name: String, sha256: String)]
    /// Non-fatal remarks, one line each (`file: message`).
    public let warnings: [String]

    /// The book's name in the results store: `book_name` when set, else the book folder's name (the last
    /// component of `directory` made absolute, so `.` names the current folder).
    public var bookName: String {
        if !config.bookName.isEmpty { return config.bookName }
        return directory.absoluteURL.standardizedFileURL.lastPathComponent
    }
}

/// Reads a book directory (METHODOLOGY "Inputs") and reports every problem at once.
public enum BookLoader {
    public static let pricesFile = "prices.csv"
    public static let assetsFile = "assets.csv"
    public static let positionsFile = "positions.csv"
    public static let scenariosFile = "scenarios.csv"
    public static let configFile = "config.yaml"

    /// Reads and checks the book in `directory`.
    ///
    /// - Parameters:
    ///   - directory: the book directory; messages show its `relativePath`, so pass `URL(fileURLWithPath:)` of
    ///     the path as the user typed it.
    ///   - configFile: the `--config` file; nil → `BOOK_DIR/config.yaml` if it exists, else the defaults.
    ///   - overrides: the raw `KEY=VALUE` strings of `--set`, applied in order after the config file.
    /// - Throws: `InputErrors` with every problem found, in file order (prices, assets, positions, scenarios,
    ///   config, --set), at most 100 per file.
    public static func load(directory: URL, configFile: URL?, overrides: [String]) throws(InputErrors) -> LoadedBook {
        var warnings: [String] = []
        try checkDirectory(directory)
        func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
        func display(_ name: String) -> String { url(name).relativePath }

        var pricesLog = IssueLog(file: display(pricesFile))
        var assetsLog = IssueLog(file: display(assetsFile))
        var positionsLog = IssueLog(file: display(positionsFile))
        var scenariosLog = IssueLog(file: display(scenariosFile))
        var inputFiles: [URL] = []

        // prices.csv header, then assets.csv (checked against it), then the price rows (kept in schedule order).
        let prices = SourceFile.load(url(pricesFile), display: display(pricesFile), maxBytes: Limits.maxTableBytes, log: &pricesLog)
        let assets = SourceFile.load(url(assetsFile), display: display(assetsFile), maxBytes: Limits.maxTableBytes, log: &assetsLog)
        inputFiles += [url(pricesFile), url(assetsFile)]
        var checksums = [prices, assets].compactMap { $0?.checksum }
        let pricesHeader = prices.flatMap { PricesReader.readHeader($0, log: &pricesLog) }
        let readSchedule = assets.flatMap {
            AssetsReader.read($0, pricesTickers: pricesHeader.map { Set($0.tickers) }, log: &assetsLog, warnings: &warnings)
        }
        // An empty schedule would make every later asset "unknown": check later files without one instead.
        let schedule = readSchedule.flatMap { $0.count > 0 ? $0 : nil }
        var history: PriceHistory?
        if let prices, let pricesHeader {
            history = PricesReader.readRows(prices, header: pricesHeader, schedule: schedule, log: &pricesLog)
        }

        // positions.csv
        var book: Book?
        if let positions = SourceFile.load(url(positionsFile), display: display(positionsFile),
                                           maxBytes: Limits.maxPositionsBytes, log: &positionsLog) {
            checksums.append(positions.checksum)
            book = PositionsReader.read(positions, schedule: schedule, log: &positionsLog, warnings: &warnings)
        }
        inputFiles.append(url(positionsFile))

        // scenarios.csv (optional)
        var scenarios: ScenarioSet?
        if FileManager.default.fileExists(atPath: url(scenariosFile).path) {
            inputFiles.append(url(scenariosFile))
            if let file = SourceFile.load(url(scenariosFile), display: display(scenariosFile), maxBytes: Limits.maxTableBytes,
                                          log: &scenariosLog) {
                checksums.append(file.checksum)
                scenarios = ScenariosReader.read(file, schedule: schedule, log: &scenariosLog, warnings: &warnings)
            }
        } else if let schedule {
            scenarios = .empty(assetCount: schedule.count)
        }

        // config: defaults < file < --set
        var loadedConfig = loadConfig(directory: directory, configFile: configFile, overrides: overrides,
                                      warnings: &warnings)
        if let file = loadedConfig.file {
            inputFiles.append(file.url)
            if let checksum = file.checksum { checksums.append(checksum) }
        }
        let config = loadedConfig.reader.config
        if let schedule { loadedConfig.checkSettlement(in: schedule, assetsLog: &assetsLog) }
        if let full = history, pricesLog.isEmpty {
            history = loadedConfig.cutAtAsOf(full)  // everything later derives from the cut history
        }
        let configLog = loadedConfig.log
        let overrideIssues = loadedConfig.overrideIssues

        if let scenarios { warnings += replayNameClashes(scenarios, config: config, file: scenariosLog.file) }

        let issues = pricesLog.issues + assetsLog.issues + positionsLog.issues + scenariosLog.issues
            + configLog.issues + overrideIssues
        guard issues.isEmpty, let schedule, let history, let book, let scenarios else {
            // Every nil above has logged its reason; this guard only unwraps.
            throw InputErrors(issues: issues, warnings: warnings)
        }
        return LoadedBook(directory: directory, schedule: schedule, prices: history, book: book, scenarios: scenarios,
                          config: config, inputFiles: inputFiles, inputChecksums: checksums,
                          warnings: warnings + PriceJumps.warnings(history, schedule: schedule, file: pricesLog.file))
    }

    /// The book directory exists and is a directory; else one issue naming it.
    static func checkDirectory(_ directory: URL) throws(InputErrors) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            let problem = FileManager.default.fileExists(atPath: directory.path) ? "not a directory" : "book directory not found"
            throw InputErrors(issues: [InputIssue(file: directory.relativePath, line: nil, message: problem)])
        }
    }

    /// Warnings for scenario names shared with a replay (they would make two rows of stress.csv with one name).
    static func replayNameClashes(_ scenarios: ScenarioSet, config: RiskConfig, file: String) -> [String] {
        let replays = Set(config.historicalScenarios.map(\.name))
        return scenarios.names.filter { replays.contains($0) }.map {
            "\(file): scenario \(Show.name($0)) has the same name as a historical replay"
        }
    }
}

/// The configuration as read: defaults < config file < `--set`, with its problems pointed at where each key was set.
struct LoadedConfig {
    var reader = ConfigReader()
    /// The config file used, if any, and the checksum of its bytes (nil when it could not be read).
    var file: (url: URL, checksum: (name: String, sha256: String)?)?
    var log: IssueLog
    var overrideIssues: [InputIssue] = []

    /// The settlement asset must be in the schedule: the problem goes where the key was set (or to assets.csv
    /// for the default).
    mutating func checkSettlement(in schedule: CollateralSchedule, assetsLog: inout IssueLog) {
        let config = reader.config
        guard schedule.index(of: config.settlementAsset) == nil else { return }
        let name = Show.name(config.settlementAsset)
        if let origin = reader.origins["settlement_asset"] {
            let message = "settlement_asset \(name) is not an asset of assets.csv"
            if origin.file == log.file {
                log.add(message, line: origin.line)
            } else {
                overrideIssues.append(InputIssue(file: origin.file, line: nil, message: message))
            }
        } else {
            assetsLog.add("the settlement asset \(name) (default of settlement_asset) is not in this file; "
                          + "add it or set settlement_asset to one of its assets")
        }
    }

    /// The price history as if prices.csv ended on `as_of` (its rows dated on or before it); the whole history when
    /// `as_of` is not set. A date that leaves fewer than 2 rows is a problem reported where `as_of` was set, and gives
    /// nil.
    mutating func cutAtAsOf(_ history: PriceHistory) -> PriceHistory? {
        guard let asOf = reader.config.asOf else { return history }
        let rows = history.rowCount(onOrBefore: asOf)
        guard rows < 2 else { return history.prefix(rows: rows) }
        let file = BookLoader.pricesFile
        let message = rows == 0
            ? "as_of \(asOf) is before the first row of \(file) (\(history.dates[0])); set a date from "
                + "\(history.dates[0]) on, or leave as_of empty for the last row (\(history.asOfDate))"
            : "as_of \(asOf) leaves only the first row of \(file) (\(history.dates[0])) and a run needs 2; set a date "
                + "from \(history.dates[1]) on, or leave as_of empty for the last row (\(history.asOfDate))"
        report(message, at: reader.origins["as_of"])
        return nil
    }

    /// Adds `message` where a key was set: at its line of the config file, or as the `--set` override's issue
    /// (nil: the config file, no line).
    mutating func report(_ message: String, at origin: ConfigOrigin?) {
        if let origin, origin.file != log.file {
            overrideIssues.append(InputIssue(file: origin.file, line: nil, message: message))
        } else {
            log.add(message, line: origin?.line)
        }
    }

    /// Reports a consistency problem between keys at the place the last of them was set.
    mutating func checkConsistency() {
        guard log.isEmpty && overrideIssues.isEmpty else { return }
        do throws(ConfigError) {
            try reader.config.checkConsistency()
        } catch {
            let keys: [String]
            if case .inconsistent(let concerned, _) = error { keys = concerned } else { keys = [] }
            let origin = reader.origin(ofKeys: keys)
            if let origin, origin.line != nil || origin.file == log.file {
                log.add(error.description, line: origin.line)
            } else if let origin {
                overrideIssues.append(InputIssue(file: origin.file, line: nil, message: error.description))
            } else {
                log.add(error.description)
            }
        }
    }
}

extension BookLoader {
    /// Reads `configFile` (or BOOK_DIR/config.yaml when present) and applies the overrides.
    static func loadConfig(directory: URL, configFile: URL?, overrides: [String], warnings: inout [String]) -> LoadedConfig {
        func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
        var configURL: URL?
        if let configFile {
            configURL = configFile
        } else if FileManager.default.fileExists(atPath: url(Self.configFile).path) {
            configURL = url(Self.configFile)
        } else {
            for other in ["config.yml", "config.toml"] where FileManager.default.fileExists(atPath: url(other).path) {
                warnings.append("\(url(other).relativePath): ignored; Ballast reads its configuration from \(Self.configFile) (YAML)")
            }
        }
        var loaded = LoadedConfig(log: IssueLog(file: configURL?.relativePath ?? url(Self.configFile).relativePath))
        if let configURL {
            let file = SourceFile.load(configURL, display: loaded.log.file, maxBytes: Limits.maxConfigBytes, log: &loaded.log)
            loaded.file = (configURL, file?.checksum)
            if let file {
                var bytes = file.bytes[...]
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
                loaded.reader.apply(yaml: String(decoding: bytes, as: UTF8.self), log: &loaded.log)
            }
        }
        loaded.reader.apply(overrides: overrides, issues: &loaded.overrideIssues)
        loaded.checkConsistency()
        return loaded
    }
}
