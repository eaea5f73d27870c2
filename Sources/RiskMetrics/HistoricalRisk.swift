import Foundation
import LinearAlgebra
import RiskModel

/// Historical VaR/ES by full revaluation with √h scaling (METHODOLOGY "Parametric VaR and ES").
///
/// For each of the W returns of the window, P&L_t = Σ_i e_i·(exp(r_{t,i}) − 1) and L_t = −P&L_t;
/// k = ⌈round(W·(1 − α), 9)⌉; `var_hist` = L_(k)·√h, `es_hist` = mean(L_(1) … L_(k))·√h, per account and for the
/// book (all valid accounts' exposures summed per asset, in canonical account order). No liquidation probability (that is a
/// Monte Carlo figure): `liquidationProbability` is all NaN.
///
/// Missing returns: a return is NaN only for an asset estimated from short history (`allow_short_history`) on
/// days before it has prices. Such a return counts as 0 — no move of that asset on that day — so every day of the
/// window stays a scenario for every account. (Assets dropped from the universe already have zero returns.)
public enum HistoricalRiskCalculator {
    /// G = exp(R) − 1 (evaluated as `expm1`) laid out asset-major, n × W: row j holds asset j's relative moves over
    /// the window, oldest first. NaN returns become 0.
    public static func scenarioMoves(_ window: ReturnWindow) -> Matrix {
        let returns = window.returns
        let days = returns.rows, n = returns.columns
        var moves = Matrix(rows: n, columns: days)
        for t in 0 ..< days {
            for j in 0 ..< n {
                let r = returns.elements[t * n + j]
                moves.elements[j * days + t] = r.isNaN ? 0 : expm1(r)
            }
        }
        return moves
    }

    /// Every account's historical VaR/ES and the book's. Blocks of accounts, kernels and workers as in
    /// `ScenarioLossCalculator`; results are bit-identical for any `workers`.
    public static func compute(book: Book, assessment: CollateralAssessment, window: ReturnWindow, config: RiskConfig,
                               workers: Int, kernel: ScenarioLossCalculator.Kernel = .automatic) -> ScenarioRisk {
        let clock = ContinuousClock()
        let start = clock.now
        let moves = scenarioMoves(window)
        let built = start.duration(to: clock.now)
        var risk = ScenarioLossCalculator.compute(book: book, assessment: assessment, moves: moves,
                                                  confidence: config.confidence,
                                                  lossScale: config.horizonDays.squareRoot(), liquidationRatio: nil,
                                                  workers: workers, kernel: kernel)
        risk.scenarioSeconds = built.seconds
        return risk
    }
}
