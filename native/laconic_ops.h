/* Shared by laconic_ops.c and laconic_decode.c: N-API argument helpers, a vectorisable exp, the norm. */
#ifndef LACONIC_OPS_H
#define LACONIC_OPS_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

/*
 * Hot loops are compiled twice on x86-64 Linux (GCC picks one at load time through an ifunc): with
 * AVX2 (8 floats per instruction) and for the baseline (SSE2), so one build runs on every x86-64 CPU.
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define LACONIC_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define LACONIC_SIMD
#endif

/* Float32Array or null/undefined (-> NULL, n = 0); returns 0 for anything else. */
static inline int f32_or_null(napi_env env, napi_value v, float **p, size_t *n) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_null || t == napi_undefined) {
    *p = NULL;
    *n = 0;
    return 1;
  }
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, n, &data, NULL, NULL) != napi_ok || type != napi_float32_array) return 0;
  *p = (float *)data;
  return 1;
}

static inline int i32_array(napi_env env, napi_value v, int32_t **p, size_t *n) {
  napi_typedarray_type type;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, n, &data, NULL, NULL) != napi_ok || type != napi_int32_array) return 0;
  *p = (int32_t *)data;
  return 1;
}

static inline int num(napi_env env, napi_value v, double *out) { return napi_get_value_double(env, v, out) == napi_ok; }

static inline napi_value range(napi_env env, const char *what) {
  napi_throw_range_error(env, NULL, what);
  return NULL;
}

/* Reads argc arguments into a; fails (exception pending) when fewer were passed. */
static inline int args(napi_env env, napi_callback_info info, size_t want, napi_value *a) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < want) return 0;
  return 1;
}

/* A branch-free exp for float32 (Cephes polynomial, ~2 ulp) that compilers vectorise; libm's expf does not. */
static inline float lexp(float x) {
  x = x > 88.0f ? 88.0f : x;
  x = x < -87.0f ? -87.0f : x;
  /* round to nearest by the 1.5·2^23 trick: floorf is a libm call without SSE4.1 and blocks vectorisation */
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  union {
    int32_t i;
    float f;
  } s;
  s.i = ((int32_t)n + 127) << 23;
  return p * s.f;
}

/* RMSNorm (layer 0) or LayerNorm of R rows of C values; stats (mean, rstd) per row when st is not NULL. */
LACONIC_SIMD void laconic_norm_fwd(int layer, const float *x, const float *g, const float *b, float *y, float *st, int64_t R, int64_t C,
                      float eps);

/* GPT-2's tanh GELU of n values, y = x·σ(2u) (y may be x). */
LACONIC_SIMD void laconic_gelu(const float *x, float *y, size_t n);

#endif
