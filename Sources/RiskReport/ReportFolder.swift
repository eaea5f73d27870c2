import Foundation

/// A report folder written atomically (SPEC §4): files go to a temporary folder beside `--out`, which replaces
/// `--out` only once every file is complete. A failed run removes the temporary folder and leaves the previous
/// report untouched.
public struct ReportFolder {
    public let destination: URL
    public let staging: URL

    public enum Failure: Error, CustomStringConvertible {
        case cannotCreate(path: String, reason: String)
        case cannotWrite(path: String, reason: String)
        case cannotReplace(path: String, reason: String)

        public var description: String {
            switch self {
            case .cannotCreate(let path, let reason): return "cannot create \(path): \(reason)"
            case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
            case .cannotReplace(let path, let reason): return "cannot replace \(path): \(reason)"
            }
        }
    }

    /// Creates `<out>.tmp-<pid>` beside the destination.
    public init(destination: URL) throws(Failure) {
        self.destination = destination.standardizedFileURL
        let parent = self.destination.deletingLastPathComponent()
        staging = parent.appendingPathComponent(".\(self.destination.lastPathComponent).tmp-\(getpid())")
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            if fm.fileExists(atPath: staging.path) { try fm.removeItem(at: staging) }
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw .cannotCreate(path: staging.path, reason: error.localizedDescription)
        }
    }

    /// Writes one file into the staging folder.
    public func write(_ bytes: [UInt8], to name: String) throws(Failure) {
        let url = staging.appendingPathComponent(name)
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    public func write(_ text: String, to name: String) throws(Failure) { try write(Array(text.utf8), to: name) }

    /// Streams one file into the staging folder: `body` receives a writer it may call many times.
    public func stream(to name: String, _ body: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws(Failure) {
        let url = staging.appendingPathComponent(name)
        do {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw Failure.cannotWrite(path: url.path, reason: "cannot create the file")
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try body { bytes in try handle.write(contentsOf: bytes) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Moves the staging folder into place: the previous report is renamed aside, the new one renamed in,
    /// and the previous one removed.
    public func commit() throws(Failure) {
        let fm = FileManager.default
        let previous = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).old-\(getpid())")
        do {
            var moved = false
            if fm.fileExists(atPath: destination.path) {
                if fm.fileExists(atPath: previous.path) { try fm.removeItem(at: previous) }
                try fm.moveItem(at: destination, to: previous)
                moved = true
            }
            do {
                try fm.moveItem(at: staging, to: destination)
            } catch {
                if moved { try? fm.moveItem(at: previous, to: destination) }
                throw error
            }
            if moved { try? fm.removeItem(at: previous) }
        } catch {
            throw .cannotReplace(path: destination.path, reason: error.localizedDescription)
        }
    }

    /// Removes the staging folder (after a failure).
    public func discard() { try? FileManager.default.removeItem(at: staging) }
}
