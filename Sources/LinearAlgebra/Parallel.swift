import Dispatch
import Synchronization

/// A shared output buffer that parallel workers write at disjoint indices.
///
/// `@unchecked Sendable` is sound only under the contract of `Parallel.forEachBlock`: each index is written by
/// exactly one block, and the buffer outlives the parallel loop (it is created by `withSharedOutput`).
public struct SharedOutput<Element>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Element>
    public let count: Int

    @inlinable public init(base: UnsafeMutablePointer<Element>, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable public subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "SharedOutput index out of range")
            return base[index]
        }
        nonmutating set {
            precondition(index >= 0 && index < count, "SharedOutput index out of range")
            base[index] = newValue
        }
    }
}

extension Array {
    /// Runs `body` with a `SharedOutput` view of the array's storage, valid only during the call.
    @inlinable public mutating func withSharedOutput<R>(_ body: (SharedOutput<Element>) throws -> R) rethrows -> R {
        try withUnsafeMutableBufferPointer { buffer in
            // Safe: the pointer does not escape `body`, and `body` returns only after its parallel loop joins.
            try body(SharedOutput(base: buffer.baseAddress!, count: buffer.count))
        }
    }
}

public enum Parallel {
    /// Calls `body(block, worker)` once for every block in `0 ..< blockCount`, spread over `workers` threads that
    /// take the next unclaimed block from a shared counter (dynamic: a worker slowed by an expensive block, e.g. a
    /// 450-asset institutional QP, or by a noisy neighbour, does not hold the others up). Blocks are fixed by the
    /// caller and each is computed whole by one worker, so results never depend on the worker count or on which
    /// worker took which block. `body` must write only outputs that belong to its block, and a workspace must not
    /// carry results from one block to the next.
    public static func forEachBlock(blockCount: Int, workers: Int, _ body: @Sendable (_ block: Int, _ worker: Int) -> Void) {
        let workerCount = max(1, min(workers, blockCount))
        if workerCount == 1 {
            for b in 0 ..< blockCount { body(b, 0) }
            return
        }
        let nextBlock = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
            while true {
                let b = nextBlock.add(1, ordering: .relaxed).oldValue
                guard b < blockCount else { break }
                body(b, worker)
            }
        }
    }

    /// Like `forEachBlock`, with one workspace per worker created by `makeWorkspace` and reused across its blocks.
    public static func forEachBlock<Workspace>(blockCount: Int, workers: Int, makeWorkspace: @Sendable () -> Workspace,
                                               _ body: @Sendable (_ block: Int, _ workspace: inout Workspace) -> Void) {
        let workerCount = max(1, min(workers, blockCount))
        if workerCount == 1 {
            var workspace = makeWorkspace()
            for b in 0 ..< blockCount { body(b, &workspace) }
            return
        }
        let nextBlock = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            var workspace = makeWorkspace()
            while true {
                let b = nextBlock.add(1, ordering: .relaxed).oldValue
                guard b < blockCount else { break }
                body(b, &workspace)
            }
        }
    }
}
