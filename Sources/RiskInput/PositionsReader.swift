#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import RiskModel

/// Reads positions.csv into a `Book` (METHODOLOGY "Inputs"): lots of the same (account, asset) summed, accounts and their
/// holdings in first-appearance order — the same result as `RiskModel.BookBuilder`, built faster.
///
/// Hot path (8 million rows at tier XL): cells are byte ranges, numbers are parsed from the bytes, account ids
/// and tickers are interned as bytes (no `String` per row), and a row that repeats the previous row's account
/// or asset skips the hash lookup. Lots are summed through a per-asset slot table owned by the current
/// account, so a file grouped by account needs no (account, asset) hash map at all. An account that comes back
/// after other accounts (a file sorted by asset, or shuffled) moves its entries once into a `PairTable` and is
/// looked up there from then on.
enum PositionsReader {
    static let required = ["account", "asset", "quantity"]

    /// The book, or nil when the file cannot be used (its problems are in `log`). Without a schedule
    /// (assets.csv unusable) rows are still checked but assets are not, and no book is returned.
    static func read(_ file: SourceFile, schedule: CollateralSchedule?, log: inout IssueLog,
                     warnings: inout [String]) -> Book? {
        file.bytes.withUnsafeBufferPointer { buffer -> Book? in
            var scanner = CSVScanner(buffer)
            guard let header = CSVHeader.read(&scanner, log: &log),
                  let columns = header.columns(required: required, optional: [], log: &log, warnings: &warnings)
            else { return nil }
            guard let base = buffer.baseAddress else { return nil }
            let width = header.names.count
            let accountColumn = columns["account"]!, assetColumn = columns["asset"]!, quantityColumn = columns["quantity"]!

            let assetCount = schedule?.count ?? 0
            var assetTable = ByteInterner(capacity: assetCount)
            for asset in schedule?.assets ?? [] { _ = assetTable.intern(asset.ticker) }  // index = schedule index
            var accountTable = ByteInterner(capacity: 1 << 12)

            // Entries in first-appearance order of (account, asset), each linked to the account's next entry.
            var entryAccount: [Int32] = [], entryAsset: [Int32] = [], entryQuantity: [Double] = [], entryNext: [Int32] = []
            var accountFirst: [Int32] = [], accountLast: [Int32] = []
            /// Accounts whose entries live in `pairs` (they came back after another account).
            var accountHashed: [Bool] = []
            var pairs = PairTable()
            // slotOwner[j] == a means slotEntry[j] is account a's entry for asset j (a not hashed).
            var slotOwner = [Int32](repeating: -1, count: assetCount), slotEntry = [Int32](repeating: 0, count: assetCount)
            var current: Int32 = -1

            // Previous row's raw cells and their indices.
            var previousAccount = (start: 0, length: -1, index: Int32(0))
            var previousAsset = (start: 0, length: -1, index: Int32(0))
            var unescaped: [UInt8] = []

            var parser = DecimalParser()
            var fields: [CSVField] = []
            fields.reserveCapacity(width + 1)
            var rowCount = 0

            records: while let line = scanner.nextRecord(into: &fields, width: width, log: &log, rowCount: &rowCount) {
                var ok = true

                // account: verbatim (opaque id)
                let accountField = fields[accountColumn]
                var account: Int32 = -1
                let accountLength = accountField.end - accountField.start
                if accountLength == 0 {
                    log.add("account is empty", line: line)
                    ok = false
                } else if !accountField.escaped && accountLength == previousAccount.length
                            && memcmp(base + accountField.start, base + previousAccount.start, accountLength) == 0 {
                    account = previousAccount.index
                } else {
                    let (index, inserted): (Int, Bool)
                    if accountField.escaped {
                        unescape(buffer, accountField, into: &unescaped)
                        (index, inserted) = unescaped.withUnsafeBufferPointer { accountTable.intern($0.baseAddress!, $0.count) }
                    } else {
                        (index, inserted) = accountTable.intern(base + accountField.start, accountLength)
                        previousAccount = (accountField.start, accountLength, Int32(index))
                    }
                    if inserted { accountFirst.append(-1); accountLast.append(-1); accountHashed.append(false) }
                    account = Int32(index)
                }

                // asset: trimmed ticker of assets.csv
                let assetField = scanner.trimmed(fields[assetColumn])
                var asset: Int32 = -1
                let assetLength = assetField.end - assetField.start
                if schedule != nil {
                    if !assetField.escaped && assetLength == previousAsset.length
                        && memcmp(base + assetField.start, base + previousAsset.start, assetLength) == 0 {
                        asset = previousAsset.index
                    } else {
                        let found: Int?
                        if assetField.escaped {
                            unescape(buffer, assetField, into: &unescaped)
                            found = unescaped.withUnsafeBufferPointer { assetTable.find($0.baseAddress!, $0.count) }
                        } else {
                            found = assetTable.find(base + assetField.start, assetLength)
                            if let found { previousAsset = (assetField.start, assetLength, Int32(found)) }
                        }
                        if let found {
                            asset = Int32(found)
                        } else {
                            log.add(assetLength == 0 ? "asset is empty"
                                        : "unknown asset \(Show.name(scanner.text(assetField))) (not in assets.csv)", line: line)
                            ok = false
                        }
                    }
                }

                // quantity: a finite number, 0 allowed
                let quantityField = fields[quantityColumn]
                let quantity: Double
                switch parser.parse(buffer, quantityField.start, quantityField.end) {
                case .value(let v): quantity = v
                case .empty:
                    log.add("quantity is empty", line: line)
                    continue records
                case .invalid:
                    log.add("quantity \(Show.quoted(scanner.trimmedText(quantityField))) is not a number", line: line)
                    continue records
                case .outOfRange:
                    log.add("quantity \(Show.quoted(scanner.trimmedText(quantityField))) is out of range", line: line)
                    continue records
                }
                guard ok, schedule != nil else { continue }

                // Sum lots.
                let a = account, j = Int(asset), ai = Int(a)
                if a != current {
                    current = a
                    if accountFirst[ai] >= 0 && !accountHashed[ai] {
                        // Back after other accounts: from now on this account's entries are found by hash.
                        accountHashed[ai] = true
                        var e = accountFirst[ai]
                        while e >= 0 {
                            pairs.insert(PairTable.key(a, entryAsset[Int(e)]), e)
                            e = entryNext[Int(e)]
                        }
                    }
                }
                let hashed = accountHashed[ai]
                let existing: Int32? = hashed ? pairs.find(PairTable.key(a, asset)) : (slotOwner[j] == a ? slotEntry[j] : nil)
                if let existing {
                    entryQuantity[Int(existing)] += quantity
                } else {
                    let e = Int32(entryQuantity.count)
                    entryAccount.append(a)
                    entryAsset.append(asset)
                    entryQuantity.append(quantity)
                    entryNext.append(-1)
                    let last = accountLast[ai]
                    if last >= 0 { entryNext[Int(last)] = e } else { accountFirst[ai] = e }
                    accountLast[ai] = e
                    if hashed {
                        pairs.insert(PairTable.key(a, asset), e)
                    } else {
                        slotOwner[j] = a
                        slotEntry[j] = e
                    }
                }
            }
            if rowCount == 0 {
                log.add("no positions (the file has a header but no rows)")
            }
            guard schedule != nil, log.isEmpty else { return nil }

            let accountCount = accountTable.count
            var accountIDs: [String] = []
            accountIDs.reserveCapacity(accountCount)
            for i in 0 ..< accountCount { accountIDs.append(accountTable.string(i)) }
            return Book(accountIDs: accountIDs, entryAccount: entryAccount, entryAsset: entryAsset,
                        entryQuantity: entryQuantity)
        }
    }

    /// The text bytes of a quoted cell with `""` escapes (never empty: it holds at least one quote).
    private static func unescape(_ buffer: UnsafeBufferPointer<UInt8>, _ f: CSVField, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = f.start
        while i < f.end {
            out.append(buffer[i])
            i += buffer[i] == ascii.quote ? 2 : 1
        }
    }
}
