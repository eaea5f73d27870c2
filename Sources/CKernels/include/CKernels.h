// Numeric kernels whose speed depends on AVX2 and FMA, each in two builds of the same arithmetic: one for
// x86-64-v3 (AVX2 + FMA, chosen at run time when the CPU has them) and a portable one (any CPU). Both give the
// same bits: every fused multiply-add of one is a fused multiply-add (hardware or libm `fma`) of the other, every
// separate multiply and add stays separate (the sources are compiled with floating-point contraction off), and the
// summation order is fixed. Only the LinearAlgebra module imports this; it documents each kernel's contract.
#ifndef BALLAST_CKERNELS_H
#define BALLAST_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2 + FMA builds run on this CPU, 0 when the portable builds do (set once at load time; the
/// environment variable BALLAST_KERNELS=portable forces the portable builds).
int ballast_kernels_use_avx2(void);

/// y ← S·x, S n×n row-major with leading dimension lda. Per row: four lanes l_j accumulate
/// l_j ← fma(S[i][4b + j], x[4b + j], l_j) over the blocks b < n/4, then ((l_0 + l_1) + (l_2 + l_3)), then
/// + S[i][k]·x[k] (multiply, then add) for the last n mod 4 columns in order.
void ballast_symv(const double *s, long n, long lda, const double *x, double *y);
void ballast_symv_portable(const double *s, long n, long lda, const double *x, double *y);

/// (x₁ᵀ·S_II·x₁, x₂ᵀ·S_II·x₂) for I = indices[0 ..< k] and x[2p], x[2p + 1] the two vectors' entries on
/// indices[p]; reads S[indices[p]][indices[q]] for q ≤ p only. Per lane: o ← fma(S_pq, x_q, o) over q < p from
/// o = 0, then t ← fma(x_p, fma(S_pp, x_p, o + o), t) over p from t = 0. Writes (t₁, t₂) into out[0], out[1].
void ballast_paired_quadratic_forms(const double *s, long lda, const long *indices, const double *x, long k,
                                    double *out);
void ballast_paired_quadratic_forms_portable(const double *s, long lda, const long *indices, const double *x,
                                             long k, double *out);

/// out[t] = Σ_q c[q]·g[offsets[q] + t] for t < count, each product rounded and added in q order starting from 0
/// (so any split of the rows or of t gives the same bits).
void ballast_combine_rows(const double *g, long count, const long *offsets, const double *c, long k, double *out);
void ballast_combine_rows_portable(const double *g, long count, const long *offsets, const double *c, long k,
                                   double *out);

/// `ballast_combine_rows` into out and, in the same pass over the rows, the number of t with
/// base + Σ_q b[q]·g[offsets[q] + t] < 0 (the sum formed in q order from 0, then added to base).
/// scratch (count elements) holds the second sum between passes over groups of rows.
long ballast_combine_rows_counting_negative(const double *g, long count, const long *offsets, const double *c,
                                            const double *b, long k, double base, double *out, double *scratch);
long ballast_combine_rows_counting_negative_portable(const double *g, long count, const long *offsets,
                                                     const double *c, const double *b, long k, double base,
                                                     double *out, double *scratch);

/// x[p·n + t] = Σ_j z[p·n + j]·ft[j·n + t] for p < paths, t < n (n × n ft row-major; z and x paths × n): each sum
/// from 0 over j ascending, each product rounded, then added (the bits of y ← y + z_j·ft[j, :] per row j in order).
/// first[j] is the index of row j's first non-zero entry (n for a row of zeros): rows are skipped where they are 0.
void ballast_factor_paths(const double *ft, long n, const long *first, const double *z, long paths, double *x);
void ballast_factor_paths_portable(const double *ft, long n, const long *first, const double *z, long paths,
                                   double *x);

/// Σ_d λ^{count−1−d}·y_d² over y[0 ..< count]: the oldest count mod 4 terms by Horner's rule (u ← fma(λ, u, y_d²)),
/// the rest in four lanes with step λ⁴ (l_j ← fma(l_j, λ⁴, y²)), then u·pow(λ, 4·⌊count/4⌋) +
/// (((λ³·l₀ + λ²·l₁) + λ·l₂) + l₃).
double ballast_decayed_squares(const double *y, long count, double lambda);
double ballast_decayed_squares_portable(const double *y, long count, double lambda);

/// out[b] = multiplier·√max(scale·u_b, 0) for b < days, with u_0 = D(y[0 ..< window]) (`ballast_decayed_squares`)
/// and u_b = fma(λ, u_{b−1}, y[b+W−1]² − λ^W·y[b−1]²) (lambda_window = λ^W), recomputed as D(y[b ..< b + W]) when
/// it falls below refresh × its largest value since it was last computed from the window.
void ballast_ewma_forecasts(const double *y, long window, long days, double lambda, double lambda_window,
                            double scale, double multiplier, double refresh, double *out);
void ballast_ewma_forecasts_portable(const double *y, long window, long days, double lambda, double lambda_window,
                                     double scale, double multiplier, double refresh, double *out);

#ifdef __cplusplus
}
#endif
#endif
