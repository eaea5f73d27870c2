import Foundation
import RiskInput
import RiskModel
import Testing

/// `as_of` and `book_name` at load time: the price history is cut at the as-of date right after prices.csv is read,
/// a date before the book's history is reported where the key was set, and the book's name resolves to its folder.
@Suite struct AsOfConfigTests {
    /// TestBook's prices with a fourth row whose BTC price jumps by 10⁶ (a price-jump warning when kept).
    static let pricesWithLateJump = TestBook.prices + "2024-01-05,42000000000,2100,1,0.1\n"

    @Test func asOfCutsThePriceHistoryAtTheLastRowOnOrBeforeIt() throws {
        let book = try TestBook(["prices.csv": Self.pricesWithLateJump])
        // 2024-01-04 is not a row: the earlier row (2024-01-03) becomes the as-of date.
        for (asOf, last, rows) in [("2024-01-02", "2024-01-02", 2), ("2024-01-03", "2024-01-03", 3),
                                   ("2024-01-04", "2024-01-03", 3), ("2024-01-05", "2024-01-05", 4),
                                   ("2099-12-31", "2024-01-05", 4)] {
            let loaded = try book.loaded(overrides: ["as_of=\(asOf)"])
            #expect(loaded.config.asOf == asOf)
            #expect(loaded.prices.rowCount == rows && loaded.prices.asOfDate == last, "as_of=\(asOf)")
            #expect(loaded.prices.lineNumbers == Array(2 ..< 2 + rows), "as_of=\(asOf): line numbers of the file")
            let full = try book.loaded()
            #expect(loaded.prices.prices.elementsEqual(full.prices.prices.prefix(rows * 3)) { a, b in
                a.bitPattern == b.bitPattern
            }, "as_of=\(asOf): the kept rows are the file's")
        }
    }

    @Test func priceJumpWarningsLookOnlyAtTheCutHistory() throws {
        let book = try TestBook(["prices.csv": Self.pricesWithLateJump])
        #expect(try book.loaded().warnings.contains { $0.contains("price of BTC jumps up") })
        #expect(try !book.loaded(overrides: ["as_of=2024-01-03"]).warnings.contains { $0.contains("jumps") })
    }

    @Test func inputChecksumsStayThoseOfTheWholeFiles() throws {
        let book = try TestBook(["prices.csv": Self.pricesWithLateJump])
        let cut = try book.loaded(overrides: ["as_of=2024-01-02"]).inputChecksums
        let whole = try book.loaded().inputChecksums
        #expect(cut.map(\.name) == whole.map(\.name) && cut.map(\.sha256) == whole.map(\.sha256))
    }

    @Test func aDateBeforeTheFirstRowIsAnInputErrorAtTheOverride() {
        let issues = (try? TestBook())?.issues(overrides: ["as_of=2023-12-31"]) ?? []
        #expect(issues == ["--set as_of=2023-12-31: as_of 2023-12-31 is before the first row of prices.csv (2024-01-01); "
                + "set a date from 2024-01-01 on, or leave as_of empty for the last row (2024-01-03)"])
    }

    @Test func aDateOnTheFirstRowLeavesOneRowAndIsAnInputError() throws {
        let issues = try TestBook().issues(overrides: ["as_of=2024-01-01"])
        #expect(issues.count == 1)
        #expect(issues.first?.hasPrefix("--set as_of=2024-01-01: as_of 2024-01-01 leaves only the first row") == true)
        #expect(issues.first?.contains("set a date from 2024-01-02 on") == true)
    }

    @Test func aDateBeforeTheFirstRowInTheConfigFileIsReportedAtItsLine() throws {
        let book = try TestBook(["config.yaml": "window: 2\nas_of: 2020-01-01\n"])
        let issues = book.issues()
        #expect(issues.count == 1)
        #expect(issues.first?.hasPrefix("config.yaml:2: as_of 2020-01-01 is before the first row of prices.csv") == true,
                "\(issues)")
    }

    @Test func malformedDatesAreConfigErrors() throws {
        let book = try TestBook()
        for bad in ["2024-02-30", "2024-1-05", "yesterday", "20240105"] {
            #expect(book.issues(overrides: ["as_of=\(bad)"])
                == ["--set as_of=\(bad): as_of: \"\(bad)\" is not valid; expected an ISO date yyyy-mm-dd, or empty for the last row of prices.csv"])
        }
    }

    @Test func emptyOrNoneMeansTheLastRow() throws {
        let book = try TestBook()
        for reset in ["as_of=", "as_of=none", "as_of = "] {
            let loaded = try book.loaded(overrides: ["as_of=2024-01-02", reset])
            #expect(loaded.config.asOf == nil && loaded.prices.asOfDate == "2024-01-03", "\(reset)")
        }
        let yaml = try TestBook(["config.yaml": "as_of:\n"]).loaded()
        #expect(yaml.config.asOf == nil && yaml.prices.asOfDate == "2024-01-03")
    }

    @Test func theYAMLDateIsReadAsText() throws {
        let loaded = try TestBook(["config.yaml": "as_of: 2024-01-02\n"]).loaded()
        #expect(loaded.config.asOf == "2024-01-02" && loaded.prices.asOfDate == "2024-01-02")
        #expect(RiskConfig.declaration("as_of")?.render(loaded.config) == .text("2024-01-02"))
    }

    @Test func bookNameDefaultsToTheFolderName() throws {
        let book = try TestBook()
        #expect(try book.loaded().bookName == book.url.lastPathComponent)
        #expect(try book.loaded(overrides: ["book_name=nightly-eu"]).bookName == "nightly-eu")
        #expect(try book.loaded(overrides: ["book_name=nightly-eu", "book_name="]).bookName == book.url.lastPathComponent)
        // The configured value stays what was set: the resolved name is the loaded book's.
        #expect(try book.loaded().config.bookName == "")
        let trailingSlash = try BookLoader.load(directory: URL(fileURLWithPath: book.url.path + "/"), configFile: nil,
                                                overrides: [])
        #expect(trailingSlash.bookName == book.url.lastPathComponent)
    }

    @Test func bookNameOfARelativeDotIsTheFolderItNames() throws {
        // `ballast run .` gives the loader URL(fileURLWithPath: "."): the name is that folder's, never ".".
        let book = try TestBook()
        let dot = URL(fileURLWithPath: ".", relativeTo: URL(fileURLWithPath: book.url.path, isDirectory: true))
        #expect(try BookLoader.load(directory: dot, configFile: nil, overrides: []).bookName == book.url.lastPathComponent)
        let dotInside = URL(fileURLWithPath: book.url.path + "/.")
        #expect(try BookLoader.load(directory: dotInside, configFile: nil, overrides: []).bookName == book.url.lastPathComponent)
    }

    @Test func bookNameRejectsControlCharacters() throws {
        let issues = try TestBook().issues(overrides: ["book_name=a\u{7}b"])
        #expect(issues.count == 1 && issues.first?.contains("book_name:") == true)
    }
}
