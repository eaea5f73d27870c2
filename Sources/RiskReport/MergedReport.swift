import Dispatch
import Foundation
import RiskPipeline
import Sharding

/// `ballast merge`: the parts of a sharded run merged (`ShardReport.merge`) and written as the whole run's report.
public enum MergedReport {
    public enum Failure: Error, CustomStringConvertible {
        case merge(ShardReport.Failure)
        case report(ReportWriter.Failure)

        public var description: String {
            switch self {
            case .merge(let error): return error.description
            case .report(let error): return error.description
            }
        }
    }

    /// Merges the parts in `partDirectories` and writes the report into `destination`; nothing is written when the
    /// parts are refused.
    @discardableResult
    public static func write(_ partDirectories: [URL], to destination: URL, bookDirectory: URL? = nil, threads: Int,
                             progress: any RunProgress = SilentProgress()) throws(Failure) -> RunResult {
        let started = DispatchTime.now()
        let result: RunResult
        do {
            result = try ShardReport.merge(partDirectories, bookDirectory: bookDirectory, threads: threads,
                                           progress: progress)
        } catch {
            throw .merge(error)
        }
        progress.begin(.report, detail: "writing \(destination.path)/")
        do {
            try ReportWriter.write(result, to: destination, runStarted: started)
        } catch {
            throw .report(error)
        }
        return result
    }
}
