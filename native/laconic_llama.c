// laconic's own driver for llama.cpp rollouts: the whole batched decode loop and the sampler in C, against the
// libllama that node-llama-cpp ships prebuilt (built by native/build.mjs with llama.h taken from the llama.cpp
// source bundled in the same node-llama-cpp package, so the header always matches the binary).
//
// Why not node-llama-cpp's own sampling: to report the drawn token's probability it sorts the whole candidate
// array for every token (49k entries at SmolLM2's vocabulary), which costs about as much as the forward pass
// when top_k is 0 — the setting RL uses. Here the probability is one log-sum-exp over the row the draw already
// needed, and truncation selects with a heap. A generate() call also runs in one libuv worker from the first
// prompt token to the last sampled token, so JavaScript sees one promise per batch, not one per token.
//
// Sampling semantics are those of laconic's tfjs sampler (src/model/sampling.ts): weights exp((z - max) / T);
// top-k and top-p cut one pass in descending order of weight (ties: lower id first), top-p against the mass of
// the whole row; the draw is from the kept weights, and the reported log-probability is that of the drawn token
// in the distribution it was drawn from. Greedy takes the argmax (lowest id on ties) and reports log-softmax at
// temperature 1.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define NAPI_VERSION 8
#include <node_api.h>
#include "llama.h"
#include "ggml-backend.h"

#define CHECK(env, call)                                                              \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error((env), NULL, "laconic_llama: N-API call failed: " #call);      \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

// ---------------------------------------------------------------------------------------------------- sampler

typedef struct {
  float temperature;
  int top_k;
  float top_p;
  int greedy;
} SampleParams;

typedef struct {
  float *w;      // weights of the row (V)
  int32_t *ids;  // heap / sort scratch (V)
  double *bsum;  // sums of BLOCK-sized runs of w
} Scratch;

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0); }

// a before b in the sampler's order: larger weight first, lower id on ties
static int before(const float *w, int32_t a, int32_t b) { return w[a] > w[b] || (w[a] == w[b] && a < b); }

// Min-heap (the "last" in sampler order at the root) of the k first ids in sampler order.
static void sift_down(const float *w, int32_t *h, int n, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && before(w, h[m], h[l])) m = l;
    if (r < n && before(w, h[m], h[r])) m = r;
    if (m == i) return;
    int32_t t = h[i]; h[i] = h[m]; h[m] = t;
    i = m;
  }
}

static int top_ids(const float *w, int V, int k, int32_t *h) {
  for (int i = 0; i < k; i++) h[i] = i;
  for (int i = k / 2 - 1; i >= 0; i--) sift_down(w, h, k, i);
  for (int j = k; j < V; j++) {
    if (before(w, j, h[0])) {
      h[0] = j;
      sift_down(w, h, k, 0);
    }
  }
  // heap sort: pop the last-in-order to the end, so h ends in sampler order
  for (int n = k - 1; n > 0; n--) {
    int32_t t = h[0]; h[0] = h[n]; h[n] = t;
    sift_down(w, h, n, 0);
  }
  return k;
}

static int cmp_order(const void *a, const void *b, void *w) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return before(w, x, y) ? -1 : before(w, y, x) ? 1 : 0;
}

// The kept ids in sampler order (count returned) under top-k / top-p, cut against the whole row's mass.
static int truncate_row(const float *w, int V, double total, const SampleParams *p, int32_t *ids) {
  int k = p->top_k > 0 && p->top_k < V ? p->top_k : V;
  int sorted = k < V ? top_ids(w, V, k, ids) : 0;
  if (!sorted) {
    // top-p alone: the nucleus is usually small; sort the first 256 and fall back to the whole row if short
    int m = V < 256 ? V : 256;
    top_ids(w, V, m, ids);
    double mass = 0;
    for (int i = 0; i < m; i++) mass += w[ids[i]];
    if (m < V && mass < p->top_p * total) {
      for (int i = 0; i < V; i++) ids[i] = i;
      qsort_r(ids, (size_t)V, sizeof(int32_t), cmp_order, (void *)w);
      m = V;
    }
    k = m;
  }
  if (p->top_p >= 1) return k;
  double cum = 0;
  int kept = 0;
  for (; kept < k; kept++) {
    if (kept > 0 && cum >= p->top_p * total) break;
    cum += w[ids[kept]];
  }
  return kept;
}

// exp(x) for x <= 0 in float, branch-free so the row loops vectorize: 2^n * p(r) with r = x - n ln2 in
// [-ln2/2, ln2/2] and p its degree-6 Taylor polynomial (relative error ~2e-7, below float rounding of the sum).
// glibc's scalar expf made sampling a 49k row cost ~0.4 ms, an eighth of a 64-sequence decode step.
static inline float exp_nonpos(float x) {
  x = x < -87.0f ? -87.0f : x; // 2^-126: the smallest normal float, not a denormal
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f; // round to nearest
  const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  const float q = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return q * scale;
}

#define LANES 16
#define BLOCK 256

__attribute__((target_clones("avx512f", "avx2", "default")))
static float row_max(const float *restrict z, int V) {
  float m[LANES];
  for (int k = 0; k < LANES; k++) m[k] = z[0];
  int j = 0;
  for (; j + LANES <= V; j += LANES)
    for (int k = 0; k < LANES; k++) m[k] = z[j + k] > m[k] ? z[j + k] : m[k];
  float mx = m[0];
  for (int k = 1; k < LANES; k++) mx = m[k] > mx ? m[k] : mx;
  for (; j < V; j++) mx = z[j] > mx ? z[j] : mx;
  return mx;
}

// w = exp((z - mx) * inv) and the sum of each BLOCK of w (float lanes within a block, double across blocks)
__attribute__((target_clones("avx512f", "avx2", "default")))
static double exp_row(const float *restrict z, float *restrict w, int V, float mx, float inv, double *restrict bsum) {
  for (int j = 0; j < V; j++) w[j] = exp_nonpos((z[j] - mx) * inv);
  double total = 0;
  for (int b0 = 0, bi = 0; b0 < V; b0 += BLOCK, bi++) {
    const int n = V - b0 < BLOCK ? V - b0 : BLOCK;
    float a[LANES] = {0};
    int j = 0;
    for (; j + LANES <= n; j += LANES)
      for (int k = 0; k < LANES; k++) a[k] += w[b0 + j + k];
    double t = 0;
    for (int k = 0; k < LANES; k++) t += a[k];
    for (; j < n; j++) t += w[b0 + j];
    bsum[bi] = t;
    total += t;
  }
  return total;
}

// The token where the running sum of w passes u (u < total), skipping whole blocks by their sums.
static int draw_row(const float *w, const double *bsum, int V, double u) {
  int b0 = 0, bi = 0;
  for (; b0 + BLOCK < V && u >= bsum[bi]; b0 += BLOCK, bi++) u -= bsum[bi];
  const int end = b0 + BLOCK < V ? b0 + BLOCK : V;
  int last = b0;
  for (int j = b0; j < end; j++) {
    if (w[j] <= 0) continue;
    last = j;
    u -= w[j];
    if (u < 0) break;
  }
  // a draw that rounding pushes past the block's end takes its last token with weight
  return last;
}

// The drawn token, or -1 when the row is not finite (a diverged model): the caller stops with an error
// rather than sampling garbage into the importance weights.
static int sample_row(const float *z, int V, const SampleParams *p, uint64_t *rng, Scratch *s, float *logprob) {
  const float mx = row_max(z, V);
  if (!isfinite(mx)) return -1;
  if (p->greedy || p->temperature == 0) {
    int arg = 0;
    while (arg < V - 1 && z[arg] != mx) arg++;
    const double t = exp_row(z, s->w, V, mx, 1.0f, s->bsum);
    if (!isfinite(t)) return -1;
    *logprob = (float)(-log(t));
    return arg;
  }
  const double total = exp_row(z, s->w, V, mx, 1.0f / p->temperature, s->bsum);
  if (!isfinite(total)) return -1;
  if ((p->top_k <= 0 || p->top_k >= V) && p->top_p >= 1) {
    const int tok = draw_row(s->w, s->bsum, V, uniform(rng) * total);
    *logprob = (float)(log((double)s->w[tok]) - log(total));
    return tok;
  }
  int kept = truncate_row(s->w, V, total, p, s->ids);
  double mass = 0;
  for (int i = 0; i < kept; i++) mass += s->w[s->ids[i]];
  double u = uniform(rng) * mass;
  int tok = s->ids[kept - 1];
  for (int i = 0; i < kept; i++) {
    u -= s->w[s->ids[i]];
    if (u < 0) { tok = s->ids[i]; break; }
  }
  *logprob = (float)(log((double)s->w[tok]) - log(mass));
  return tok;
}

// ------------------------------------------------------------------------------------------ model / context

typedef struct {
  struct llama_model *model;
  struct llama_context *ctx;
  struct Adapter *ctx_adapter; // the adapter the context was created with
  int n_vocab;
  int n_seq;
  int n_batch;
  int busy;
} Engine;

// A LoRA adapter of one engine's model; freed explicitly (llama.cpp would free it with the model).
typedef struct Adapter {
  Engine *e;
  struct llama_adapter_lora *a;
} Adapter;

// Handles are tagged so that an engine passed where an adapter belongs (or anything else) is refused.
static const napi_type_tag ENGINE_TAG = {0x6c61636f6e69636cULL, 0x6c6c616d61456e67ULL};
static const napi_type_tag ADAPTER_TAG = {0x6c61636f6e69636cULL, 0x6c6c616d61416461ULL};

static void *tagged(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok) return NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

static void quiet_log(enum ggml_log_level level, const char *text, void *data) {
  (void)data;
  if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int get_string(napi_env env, napi_value v, char *buf, size_t cap) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, buf, cap, &n) != napi_ok) return 0;
  return n < cap - 1;
}

// init(): load the ggml backends node-llama-cpp ships next to the libllama this addon links (its RUNPATH picked
// that file), so ggml takes the CPU variant best for this CPU from the same release
static napi_value js_init(napi_env env, napi_callback_info info) {
  (void)info;
  static int done = 0;
  if (done) return NULL;
  Dl_info dl;
  if (!dladdr((void *)llama_backend_init, &dl) || !dl.dli_fname) return throw_msg(env, "laconic_llama.init: cannot locate libllama");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", dl.dli_fname);
  llama_log_set(quiet_log, NULL);
  ggml_backend_load_all_from_path(dirname(dir));
  llama_backend_init();
  done = 1;
  return NULL;
}

static Engine *engine_of(napi_env env, napi_value v) {
  Engine *e = tagged(env, v, &ENGINE_TAG);
  if (!e) {
    napi_throw_error(env, NULL, "laconic_llama: not an engine handle");
    return NULL;
  }
  if (!e->model) {
    napi_throw_error(env, NULL, "laconic_llama: the engine was closed");
    return NULL;
  }
  return e;
}

// The engine of argv[0] (after `need` arguments), refused while a generate() runs on it: loading an adapter,
// replacing or freeing the context, and closing all touch what the decode reads.
static Engine *idle_engine(napi_env env, napi_callback_info info, size_t need, napi_value *argv, const char *what) {
  size_t argc = need;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < need) {
    char msg[160];
    snprintf(msg, sizeof msg, "laconic_llama.%s: %zu arguments expected", what, need);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  Engine *e = engine_of(env, argv[0]);
  if (e && e->busy) {
    char msg[160];
    snprintf(msg, sizeof msg, "laconic_llama.%s: a generate() call is running on this engine", what);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  return e;
}

// loadModel(path, gpuLayers) -> handle
static napi_value js_load_model(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char file[4096];
  int32_t gpu = 0;
  if (argc < 2 || !get_string(env, argv[0], file, sizeof file)) return throw_msg(env, "laconic_llama.loadModel(path, gpuLayers)");
  CHECK(env, napi_get_value_int32(env, argv[1], &gpu));
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = gpu;
  struct llama_model *m = llama_model_load_from_file(file, mp);
  if (!m) {
    char msg[4200];
    snprintf(msg, sizeof msg, "llama.cpp could not load the model %s", file);
    return throw_msg(env, msg);
  }
  Engine *e = calloc(1, sizeof(Engine));
  e->model = m;
  e->n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(m));
  napi_value out;
  CHECK(env, napi_create_external(env, e, NULL, NULL, &out));
  CHECK(env, napi_type_tag_object(env, out, &ENGINE_TAG));
  return out;
}

static int32_t get_int(napi_env env, napi_value obj, const char *key, int32_t dflt) {
  napi_value v;
  napi_valuetype t;
  int32_t x = dflt;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return dflt;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return dflt;
  napi_get_value_int32(env, v, &x);
  return x;
}

// loadAdapter(handle, path) -> adapter handle (owned by the model until freeAdapter)
static napi_value js_load_adapter(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Engine *e = idle_engine(env, info, 2, argv, "loadAdapter"); // the model's adapter set is read by a decode
  if (!e) return NULL;
  char file[4096];
  if (!get_string(env, argv[1], file, sizeof file)) return throw_msg(env, "laconic_llama.loadAdapter(handle, path)");
  struct llama_adapter_lora *a = llama_adapter_lora_init(e->model, file);
  if (!a) {
    char msg[4200];
    snprintf(msg, sizeof msg, "llama.cpp could not load the LoRA adapter %s", file);
    return throw_msg(env, msg);
  }
  Adapter *w = malloc(sizeof(Adapter));
  w->e = e;
  w->a = a;
  napi_value ext;
  CHECK(env, napi_create_external(env, w, NULL, NULL, &ext));
  CHECK(env, napi_type_tag_object(env, ext, &ADAPTER_TAG));
  return ext;
}

static void free_context(Engine *e) {
  if (e->ctx) llama_free(e->ctx);
  e->ctx = NULL;
  e->ctx_adapter = NULL;
}

// newContext(handle, {sequences, perSequence, threads, kvF32}, adapter | null): replaces the engine's context
static napi_value js_new_context(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  Engine *e = idle_engine(env, info, 3, argv, "newContext");
  if (!e) return NULL;
  free_context(e);
  int seqs = get_int(env, argv[1], "sequences", 1), per = get_int(env, argv[1], "perSequence", 256);
  int threads = get_int(env, argv[1], "threads", 0), kv32 = get_int(env, argv[1], "kvF32", 0);
  Adapter *a = NULL;
  napi_valuetype t;
  CHECK(env, napi_typeof(env, argv[2], &t));
  if (t != napi_null && t != napi_undefined) {
    a = tagged(env, argv[2], &ADAPTER_TAG);
    if (!a || !a->a) return throw_msg(env, "laconic_llama.newContext: not a live adapter handle");
    if (a->e != e) return throw_msg(env, "laconic_llama.newContext: the adapter was loaded for another model");
  }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_seq_max = (uint32_t)seqs;
  cp.n_ctx = (uint32_t)(seqs * per);
  // a prefill of every sequence's prompt fits in one or a few llama_decode calls
  cp.n_batch = cp.n_ctx < 2048 ? cp.n_ctx : 2048;
  if (cp.n_batch < (uint32_t)seqs) cp.n_batch = (uint32_t)seqs; // every sequence's next token fits one batch
  cp.n_ubatch = cp.n_batch < 512 ? cp.n_batch : 512;
  cp.no_perf = true;
  if (threads > 0) cp.n_threads = cp.n_threads_batch = threads;
  if (kv32) {
    // f32 keys/values without flash attention (F16 on CPU) agree with tfjs to float32 rounding
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  }
  struct llama_context *ctx = llama_init_from_model(e->model, cp);
  if (!ctx) return throw_msg(env, "llama.cpp could not create a context (out of memory?)");
  float scale = 1.0f;
  if (a && llama_set_adapters_lora(ctx, &a->a, 1, &scale) != 0) {
    llama_free(ctx);
    return throw_msg(env, "llama.cpp refused the LoRA adapter for this model");
  }
  e->ctx = ctx;
  e->ctx_adapter = a;
  e->n_seq = seqs;
  e->n_batch = (int)cp.n_batch;
  return NULL;
}

// freeContext(handle)
static napi_value js_free_context(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Engine *e = idle_engine(env, info, 1, argv, "freeContext");
  if (!e) return NULL;
  free_context(e);
  return NULL;
}

// freeAdapter(adapter): refused while the engine's context uses it
static napi_value js_free_adapter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Adapter *a = argc >= 1 ? tagged(env, argv[0], &ADAPTER_TAG) : NULL;
  if (!a) return throw_msg(env, "laconic_llama.freeAdapter(adapter)");
  if (!a->a) return NULL; // freed already (or with its model)
  if (a->e->ctx_adapter == a) return throw_msg(env, "laconic_llama.freeAdapter: the engine's context still uses it (freeContext first)");
  if (a->e->model) llama_adapter_lora_free(a->a);
  a->a = NULL;
  return NULL;
}

// close(handle): context and model (and with it any adapter still attached)
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Engine *e = idle_engine(env, info, 1, argv, "close");
  if (!e) return NULL;
  free_context(e);
  if (e->model) llama_model_free(e->model);
  e->model = NULL;
  return NULL;
}

// ------------------------------------------------------------------------------------------------ generate

typedef struct {
  int prompt; // index of the prompt this sequence decodes, -1 when free
  int fed;    // prompt tokens already in the KV cache
  int pos;
  int gen;     // tokens sampled so far
  int pending; // the last sampled token, to be decoded next (-1: none)
  int row;     // batch index whose logits this sequence samples from after the decode (-1: none)
  uint64_t rng;
} Lane;

typedef struct {
  Engine *e;
  int32_t *prompts, *poff, *budgets, *stops;
  uint64_t *seeds;
  int n, n_stops, compact;
  SampleParams sp;
  int32_t *tokens, *ooff, *counts;
  float *logprobs;
  uint8_t *finish;
  char err[512];
  napi_deferred deferred;
  napi_async_work work;
} GenJob;

static void batch_add(struct llama_batch *b, llama_token t, llama_pos p, llama_seq_id s, int logits) {
  int n = b->n_tokens++;
  b->token[n] = t;
  b->pos[n] = p;
  b->n_seq_id[n] = 1;
  b->seq_id[n][0] = s;
  b->logits[n] = (int8_t)logits;
}

static int is_stop(const GenJob *j, int tok) {
  for (int i = 0; i < j->n_stops; i++)
    if (j->stops[i] == tok) return 1;
  return 0;
}

// Free sequences take the next prompts (clearing their KV cells); prompts are fed in chunks that fit the batch.
static void fill_prompts(GenJob *j, Lane *L, int S, int cap, struct llama_batch *b, int *next, llama_memory_t mem) {
  for (int l = 0; l < S && b->n_tokens < cap; l++) {
    while (L[l].prompt < 0 && *next < j->n) {
      int i = (*next)++;
      j->counts[i] = 0;
      j->finish[i] = 0;
      if (j->budgets[i] <= 0) continue;
      L[l] = (Lane){.prompt = i, .fed = 0, .pos = 0, .gen = 0, .pending = -1, .row = -1, .rng = j->seeds[i]};
      llama_memory_seq_rm(mem, l, -1, -1);
    }
    if (L[l].prompt < 0) continue;
    int i = L[l].prompt, plen = j->poff[i + 1] - j->poff[i];
    if (L[l].fed >= plen) continue;
    int take = plen - L[l].fed;
    if (take > cap - b->n_tokens) take = cap - b->n_tokens;
    for (int t = 0; t < take; t++) {
      int k = L[l].fed + t;
      batch_add(b, j->prompts[j->poff[i] + k], L[l].pos++, l, k == plen - 1);
    }
    L[l].fed += take;
    if (L[l].fed == plen) L[l].row = b->n_tokens - 1;
  }
}

// Once no prompt is left, keep the busy sequences on the lowest ids: with one KV stream per sequence llama.cpp
// splits a batch wherever the sequence ids stop being consecutive, and every split is one more pass over the
// weights. The highest busy sequence moves into the lowest free one (its cells are copied at the next decode).
static void compact(Lane *L, int S, llama_memory_t mem) {
  int lo = 0, hi = S - 1;
  for (;;) {
    while (lo < S && L[lo].prompt >= 0) lo++;
    while (hi >= 0 && L[hi].prompt < 0) hi--;
    if (lo >= hi) return;
    llama_memory_seq_rm(mem, lo, -1, -1);
    llama_memory_seq_cp(mem, hi, lo, -1, -1);
    llama_memory_seq_rm(mem, hi, -1, -1);
    L[lo] = L[hi];
    L[hi] = (Lane){.prompt = -1, .pending = -1, .row = -1};
  }
}

static void gen_execute(napi_env env, void *data) {
  (void)env;
  GenJob *j = data;
  Engine *e = j->e;
  const int S = e->n_seq, cap = e->n_batch, V = e->n_vocab;
  struct llama_batch b = llama_batch_init(cap, 0, 1);
  Scratch sc = {malloc(sizeof(float) * V), malloc(sizeof(int32_t) * V), malloc(sizeof(double) * (V / BLOCK + 1))};
  Lane *L = malloc(sizeof(Lane) * S);
  for (int l = 0; l < S; l++) L[l] = (Lane){.prompt = -1, .pending = -1, .row = -1};
  llama_memory_t mem = llama_get_memory(e->ctx);
  int next = 0;
  for (;;) {
    b.n_tokens = 0;
    for (int l = 0; l < S; l++) {
      if (L[l].prompt < 0 || L[l].pending < 0) continue;
      batch_add(&b, L[l].pending, L[l].pos++, l, 1);
      L[l].row = b.n_tokens - 1;
      L[l].pending = -1;
    }
    fill_prompts(j, L, S, cap, &b, &next, mem);
    if (b.n_tokens == 0) break;
    int rc = llama_decode(e->ctx, b);
    if (rc != 0) {
      snprintf(j->err, sizeof j->err, "llama_decode returned %d (%s)", rc, rc == 1 ? "no room in the KV cache" : "error");
      break;
    }
    for (int l = 0; l < S; l++) {
      if (L[l].row < 0) continue;
      const float *z = llama_get_logits_ith(e->ctx, L[l].row);
      L[l].row = -1;
      if (!z) {
        snprintf(j->err, sizeof j->err, "llama.cpp returned no logits for sequence %d", l);
        goto done;
      }
      const int i = L[l].prompt;
      float lp;
      const int tok = sample_row(z, V, &j->sp, &L[l].rng, &sc, &lp);
      if (tok < 0) {
        snprintf(j->err, sizeof j->err, "llama.cpp returned non-finite logits for prompt %d (the exported weights hold NaN or inf?)", i);
        goto done;
      }
      const int o = j->ooff[i] + L[l].gen++;
      j->tokens[o] = tok;
      j->logprobs[o] = lp;
      j->counts[i] = L[l].gen;
      if (is_stop(j, tok) || L[l].gen >= j->budgets[i]) {
        j->finish[i] = (uint8_t)is_stop(j, tok);
        L[l].prompt = -1;
      } else {
        L[l].pending = tok;
      }
    }
    if (next >= j->n && j->compact) compact(L, S, mem);
  }
done:
  llama_batch_free(b);
  free(sc.w);
  free(sc.ids);
  free(sc.bsum);
  free(L);
}

static void job_free(GenJob *j) {
  free(j->prompts); free(j->poff); free(j->budgets); free(j->stops); free(j->seeds);
  free(j->tokens); free(j->ooff); free(j->counts); free(j->logprobs); free(j->finish);
  free(j);
}

static napi_value typed_copy(napi_env env, napi_typedarray_type type, const void *src, size_t n, size_t width) {
  napi_value ab, arr;
  void *dst = NULL;
  if (napi_create_arraybuffer(env, n * width, &dst, &ab) != napi_ok) return NULL;
  if (n) memcpy(dst, src, n * width);
  if (napi_create_typedarray(env, type, n, ab, 0, &arr) != napi_ok) return NULL;
  return arr;
}

static void gen_complete(napi_env env, napi_status status, void *data) {
  GenJob *j = data;
  j->e->busy = 0;
  if (status != napi_ok || j->err[0]) {
    napi_value msg, err;
    napi_create_string_utf8(env, j->err[0] ? j->err : "laconic_llama: generate was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
  } else {
    napi_value out;
    napi_create_object(env, &out);
    size_t total = (size_t)j->ooff[j->n];
    napi_set_named_property(env, out, "tokens", typed_copy(env, napi_int32_array, j->tokens, total, 4));
    napi_set_named_property(env, out, "logprobs", typed_copy(env, napi_float32_array, j->logprobs, total, 4));
    napi_set_named_property(env, out, "counts", typed_copy(env, napi_int32_array, j->counts, (size_t)j->n, 4));
    napi_set_named_property(env, out, "finish", typed_copy(env, napi_uint8_array, j->finish, (size_t)j->n, 1));
    napi_resolve_deferred(env, j->deferred, out);
  }
  napi_delete_async_work(env, j->work);
  job_free(j);
}

static void *copy_typed(napi_env env, napi_value v, napi_typedarray_type want, size_t *len) {
  napi_typedarray_type t;
  void *data = NULL;
  size_t n = 0;
  if (napi_get_typedarray_info(env, v, &t, &n, &data, NULL, NULL) != napi_ok || t != want) return NULL;
  size_t w = want == napi_float64_array ? 8 : 4;
  void *out = malloc(n * w + 8);
  if (n) memcpy(out, data, n * w);
  *len = n;
  return out;
}

static float get_float(napi_env env, napi_value obj, const char *key, float dflt) {
  napi_value v;
  double x = dflt;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_number) return dflt;
  napi_get_value_double(env, v, &x);
  return (float)x;
}

// Checks the copied inputs; 0 with j->err set when they do not fit the engine.
static int validate(GenJob *j, size_t np, size_t npo, size_t nb, size_t ns) {
  if (npo != (size_t)j->n + 1 || nb != (size_t)j->n || ns != (size_t)j->n) {
    snprintf(j->err, sizeof j->err, "laconic_llama.generate: %zu prompt offsets, %zu budgets, %zu seeds for %d prompts", npo, nb, ns, j->n);
    return 0;
  }
  if (j->poff[0] != 0 || (size_t)j->poff[j->n] != np) { snprintf(j->err, sizeof j->err, "laconic_llama.generate: prompt offsets do not cover the prompts"); return 0; }
  for (int i = 0; i < j->n; i++) {
    if (j->poff[i + 1] <= j->poff[i]) { snprintf(j->err, sizeof j->err, "laconic_llama.generate: prompt %d is empty", i); return 0; }
    for (int k = j->poff[i]; k < j->poff[i + 1]; k++)
      if (j->prompts[k] < 0 || j->prompts[k] >= j->e->n_vocab) {
        snprintf(j->err, sizeof j->err, "laconic_llama.generate: prompt %d has token %d outside the vocabulary of %d", i, j->prompts[k], j->e->n_vocab);
        return 0;
      }
  }
  return 1;
}

// generate(handle, prompts, promptOffsets, budgets, seeds (Float64Array of integers < 2^53), stops, params)
static napi_value js_generate(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7) return throw_msg(env, "laconic_llama.generate(handle, prompts, offsets, budgets, seeds, stops, params)");
  Engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  if (!e->ctx) return throw_msg(env, "laconic_llama.generate: no context (call newContext first)");
  if (e->busy) return throw_msg(env, "laconic_llama.generate: a generate() call is already running on this engine");
  GenJob *j = calloc(1, sizeof(GenJob));
  j->e = e;
  size_t np = 0, npo = 0, nb = 0, ns = 0, nst = 0;
  j->prompts = copy_typed(env, argv[1], napi_int32_array, &np);
  j->poff = copy_typed(env, argv[2], napi_int32_array, &npo);
  j->budgets = copy_typed(env, argv[3], napi_int32_array, &nb);
  double *seeds = copy_typed(env, argv[4], napi_float64_array, &ns);
  j->stops = copy_typed(env, argv[5], napi_int32_array, &nst);
  if (!j->prompts || !j->poff || !j->budgets || !seeds || !j->stops) {
    free(seeds); job_free(j);
    return throw_msg(env, "laconic_llama.generate: prompts, offsets, budgets and stops are Int32Arrays, seeds a Float64Array");
  }
  j->n = (int)nb;
  j->n_stops = (int)nst;
  j->seeds = malloc(sizeof(uint64_t) * (nb + 1));
  for (size_t i = 0; i < ns && i < nb; i++) j->seeds[i] = (uint64_t)seeds[i];
  free(seeds);
  if (!validate(j, np, npo, nb, ns)) {
    napi_value err;
    char msg[512];
    memcpy(msg, j->err, sizeof msg);
    job_free(j);
    napi_throw_error(env, NULL, msg);
    (void)err;
    return NULL;
  }
  j->sp = (SampleParams){get_float(env, argv[6], "temperature", 1), get_int(env, argv[6], "topK", 0), get_float(env, argv[6], "topP", 1), get_int(env, argv[6], "greedy", 0)};
  j->compact = get_int(env, argv[6], "compact", 1);
  if (!j->sp.greedy && j->sp.temperature != 0 && !(j->sp.temperature >= 1e-6f && isfinite(1.0f / j->sp.temperature))) {
    job_free(j);
    return throw_msg(env, "laconic_llama.generate: temperature must be 0 (greedy) or at least 1e-6");
  }
  j->ooff = malloc(sizeof(int32_t) * (nb + 1));
  j->ooff[0] = 0;
  for (int i = 0; i < j->n; i++) j->ooff[i + 1] = j->ooff[i] + (j->budgets[i] > 0 ? j->budgets[i] : 0);
  j->tokens = malloc(sizeof(int32_t) * (size_t)(j->ooff[j->n] + 1));
  j->logprobs = malloc(sizeof(float) * (size_t)(j->ooff[j->n] + 1));
  j->counts = calloc(nb + 1, sizeof(int32_t));
  j->finish = calloc(nb + 1, 1);
  napi_value promise, name;
  CHECK(env, napi_create_promise(env, &j->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, "laconic_llama.generate", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_create_async_work(env, NULL, name, gen_execute, gen_complete, j, &j->work));
  if (napi_queue_async_work(env, j->work) != napi_ok) {
    napi_delete_async_work(env, j->work);
    napi_value msg, err;
    napi_create_string_utf8(env, "laconic_llama.generate: could not queue the job", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    napi_reject_deferred(env, j->deferred, err);
    job_free(j);
    return promise;
  }
  e->busy = 1;
  return promise;
}

static napi_value init_module(napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
      {"init", 0, js_init, 0, 0, 0, napi_default, 0},
      {"loadModel", 0, js_load_model, 0, 0, 0, napi_default, 0},
      {"loadAdapter", 0, js_load_adapter, 0, 0, 0, napi_default, 0},
      {"newContext", 0, js_new_context, 0, 0, 0, napi_default, 0},
      {"freeContext", 0, js_free_context, 0, 0, 0, napi_default, 0},
      {"freeAdapter", 0, js_free_adapter, 0, 0, 0, napi_default, 0},
      {"generate", 0, js_generate, 0, 0, 0, napi_default, 0},
      {"close", 0, js_close, 0, 0, 0, napi_default, 0},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof d / sizeof d[0], d));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init_module)
