// Proleptic Gregorian calendar arithmetic (H. Hinnant's days-from-civil algorithms), so that
// dates do not depend on Foundation's Calendar or the machine's time zone.

enum CivilDate {
    /// Days since 1970-01-01.
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    /// The first price row of every generated book.
    static let epoch = daysFromCivil(2019, 1, 1)

    /// Row index (0 = 2019-01-01) of a date.
    static func rowIndex(_ year: Int, _ month: Int, _ day: Int) -> Int {
        daysFromCivil(year, month, day) - epoch
    }

    /// ISO date of a row index.
    static func isoDate(row: Int) -> String {
        var bytes: [UInt8] = []
        appendISODate(row: row, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendISODate(row: Int, to bytes: inout [UInt8]) {
        let (y, m, d) = civilFromDays(epoch + row)
        bytes.appendUInt(UInt64(y), width: 4)
        bytes.append(ASCII.minus)
        bytes.appendUInt(UInt64(m), width: 2)
        bytes.append(ASCII.minus)
        bytes.appendUInt(UInt64(d), width: 2)
    }
}
