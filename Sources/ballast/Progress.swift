import Foundation
import Logging
import RiskPipeline

/// Progress on stderr (the README, "Other commands"): a bar with phase names and counts when stderr is a terminal, plain log lines
/// (swift-log) otherwise, nothing with `--quiet`.
enum ConsoleProgress {
    static func make(quiet: Bool) -> any RunProgress {
        if quiet { return SilentProgress() }
        if isatty(STDERR_FILENO) == 1 { return TerminalBar() }
        return LogLines(logger: Console.logger(quiet: false))
    }

    /// `[3/8] parametric: 1000 accounts on 2 threads`.
    static func step(_ phase: Phase) -> (index: Int, total: Int) {
        ((Phase.progressOrder.firstIndex(of: phase) ?? 0) + 1, Phase.progressOrder.count)
    }
}

/// One swift-log line per phase.
struct LogLines: RunProgress {
    let logger: Logger
    func begin(_ phase: Phase, detail: String) {
        let (index, total) = ConsoleProgress.step(phase)
        logger.info("[\(index)/\(total)] \(phase.rawValue): \(detail)")
    }
}

/// A one-line bar redrawn in place: `[██████░░░░░░░░] 3/8 parametric — 1000 accounts on 2 threads`.
struct TerminalBar: RunProgress {
    static let width = 24

    func begin(_ phase: Phase, detail: String) { draw(phase, detail: detail) }
    func update(_ phase: Phase, detail: String) { draw(phase, detail: detail) }

    private func draw(_ phase: Phase, detail: String) {
        let (index, total) = ConsoleProgress.step(phase)
        let filled = Self.width * (index - 1) / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: Self.width - filled)
        var line = "[\(bar)] \(index)/\(total) \(phase.rawValue) — \(detail)"
        let columns = Self.terminalColumns
        if line.count > columns - 1 { line = String(line.prefix(columns - 2)) + "…" }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    /// Clears the bar (before the closing summary or an error).
    static func clear() { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }

    static var terminalColumns: Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 { return Int(size.ws_col) }
        return 100
    }
}
