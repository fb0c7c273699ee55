/*
 * laconic_blas: a tiny N-API addon that hands single-precision matrix products to the system BLAS
 * (OpenBLAS on Linux, Accelerate on macOS). laconic registers it in place of tfjs-wasm's matMul
 * kernels (src/backend/native.ts); the Float32Arrays it receives are views of the wasm heap, so the
 * products read and write tensor memory in place, with no copy.
 *
 * Exports:
 *   sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
 *   sgemmBatched(transA, transB, M, N, K, alpha, A, strideA, lda, B, strideB, ldb, beta, C, strideC, ldc, batch)
 *       row-major; strides in floats between consecutive matrices (0 broadcasts one matrix)
 *   setThreads(n), getThreads(), info() -> "OpenBLAS 0.3.21 ..." | "Accelerate"
 *   and the fused kernels of laconic_ops.c (norms, GELU, softmax, RoPE) and laconic_decode.c (a decode step)
 *
 * The BLAS prototypes are declared here rather than taken from cblas.h: Debian installs that header
 * under a per-variant directory, and only these few symbols are needed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <node_api.h>

#ifdef __APPLE__
#include <Accelerate/Accelerate.h>
#define LB_ROW_MAJOR CblasRowMajor
#define LB_NO_TRANS CblasNoTrans
#define LB_TRANS CblasTrans
#else
enum { LB_ROW_MAJOR = 101, LB_NO_TRANS = 111, LB_TRANS = 112 };
void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
#endif

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "laconic_blas: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static int get_int(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static int get_f32(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

/* Data pointer and length (in floats) of a Float32Array argument; 0 if it is something else. */
static int get_floats(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  void *p = NULL;
  size_t n = 0;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, NULL, NULL) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float *)p;
  *len = n;
  return 1;
}

/* Floats a row-major matrix of `rows` x `cols` (as stored, i.e. after transposition) spans with leading dim ld. */
static size_t span(int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? 0 : (size_t)((rows - 1) * ld + cols);
}

static napi_value throw_range(napi_env env, const char *what) {
  napi_throw_range_error(env, NULL, what);
  return NULL;
}

/* Shared argument checks of sgemm and sgemmBatched; returns NULL (an exception is pending) on error. */
typedef struct {
  int64_t ta, tb, M, N, K, lda, ldb, ldc, sa, sb, sc, batch;
  double alpha, beta;
  float *A, *B, *C;
  size_t na, nb, nc;
} gemm_args;

static const char *validate(gemm_args *g) {
  if (g->M < 0 || g->N < 0 || g->K < 0 || g->batch < 0) return "laconic_blas: negative dimension";
  if (g->M > INT32_MAX || g->N > INT32_MAX || g->K > INT32_MAX) return "laconic_blas: dimension too large";
  int64_t arows = g->ta ? g->K : g->M, acols = g->ta ? g->M : g->K;
  int64_t brows = g->tb ? g->N : g->K, bcols = g->tb ? g->K : g->N;
  if (g->lda < (acols > 1 ? acols : 1) || g->ldb < (bcols > 1 ? bcols : 1) || g->ldc < (g->N > 1 ? g->N : 1))
    return "laconic_blas: leading dimension smaller than the row length";
  if (g->sa < 0 || g->sb < 0 || g->sc < 0) return "laconic_blas: negative stride";
  if (g->batch == 0) return NULL;
  size_t last = (size_t)(g->batch - 1);
  if (last * (size_t)g->sa + span(arows, acols, g->lda) > g->na) return "laconic_blas: A is too short";
  if (last * (size_t)g->sb + span(brows, bcols, g->ldb) > g->nb) return "laconic_blas: B is too short";
  if (last * (size_t)g->sc + span(g->M, g->N, g->ldc) > g->nc) return "laconic_blas: C is too short";
  if (g->batch > 1 && g->sc < (int64_t)span(g->M, g->N, g->ldc)) return "laconic_blas: output matrices overlap";
  return NULL;
}

static void run(const gemm_args *g) {
  if (g->M == 0 || g->N == 0) return;
  for (int64_t i = 0; i < g->batch; i++) {
    float *c = g->C + i * g->sc;
    if (g->K == 0) {
      /* C = beta * C; BLAS would do this too, but some builds skip it when K = 0 */
      for (int64_t r = 0; r < g->M; r++)
        for (int64_t j = 0; j < g->N; j++) c[r * g->ldc + j] = g->beta == 0.0 ? 0.0f : (float)g->beta * c[r * g->ldc + j];
      continue;
    }
    cblas_sgemm(LB_ROW_MAJOR, g->ta ? LB_TRANS : LB_NO_TRANS, g->tb ? LB_TRANS : LB_NO_TRANS, (int)g->M, (int)g->N,
                (int)g->K, (float)g->alpha, g->A + i * g->sa, (int)g->lda, g->B + i * g->sb, (int)g->ldb,
                (float)g->beta, c, (int)g->ldc);
  }
}

static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value a[13];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc != 13) return throw_range(env, "sgemm: expected 13 arguments");
  gemm_args g = {0};
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, a[0], &ta));
  CHECK(napi_get_value_bool(env, a[1], &tb));
  g.ta = ta;
  g.tb = tb;
  if (!get_int(env, a[2], &g.M) || !get_int(env, a[3], &g.N) || !get_int(env, a[4], &g.K) ||
      !get_f32(env, a[5], &g.alpha) || !get_int(env, a[7], &g.lda) || !get_int(env, a[9], &g.ldb) ||
      !get_f32(env, a[10], &g.beta) || !get_int(env, a[12], &g.ldc))
    return throw_range(env, "sgemm: a size, leading dimension or scale is not a number");
  if (!get_floats(env, a[6], &g.A, &g.na) || !get_floats(env, a[8], &g.B, &g.nb) || !get_floats(env, a[11], &g.C, &g.nc))
    return throw_range(env, "sgemm: A, B and C must be Float32Arrays");
  g.batch = 1;
  const char *err = validate(&g);
  if (err) return throw_range(env, err);
  run(&g);
  return NULL;
}

static napi_value SgemmBatched(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value a[17];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc != 17) return throw_range(env, "sgemmBatched: expected 17 arguments");
  gemm_args g = {0};
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, a[0], &ta));
  CHECK(napi_get_value_bool(env, a[1], &tb));
  g.ta = ta;
  g.tb = tb;
  if (!get_int(env, a[2], &g.M) || !get_int(env, a[3], &g.N) || !get_int(env, a[4], &g.K) ||
      !get_f32(env, a[5], &g.alpha) || !get_int(env, a[7], &g.sa) || !get_int(env, a[8], &g.lda) ||
      !get_int(env, a[10], &g.sb) || !get_int(env, a[11], &g.ldb) || !get_f32(env, a[12], &g.beta) ||
      !get_int(env, a[14], &g.sc) || !get_int(env, a[15], &g.ldc) || !get_int(env, a[16], &g.batch))
    return throw_range(env, "sgemmBatched: a size, stride, leading dimension or scale is not a number");
  if (!get_floats(env, a[6], &g.A, &g.na) || !get_floats(env, a[9], &g.B, &g.nb) || !get_floats(env, a[13], &g.C, &g.nc))
    return throw_range(env, "sgemmBatched: A, B and C must be Float32Arrays");
  const char *err = validate(&g);
  if (err) return throw_range(env, err);
  run(&g);
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  int64_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  if (argc != 1 || !get_int(env, a[0], &n) || n < 1 || n > 1024) return throw_range(env, "setThreads: expected 1..1024");
#ifndef __APPLE__
  openblas_set_num_threads((int)n);
#endif
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
#ifdef __APPLE__
  CHECK(napi_create_int32(env, 0, &r)); /* Accelerate picks its own threading */
#else
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &r));
#endif
  return r;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
#ifdef __APPLE__
  const char *s = "Accelerate";
#else
  const char *s = openblas_get_config();
  if (!s) s = "OpenBLAS";
#endif
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r));
  return r;
}

int laconic_define_ops(napi_env env, napi_value exports);    /* laconic_ops.c */
int laconic_define_decode(napi_env env, napi_value exports); /* laconic_decode.c */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmBatched", NULL, SgemmBatched, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  if (!laconic_define_ops(env, exports) || !laconic_define_decode(env, exports)) return NULL;
  return exports;
}
