/*
 * laconic_decode: one incremental-decoding step of the gpt block in a single call, for the sampler's
 * JS KV decoder (src/model/decode.ts JsKvDecoder) when the addon is loaded. A step on a handful of
 * rows is ~45 tfjs kernels (norms, products, RoPE and cache write, attention, GELU, residual adds,
 * each with ~10-30 µs of dispatch); here it is one N-API call that runs the same arithmetic on
 * views of the wasm heap, products on BLAS.
 *
 *   decodeStep(dims, eps, scale, weights, caches, x, rows, pos, cos|null, sin|null, lens, out)
 *     dims    Int32Array [B, d, H, hd, L, F, V, tcap, layerNorm, rope]
 *     weights Array of 12·L + 3 Float32Array|null: per layer ln_1.{g,b}, attn.c_attn.{w,b}, attn.c_proj.{w,b},
 *             ln_2.{g,b}, mlp.c_fc.{w,b}, mlp.c_proj.{w,b} (weights [in, out]); then ln_f.{g,b}, head [d, V]
 *     caches  Array of 2·L Float32Array: k then v of each layer, [B·H, tcap, hd], written in place
 *     x       [B, d] token (+ position) embeddings of every cache row
 *     rows, pos  the R cache rows fed this step and their positions; cos, sin [R, hd/2] RoPE tables
 *     lens    [B] cache slots each row attends to (the fed position + 1; 1 for rows not fed)
 *     out     [B, V] next-token logits
 * Rows not fed get a zero query and write no cache slot, as in the JS path.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "laconic_ops.h"

#ifdef __APPLE__
#include <Accelerate/Accelerate.h>
#define LD_ROW_MAJOR CblasRowMajor
#define LD_NO_TRANS CblasNoTrans
#else
enum { LD_ROW_MAJOR = 101, LD_NO_TRANS = 111 };
void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
#endif

enum { NB, ND, NH, NHD, NL, NF, NV, NT, NLAYER, NROPE, NDIMS };

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LD_SMALL_GEMM 1

/*
 * y [M, N] (+)= x [M, K] · w [K, N] for a decode step's few rows: 4 rows × 16 columns of y held in
 * AVX2 registers while k runs. BLAS packs w on every call, which at M = 16 costs about as much as
 * the product when w is small (1.3-1.8× faster than OpenBLAS 0.3.21 on tiny's products, slower on
 * small's). Columns past the last multiple of 16 and rows past the last multiple of 4 take the
 * plain loop below.
 */
__attribute__((target("avx2,fma"))) static void gemm_rows4(const float *x, const float *w, float *y, int M, int N, int K) {
  /* columns outside, rows inside: a [K, 16] block of w (K·64 bytes) stays in L1 for every row block */
  for (int j = 0; j + 16 <= N; j += 16) {
    for (int r = 0; r + 4 <= M; r += 4) {
      const float *x0 = x + (size_t)r * K, *x1 = x0 + K, *x2 = x1 + K, *x3 = x2 + K;
      float *y0 = y + (size_t)r * N + j;
      __m256 c00 = _mm256_loadu_ps(y0), c01 = _mm256_loadu_ps(y0 + 8);
      __m256 c10 = _mm256_loadu_ps(y0 + N), c11 = _mm256_loadu_ps(y0 + N + 8);
      __m256 c20 = _mm256_loadu_ps(y0 + 2 * N), c21 = _mm256_loadu_ps(y0 + 2 * N + 8);
      __m256 c30 = _mm256_loadu_ps(y0 + 3 * N), c31 = _mm256_loadu_ps(y0 + 3 * N + 8);
      for (int k = 0; k < K; k++) {
        const float *wk = w + (size_t)k * N + j;
        __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
        __m256 a = _mm256_broadcast_ss(x0 + k);
        c00 = _mm256_fmadd_ps(a, w0, c00);
        c01 = _mm256_fmadd_ps(a, w1, c01);
        a = _mm256_broadcast_ss(x1 + k);
        c10 = _mm256_fmadd_ps(a, w0, c10);
        c11 = _mm256_fmadd_ps(a, w1, c11);
        a = _mm256_broadcast_ss(x2 + k);
        c20 = _mm256_fmadd_ps(a, w0, c20);
        c21 = _mm256_fmadd_ps(a, w1, c21);
        a = _mm256_broadcast_ss(x3 + k);
        c30 = _mm256_fmadd_ps(a, w0, c30);
        c31 = _mm256_fmadd_ps(a, w1, c31);
      }
      _mm256_storeu_ps(y0, c00);
      _mm256_storeu_ps(y0 + 8, c01);
      _mm256_storeu_ps(y0 + N, c10);
      _mm256_storeu_ps(y0 + N + 8, c11);
      _mm256_storeu_ps(y0 + 2 * N, c20);
      _mm256_storeu_ps(y0 + 2 * N + 8, c21);
      _mm256_storeu_ps(y0 + 3 * N, c30);
      _mm256_storeu_ps(y0 + 3 * N + 8, c31);
    }
  }
}

/*
 * gemm_rows4 with 8 rows: 16 accumulators need AVX-512VL's 32 vector registers (still 256-bit
 * operations). Twice the independent FMA chains hide their latency, and each loaded block of w
 * serves 8 rows. Each y element sums over k in the same order as gemm_rows4, so results match it.
 */
__attribute__((target("avx2,fma,avx512f,avx512vl"))) static void gemm_rows8(const float *x, const float *w, float *y, int M, int N, int K) {
  for (int j = 0; j + 16 <= N; j += 16) {
    for (int r = 0; r + 8 <= M; r += 8) {
      const float *xr = x + (size_t)r * K;
      float *y0 = y + (size_t)r * N + j;
      __m256 c[8][2];
      for (int i = 0; i < 8; i++) {
        c[i][0] = _mm256_loadu_ps(y0 + (size_t)i * N);
        c[i][1] = _mm256_loadu_ps(y0 + (size_t)i * N + 8);
      }
      for (int k = 0; k < K; k++) {
        const float *wk = w + (size_t)k * N + j;
        __m256 w0 = _mm256_loadu_ps(wk), w1 = _mm256_loadu_ps(wk + 8);
        for (int i = 0; i < 8; i++) {
          __m256 a = _mm256_broadcast_ss(xr + (size_t)i * K + k);
          c[i][0] = _mm256_fmadd_ps(a, w0, c[i][0]);
          c[i][1] = _mm256_fmadd_ps(a, w1, c[i][1]);
        }
      }
      for (int i = 0; i < 8; i++) {
        _mm256_storeu_ps(y0 + (size_t)i * N, c[i][0]);
        _mm256_storeu_ps(y0 + (size_t)i * N + 8, c[i][1]);
      }
    }
  }
}
#endif

/* y (+)= x · w over rows [r0, M) and, for rows below r0, columns [j0, N): what gemm_rows4 leaves */
static void gemm_rest(const float *x, const float *w, float *y, int M, int N, int K, int r0, int j0) {
  for (int r = 0; r < M; r++)
    for (int k = 0; k < K; k++) {
      float a = x[(size_t)r * K + k];
      const float *wk = w + (size_t)k * N;
      float *yr = y + (size_t)r * N;
      for (int j = r < r0 ? j0 : 0; j < N; j++) yr[j] += a * wk[j];
    }
}

/* y [B, N] = x [B, K] · w [K, N] (+ b) */
static void lin(const float *x, const float *w, const float *b, float *y, int B, int K, int N) {
  if (b)
    for (int r = 0; r < B; r++) memcpy(y + (size_t)r * N, b, (size_t)N * sizeof(float));
  else
    memset(y, 0, (size_t)B * N * sizeof(float));
#ifdef LD_SMALL_GEMM
  /* only while w fits in L2 (measured: faster than OpenBLAS for tiny's [128, 512], slower for small's [256, 1024]) */
  if (B <= 64 && N >= 16 && (size_t)K * N <= 65536 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    int r8 = 0;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) {
      r8 = B - B % 8;
      gemm_rows8(x, w, y, r8, N, K);
    }
    gemm_rows4(x + (size_t)r8 * K, w, y + (size_t)r8 * N, B - r8, N, K);
    int r0 = r8 + (B - r8) / 4 * 4, j0 = N - N % 16;
    if (r0 < B || j0 < N) gemm_rest(x, w, y, B, N, K, r0, j0);
    return;
  }
#endif
  cblas_sgemm(LD_ROW_MAJOR, LD_NO_TRANS, LD_NO_TRANS, B, N, K, 1.0f, x, K, w, N, 1.0f, y, N);
}

/* s[0:L] = exp(s − max s); returns the sum */
static LACONIC_SIMD float exp_shift(float *s, int L) {
  float mx = s[0];
  for (int t = 1; t < L; t++) mx = s[t] > mx ? s[t] : mx;
  float sum = 0;
  for (int t = 0; t < L; t++) {
    s[t] = lexp(s[t] - mx);
    sum += s[t];
  }
  return sum;
}

static LACONIC_SIMD void add_into(float *x, const float *y, size_t n) {
  for (size_t j = 0; j < n; j++) x[j] += y[j];
}

/*
 * o [D] = softmax(K[0:L] · q) · V[0:L]; s is scratch of L floats. Plain loops rather than BLAS gemv:
 * at D = 32-128 and L ≤ a few hundred, the per-call overhead of sgemv is most of the work.
 */
static LACONIC_SIMD void attend_plain(const float *q, const float *K, const float *V, float *o, float *s, int L, int D) {
  for (int t = 0; t < L; t++) {
    const float *k = K + (size_t)t * D;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= D; j += 8)
      for (int u = 0; u < 8; u++) acc[u] += q[j + u] * k[j + u];
    float r = 0;
    for (; j < D; j++) r += q[j] * k[j];
    s[t] = r + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  }
  float inv = 1.0f / exp_shift(s, L);
  for (int j = 0; j < D; j++) o[j] = 0;
  for (int t = 0; t < L; t++) {
    const float *v = V + (size_t)t * D;
    float w = s[t] * inv;
    for (int j = 0; j < D; j++) o[j] += w * v[j];
  }
}

#ifdef LD_SMALL_GEMM
/* Σ of each of 8 vectors' lanes, as one vector (lane i = Σ a_i) */
__attribute__((target("avx2,fma"))) static inline __m256 hsum8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4,
                                                              __m256 a5, __m256 a6, __m256 a7) {
  __m256 h0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  __m256 h1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
  return _mm256_add_ps(_mm256_permute2f128_ps(h0, h1, 0x20), _mm256_permute2f128_ps(h0, h1, 0x31));
}

/*
 * attend_plain for D a multiple of 8 with AVX2: scores of 8 keys reduced together (one horizontal
 * sum per 8 keys instead of one per key), and the weighted sum of values kept in registers, 32
 * columns at a time.
 */
__attribute__((target("avx2,fma"))) static void attend_avx2(const float *q, const float *K, const float *V, float *o, float *s,
                                                           int L, int D) {
  int t = 0;
  for (; t + 8 <= L; t += 8) {
    __m256 a[8];
    for (int u = 0; u < 8; u++) a[u] = _mm256_setzero_ps();
    for (int j = 0; j < D; j += 8) {
      __m256 qj = _mm256_loadu_ps(q + j);
      for (int u = 0; u < 8; u++) a[u] = _mm256_fmadd_ps(qj, _mm256_loadu_ps(K + (size_t)(t + u) * D + j), a[u]);
    }
    _mm256_storeu_ps(s + t, hsum8(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]));
  }
  for (; t < L; t++) {
    __m256 a = _mm256_setzero_ps();
    for (int j = 0; j < D; j += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + j), _mm256_loadu_ps(K + (size_t)t * D + j), a);
    float r[8];
    _mm256_storeu_ps(r, a);
    s[t] = ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]));
  }
  __m256 inv = _mm256_set1_ps(1.0f / exp_shift(s, L));
  int j = 0;
  for (; j + 32 <= D; j += 32) {
    /* two sets of accumulators (even and odd keys): four chains alone wait on the FMA latency */
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
    int u = 0;
    for (; u + 2 <= L; u += 2) {
      const float *v = V + (size_t)u * D + j, *v2 = v + D;
      __m256 w = _mm256_broadcast_ss(s + u), w2 = _mm256_broadcast_ss(s + u + 1);
      c0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v), c0);
      c1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 8), c1);
      c2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 16), c2);
      c3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 24), c3);
      e0 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(v2), e0);
      e1 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(v2 + 8), e1);
      e2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(v2 + 16), e2);
      e3 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(v2 + 24), e3);
    }
    if (u < L) {
      const float *v = V + (size_t)u * D + j;
      __m256 w = _mm256_broadcast_ss(s + u);
      c0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v), c0);
      c1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 8), c1);
      c2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 16), c2);
      c3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 24), c3);
    }
    _mm256_storeu_ps(o + j, _mm256_mul_ps(_mm256_add_ps(c0, e0), inv));
    _mm256_storeu_ps(o + j + 8, _mm256_mul_ps(_mm256_add_ps(c1, e1), inv));
    _mm256_storeu_ps(o + j + 16, _mm256_mul_ps(_mm256_add_ps(c2, e2), inv));
    _mm256_storeu_ps(o + j + 24, _mm256_mul_ps(_mm256_add_ps(c3, e3), inv));
  }
  for (; j < D; j += 8) {
    __m256 c = _mm256_setzero_ps();
    for (int u = 0; u < L; u++) c = _mm256_fmadd_ps(_mm256_broadcast_ss(s + u), _mm256_loadu_ps(V + (size_t)u * D + j), c);
    _mm256_storeu_ps(o + j, _mm256_mul_ps(c, inv));
  }
}
#endif

static void attend(const float *q, const float *K, const float *V, float *o, float *s, int L, int D, int avx2) {
#ifdef LD_SMALL_GEMM
  if (avx2 && D % 8 == 0) {
    attend_avx2(q, K, V, o, s, L, D);
    return;
  }
#endif
  (void)avx2;
  attend_plain(q, K, V, o, s, L, D);
}

typedef struct {
  const int32_t *dm;
  float eps, scale;
  float *w[4096];
  size_t wn[4096];
  float *kv[2048];
  size_t kvn[2048];
  float *x, *cs, *sn, *out;
  int32_t *rows, *pos, *lens;
  size_t nx, ncs, nsn, nout, nrows, npos, nlens;
} step_args;

/* Checks every array's length against dims; returns an error message or NULL. */
static const char *check(const step_args *a) {
  const int32_t *m = a->dm;
  size_t B = (size_t)m[NB], d = (size_t)m[ND], H = (size_t)m[NH], hd = (size_t)m[NHD], L = (size_t)m[NL];
  size_t F = (size_t)m[NF], V = (size_t)m[NV], T = (size_t)m[NT];
  if (m[NB] < 1 || m[ND] < 1 || m[NH] < 1 || m[NHD] < 2 || m[NL] < 1 || m[NF] < 1 || m[NV] < 1 || m[NT] < 1 || H * hd != d)
    return "decodeStep: bad dims";
  const size_t per[12] = {d, d, d * 3 * d, 3 * d, d * d, d, d, d, d * F, F, F * d, d};
  for (size_t i = 0; i < L; i++)
    for (size_t j = 0; j < 12; j++) {
      size_t k = 12 * i + j;
      int optional = (j % 2) == 1; /* biases (and LayerNorm's b) may be absent */
      if (!a->w[k] ? !optional : a->wn[k] < per[j]) return "decodeStep: a layer weight is missing or too short";
    }
  if (!a->w[12 * L] || a->wn[12 * L] < d || (a->w[12 * L + 1] && a->wn[12 * L + 1] < d) || !a->w[12 * L + 2] ||
      a->wn[12 * L + 2] < d * V)
    return "decodeStep: ln_f or head missing or too short";
  for (size_t i = 0; i < 2 * L; i++)
    if (!a->kv[i] || a->kvn[i] < B * H * T * hd) return "decodeStep: a cache is missing or too short";
  size_t R = a->nrows;
  if (!a->x || a->nx < B * d || !a->out || a->nout < B * V || a->npos != R || R > B || a->nlens < B)
    return "decodeStep: x, out, rows, pos or lens has the wrong length";
  if (m[NROPE] && (!a->cs || !a->sn || a->ncs < R * hd / 2 || a->nsn < R * hd / 2)) return "decodeStep: RoPE tables too short";
  for (size_t r = 0; r < R; r++)
    if (a->rows[r] < 0 || (size_t)a->rows[r] >= B || a->pos[r] < 0 || (size_t)a->pos[r] >= T) return "decodeStep: row or position out of range";
  return NULL;
}

/* RoPE (when on) and the 1/sqrt(hd) scale on the fed rows' q, their k and v appended to the caches. */
static void write_kv(const step_args *a, const float *qkv, float *qb, float *kc, float *vc) {
  const int32_t *m = a->dm;
  int d = m[ND], H = m[NH], hd = m[NHD], T = m[NT], half = hd / 2;
  memset(qb, 0, (size_t)m[NB] * d * sizeof(float));
  for (size_t r = 0; r < a->nrows; r++) {
    int b = a->rows[r], p = a->pos[r];
    for (int h = 0; h < H; h++) {
      const float *q = qkv + (size_t)b * 3 * d + h * hd, *k = q + d, *v = q + 2 * d;
      float *qo = qb + ((size_t)b * H + h) * hd, *ko = kc + (((size_t)b * H + h) * T + p) * hd;
      float *vo = vc + (((size_t)b * H + h) * T + p) * hd;
      if (m[NROPE]) {
        const float *c = a->cs + r * half, *s = a->sn + r * half;
        for (int j = 0; j < half; j++) {
          qo[j] = (q[j] * c[j] - q[j + half] * s[j]) * a->scale;
          qo[j + half] = (q[j + half] * c[j] + q[j] * s[j]) * a->scale;
          ko[j] = k[j] * c[j] - k[j + half] * s[j];
          ko[j + half] = k[j + half] * c[j] + k[j] * s[j];
        }
      } else
        for (int j = 0; j < hd; j++) {
          qo[j] = q[j] * a->scale;
          ko[j] = k[j];
        }
      memcpy(vo, v, (size_t)hd * sizeof(float));
    }
  }
}

static void run_step(const step_args *a, float *buf) {
  const int32_t *m = a->dm;
  int B = m[NB], d = m[ND], H = m[NH], hd = m[NHD], L = m[NL], F = m[NF], V = m[NV], T = m[NT], ln = m[NLAYER];
  float *x = buf, *h = x + (size_t)B * d, *qkv = h + (size_t)B * d, *qb = qkv + (size_t)B * 3 * d;
  float *o = qb + (size_t)B * d, *f = o + (size_t)B * d, *s = f + (size_t)B * F;
  memcpy(x, a->x, (size_t)B * d * sizeof(float));
#ifdef LD_SMALL_GEMM
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  int avx2 = 0;
#endif
  for (int i = 0; i < L; i++) {
    float *const *w = a->w + 12 * i;
    float *kc = a->kv[2 * i], *vc = a->kv[2 * i + 1];
    laconic_norm_fwd(ln, x, w[0], w[1], h, NULL, B, d, a->eps);
    lin(h, w[2], w[3], qkv, B, d, 3 * d);
    write_kv(a, qkv, qb, kc, vc);
    for (int b = 0; b < B; b++) {
      int len = a->lens[b] < 1 ? 1 : (a->lens[b] > T ? T : a->lens[b]);
      for (int hh = 0; hh < H; hh++) {
        size_t row = (size_t)b * H + hh;
        attend(qb + row * hd, kc + row * T * hd, vc + row * T * hd, o + (size_t)b * d + hh * hd, s, len, hd, avx2);
      }
    }
    lin(o, w[4], w[5], h, B, d, d);
    add_into(x, h, (size_t)B * d);
    laconic_norm_fwd(ln, x, w[6], w[7], h, NULL, B, d, a->eps);
    lin(h, w[8], w[9], f, B, d, F);
    laconic_gelu(f, f, (size_t)B * F);
    lin(f, w[10], w[11], h, B, F, d);
    add_into(x, h, (size_t)B * d);
  }
  laconic_norm_fwd(ln, x, a->w[12 * L], a->w[12 * L + 1], h, NULL, B, d, a->eps);
  lin(h, a->w[12 * L + 2], NULL, a->out, B, d, V);
}

/* Reads a JS Array of Float32Array|null into ptrs/lens; 0 when it is not one or longer than cap. */
static int f32_list(napi_env env, napi_value arr, float **ptrs, size_t *lens, size_t want, size_t cap) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok || n != want || n > cap) return 0;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || !f32_or_null(env, e, &ptrs[i], &lens[i])) return 0;
  }
  return 1;
}

static napi_value DecodeStep(napi_env env, napi_callback_info info) {
  napi_value v[12];
  if (!args(env, info, 12, v)) return range(env, "decodeStep: expected 12 arguments");
  /* not calloc: the pointer tables are ~100 KB, and only their first 12·L + 3 and 2·L entries are filled and read */
  step_args *a = malloc(sizeof(step_args));
  if (!a) return range(env, "decodeStep: out of memory");
  memset(a, 0, offsetof(step_args, w));
  memset(&a->x, 0, sizeof(step_args) - offsetof(step_args, x));
  int32_t *dm = NULL;
  size_t ndm = 0;
  double eps, scale;
  const char *err = NULL;
  if (!i32_array(env, v[0], &dm, &ndm) || ndm != NDIMS || !num(env, v[1], &eps) || !num(env, v[2], &scale))
    err = "decodeStep: dims must be an Int32Array of 10, eps and scale numbers";
  else {
    a->dm = dm;
    a->eps = (float)eps;
    a->scale = (float)scale;
    size_t L = dm[NL] > 0 ? (size_t)dm[NL] : 0;
    if (!f32_list(env, v[3], a->w, a->wn, 12 * L + 3, 4096) || !f32_list(env, v[4], a->kv, a->kvn, 2 * L, 2048) ||
        !f32_or_null(env, v[5], &a->x, &a->nx) || !i32_array(env, v[6], &a->rows, &a->nrows) ||
        !i32_array(env, v[7], &a->pos, &a->npos) || !f32_or_null(env, v[8], &a->cs, &a->ncs) ||
        !f32_or_null(env, v[9], &a->sn, &a->nsn) || !i32_array(env, v[10], &a->lens, &a->nlens) ||
        !f32_or_null(env, v[11], &a->out, &a->nout))
      err = "decodeStep: bad argument types";
    else
      err = check(a);
  }
  if (!err) {
    size_t B = (size_t)dm[NB], d = (size_t)dm[ND];
    float *buf = malloc(sizeof(float) * (B * d * 5 + B * 3 * d + B * (size_t)dm[NF] + (size_t)dm[NT]));
    if (!buf) err = "decodeStep: out of memory";
    else {
      run_step(a, buf);
      free(buf);
    }
  }
  free(a);
  return err ? range(env, err) : NULL;
}

/* Adds decodeStep to the addon's exports (called from laconic_blas.c's module init). */
int laconic_define_decode(napi_env env, napi_value exports) {
  napi_property_descriptor p = {"decodeStep", NULL, DecodeStep, NULL, NULL, NULL, napi_enumerable, NULL};
  return napi_define_properties(env, exports, 1, &p) == napi_ok;
}
