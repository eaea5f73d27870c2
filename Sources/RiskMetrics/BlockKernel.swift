/// How a block of accounts gets its products with a shared matrix (Σ, scenario moves, stress shocks).
///
/// Every block kernel in this module works on fixed blocks of accounts and can do a block either as one dgemm
/// over the block's rows scattered across all n assets (`dense`), or account by account from the account's own
/// k assets only (`sparse`). `automatic` picks per block by operation count, the dense count discounted by how
/// many times faster dgemm runs than the kernel's sparse loop (each kernel measures its own factor). The
/// choice depends only on the block's holdings, never on the thread count, so results stay bit-identical.
public enum BlockKernel: Sendable, Equatable {
    case automatic
    case dense
    case sparse

    /// Whether a block runs dense: always for `.dense`, never for `.sparse`, and for `.automatic` when
    /// `denseOperations / denseEfficiency < sparseOperations`.
    @inlinable
    public func choosesDense(denseOperations: @autoclosure () -> Double, sparseOperations: @autoclosure () -> Double,
                             denseEfficiency: Double) -> Bool {
        switch self {
        case .dense: return true
        case .sparse: return false
        case .automatic: return denseOperations() / denseEfficiency < sparseOperations()
        }
    }
}
