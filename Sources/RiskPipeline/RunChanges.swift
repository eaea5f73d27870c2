import RiskMetrics
import RiskModel

/// An account's standing in one of two compared runs: its status, out of range (figures empty), or not in that run.
public enum ChangeStatus: Int, Sendable, CaseIterable {
    case ok, marginCall, liquidatable, outOfRange, none

    /// The status of an account of a run (nil: out of range).
    public init(_ status: AccountStatus?) {
        switch status {
        case .ok?: self = .ok
        case .marginCall?: self = .marginCall
        case .liquidatable?: self = .liquidatable
        case nil: self = .outOfRange
        }
    }

    /// `ok`, `margin_call`, `liquidatable`, `out_of_range`, `none`.
    public var name: String {
        switch self {
        case .ok: return "ok"
        case .marginCall: return "margin_call"
        case .liquidatable: return "liquidatable"
        case .outOfRange: return "out_of_range"
        case .none: return "none"
        }
    }

    /// How bad a known status is (ok 0, margin call 1, liquidatable 2); nil out of range or not in the run.
    public var severity: Int? {
        switch self {
        case .ok: return 0
        case .marginCall: return 1
        case .liquidatable: return 2
        case .outOfRange, .none: return nil
        }
    }
}

/// A change of parametric VaR (USD) split into its causes, from run A to run B: `price` = V(q_A, p_B, Σ_A, s_A) − V_A,
/// `position` = V(q_B, p_B, Σ_A, s_A) − V(q_A, p_B, Σ_A, s_A), `model` = V_B − V(q_B, p_B, Σ_A, s_A) (docs/METHODOLOGY.md,
/// "Changes since the previous run"). NaN parts: not defined (an account out of range on either side).
public struct VaRAttribution: Sendable, Equatable {
    public var price: Double
    public var position: Double
    public var model: Double

    public init(price: Double, position: Double, model: Double) {
        self.price = price
        self.position = position
        self.model = model
    }

    public static let undefined = VaRAttribution(price: .nan, position: .nan, model: .nan)

    /// From the four VaRs (USD): V_A, V(q_A, p_B, Σ_A, s_A), V(q_B, p_B, Σ_A, s_A), V_B.
    public init(before: Double, repriced: Double, repositioned: Double, after: Double) {
        self.init(price: repriced - before, position: repositioned - repriced, model: after - repositioned)
    }

    /// price + position + model: V_B − V_A up to rounding (USD).
    public var total: Double { price + position + model }
}

/// One account of either run: its status and parametric VaR (USD) before (run A) and after (run B), and the change's
/// attribution. An account in one run only has VaR 0 and status `.none` on the other side.
public struct AccountChange: Sendable {
    public var account: String
    public var statusBefore: ChangeStatus
    public var statusAfter: ChangeStatus
    /// Parametric VaR in USD: 0 when not in that run, NaN when out of range there.
    public var varBefore: Double
    public var varAfter: Double
    public var attribution: VaRAttribution

    public init(account: String, statusBefore: ChangeStatus, statusAfter: ChangeStatus, varBefore: Double,
                varAfter: Double, attribution: VaRAttribution) {
        self.account = account
        self.statusBefore = statusBefore
        self.statusAfter = statusAfter
        self.varBefore = varBefore
        self.varAfter = varAfter
        self.attribution = attribution
    }

    /// varAfter − varBefore (USD); NaN when either is.
    public var varIncrease: Double { varAfter - varBefore }

    /// Margin call or liquidatable now, and not at least as bad before (better, out of range, or not in run A).
    public var isNewlyBreaching: Bool {
        guard let now = statusAfter.severity, now > 0 else { return false }
        return (statusBefore.severity ?? -1) < now
    }
}

/// Accounts counted by (status in run A, status in run B) over every `ChangeStatus`.
public struct StatusTransitions: Sendable, Equatable {
    /// counts[before.rawValue · 5 + after.rawValue].
    public private(set) var counts: [Int]

    public init() { counts = [Int](repeating: 0, count: ChangeStatus.allCases.count * ChangeStatus.allCases.count) }

    public subscript(before: ChangeStatus, after: ChangeStatus) -> Int {
        counts[before.rawValue * ChangeStatus.allCases.count + after.rawValue]
    }

    mutating func add(_ before: ChangeStatus, _ after: ChangeStatus) {
        counts[before.rawValue * ChangeStatus.allCases.count + after.rawValue] += 1
    }
}

/// What changed from an earlier run of a book (A, `before`) to a later one (B, `after`): per account the status and
/// parametric VaR on both sides with the VaR change attributed to prices, positions and the model; the same for the
/// book; status transitions; the accounts newly in breach; the largest VaR increases; and the stored runs' history.
public struct RunChanges: Sendable {
    /// Which run a side is: the store's id (nil when not stored yet), the book's name and the as-of date.
    public struct RunInfo: Sendable, Equatable {
        public var runID: Int64?
        public var bookName: String
        public var asOf: String

        public init(runID: Int64?, bookName: String, asOf: String) {
            self.runID = runID
            self.bookName = bookName
            self.asOf = asOf
        }
    }

    /// The book's parametric VaR (USD) in each run (its own `bookVaR`) and the change's attribution, computed on the
    /// book's quantities summed per asset over the accounts in range of each run.
    public struct BookChange: Sendable, Equatable {
        public var varBefore: Double
        public var varAfter: Double
        public var attribution: VaRAttribution
    }

    /// Accounts in `largestIncreases`.
    public static let largestIncreaseCount = 20
    /// Accounts per parallel chunk of the attribution (fixed, so nothing depends on the worker count).
    public static let chunkSize = 512

    public var before: RunInfo
    public var after: RunInfo
    /// Run B's accounts in its order, then the accounts closed since run A in run A's order.
    public var accounts: [AccountChange]
    public var transitions: StatusTransitions
    /// Accounts in run B only, and in run A only.
    public var newAccounts: Int
    public var closedAccounts: Int
    public var book: BookChange
    /// Indices into `accounts` of the accounts newly liquidatable, then newly margin call (`isNewlyBreaching`), each
    /// group in `accounts` order.
    public var newlyBreaching: [Int]
    /// Indices into `accounts` of the (at most 20) largest VaR increases (> 0 USD), largest first, ties in
    /// `accounts` order.
    public var largestIncreases: [Int]
    /// The stored runs of the book, by as-of date then id, for the history chart.
    public var history: [StoredRun]

    /// Accounts newly liquidatable and newly margin call.
    public var newlyLiquidatable: Int { newlyBreaching.count(where: { accounts[$0].statusAfter == .liquidatable }) }
    public var newlyMarginCall: Int { newlyBreaching.count(where: { accounts[$0].statusAfter == .marginCall }) }
}

extension RunChanges {
    /// Compares run A (`before`) with run B (`after`). Accounts are matched by id and assets by ticker; per-account
    /// work runs on `workers` threads in fixed chunks of `chunkSize` accounts and reads only the account's own
    /// assets, so the result is the same for any worker count.
    public static func compare(before a: RunSnapshot, after b: RunSnapshot, history: [StoredRun],
                               workers: Int) -> RunChanges {
        let market = ComparedMarket(before: a, after: b)
        let rows = AccountPairs(before: a, after: b)
        let accounts = market.attribute(rows, workers: workers)
        var transitions = StatusTransitions()
        for change in accounts { transitions.add(change.statusBefore, change.statusAfter) }
        return RunChanges(before: RunInfo(a), after: RunInfo(b), accounts: accounts, transitions: transitions,
                          newAccounts: rows.newAccounts, closedAccounts: rows.closedAccounts,
                          book: market.bookChange(), newlyBreaching: newlyBreaching(accounts),
                          largestIncreases: largestIncreases(accounts),
                          history: history.sorted { ($0.asOf, $0.id) < ($1.asOf, $1.id) })
    }

    /// Newly liquidatable accounts, then newly margin call, each in row order.
    static func newlyBreaching(_ accounts: [AccountChange]) -> [Int] {
        let newly = accounts.indices.filter { accounts[$0].isNewlyBreaching }
        let liquidatable = newly.filter { accounts[$0].statusAfter == .liquidatable }
        return liquidatable + newly.filter { accounts[$0].statusAfter == .marginCall }
    }

    /// The `largestIncreaseCount` largest positive VaR increases, largest first, ties in row order (one pass,
    /// keeping the current top list sorted).
    static func largestIncreases(_ accounts: [AccountChange]) -> [Int] {
        var top: [(row: Int, increase: Double)] = []
        for (row, change) in accounts.enumerated() {
            let increase = change.varIncrease
            guard increase > 0, top.count < largestIncreaseCount || increase > top[top.count - 1].increase else { continue }
            // Rows arrive in order, so an equal increase already listed stays ahead.
            let position = top.firstIndex { $0.increase < increase } ?? top.count
            top.insert((row, increase), at: position)
            if top.count > largestIncreaseCount { top.removeLast() }
        }
        return top.map(\.row)
    }
}

extension RunChanges.RunInfo {
    init(_ s: RunSnapshot) { self.init(runID: s.runID, bookName: s.bookName, asOf: s.asOf) }
}

/// The rows of a comparison: run B's accounts in order (each with its index in run A, or −1), then run A's accounts
/// missing from run B in run A's order (index in B −1).
struct AccountPairs: Sendable {
    var before: [Int32] = []
    var after: [Int32] = []
    var newAccounts = 0
    var closedAccounts = 0

    init(before a: RunSnapshot, after b: RunSnapshot) {
        let indexInA = Dictionary(a.accountIDs.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })
        var matched = [Bool](repeating: false, count: a.accountCount)
        before.reserveCapacity(b.accountCount)
        after.reserveCapacity(b.accountCount)
        for (j, id) in b.accountIDs.enumerated() {
            let i = indexInA[id].flatMap { matched[Int($0)] ? nil : $0 } ?? -1
            if i >= 0 { matched[Int(i)] = true } else { newAccounts += 1 }
            before.append(i)
            after.append(Int32(j))
        }
        for i in 0 ..< a.accountCount where !matched[i] {
            before.append(Int32(i))
            after.append(-1)
            closedAccounts += 1
        }
    }

    var count: Int { before.count }
}
