import LinearAlgebra
import RiskMetrics
import RiskModel

/// What a comparison of two runs needs from each (the run just computed, or one read back from the results store):
/// per account its status, parametric VaR and quantities; the run's market (as-of prices, covariance) and VaR scale.
public struct RunSnapshot: Sendable {
    /// The store's id of the run; nil for a run not stored yet.
    public var runID: Int64?
    /// The book's name in the store (`book_name`) and the run's as-of date (YYYY-MM-DD).
    public var bookName: String
    public var asOf: String
    /// The run's assets (assets.csv order), their as-of prices (USD per unit) and whether each is in the risk
    /// universe (outside it an asset has zero rows and columns in `covariance`).
    public var tickers: [String]
    public var prices: [Double]
    public var inUniverse: [Bool]
    /// Σ of daily log returns, tickers × tickers.
    public var covariance: Matrix
    /// VaR per unit of σ: z·√h (the run's confidence and horizon).
    public var varPerSigma: Double
    /// The accounts in positions.csv order.
    public var accountIDs: [String]
    /// Status (`ok`, `margin_call`, `liquidatable`), nil for an account out of range (figures empty, outside the
    /// book's totals).
    public var status: [AccountStatus?]
    /// Parametric VaR (USD), NaN when not computed.
    public var varParam: [Double]
    /// Holdings as CSR: account a's holdings are `holdingStart[a] ..< holdingStart[a + 1]`, each an asset (index
    /// into `tickers`) and a quantity (asset units, negative for debt).
    public var holdingStart: [Int]
    public var holdingAsset: [Int32]
    public var holdingQuantity: [Double]
    /// The book's parametric VaR (USD) over the accounts in range.
    public var bookVaR: Double

    public init(runID: Int64?, bookName: String, asOf: String, tickers: [String], prices: [Double], inUniverse: [Bool],
                covariance: Matrix, varPerSigma: Double, accountIDs: [String], status: [AccountStatus?],
                varParam: [Double], holdingStart: [Int], holdingAsset: [Int32], holdingQuantity: [Double],
                bookVaR: Double) {
        self.runID = runID
        self.bookName = bookName
        self.asOf = asOf
        self.tickers = tickers
        self.prices = prices
        self.inUniverse = inUniverse
        self.covariance = covariance
        self.varPerSigma = varPerSigma
        self.accountIDs = accountIDs
        self.status = status
        self.varParam = varParam
        self.holdingStart = holdingStart
        self.holdingAsset = holdingAsset
        self.holdingQuantity = holdingQuantity
        self.bookVaR = bookVaR
    }

    public var accountCount: Int { accountIDs.count }
    public func holdings(of a: Int) -> Range<Int> { holdingStart[a] ..< holdingStart[a + 1] }
}

extension RunSnapshot {
    /// The snapshot of a whole run's result (accounts in positions.csv order).
    public init(_ r: RunResult, bookName: String) {
        let order = r.accounts.inFileOrder, book = r.book
        var starts = [0], assets: [Int32] = [], quantities: [Double] = []
        starts.reserveCapacity(order.count + 1)
        assets.reserveCapacity(book.holdingCount)
        quantities.reserveCapacity(book.holdingCount)
        for a in order {
            for k in book.holdings(of: a) {
                assets.append(book.assetIndex[k])
                quantities.append(book.quantity[k])
            }
            starts.append(assets.count)
        }
        self.init(runID: nil, bookName: bookName, asOf: r.asOfDate, tickers: r.schedule.tickers, prices: r.prices,
                  inUniverse: r.inUniverse, covariance: r.covariance.matrix,
                  varPerSigma: r.scale.varPerSigma, accountIDs: order.map { book.accountIDs[$0] },
                  status: order.map { r.assessment.invalid[$0] ? nil : r.assessment.status[$0] },
                  varParam: order.map { r.parametric.valueAtRisk[$0] }, holdingStart: starts, holdingAsset: assets,
                  holdingQuantity: quantities, bookVaR: r.parametric.bookValueAtRisk)
    }
}

/// One stored run as `ballast history` lists it and the report's history chart plots it.
public struct StoredRun: Sendable, Equatable {
    /// The store's id of the run (increasing in the order runs were stored).
    public var id: Int64
    public var bookName: String
    /// The run's as-of date (YYYY-MM-DD) and when it was stored (ISO 8601, UTC).
    public var asOf: String
    public var storedAt: String
    public var engineVersion: String
    public var accounts: Int
    /// Book figures (USD): collateral, debt, haircut-adjusted collateral and VaR by method.
    public var collateral: Double
    public var debt: Double
    public var hcv: Double
    public var varParam: Double
    public var varHist: Double
    public var varMC: Double
    /// Accounts by status.
    public var ok: Int
    public var marginCall: Int
    public var liquidatable: Int

    public init(id: Int64, bookName: String, asOf: String, storedAt: String, engineVersion: String, accounts: Int,
                collateral: Double, debt: Double, hcv: Double, varParam: Double, varHist: Double, varMC: Double,
                ok: Int, marginCall: Int, liquidatable: Int) {
        self.id = id
        self.bookName = bookName
        self.asOf = asOf
        self.storedAt = storedAt
        self.engineVersion = engineVersion
        self.accounts = accounts
        self.collateral = collateral
        self.debt = debt
        self.hcv = hcv
        self.varParam = varParam
        self.varHist = varHist
        self.varMC = varMC
        self.ok = ok
        self.marginCall = marginCall
        self.liquidatable = liquidatable
    }
}
