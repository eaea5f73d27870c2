import Foundation

/// Where a run's results are stored (the `store` config key): an SQLite file or a PostgreSQL database.
///
/// Accepted text forms:
/// - `sqlite:PATH` — PATH is taken verbatim (relative to the working directory unless absolute), non-empty;
/// - `postgresql://user[:password]@host[:port]/database`, also spelled `postgres://`; the port defaults to 5432;
///   user, password and database may be percent-encoded (`%40` for `@`); an IPv6 host is written in brackets.
///
/// The password is a secret: `description`, `debugDescription`, the mirror and `redacted` show it as `***`, so a
/// location can be interpolated into logs, errors and reports. Only the `.postgres` case's `password` holds it.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(host: String, port: Int, user: String, password: String?, database: String)

    /// The port of a `postgresql://` URL that names none.
    public static let defaultPostgresPort = 5432

    /// The accepted forms, as error messages and documentation name them.
    public static let acceptedForms =
        "sqlite:PATH or postgresql://user[:password]@host[:port]/database (postgres:// also accepted)"

    /// What the mask of a password looks like in `redacted`.
    public static let passwordMask = "***"

    /// Parses `sqlite:PATH` or `postgresql://user[:password]@host[:port]/database` (scheme case-insensitive).
    ///
    /// - Throws: `StoreLocationError` saying what is wrong; its text never holds the password.
    public init(parsing text: String) throws(StoreLocationError) {
        // The scheme is compared on the text's own first characters, so what follows it is cut at the same place.
        func hasScheme(_ scheme: String) -> Bool { text.prefix(scheme.count).lowercased() == scheme }
        if hasScheme("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw StoreLocationError("a file path after sqlite:") }
            self = .sqlite(path: path)
        } else if let scheme = ["postgresql://", "postgres://"].first(where: hasScheme) {
            self = try Self.parsePostgres(String(text.dropFirst(scheme.count)))
        } else {
            throw StoreLocationError("a URL starting with sqlite:, postgresql:// or postgres://")
        }
    }

    /// The location as text with the password replaced by `***` (`postgresql://user:***@host/db`); the port is shown
    /// only when it is not 5432. Parsing it again gives the same location with the password `***`.
    public var redacted: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:" + path
        case .postgres(let host, let port, let user, let password, let database):
            let secret = password == nil ? "" : ":" + Self.passwordMask
            let shownHost = host.contains(":") ? "[\(host)]" : host
            let shownPort = port == Self.defaultPostgresPort ? "" : ":\(port)"
            return "postgresql://\(Self.encoded(user))\(secret)@\(shownHost)\(shownPort)/\(Self.encoded(database))"
        }
    }

    /// `text` with the password of any `scheme://user:password@…` (or `scheme:user:password@…`) replaced by `***`,
    /// whether or not it is a valid location: for messages about a value that did not parse.
    public static func redacting(_ text: String) -> String {
        let afterScheme: String.Index
        if let separator = text.range(of: "://") {
            afterScheme = separator.upperBound
        } else if let colon = text.firstIndex(of: ":") {
            afterScheme = text.index(after: colon)
        } else {
            return text
        }
        let rest = text[afterScheme...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<rest.index(after: colon)]) + passwordMask + String(text[at...])
    }
}

extension StoreLocation: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { redacted }
    public var debugDescription: String { "StoreLocation(\(redacted))" }
    /// Reflection (`dump`, default struct printing) sees the redacted text only.
    public var customMirror: Mirror { Mirror(self, children: ["redacted": redacted], displayStyle: .enum) }
}

/// Why a `store` value is not a store location; `expected` says what was expected. Never holds the password.
public struct StoreLocationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let expected: String
    init(_ expected: String) { self.expected = expected }
    /// What was expected, followed by the accepted forms.
    public var expectedText: String { "\(expected); accepted forms: \(StoreLocation.acceptedForms)" }
    public var description: String { "expected " + expectedText }
}

extension StoreLocation {
    /// `user[:password]@host[:port]/database`, the part of a PostgreSQL URL after its scheme.
    private static func parsePostgres(_ rest: String) throws(StoreLocationError) -> StoreLocation {
        // The last `@` ends the user part, so an unencoded `@` or `/` in the password still parses.
        guard let at = rest.lastIndex(of: "@") else {
            throw StoreLocationError("user@host/database after postgresql:// (the user is required)")
        }
        let userInfo = rest[..<at], address = rest[rest.index(after: at)...]
        let colon = userInfo.firstIndex(of: ":")
        let user = try decoded(userInfo[..<(colon ?? userInfo.endIndex)], what: "user")
        let password = try colon.map { c throws(StoreLocationError) in
            try decoded(userInfo[userInfo.index(after: c)...], what: "password", mayBeEmpty: true)
        }
        guard !user.isEmpty else { throw StoreLocationError("a user name before @") }
        guard let slash = address.firstIndex(of: "/") else {
            throw StoreLocationError("/database after the host")
        }
        let (host, port) = try hostAndPort(address[..<slash])
        let databaseText = address[address.index(after: slash)...]
        guard !databaseText.contains("?") else {
            throw StoreLocationError("no query parameters (?…) after the database name")
        }
        let database = try decoded(databaseText, what: "database")
        return .postgres(host: host, port: port, user: user, password: password.flatMap { $0.isEmpty ? nil : $0 },
                         database: database)
    }

    /// `host`, `host:port`, `[ipv6]` or `[ipv6]:port`; the port is 1 … 65535, 5432 when absent.
    private static func hostAndPort(_ text: Substring) throws(StoreLocationError) -> (String, Int) {
        var host = text, portText: Substring?
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex) ..< close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw StoreLocationError("host:port after @") }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw StoreLocationError("a host name after @") }
        guard let portText else { return (String(host), defaultPostgresPort) }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (1 ... 65535).contains(port) else {
            throw StoreLocationError("a port from 1 to 65535 after the host")
        }
        return (String(host), port)
    }

    /// Percent-decoded `text`, non-empty unless `mayBeEmpty`.
    private static func decoded(_ text: Substring, what: String, mayBeEmpty: Bool = false) throws(StoreLocationError) -> String {
        guard let value = String(text).removingPercentEncoding else {
            throw StoreLocationError("a \(what) with valid percent-encoding (%XX)")
        }
        guard mayBeEmpty || !value.isEmpty else { throw StoreLocationError("a non-empty \(what)") }
        return value
    }

    /// `text` percent-encoded so that it parses back as one user or database name.
    private static func encoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~!$&'()*+,;=")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
