import Foundation

/// Text that goes into report.html. Every string that came from the user's files (account ids, asset tickers,
/// scenario names, warnings, paths) passes through `escape` exactly once, at the point where it is written.
public enum HTML {
    /// `text` safe for HTML element content and for double- or single-quoted attribute values: `& < > " '` become
    /// character references; every other character, non-ASCII included, is kept as UTF-8. Control characters that
    /// are not allowed in an HTML document (C0 other than tab, LF and CR; DEL; C1) become U+FFFD.
    public static func escape(_ text: String) -> String {
        var out = String()
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                let v = scalar.value
                let control = (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || (v >= 0x7F && v <= 0x9F)
                out.unicodeScalars.append(control ? "\u{FFFD}" : scalar)
            }
        }
        return out
    }

    /// An account id, asset ticker or scenario name as the report shows it: neutralised like the CSV cells
    /// (METHODOLOGY "Outputs": a leading `=`, `+`, `-` or `@` gets a `'`, so a table pasted into a spreadsheet runs no formula
    /// and the id reads the same as in accounts.csv), then escaped.
    public static func name(_ text: String) -> String { escape(CSVText.neutralised(text)) }

    /// `text` cut to at most `limit` characters, with `…` when cut (for chart labels; not escaped).
    static func truncated(_ text: String, to limit: Int) -> String {
        guard text.count > limit, limit > 1 else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }
}

/// Numbers as a person reads them in the report. The CSV and JSON files keep full precision; the page rounds.
/// Undefined numbers (NaN, infinities) show as an em dash.
enum HumanNumber {
    static let missing = "—"

    /// 1234567 → "1,234,567".
    static func count(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Fixed decimals with thousands separators: 12345.678 → "12,345.68".
    static func grouped(_ x: Double, decimals: Int) -> String {
        guard x.isFinite else { return missing }
        let text = String(format: "%.\(decimals)f", abs(x))
        let parts = text.split(separator: ".", maxSplits: 1)
        let whole = Int(parts[0]).map(count) ?? String(parts[0])
        let sign = x < 0 && text.contains(where: { $0 != "0" && $0 != "." }) ? "-" : ""
        return sign + whole + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// Three significant digits with a k / M / B / T suffix: 12345678 → "12.3M", 999960 → "1.00M", 512.4 → "512",
    /// 5.123 → "5.12". `trimmed` drops trailing zeros (axis ticks: "2.5M", "10M").
    static func compact(_ x: Double, trimmed: Bool = false) -> String {
        guard x.isFinite else { return missing }
        if x == 0 { return "0" }
        let suffixes = ["", "k", "M", "B", "T"]
        var magnitude = abs(x)
        var tier = 0
        while magnitude >= 1000 && tier < suffixes.count - 1 {
            magnitude /= 1000
            tier += 1
        }
        var decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2
        var text = String(format: "%.\(decimals)f", magnitude)
        // 999.96k rounds to "1000": move up a tier.
        if let rounded = Double(text), rounded >= 1000, tier < suffixes.count - 1 {
            magnitude = rounded / 1000
            tier += 1
            decimals = 2
            text = String(format: "%.\(decimals)f", magnitude)
        }
        if trimmed && text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        let isZero = !text.contains(where: { $0 != "0" && $0 != "." })
        return (x < 0 && !isZero ? "-" : "") + text + suffixes[tier]
    }

    /// Money with a dollar sign: "$12.3M", "-$450k".
    static func usd(_ x: Double) -> String {
        guard x.isFinite else { return missing }
        let text = compact(x)
        return text.hasPrefix("-") ? "-$" + text.dropFirst() : "$" + text
    }

    /// Full dollars with thousands separators, for tooltips: "$12,345,678.90".
    static func usdFull(_ x: Double) -> String {
        guard x.isFinite else { return missing }
        let text = grouped(x, decimals: 2)
        return text.hasPrefix("-") ? "-$" + text.dropFirst() : "$" + text
    }

    /// A ratio with two decimals: "1.25".
    static func ratio(_ x: Double) -> String { x.isFinite ? String(format: "%.2f", x) : missing }

    /// A fraction as a percentage: 0.0321 → "3.2%"; a positive share below the last decimal shows as "<0.1%".
    static func percent(_ fraction: Double, decimals: Int = 1) -> String {
        guard fraction.isFinite else { return missing }
        let floor = pow(10, Double(-decimals)) / 100
        if fraction > 0 && fraction < floor { return "<" + String(format: "%.\(decimals)f", floor * 100) + "%" }
        let text = String(format: "%.\(decimals)f", fraction * 100)
        // A small negative share rounds to "-0.0": no sign on zero.
        let isZero = !text.contains(where: { $0 != "0" && $0 != "." && $0 != "-" })
        return (isZero && text.hasPrefix("-") ? String(text.dropFirst()) : text) + "%"
    }

    /// "1 account", "2 accounts", "1,000 accounts".
    static func count(_ n: Int, _ noun: String) -> String { "\(count(n)) \(noun)\(n == 1 ? "" : "s")" }

    /// Wall seconds: "0.012 s", "1.23 s", "123 s".
    static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return missing }
        if s < 1 { return String(format: "%.3f s", s) }
        if s < 100 { return String(format: "%.2f s", s) }
        return grouped(s, decimals: 0) + " s"
    }

    /// Bytes in binary units: "412 MiB".
    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return (unit == 0 ? String(n) : String(format: value >= 100 ? "%.0f" : "%.1f", value)) + " " + units[unit]
    }
}
