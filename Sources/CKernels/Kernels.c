// Each kernel's arithmetic is written once, as an always-inlined body, and compiled twice: inside a function built
// for AVX2 + FMA (x86-64 only, called when the CPU has them) and inside a portable function. The bodies spell out
// their lanes and summation order, so the two builds differ only in instruction selection: `fma` is one instruction
// in the first and libm's `fma` (the same correctly rounded result) in the second, and with contraction off no
// multiply and add is fused unless the source says `fma`.
#pragma STDC FP_CONTRACT OFF

#include "CKernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BODY static inline __attribute__((always_inline))

/// Lanes of doubles (clang's vector extension): the AVX2 build keeps a `lanes4` in one ymm register, the portable
/// build in two SSE2 registers (x86-64) or NEON registers (arm64). `__builtin_elementwise_fma` rounds once per lane:
/// one instruction where FMA exists, libm's `fma` per lane otherwise.
typedef double lanes2 __attribute__((ext_vector_type(2)));
typedef double lanes4 __attribute__((ext_vector_type(4)));
typedef long counts4 __attribute__((ext_vector_type(4)));

// The lanes helpers below are always inlined, so no vector crosses a call boundary built for another target: the
// ABI note clang gives for vector arguments of the portable build does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

/// Unaligned loads and stores of lanes (memcpy compiles to one unaligned move; no aliasing assumption).
BODY lanes4 load4(const double *p) { lanes4 v; __builtin_memcpy(&v, p, sizeof v); return v; }
BODY void store4(double *p, lanes4 v) { __builtin_memcpy(p, &v, sizeof v); }
BODY lanes2 load2(const double *p) { lanes2 v; __builtin_memcpy(&v, p, sizeof v); return v; }

#if defined(__x86_64__)
#define HAVE_AVX2_BUILD 1
#define AVX2_BUILD __attribute__((target("avx2,fma")))
#else
#define HAVE_AVX2_BUILD 0
#endif

static int use_avx2 = 0;

/// Chooses the builds once, before main (and before any kernel can run).
__attribute__((constructor)) static void choose_kernels(void) {
#if HAVE_AVX2_BUILD
    const char *forced = getenv("BALLAST_KERNELS");
    if (forced != NULL && strcmp(forced, "portable") == 0) return;
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}

int ballast_kernels_use_avx2(void) { return use_avx2; }

// Defines ballast_NAME (dispatching) and ballast_NAME_portable around the body NAME_body; RET is the return type,
// PARAMS the parameter list in parentheses, ARGS the argument list in parentheses.
#if HAVE_AVX2_BUILD
#define KERNEL(RET, NAME, PARAMS, ARGS)                                                                       \
    RET ballast_##NAME##_portable PARAMS { return NAME##_body ARGS; }                                         \
    AVX2_BUILD static RET NAME##_avx2 PARAMS { return NAME##_body ARGS; }                                     \
    RET ballast_##NAME PARAMS { return use_avx2 ? NAME##_avx2 ARGS : NAME##_body ARGS; }
#else
#define KERNEL(RET, NAME, PARAMS, ARGS)                                                                       \
    RET ballast_##NAME##_portable PARAMS { return NAME##_body ARGS; }                                         \
    RET ballast_##NAME PARAMS { return NAME##_body ARGS; }
#endif

// MARK: - Symmetric matrix times vector

/// One row's lanes summed as ((l0 + l1) + (l2 + l3)), then the columns past the last full block of four.
BODY double symv_row_total(lanes4 lanes, const double *row, const double *x, long blocked, long n) {
    double total = (lanes.x + lanes.y) + (lanes.z + lanes.w);
    for (long k = blocked; k < n; k++) total += row[k] * x[k];
    return total;
}

/// Four rows at a time: four independent chains of fused multiply-adds (each row's own chain unchanged).
BODY void symv_body(const double *s, long n, long lda, const double *x, double *y) {
    const long blocked = n / 4 * 4;
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const double *r0 = s + i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
        lanes4 l0 = 0, l1 = 0, l2 = 0, l3 = 0;
        for (long k = 0; k < blocked; k += 4) {
            const lanes4 xk = load4(x + k);
            l0 = __builtin_elementwise_fma(load4(r0 + k), xk, l0);
            l1 = __builtin_elementwise_fma(load4(r1 + k), xk, l1);
            l2 = __builtin_elementwise_fma(load4(r2 + k), xk, l2);
            l3 = __builtin_elementwise_fma(load4(r3 + k), xk, l3);
        }
        y[i] = symv_row_total(l0, r0, x, blocked, n);
        y[i + 1] = symv_row_total(l1, r1, x, blocked, n);
        y[i + 2] = symv_row_total(l2, r2, x, blocked, n);
        y[i + 3] = symv_row_total(l3, r3, x, blocked, n);
    }
    for (; i < n; i++) {
        const double *row = s + i * lda;
        lanes4 l = 0;
        for (long k = 0; k < blocked; k += 4) l = __builtin_elementwise_fma(load4(row + k), load4(x + k), l);
        y[i] = symv_row_total(l, row, x, blocked, n);
    }
}

KERNEL(void, symv, (const double *s, long n, long lda, const double *x, double *y), (s, n, lda, x, y))

// MARK: - Two quadratic forms on a gathered principal submatrix

/// Lane 0 carries the first vector, lane 1 the second; both share each gathered entry of S.
BODY void paired_quadratic_forms_body(const double *s, long lda, const long *indices, const double *x, long k,
                                      double *out) {
    lanes2 total = 0;
    for (long p = 0; p < k; p++) {
        const double *row = s + indices[p] * lda;
        lanes2 off = 0;
        for (long q = 0; q < p; q++) off = __builtin_elementwise_fma((lanes2)row[indices[q]], load2(x + 2 * q), off);
        const lanes2 xp = load2(x + 2 * p);
        total = __builtin_elementwise_fma(xp, __builtin_elementwise_fma((lanes2)row[indices[p]], xp, off + off), total);
    }
    out[0] = total.x;
    out[1] = total.y;
}

KERNEL(void, paired_quadratic_forms,
       (const double *s, long lda, const long *indices, const double *x, long k, double *out),
       (s, lda, indices, x, k, out))

// MARK: - Row combinations

/// Rows read together in one pass over t: at most this many concurrent read streams (plus the outputs) keeps the
/// hardware prefetchers and the TLB effective for combinations of hundreds of rows. Partial sums are stored and
/// resumed exactly between passes.
enum { ROW_GROUP = 16 };

/// Sixteen consecutive t: four lanes4 (independent add chains).
typedef struct { lanes4 v[4]; } strip16;

BODY strip16 strip_load(const double *p) {
    strip16 s;
    for (int j = 0; j < 4; j++) s.v[j] = load4(p + 4 * j);
    return s;
}
BODY void strip_store(double *p, strip16 s) {
    for (int j = 0; j < 4; j++) store4(p + 4 * j, s.v[j]);
}
/// a + c·row (multiply, then add), lane by lane.
BODY strip16 strip_add_product(strip16 a, double c, const double *row) {
    for (int j = 0; j < 4; j++) a.v[j] += (lanes4)c * load4(row + 4 * j);
    return a;
}

BODY void combine_rows_body(const double *g, long count, const long *offsets, const double *c, long k,
                            double *out) {
    if (k == 0) {
        for (long t = 0; t < count; t++) out[t] = 0;
        return;
    }
    for (long first = 0; first < k; first += ROW_GROUP) {
        const long last = first + ROW_GROUP < k ? first + ROW_GROUP : k;
        long t = 0;
        for (; t + 16 <= count; t += 16) {
            strip16 sum = first > 0 ? strip_load(out + t) : (strip16){{0, 0, 0, 0}};
            for (long q = first; q < last; q++) sum = strip_add_product(sum, c[q], g + offsets[q] + t);
            strip_store(out + t, sum);
        }
        for (; t < count; t++) {
            double sum = first > 0 ? out[t] : 0;
            for (long q = first; q < last; q++) sum += c[q] * g[offsets[q] + t];
            out[t] = sum;
        }
    }
}

KERNEL(void, combine_rows, (const double *g, long count, const long *offsets, const double *c, long k, double *out),
       (g, count, offsets, c, k, out))

BODY long combine_rows_counting_negative_body(const double *g, long count, const long *offsets, const double *c,
                                              const double *b, long k, double base, double *out, double *scratch) {
    if (k == 0) {
        for (long t = 0; t < count; t++) out[t] = 0;
        return base < 0 ? count : 0;
    }
    long negatives = 0;
    for (long first = 0; first < k; first += ROW_GROUP) {
        const long last = first + ROW_GROUP < k ? first + ROW_GROUP : k;
        const int resume = first > 0, final = last == k;
        counts4 below = 0;      // per lane: minus the number of t with base + second < 0 (a true compare is −1)
        long t = 0;
        for (; t + 16 <= count; t += 16) {
            strip16 sum = {{0, 0, 0, 0}}, second = {{0, 0, 0, 0}};
            if (resume) {
                sum = strip_load(out + t);
                second = strip_load(scratch + t);
            }
            for (long q = first; q < last; q++) {
                const double *row = g + offsets[q] + t;
                sum = strip_add_product(sum, c[q], row);
                second = strip_add_product(second, b[q], row);
            }
            strip_store(out + t, sum);
            if (final) {
                for (int j = 0; j < 4; j++) below += (lanes4)base + second.v[j] < 0;
            } else {
                strip_store(scratch + t, second);
            }
        }
        negatives -= below.x + below.y + below.z + below.w;
        for (; t < count; t++) {
            double sum = resume ? out[t] : 0, second = resume ? scratch[t] : 0;
            for (long q = first; q < last; q++) {
                const double v = g[offsets[q] + t];
                sum += c[q] * v;
                second += b[q] * v;
            }
            out[t] = sum;
            if (final) negatives += base + second < 0;
            else scratch[t] = second;
        }
    }
    return negatives;
}

KERNEL(long, combine_rows_counting_negative,
       (const double *g, long count, const long *offsets, const double *c, const double *b, long k, double base,
        double *out, double *scratch),
       (g, count, offsets, c, b, k, base, out, scratch))

// MARK: - Correlated draws of a block of paths

/// Paths and rows of t per register tile: four paths × eight t (two lanes4 each) stay in eight accumulators over
/// every row j, so each row's eight entries are loaded once per four paths and x is stored once.
enum { TILE_PATHS = 4, TILE_T = 8 };

/// x[p·n + t] = Σ_j z[p·n + j]·ft[j·n + t] for paths p < paths and t < n: from 0, over the rows j in ascending
/// order, each product rounded and then added. A row j with first[j] > t has zeros at t (its product is ±0, which
/// leaves every partial sum unchanged: the sums start at +0), so the tiles skip the rows whose first non-zero entry
/// lies past the tile.
BODY void factor_paths_body(const double *ft, long n, const long *first, const double *z, long paths, double *x) {
    long t0 = 0;
    for (; t0 + TILE_T <= n; t0 += TILE_T) {
        long p0 = 0;
        for (; p0 + TILE_PATHS <= paths; p0 += TILE_PATHS) {
            lanes4 a[TILE_PATHS][2] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
            for (long j = 0; j < n; j++) {
                if (first[j] >= t0 + TILE_T) continue;
                const lanes4 f0 = load4(ft + j * n + t0), f1 = load4(ft + j * n + t0 + 4);
                for (int p = 0; p < TILE_PATHS; p++) {
                    const lanes4 zj = (lanes4)z[(p0 + p) * n + j];
                    a[p][0] += zj * f0;
                    a[p][1] += zj * f1;
                }
            }
            for (int p = 0; p < TILE_PATHS; p++) {
                store4(x + (p0 + p) * n + t0, a[p][0]);
                store4(x + (p0 + p) * n + t0 + 4, a[p][1]);
            }
        }
        for (; p0 < paths; p0++) {
            lanes4 a0 = 0, a1 = 0;
            for (long j = 0; j < n; j++) {
                if (first[j] >= t0 + TILE_T) continue;
                const lanes4 zj = (lanes4)z[p0 * n + j];
                a0 += zj * load4(ft + j * n + t0);
                a1 += zj * load4(ft + j * n + t0 + 4);
            }
            store4(x + p0 * n + t0, a0);
            store4(x + p0 * n + t0 + 4, a1);
        }
    }
    for (; t0 < n; t0++) {
        for (long p = 0; p < paths; p++) {
            double sum = 0;
            for (long j = 0; j < n; j++) {
                if (first[j] > t0) continue;
                sum += z[p * n + j] * ft[j * n + t0];
            }
            x[p * n + t0] = sum;
        }
    }
}

KERNEL(void, factor_paths, (const double *ft, long n, const long *first, const double *z, long paths, double *x),
       (ft, n, first, z, paths, x))

// MARK: - Exponentially weighted sums of squares

/// Σ_d λ^{count−1−d}·y_d²: the oldest count mod 4 terms by Horner's rule (u ← fma(λ, u, y²)), the rest in four lanes
/// with step λ⁴ (l ← fma(l, λ⁴, y²)), the lanes weighted by (λ³, λ², λ, 1) and summed in order, u scaled by
/// λ^(4·groups) (libm's pow).
BODY double decayed_squares_body(const double *y, long count, double lambda) {
    const long head = count % 4, groups = count / 4;
    double u = 0;
    for (long d = 0; d < head; d++) u = fma(lambda, u, y[d] * y[d]);
    const double lambda2 = lambda * lambda, lambda4 = lambda2 * lambda2;
    lanes4 lanes = 0;
    for (long g = 0; g < groups; g++) {
        const lanes4 v = load4(y + head + 4 * g);
        lanes = __builtin_elementwise_fma(lanes, (lanes4)lambda4, v * v);
    }
    const lanes4 tail = lanes * (lanes4){lambda2 * lambda, lambda2, lambda, 1};
    return u * pow(lambda, (double)(4 * groups)) + (((tail.x + tail.y) + tail.z) + tail.w);
}

KERNEL(double, decayed_squares, (const double *y, long count, double lambda), (y, count, lambda))

BODY void ewma_forecasts_body(const double *y, long window, long days, double lambda, double lambda_window,
                              double scale, double multiplier, double refresh, double *out) {
    double u = decayed_squares_body(y, window, lambda), largest = u;
    for (long b = 0; b < days; b++) {
        if (b > 0) {
            const double incoming = y[b + window - 1], outgoing = y[b - 1];
            u = fma(lambda, u, incoming * incoming - lambda_window * (outgoing * outgoing));
            if (u > largest) {
                largest = u;
            } else if (!(u >= largest * refresh)) {
                u = decayed_squares_body(y + b, window, lambda);
                largest = u;
            }
        }
        const double variance = scale * u;
        out[b] = multiplier * __builtin_sqrt(0 >= variance ? 0 : variance);
    }
}

KERNEL(void, ewma_forecasts,
       (const double *y, long window, long days, double lambda, double lambda_window, double scale, double multiplier,
        double refresh, double *out),
       (y, window, days, lambda, lambda_window, scale, multiplier, refresh, out))
