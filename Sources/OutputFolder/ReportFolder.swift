import Foundation
import RiskPipeline
import Synchronization

/// A report folder (a report or a shard's part) written atomically, and only over what Ballast itself wrote (METHODOLOGY "Outputs").
///
/// * **Ownership.** Every folder Ballast writes holds the marker file `.ballast-report` (one line naming the engine).
///   `--out` may be replaced only when it does not exist, is an empty folder, holds the marker, or is a report of a
///   Ballast from before the marker (nothing in it but Ballast's file names, with summary.json or part.json). Anything
///   else — a file, a device, a symbolic link, any other folder, `.`, an input folder — is refused by `preflight`,
///   before any computation, and again at the commit.
/// * **Atomic publish.** Files go to `.NAME.tmp-PID` beside `--out` (the marker first), each one fsynced; the folder is
///   fsynced, then swapped with `--out` in one `renameat2(RENAME_EXCHANGE)` (moved in with `RENAME_NOREPLACE` when
///   there is no `--out` yet), the parent folder fsynced, and the previous report — now at the staging name, marker
///   checked — removed. `--out` always holds a whole report, the old one or the new one, even after `kill -9`.
///   Where the file system refuses the exchange (NFS, some FUSE; systems other than Linux), the previous report is
///   renamed aside to `.NAME.old-PID` and the new one renamed in: `--out` is missing between the two renames, and a
///   run killed there leaves the previous report aside, which the next run puts back.
/// * **One writer.** A run holds `flock` on `.NAME.lock` beside `--out` from its preflight to the end of its commit; a
///   second run to the same `--out` waits for it. The holder removes the lock file when done.
/// * **Leftovers.** Holding the lock, a run removes `.NAME.tmp-PID` and `.NAME.old-PID` left by dead processes, if they
///   hold the marker (or are empty). SIGINT and SIGTERM remove the run's own staging folder and exit 130 / 143.
public struct ReportFolder {
    /// The marker file in every folder Ballast writes: what makes a folder Ballast's to replace.
    public static let markerName = ".ballast-report"
    static let markerText = "ballast \(EngineVersion.current) report folder: the next ballast run writing here replaces all of it\n"

    public let destination: URL
    public let staging: URL
    let place: ReportPlace

    public enum Failure: Error, CustomStringConvertible {
        /// `--out` may not be written: it is not Ballast's to replace, or its folder is not writable (exit 2).
        case refused(out: String, reason: String)
        case cannotCreate(path: String, reason: String)
        case cannotWrite(path: String, reason: String)
        case cannotReplace(path: String, reason: String)

        public var description: String {
            switch self {
            case .refused(let out, let reason): return "--out \(out): \(reason)"
            case .cannotCreate(let path, let reason): return "cannot create \(path): \(reason)"
            case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
            case .cannotReplace(let path, let reason): return "cannot replace \(path): \(reason)"
            }
        }

        /// The user's to fix (a refused `--out`), rather than a failure of the run.
        public var isRefusal: Bool {
            if case .refused = self { return true }
            return false
        }
    }

    /// Checks, before any computation, that `out` may be written: not an input folder (nor containing one), not
    /// something Ballast did not write, in a writable folder (created if missing). Then takes the lock (calling
    /// `onWait` first when another run holds it, and waiting) and removes dead runs' leftovers.
    public static func preflight(out: String, inputs: [URL] = [], onWait: () -> Void = {}) throws(Failure) {
        let place = try ReportPlace(out: out)
        try place.refuseInputs(inputs)
        try place.refuseOccupant()
        try place.probeParent()
        try ReportLock.acquire(place, onWait: onWait)
        place.sweepStale()
    }

    /// Creates `.<out>.tmp-<pid>` beside the destination, with the marker in it. Refuses a destination Ballast may
    /// not replace; takes the lock unless `preflight` took it.
    public init(destination: URL) throws(Failure) {
        place = try ReportPlace(out: destination.path)
        try place.refuseOccupant()
        try ReportLock.acquire(place, onWait: {})
        place.sweepStale()
        self.destination = URL(fileURLWithPath: place.path)
        staging = URL(fileURLWithPath: place.staging)
        try createStaging()
    }

    private func createStaging() throws(Failure) {
        let path = place.staging
        Interruption.active.withLock { _ = $0.insert(path) }
        // A folder of a dead process that had our PID: ours to remove only if Ballast wrote it.
        Interruption.removeOwned(path)
        let made = Interruption.create { mkdir(path, 0o777) == 0 ? 0 : errno }
        guard made == 0 else { throw .cannotCreate(path: path, reason: Posix.describe(made)) }
        try write(Self.markerText, to: Self.markerName)
    }

    /// Writes one file into the staging folder (and fsyncs it).
    public func write(_ bytes: [UInt8], to name: String) throws(Failure) {
        try Posix.writeFile(place.staging + "/" + name, bytes)
    }

    public func write(_ text: String, to name: String) throws(Failure) { try write(Array(text.utf8), to: name) }

    /// Streams one file into the staging folder: `body` receives a writer it may call many times (each call copies
    /// the bytes it is given).
    public func stream(to name: String, _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws(Failure) {
        let path = place.staging + "/" + name
        do {
            let file = try DirectFile(path: path)
            try body { bytes in try file.append(bytes) }
            try file.finish()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// Puts the staging folder in place of the destination (see the type's comment), removes the previous report and
    /// lets go of the lock.
    public func commit() throws(Failure) {
        defer { ReportLock.release(place) }
        if let code = Posix.syncFolder(place.staging) {
            throw .cannotWrite(path: place.staging, reason: Posix.describe(code))
        }
        // Under the interruption lock: a SIGINT/SIGTERM waits until the renames are done, then removes what the
        // staging name holds (the new report not yet in place, or the previous one swapped out).
        let previous = try Interruption.active.withLock { (active: inout Set<String>) throws(Failure) -> String? in
            try ReportPublisher(place: place).publish(registering: &active)
        }
        _ = Posix.syncFolder(place.parent)  // best effort: the rename is done; a failure here changes nothing we can fix
        if let previous { Interruption.removeOwned(previous) }
        Interruption.active.withLock { active in
            active.remove(place.staging)
            if let previous { active.remove(previous) }
        }
    }

    /// Removes the staging folder (after a failure) and lets go of the lock.
    public func discard() {
        Interruption.active.withLock { active in
            Interruption.removeOwned(place.staging)
            active.remove(place.staging)
        }
        ReportLock.release(place)
    }
}

/// Where a report goes: the real path of its parent folder, its name, and the names Ballast uses beside it.
struct ReportPlace: Sendable {
    /// `--out` as the user gave it, for messages.
    let display: String
    let parent: String
    let name: String

    var path: String { parent == "/" ? "/" + name : parent + "/" + name }
    var staging: String { sibling("tmp", pid: getpid()) }
    var aside: String { sibling("old", pid: getpid()) }
    var lock: String { sibling("lock") }

    /// `.NAME.kind-PID` (or `.NAME.kind`) in the parent folder.
    func sibling(_ kind: String, pid: Int32? = nil) -> String {
        let entry = ".\(name).\(kind)" + (pid.map { "-\($0)" } ?? "")
        return parent == "/" ? "/" + entry : parent + "/" + entry
    }

    /// Resolves `out`, creating its parent folder when missing. Refuses an empty path and one that ends in `.` or `..`
    /// or names the root.
    init(out: String) throws(ReportFolder.Failure) {
        display = out.isEmpty ? "\"\"" : out
        guard let last = out.split(separator: "/").last.map(String.init), last != ".", last != ".." else {
            throw .refused(out: display, reason: out.isEmpty ? "is empty; give the report folder"
                : "names the current, a parent or the root folder; give a report folder of its own")
        }
        name = last
        let parentPath = URL(fileURLWithPath: out).deletingLastPathComponent().path
        if let code = Posix.makeDirectories(parentPath) {
            throw .refused(out: display, reason: "cannot create its folder \(parentPath): \(Posix.describe(code))")
        }
        guard let real = Posix.realPath(parentPath) else {
            throw .refused(out: display, reason: "cannot resolve its folder \(parentPath): \(Posix.describe(errno))")
        }
        guard Posix.isFolder(real) else { throw .refused(out: display, reason: "\(parentPath) is not a folder") }
        parent = real
    }

    /// Refuses a destination that is, or contains, one of the run's inputs (compared as real paths).
    func refuseInputs(_ inputs: [URL]) throws(ReportFolder.Failure) {
        for input in inputs {
            guard let real = Posix.realPath(input.path) else { continue }
            if real == path || real.hasPrefix(path + "/") {
                let relation = real == path ? "is" : "contains"
                throw .refused(out: display, reason: "\(relation) the input \(input.relativePath); give another report folder")
            }
        }
    }

    /// Refuses a destination Ballast may not replace, and a mount point (it cannot be renamed).
    func refuseOccupant() throws(ReportFolder.Failure) {
        if case .refused(let reason) = Occupant.of(path) { throw .refused(out: display, reason: reason) }
        if Posix.device(of: path).map({ $0 != Posix.device(of: parent) }) == true {
            throw .refused(out: display, reason: "is a mount point, which cannot be replaced; give a folder inside it")
        }
    }

    /// Creates and removes a folder beside the destination: the parent must be writable by this process.
    func probeParent() throws(ReportFolder.Failure) {
        let probe = sibling("probe", pid: getpid())
        guard mkdir(probe, 0o700) == 0 || errno == EEXIST else {
            throw .refused(out: display, reason: "cannot write in \(parent): \(Posix.describe(errno))")
        }
        rmdir(probe)
    }

    /// Removes what dead runs left beside the destination (`.NAME.tmp-PID`, `.NAME.old-PID`, `.NAME.probe-PID` of a
    /// process that no longer exists), only when Ballast wrote it (marker) or it is empty. Call it holding the lock:
    /// then no live Ballast run is writing there. A report a dead run set aside (fallback commit killed between its
    /// two renames) is first put back when the destination is missing.
    func sweepStale() {
        guard ReportLock.holds(self), let entries = try? Posix.entries(of: parent) else { return }
        let stale = entries.compactMap(staleEntry)
        if Occupant.of(path) == .absent,
           let aside = stale.first(where: { $0.kind == "old" && Occupant.of($0.path) == .report }) {
            _ = rename(aside.path, path)
        }
        for entry in stale { Interruption.removeOwned(entry.path) }
    }

    /// `entry` as a leftover of a dead process: its path and kind, or nil.
    private func staleEntry(_ entry: String) -> (path: String, kind: String)? {
        for kind in ["tmp", "old", "probe"] {
            let prefix = ".\(name).\(kind)-"
            guard entry.hasPrefix(prefix) else { continue }
            let digits = entry.dropFirst(prefix.count)
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ ("0" ... "9").contains($0) }),
                  let pid = Int32(digits), pid > 0, pid != getpid(), !Posix.isAlive(pid) else { return nil }
            return (parent + "/" + entry, kind)
        }
        return nil
    }
}

/// What is at a destination, and whether Ballast may replace it.
enum Occupant: Equatable {
    case absent
    case empty
    /// A folder with the marker.
    case report
    /// A report written before the marker existed: only Ballast's file names, summary.json or part.json among them.
    case legacyReport
    case refused(String)

    static let legacyNames: Set<String> = ["accounts.csv", "holdings.csv", "stress.csv", "backtest.csv", "cascade.csv",
                                           "cascade_assets.csv", "summary.json", "report.html",
                                           "report.png", "part.ballast", "part.json"]

    static func of(_ path: String) -> Occupant {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return errno == ENOENT ? .absent : .refused("cannot be inspected: \(Posix.describe(errno))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return ofFolder(path)
        case S_IFREG: return .refused("is a file, not a report folder; refusing to replace it")
        case S_IFLNK: return .refused("is a symbolic link; refusing to replace it (give the folder itself)")
        default: return .refused("is not a folder (a device, pipe or socket); refusing to replace it")
        }
    }

    private static func ofFolder(_ path: String) -> Occupant {
        if Posix.isRegularFile(path + "/" + ReportFolder.markerName) { return .report }
        let names: [String]
        do { names = try Posix.entries(of: path) } catch { return .refused("cannot be read: \(error)") }
        if names.isEmpty { return .empty }
        if names.contains("summary.json") || names.contains("part.json"),
           names.allSatisfy({ legacyNames.contains($0) && Posix.isRegularFile(path + "/" + $0) }) {
            return .legacyReport
        }
        return .refused("is a folder Ballast did not write (no \(ReportFolder.markerName) in it); refusing to replace "
            + "it (give a new or empty folder)")
    }
}

/// The renames of a commit.
struct ReportPublisher {
    let place: ReportPlace
    /// renameat2 (0 or errno); tests pass one that fails with EINVAL, as on NFS, to take the fallback.
    var rename2: (String, String, UInt32) -> Int32 = Posix.rename2

    /// Puts the staging folder at the destination; returns where the previous report now is (to remove), if any.
    /// `active` is the set of paths a SIGINT/SIGTERM cleans up (its lock is held by the caller).
    func publish(registering active: inout Set<String>) throws(ReportFolder.Failure) -> String? {
        // A few attempts: something may appear at (or vanish from) the destination between the check and the rename.
        for _ in 0 ..< 3 {
            switch Occupant.of(place.path) {
            case .refused(let reason):
                throw .refused(out: place.display, reason: reason)
            case .absent:
                if try moveIn() { return nil }
            case .legacyReport:
                // Ballast's by its file names: marked, so that it is removed like any report once swapped out.
                // (The interruption lock is held here already: the file is created directly.)
                try Posix.writeFile(place.path + "/" + ReportFolder.markerName, Array(ReportFolder.markerText.utf8),
                                    holdingInterruptionLock: true)
                if let previous = try exchange(registering: &active) { return previous }
            case .report, .empty:
                if let previous = try exchange(registering: &active) { return previous }
            }
        }
        throw .cannotReplace(path: place.path, reason: "it kept changing while the report was being put in place")
    }

    /// No destination yet: renames the staging folder to it without replacing anything that appeared meanwhile.
    /// False when something did (then check it and exchange).
    private func moveIn() throws(ReportFolder.Failure) -> Bool {
        var code = rename2(place.staging, place.path, Posix.renameNoReplace)
        if Posix.isUnsupported(code) {
            // No RENAME_NOREPLACE here: rename(2) still replaces nothing but an empty folder.
            code = rename(place.staging, place.path) == 0 ? 0 : errno
        }
        switch code {
        case 0: return true
        case EEXIST, ENOTEMPTY: return false
        default: throw .cannotReplace(path: place.path, reason: Posix.describe(code))
        }
    }

    /// Swaps staging and destination in one step; returns the staging path, which now holds the previous report, or
    /// nil when the destination vanished meanwhile. Falls back to renaming aside where the exchange is unsupported.
    private func exchange(registering active: inout Set<String>) throws(ReportFolder.Failure) -> String? {
        let code = rename2(place.staging, place.path, Posix.renameExchange)
        switch code {
        case 0: return place.staging
        case ENOENT: return nil
        case _ where Posix.isUnsupported(code): return try renameAside(registering: &active)
        default: throw .cannotReplace(path: place.path, reason: Posix.describe(code))
        }
    }

    /// The fallback: previous report to `.NAME.old-PID`, new one in, previous one put back if that fails.
    private func renameAside(registering active: inout Set<String>) throws(ReportFolder.Failure) -> String? {
        let aside = place.aside
        Interruption.removeOwned(aside)
        active.insert(aside)
        guard rename(place.path, aside) == 0 else {
            if errno == ENOENT { return nil }
            throw .cannotReplace(path: place.path, reason: Posix.describe(errno))
        }
        guard rename(place.staging, place.path) == 0 else {
            let code = errno
            _ = rename(aside, place.path)
            throw .cannotReplace(path: place.path, reason: Posix.describe(code))
        }
        return aside
    }
}

/// The advisory lock `.NAME.lock` beside a destination: one Ballast process at a time writes a given report, from its
/// preflight to the end of its commit; a second one waits. The holder removes the file when it lets go (commit, discard
/// or exit); a waiter that then gets the lock of the removed file sees that it is no longer at its path and locks the
/// new one. A file system without `flock` (some network mounts) runs without the lock.
enum ReportLock {
    /// Lock file path → descriptor, for the locks this process holds.
    private static let held = Mutex<[String: Int32]>([:])

    static func holds(_ place: ReportPlace) -> Bool { held.withLock { $0[place.lock] != nil } }

    /// Takes the lock of `place` unless this process holds it already.
    static func acquire(_ place: ReportPlace, onWait: () -> Void) throws(ReportFolder.Failure) {
        Interruption.install()
        guard !holds(place), let descriptor = try lock(place, onWait: onWait) else { return }
        held.withLock { $0[place.lock] = descriptor }
    }

    /// Lets go of the lock of `place`, removing its file.
    static func release(_ place: ReportPlace) {
        guard let descriptor = held.withLock({ $0.removeValue(forKey: place.lock) }) else { return }
        unlink(place.lock)  // while still holding it: see the type's comment
        close(descriptor)
    }

    /// Lets go of every lock (at exit).
    static func releaseAll() {
        held.withLock { locks in
            for (path, descriptor) in locks {
                unlink(path)
                close(descriptor)
            }
            locks.removeAll()
        }
    }

    /// A locked descriptor of the file now at `place.lock`, or nil where the file system has no `flock`.
    private static func lock(_ place: ReportPlace, onWait: () -> Void) throws(ReportFolder.Failure) -> Int32? {
        var waited = false
        while true {
            let descriptor = open(place.lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0o666)
            guard descriptor >= 0 else {
                throw .refused(out: place.display, reason: "cannot create the lock \(place.lock): \(Posix.describe(errno))")
            }
            var code = flock(descriptor, LOCK_EX | LOCK_NB) == 0 ? 0 : errno
            if code == EWOULDBLOCK {
                if !waited { onWait() }
                waited = true
                repeat { code = flock(descriptor, LOCK_EX) == 0 ? 0 : errno } while code == EINTR
            }
            if code != 0 {
                close(descriptor)
                if code == ENOLCK || Posix.isUnsupported(code) { return nil }
                throw .cannotCreate(path: place.lock, reason: Posix.describe(code))
            }
            if Posix.isSameFile(descriptor, place.lock) { return descriptor }
            close(descriptor)  // the holder removed it as we waited: lock the new one
        }
    }
}

/// SIGINT and SIGTERM: the signal handler only writes the signal number to a pipe (async-signal-safe); a thread
/// reading the pipe removes the staging folders of this process (`active`), lets go of the locks and exits 128 + the
/// signal number. Exits through `exit` (errors, end of run) let go of the locks and remove the staging folders too.
enum Interruption {
    /// Staging folders (and, during a fallback commit, the previous report set aside) of this process. Its lock is held
    /// through the renames of a commit, so a signal waits for them.
    static let active = Mutex<Set<String>>([])
    private static let installed = Mutex(false)
    /// The pipe's write end: set once, before the handlers are installed; read by the handler only.
    nonisolated(unsafe) private static var pipeWriteEnd: Int32 = -1

    static func install() {
        installed.withLock { done in
            guard !done else { return }
            done = true
            atexit { Interruption.cleanUp() }
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { return }  // no pipe: the signals keep their default action
            pipeWriteEnd = ends[1]
            let readEnd = ends[0]
            Thread.detachNewThread { waitForSignal(readEnd) }
            for signal in [SIGINT, SIGTERM] { handle(signal) }
        }
    }

    /// Installs the handler of `signal`, unless the process was started with it ignored (`nohup`, a shell's
    /// background job: left ignored, as is the convention), and unblocks it in this thread: a process inherits its
    /// parent's blocked signals, and a parent that spawns from a thread blocking them (Foundation's `Process` in a
    /// test runner does) would make SIGTERM wait, pending, until the run ends.
    private static func handle(_ signal: Int32) {
        // Safe: the handler calls only write(2), which is async-signal-safe, on a descriptor set before it is installed.
        let handler: @convention(c) (Int32) -> Void = { signal in
            var byte = UInt8(truncatingIfNeeded: signal)
            _ = write(Interruption.pipeWriteEnd, &byte, 1)
        }
        var previous = sigaction(), action = sigaction()
        guard sigaction(signal, nil, &previous) == 0 else { return }
        #if os(Linux)
        let previousHandler = previous.__sigaction_handler.sa_handler
        action.__sigaction_handler.sa_handler = handler
        #else
        let previousHandler = previous.__sigaction_u.__sa_handler
        action.__sigaction_u.__sa_handler = handler
        #endif
        // Comparing the C function pointers as integers: SIG_IGN is the constant 1, not a function.
        guard unsafeBitCast(previousHandler, to: Int.self) != unsafeBitCast(SIG_IGN, to: Int.self) else { return }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(signal, &action, nil)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, signal)
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    /// Blocks until a signal arrives, cleans up and exits.
    private static func waitForSignal(_ readEnd: Int32) {
        var byte: UInt8 = 0
        while read(readEnd, &byte, 1) != 1 { if errno != EINTR { return } }
        active.withLock { paths in
            for path in paths { removeOwned(path) }
            ReportLock.releaseAll()
            _exit(128 + Int32(byte))  // holding the lock: no commit starts its renames after this
        }
    }

    /// Runs `makeEntry` (an open with O_CREAT, a mkdir) under the lock the signal cleanup holds until the process
    /// exits: once a cleanup has begun, no thread can add an entry to a staging folder it is removing.
    static func create<T>(_ makeEntry: () -> T) -> T {
        active.withLock { _ in makeEntry() }
    }

    static func cleanUp() {
        active.withLock { paths in
            for path in paths { removeOwned(path) }
            paths.removeAll()
        }
        ReportLock.releaseAll()
    }

    /// Removes `path` when Ballast wrote it (a folder with the marker) or it is an empty folder; leaves anything else.
    /// The marker goes last, so a removal cut short (kill -9) leaves a folder the next run still recognises and sweeps.
    static func removeOwned(_ path: String) {
        switch Occupant.of(path) {
        case .report:
            for name in (try? Posix.entries(of: path)) ?? [] where name != ReportFolder.markerName {
                try? FileManager.default.removeItem(atPath: path + "/" + name)
            }
            unlink(path + "/" + ReportFolder.markerName)
            rmdir(path)
        case .empty:
            rmdir(path)
        default:
            break
        }
    }
}

/// The POSIX calls of the report folder, with errno turned into strerror texts (never Foundation's).
enum Posix {
    struct Errno: Error, CustomStringConvertible {
        let code: Int32
        var description: String { Posix.describe(code) }
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// renameat2(2)'s flags (<linux/fs.h>).
    static let renameNoReplace: UInt32 = 1
    static let renameExchange: UInt32 = 2

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// glibc's renameat2 (2.28 and later), looked up at run time: the Glibc module does not import it (it is declared
    /// only under _GNU_SOURCE). Nil elsewhere.
    private static let renameAt2: RenameAt2? = {
        #if os(Linux)
        guard let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "renameat2") else { return nil }
        // Safe: glibc's renameat2 has exactly this C signature: (int, const char *, int, const char *, unsigned int).
        return unsafeBitCast(symbol, to: RenameAt2.self)
        #else
        return nil
        #endif
    }()

    /// renameat2(AT_FDCWD, from, AT_FDCWD, to, flags): 0 or the errno (ENOSYS where there is no renameat2).
    static func rename2(_ from: String, _ to: String, flags: UInt32) -> Int32 {
        guard let renameAt2 else { return ENOSYS }
        return renameAt2(AT_FDCWD, from, AT_FDCWD, to, flags) == 0 ? 0 : errno
    }

    /// The errors of a call or flag the kernel or the file system does not have.
    static func isUnsupported(_ code: Int32) -> Bool { code == ENOSYS || code == EINVAL || code == EOPNOTSUPP }

    /// Writes `bytes` to a new file at `path` and fsyncs it.
    /// Writes and fsyncs a new file. The file is created under the interruption lock (`Interruption.create`) unless
    /// the caller holds it already.
    static func writeFile(_ path: String, _ bytes: [UInt8],
                          holdingInterruptionLock: Bool = false) throws(ReportFolder.Failure) {
        let openFile = { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666) }
        let descriptor = holdingInterruptionLock ? openFile() : Interruption.create(openFile)
        guard descriptor >= 0 else { throw .cannotWrite(path: path, reason: describe(errno)) }
        var done = 0
        var code: Int32 = 0
        while done < bytes.count && code == 0 {
            // Safe: done < count, so the pointer and length stay within `bytes`.
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, bytes.count - done) }
            if written >= 0 { done += written } else if errno != EINTR { code = errno }
        }
        if code == 0 && fsync(descriptor) != 0 { code = errno }
        if close(descriptor) != 0 && code == 0 { code = errno }
        if code != 0 { throw .cannotWrite(path: path, reason: describe(code)) }
    }

    /// fsync of a folder (its entries): nil or the errno. File systems that cannot sync a folder (EINVAL) pass.
    static func syncFolder(_ path: String) -> Int32? {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        return fsync(descriptor) == 0 || errno == EINVAL ? nil : errno
    }

    /// mkdir -p: nil or the errno.
    static func makeDirectories(_ path: String) -> Int32? {
        if mkdir(path, 0o777) == 0 || errno == EEXIST { return nil }
        guard errno == ENOENT else { return errno }
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard parent != path else { return ENOENT }
        if let code = makeDirectories(parent) { return code }
        return mkdir(path, 0o777) == 0 || errno == EEXIST ? nil : errno
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// The device of the file at `path` (not following a final symbolic link), nil when there is none.
    static func device(of path: String) -> UInt64? {
        var info = stat()
        return lstat(path, &info) == 0 ? UInt64(info.st_dev) : nil
    }

    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Whether `descriptor` is the file now at `path`.
    static func isSameFile(_ descriptor: Int32, _ path: String) -> Bool {
        var open = stat(), named = stat()
        return fstat(descriptor, &open) == 0 && stat(path, &named) == 0
            && open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    /// False only when no process has this PID (on this machine).
    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    /// The names in a folder, without `.` and `..`.
    static func entries(of path: String) throws(Errno) -> [String] {
        guard let folder = opendir(path) else { throw Errno(code: errno) }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            // Safe: d_name is a NUL-terminated name within its fixed-size array; the bytes are copied before use.
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// A new file written in large aligned blocks with `O_DIRECT` where the file system allows it (Linux), so a
/// gigabyte report does not go through the page cache: on these machines the kernel's copy into the page cache
/// costs 3.2 s of CPU for 1.2 GB (`dd`, buffered) against 0.45 s of mostly idle wait with `O_DIRECT`. Falls back
/// to ordinary buffered writes where `O_DIRECT` is refused (tmpfs, other systems) and for the file's unaligned tail.
final class DirectFile {
    /// Block alignment O_DIRECT needs for the buffer address, the length and the file offset (4 KiB covers the
    /// logical block size of every Linux file system in use).
    static let alignment = 4096
    /// Bytes collected before one write: a multiple of the alignment, so every direct write starts aligned.
    static let capacity = 8 << 20
    #if os(Linux) && arch(x86_64)
    static let directFlag: Int32 = 0o40000      // O_DIRECT (<asm-generic/fcntl.h> on x86-64; not imported by Glibc)
    #elseif os(Linux) && arch(arm64)
    static let directFlag: Int32 = 0o200000     // O_DIRECT on arm64
    #else
    static let directFlag: Int32 = 0
    #endif

    let path: String
    private var descriptor: Int32
    private var direct: Bool
    private let buffer: UnsafeMutableRawPointer
    private var filled = 0

    init(path: String) throws(ReportFolder.Failure) {
        self.path = path
        var fd: Int32 = -1
        if Self.directFlag != 0 {
            fd = Interruption.create { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | Self.directFlag, 0o644) }
        }
        direct = fd >= 0
        if fd < 0 { fd = Interruption.create { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } }
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        descriptor = fd
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity, alignment: Self.alignment)
    }

    deinit {
        buffer.deallocate()
        if descriptor >= 0 { close(descriptor) }
    }

    func append(_ bytes: [UInt8]) throws(ReportFolder.Failure) {
        var failure: ReportFolder.Failure?
        bytes.withUnsafeBytes { source in
            do throws(ReportFolder.Failure) { try append(source) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(ReportFolder.Failure) {
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, Self.capacity - filled)
            // Safe: n ≤ capacity − filled bytes fit after `filled`, and n ≤ count − offset bytes remain in `bytes`.
            (buffer + filled).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            filled += n
            offset += n
            if filled == Self.capacity {
                try writeBuffer(byteCount: filled)
                filled = 0
            }
        }
    }

    /// Writes what is left (through the page cache when its length is not aligned), fsyncs and closes the file.
    func finish() throws(ReportFolder.Failure) {
        if direct && filled % Self.alignment != 0 { dropDirect() }
        try writeBuffer(byteCount: filled)
        filled = 0
        let fd = descriptor
        descriptor = -1
        var code: Int32 = fsync(fd) == 0 ? 0 : errno
        if close(fd) != 0 && code == 0 { code = errno }
        if code != 0 { throw .cannotWrite(path: path, reason: Posix.describe(code)) }
    }

    private func writeBuffer(byteCount: Int) throws(ReportFolder.Failure) {
        var done = 0
        while done < byteCount {
            // Safe: done < byteCount ≤ capacity bytes of `buffer` are initialised.
            let written = write(descriptor, buffer + done, byteCount - done)
            if written < 0 {
                if errno == EINTR { continue }
                // A file system that accepted O_DIRECT at open but refuses this write (or an unaligned retry after
                // a short write): go on through the page cache.
                if errno == EINVAL && direct { dropDirect(); continue }
                throw .cannotWrite(path: path, reason: String(cString: strerror(errno)))
            }
            done += written
        }
    }

    private func dropDirect() {
        let flags = fcntl(descriptor, F_GETFL)
        if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~Self.directFlag) }
        direct = false
    }
}
