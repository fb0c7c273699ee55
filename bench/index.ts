/**
 * Shared helpers for the benchmarks in bench/. Each benchmark is a standalone script `bench/<name>.ts`
 * run by `npm run bench -- <name> [options]` (bin/bench.js runs dist/bench/<name>.js when built and
 * up to date, else the .ts through tsx). Benchmarks print one JSON object per line on stdout.
 */

/** Parse `--key value` / `--flag` arguments into a record (values stay strings). */
export function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}" (options are --key value)`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[a.slice(2, eq)] = a.slice(eq + 1);
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[a.slice(2)] = next;
      i++;
    } else out[a.slice(2)] = true;
  }
  return out;
}

export function intArg(args: Record<string, string | true>, key: string, dflt: number): number {
  const v = args[key];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${key} must be a non-negative integer, got ${String(v)}`);
  return n;
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function printResult(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

export function round(x: number, digits = 1): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

/** The published config.json fields that shape the benchmarked models (no weights are downloaded). */
// HuggingFaceTB/SmolLM2-135M, Qwen/Qwen2.5-0.5B, Qwen/Qwen3-0.6B
export const HF_SHAPES: Record<string, Record<string, unknown>> = {
  'smollm2-135m': {
    model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_attention_heads: 9, num_key_value_heads: 3,
    num_hidden_layers: 30, vocab_size: 49152, tie_word_embeddings: true, rope_theta: 100000, rms_norm_eps: 1e-5,
    max_position_embeddings: 8192, attention_bias: false, mlp_bias: false, head_dim: 64,
  },
  'qwen2.5-0.5b': {
    model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_attention_heads: 14, num_key_value_heads: 2,
    num_hidden_layers: 24, vocab_size: 151936, tie_word_embeddings: true, rope_theta: 1000000, rms_norm_eps: 1e-6,
    max_position_embeddings: 32768,
  },
  'qwen3-0.6b': {
    model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_attention_heads: 16, num_key_value_heads: 8,
    num_hidden_layers: 28, vocab_size: 151936, tie_word_embeddings: true, rope_theta: 1000000, rms_norm_eps: 1e-6,
    max_position_embeddings: 40960, attention_bias: false, head_dim: 128,
  },
};
