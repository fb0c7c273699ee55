/*
 * laconic_ops: fused elementwise kernels for the gpt block on CPU, next to laconic_blas.c's products.
 * tfjs-wasm runs each of these as 4-12 separate kernels (a pass over memory and ~10-30 µs of
 * dispatch each); here each is one pass over Float32Array views of the wasm heap. laconic registers
 * them as custom tfjs kernels (src/model/ops/nativeOps.ts) only when the addon is loaded.
 *
 * Exports (all row-major float32; R rows of C values):
 *   norm(layer, x, g, b|null, y, stats, R, C, eps)        RMSNorm (layer 0) or LayerNorm (1); stats [R, 2] = (mean, rstd)
 *   normGrad(layer, x, g, stats, dy, dx, dg, db|null, R, C)
 *   gelu(x, y, n), geluSaved(x, y, s, n), geluGrad(x, s, dy, dx, n)
 *                                                           GPT-2 tanh GELU, as x·σ(2u), u = c·(x + a·x³), s = σ(2u)
 *   softmaxMasked(x, mask|null, y, R, C, maskRows)          softmax(x + mask[r mod maskRows]) per row
 *   softmaxGrad(p, dp, ds, R, C)                            ds = p ⊙ (dp − rowsum(dp ⊙ p))
 *   rope(x, cos, sin, y, R, D, ropeRows, sign)              see src/model/ops/kernels.ts LaconicRope
 *   blockT(x, y, R, C, b)                                   R×C grid of b-float blocks, transposed
 *   adam(p, g, m, v, pOut, mOut, vOut, n, lr, beta1, beta2, eps, bc1, bc2, gradScale, wdDecoupled, wdL2)
 *
 * Sizes are checked against the arrays' lengths; a mismatch throws a RangeError naming the kernel.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "laconic_ops.h"

/* ---- norms ---- */

LACONIC_SIMD void laconic_norm_fwd(int layer, const float *x, const float *g, const float *b, float *y, float *st, int64_t R, int64_t C,
                      float eps) {
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
    double mu = 0;
    if (layer) {
      for (int64_t j = 0; j < C; j++) mu += xr[j];
      mu /= (double)C;
    }
    double ss = 0;
    for (int64_t j = 0; j < C; j++) ss += ((double)xr[j] - mu) * ((double)xr[j] - mu);
    float rs = (float)(1.0 / sqrt(ss / (double)C + (double)eps));
    float m = (float)mu;
    if (b)
      for (int64_t j = 0; j < C; j++) yr[j] = (xr[j] - m) * rs * g[j] + b[j];
    else
      for (int64_t j = 0; j < C; j++) yr[j] = (xr[j] - m) * rs * g[j];
    if (st) {
      st[2 * r] = m;
      st[2 * r + 1] = rs;
    }
  }
}

/*
 * With x̂ = (x − μ)·rstd and d = dy ⊙ g: dx = rstd · (d − mean(d)·[layer] − x̂ · mean(d ⊙ x̂)),
 * dg = Σ_rows dy ⊙ x̂, db = Σ_rows dy.
 */
static LACONIC_SIMD void norm_bwd(int layer, const float *x, const float *g, const float *st, const float *dy, float *dx, float *dg,
                     float *db, int64_t R, int64_t C) {
  memset(dg, 0, (size_t)C * sizeof(float));
  if (db) memset(db, 0, (size_t)C * sizeof(float));
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * C, *dyr = dy + r * C;
    float *dxr = dx + r * C;
    float m = st[2 * r], rs = st[2 * r + 1];
    float sd = 0, sdx = 0;
    for (int64_t j = 0; j < C; j++) {
      float xh = (xr[j] - m) * rs;
      float d = dyr[j] * g[j];
      sd += d;
      sdx += d * xh;
      dg[j] += dyr[j] * xh;
    }
    if (db)
      for (int64_t j = 0; j < C; j++) db[j] += dyr[j];
    float md = layer ? sd / (float)C : 0.0f, mdx = sdx / (float)C;
    for (int64_t j = 0; j < C; j++) dxr[j] = rs * (dyr[j] * g[j] - md - (xr[j] - m) * rs * mdx);
  }
}

static napi_value Norm(napi_env env, napi_callback_info info) {
  napi_value a[9];
  if (!args(env, info, 9, a)) return range(env, "norm: expected 9 arguments");
  double layer, R, C, eps;
  float *x, *g, *b, *y, *st;
  size_t nx, ng, nb, ny, ns;
  if (!num(env, a[0], &layer) || !num(env, a[6], &R) || !num(env, a[7], &C) || !num(env, a[8], &eps) ||
      !f32_or_null(env, a[1], &x, &nx) || !f32_or_null(env, a[2], &g, &ng) || !f32_or_null(env, a[3], &b, &nb) ||
      !f32_or_null(env, a[4], &y, &ny) || !f32_or_null(env, a[5], &st, &ns))
    return range(env, "norm: bad argument types");
  size_t n = (size_t)R * (size_t)C;
  if (!x || !g || !y || !st || R < 0 || C < 1 || nx < n || ny < n || ng < (size_t)C || (b && nb < (size_t)C) ||
      ns < 2 * (size_t)R)
    return range(env, "norm: array shorter than R x C");
  laconic_norm_fwd(layer != 0, x, g, b, y, st, (int64_t)R, (int64_t)C, (float)eps);
  return NULL;
}

static napi_value NormGrad(napi_env env, napi_callback_info info) {
  napi_value a[10];
  if (!args(env, info, 10, a)) return range(env, "normGrad: expected 10 arguments");
  double layer, R, C;
  float *x, *g, *st, *dy, *dx, *dg, *db;
  size_t nx, ng, ns, ndy, ndx, ndg, ndb;
  if (!num(env, a[0], &layer) || !num(env, a[8], &R) || !num(env, a[9], &C) || !f32_or_null(env, a[1], &x, &nx) ||
      !f32_or_null(env, a[2], &g, &ng) || !f32_or_null(env, a[3], &st, &ns) || !f32_or_null(env, a[4], &dy, &ndy) ||
      !f32_or_null(env, a[5], &dx, &ndx) || !f32_or_null(env, a[6], &dg, &ndg) || !f32_or_null(env, a[7], &db, &ndb))
    return range(env, "normGrad: bad argument types");
  size_t n = (size_t)R * (size_t)C;
  if (!x || !g || !st || !dy || !dx || !dg || R < 0 || C < 1 || nx < n || ndy < n || ndx < n || ng < (size_t)C ||
      ndg < (size_t)C || (db && ndb < (size_t)C) || ns < 2 * (size_t)R)
    return range(env, "normGrad: array shorter than R x C");
  norm_bwd(layer != 0, x, g, st, dy, dx, dg, db, (int64_t)R, (int64_t)C);
  return NULL;
}

/* ---- GELU: y = x·s, s = σ(2u); dy/dx = s + x·s·(1 − s)·2c·(1 + 3a·x²) ---- */

#define GELU_K1 1.5957691216057308f /* 2·sqrt(2/π) */
#define GELU_K3 0.0713548162726009f /* 2·sqrt(2/π)·0.044715 */

LACONIC_SIMD void laconic_gelu(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    float s = 1.0f / (1.0f + lexp(-v * (GELU_K1 + GELU_K3 * v * v)));
    y[i] = v * s;
  }
}

static napi_value Gelu(napi_env env, napi_callback_info info) {
  napi_value a[3];
  double n;
  float *x, *y;
  size_t nx, ny;
  if (!args(env, info, 3, a) || !f32_or_null(env, a[0], &x, &nx) || !f32_or_null(env, a[1], &y, &ny) ||
      !num(env, a[2], &n) || !x || !y || n < 0 || nx < (size_t)n || ny < (size_t)n)
    return range(env, "gelu: expected (x, y, n) with n <= lengths");
  laconic_gelu(x, y, (size_t)n);
  return NULL;
}

/* with s = σ(2u) saved by the forward pass (geluSaved) the backward pass needs no exp or division */
static LACONIC_SIMD void gelu_grad(const float *x, const float *sg, const float *dy, float *dx, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i], s = sg[i];
    dx[i] = dy[i] * (s + v * s * (1.0f - s) * (GELU_K1 + 3.0f * GELU_K3 * v * v));
  }
}

static LACONIC_SIMD void gelu_saved(const float *x, float *y, float *sg, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    float s = 1.0f / (1.0f + lexp(-v * (GELU_K1 + GELU_K3 * v * v)));
    sg[i] = s;
    y[i] = v * s;
  }
}

/* geluSaved(x, y, s, n): the forward pass that also keeps s = σ(2u) for geluGrad */
static napi_value GeluSaved(napi_env env, napi_callback_info info) {
  napi_value a[4];
  double n;
  float *x, *y, *sg;
  size_t nx, ny, ns;
  if (!args(env, info, 4, a) || !f32_or_null(env, a[0], &x, &nx) || !f32_or_null(env, a[1], &y, &ny) ||
      !f32_or_null(env, a[2], &sg, &ns) || !num(env, a[3], &n) || !x || !y || !sg || n < 0 || nx < (size_t)n ||
      ny < (size_t)n || ns < (size_t)n)
    return range(env, "geluSaved: expected (x, y, s, n) with n <= lengths");
  gelu_saved(x, y, sg, (size_t)n);
  return NULL;
}

static napi_value GeluGrad(napi_env env, napi_callback_info info) {
  napi_value a[5];
  double n;
  float *x, *sg, *dy, *dx;
  size_t nx, ns, ndy, ndx;
  if (!args(env, info, 5, a) || !f32_or_null(env, a[0], &x, &nx) || !f32_or_null(env, a[1], &sg, &ns) ||
      !f32_or_null(env, a[2], &dy, &ndy) || !f32_or_null(env, a[3], &dx, &ndx) || !num(env, a[4], &n) || !x || !sg ||
      !dy || !dx || n < 0 || nx < (size_t)n || ns < (size_t)n || ndy < (size_t)n || ndx < (size_t)n)
    return range(env, "geluGrad: expected (x, s, dy, dx, n) with n <= lengths");
  gelu_grad(x, sg, dy, dx, (size_t)n);
  return NULL;
}

/* ---- softmax ---- */

static LACONIC_SIMD void softmax_rows(const float *x, const float *mask, float *y, int64_t R, int64_t Ci, int64_t mri) {
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * Ci, *mk = mask ? mask + (r % mri) * Ci : NULL;
    float *yr = y + r * Ci;
    float mx = -INFINITY;
    for (int64_t j = 0; j < Ci; j++) {
      float v = mk ? xr[j] + mk[j] : xr[j];
      yr[j] = v;
      mx = v > mx ? v : mx;
    }
    float sum = 0;
    for (int64_t j = 0; j < Ci; j++) {
      float e = lexp(yr[j] - mx);
      /* masked entries (−1e9) underflow to 0 either way; make it exact */
      e = yr[j] - mx < -87.0f ? 0.0f : e;
      yr[j] = e;
      sum += e;
    }
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < Ci; j++) yr[j] *= inv;
  }
}

static napi_value SoftmaxMasked(napi_env env, napi_callback_info info) {
  napi_value a[6];
  double R, C, mr;
  float *x, *mask, *y;
  size_t nx, nm, ny;
  if (!args(env, info, 6, a) || !f32_or_null(env, a[0], &x, &nx) || !f32_or_null(env, a[1], &mask, &nm) ||
      !f32_or_null(env, a[2], &y, &ny) || !num(env, a[3], &R) || !num(env, a[4], &C) || !num(env, a[5], &mr))
    return range(env, "softmaxMasked: bad argument types");
  size_t n = (size_t)R * (size_t)C;
  if (!x || !y || R < 0 || C < 1 || nx < n || ny < n || (mask && (mr < 1 || nm < (size_t)mr * (size_t)C)))
    return range(env, "softmaxMasked: array shorter than R x C");
  softmax_rows(x, mask, y, (int64_t)R, (int64_t)C, (int64_t)mr);
  return NULL;
}

static LACONIC_SIMD void softmax_grad_rows(const float *p, const float *dp, float *ds, int64_t R, int64_t Ci) {
  for (int64_t r = 0; r < R; r++) {
    const float *pr = p + r * Ci, *dr = dp + r * Ci;
    float *o = ds + r * Ci;
    float dot = 0;
    for (int64_t j = 0; j < Ci; j++) dot += pr[j] * dr[j];
    for (int64_t j = 0; j < Ci; j++) o[j] = pr[j] * (dr[j] - dot);
  }
}

static napi_value SoftmaxGrad(napi_env env, napi_callback_info info) {
  napi_value a[5];
  double R, C;
  float *p, *dp, *ds;
  size_t np, ndp, nds;
  if (!args(env, info, 5, a) || !f32_or_null(env, a[0], &p, &np) || !f32_or_null(env, a[1], &dp, &ndp) ||
      !f32_or_null(env, a[2], &ds, &nds) || !num(env, a[3], &R) || !num(env, a[4], &C))
    return range(env, "softmaxGrad: bad argument types");
  size_t n = (size_t)R * (size_t)C;
  if (!p || !dp || !ds || R < 0 || C < 1 || np < n || ndp < n || nds < n) return range(env, "softmaxGrad: array shorter than R x C");
  softmax_grad_rows(p, dp, ds, (int64_t)R, (int64_t)C);
  return NULL;
}

/* ---- layout ---- */

static napi_value Rope(napi_env env, napi_callback_info info) {
  napi_value a[8];
  double R, D, rr, sign;
  float *x, *cs, *sn, *y;
  size_t nx, nc, ns, ny;
  if (!args(env, info, 8, a) || !f32_or_null(env, a[0], &x, &nx) || !f32_or_null(env, a[1], &cs, &nc) ||
      !f32_or_null(env, a[2], &sn, &ns) || !f32_or_null(env, a[3], &y, &ny) || !num(env, a[4], &R) ||
      !num(env, a[5], &D) || !num(env, a[6], &rr) || !num(env, a[7], &sign))
    return range(env, "rope: bad argument types");
  size_t n = (size_t)R * (size_t)D;
  if (!x || !cs || !sn || !y || R < 0 || D < 2 || nx < n || ny < n || nc < n || ns < n || rr > R)
    return range(env, "rope: array shorter than R x D");
  int64_t Di = (int64_t)D, half = Di / 2;
  float sg = (float)sign;
  for (int64_t r = 0; r < (int64_t)R; r++) {
    int64_t o = r * Di;
    if (r >= (int64_t)rr) {
      for (int64_t j = o; j < o + Di; j++) y[j] = x[j] * cs[j];
      continue;
    }
    for (int64_t j = 0; j < half; j++) {
      int64_t p = o + j, q = p + half;
      y[p] = x[p] * cs[p] - sg * x[q] * sn[p];
      y[q] = x[q] * cs[q] + sg * x[p] * sn[q];
    }
  }
  return NULL;
}

static napi_value BlockT(napi_env env, napi_callback_info info) {
  napi_value a[5];
  double R, C, b;
  float *x, *y;
  size_t nx, ny;
  if (!args(env, info, 5, a) || !f32_or_null(env, a[0], &x, &nx) || !f32_or_null(env, a[1], &y, &ny) ||
      !num(env, a[2], &R) || !num(env, a[3], &C) || !num(env, a[4], &b))
    return range(env, "blockT: bad argument types");
  size_t n = (size_t)R * (size_t)C * (size_t)b;
  if (!x || !y || R < 0 || C < 0 || b < 1 || nx < n || ny < n) return range(env, "blockT: array shorter than R x C x b");
  int64_t Ri = (int64_t)R, Cc = (int64_t)C, bs = (int64_t)b;
  if (bs == 1) {
    const int64_t TB = 32;
    for (int64_t r0 = 0; r0 < Ri; r0 += TB)
      for (int64_t c0 = 0; c0 < Cc; c0 += TB)
        for (int64_t r = r0; r < r0 + TB && r < Ri; r++)
          for (int64_t c = c0; c < c0 + TB && c < Cc; c++) y[c * Ri + r] = x[r * Cc + c];
    return NULL;
  }
  for (int64_t r = 0; r < Ri; r++)
    for (int64_t c = 0; c < Cc; c++) memcpy(y + (c * Ri + r) * bs, x + (r * Cc + c) * bs, (size_t)bs * sizeof(float));
  return NULL;
}

/* ---- Adam/AdamW, in double like the JS kernel it replaces (src/model/ops/kernels.ts adamFill) ---- */

typedef struct {
  double lr, b1, b2, eps, bc1, bc2, gs, wdd, wdl;
} adam_attrs;

static LACONIC_SIMD void adam_loop(const float *p, const float *g, const float *m, const float *v, float *po, float *mo,
                                   float *vo, size_t n, adam_attrs a) {
  double b1c = 1 - a.b1, b2c = 1 - a.b2;
  for (size_t i = 0; i < n; i++) {
    double pi = p[i];
    double gi = (double)g[i] * a.gs + a.wdl * pi;
    double mi = a.b1 * (double)m[i] + b1c * gi;
    double vi = a.b2 * (double)v[i] + b2c * gi * gi;
    mo[i] = (float)mi;
    vo[i] = (float)vi;
    po[i] = (float)(pi - a.lr * (mi / a.bc1 / (sqrt(vi / a.bc2) + a.eps)) - a.lr * a.wdd * pi);
  }
}

/* adam(p, g, m, v, pOut, mOut, vOut, n, lr, beta1, beta2, eps, bc1, bc2, gradScale, wdDecoupled, wdL2) */
static napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value a[17];
  float *t[7];
  size_t nt[7];
  double n, h[9];
  if (!args(env, info, 17, a) || !num(env, a[7], &n)) return range(env, "adam: expected 17 arguments");
  for (int i = 0; i < 7; i++)
    if (!f32_or_null(env, a[i], &t[i], &nt[i]) || !t[i] || nt[i] < (size_t)n) return range(env, "adam: arrays shorter than n");
  for (int i = 0; i < 9; i++)
    if (!num(env, a[8 + i], &h[i])) return range(env, "adam: hyperparameters must be numbers");
  adam_attrs at = {h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]};
  adam_loop(t[0], t[1], t[2], t[3], t[4], t[5], t[6], (size_t)n, at);
  return NULL;
}

/* Adds the ops to the addon's exports (called from laconic_blas.c's module init). */
int laconic_define_ops(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"norm", NULL, Norm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"normGrad", NULL, NormGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gelu", NULL, Gelu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"geluSaved", NULL, GeluSaved, NULL, NULL, NULL, napi_enumerable, NULL},
      {"geluGrad", NULL, GeluGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmaxMasked", NULL, SoftmaxMasked, NULL, NULL, NULL, napi_enumerable, NULL},
      {"softmaxGrad", NULL, SoftmaxGrad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rope", NULL, Rope, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blockT", NULL, BlockT, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adam", NULL, Adam, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) == napi_ok;
}
