import { VerifierPool } from '../../verifiers/pool.js';
import { evaluate, type EvalResult, type OverlongPolicy, type UnknownCharsPolicy } from './evaluate.js';
import { loadEvalModel, type EvalModel, type EvalModelSpec } from './model.js';
import { evalProblems, type FieldMapping } from './problems.js';
import { resolveSettings, settingsFromDefaults, type EvalSettingsInput } from './settings.js';
import { rowSettings, type Suite, type SuiteRowSpec } from './suite.js';

/**
 * One model on one or more datasets: what `laconic eval` runs. The model is loaded once (loadEvalModel)
 * and the verifier pool shared; each row's settings are layered as settings.ts describes.
 */

export interface RunEvalOptions {
  model: EvalModelSpec;
  /** The rows; empty = the model's default dataset (eval_defaults.json). */
  rows: SuiteRowSpec[];
  /** The suite the rows come from (its defaults apply), if any. */
  suite?: Suite | null;
  /** Settings from the command line: they win over everything. */
  overrides?: EvalSettingsInput;
  /** Prompt template with {question} (default: the model's, else each set's own). */
  template?: string;
  fields?: FieldMapping;
  batchSize?: number;
  threads?: number | null;
  /** Answer extraction: 'strict' (laconic's default) or 'math_verify' (Math-Verify's last-expression fallback). */
  verifierMode?: 'strict' | 'math_verify';
  timeoutMs?: number;
  unknownChars?: UnknownCharsPolicy;
  overlong?: OverlongPolicy;
  keepSamples?: boolean;
  onProgress?: (label: string, done: number, total: number) => void;
}

export interface SuiteRowResult extends EvalResult {
  label: string;
}

export interface SuiteResult {
  model: string;
  backend: string;
  suite: string | null;
  rows: SuiteRowResult[];
}

async function evalRow(m: EvalModel, row: SuiteRowSpec, opts: RunEvalOptions, pool: VerifierPool): Promise<SuiteRowResult> {
  const s = resolveSettings([settingsFromDefaults(m.defaults), opts.suite?.defaults, rowSettings(row), opts.overrides], m.contextLength);
  const problems = evalProblems(row.dataset, s, opts.template ?? m.defaults.template, opts.fields);
  const label = row.label ?? row.dataset;
  const r = await evaluate(m.policy, m.tokenizer, problems, {
    budget: s.budget,
    samples: s.samples,
    greedy: s.greedy,
    temperature: s.greedy ? undefined : s.temperature,
    topP: s.top_p,
    topK: s.top_k,
    seed: s.seed,
    batchSize: opts.batchSize ?? 64,
    pool,
    stopTokens: m.stopTokens,
    unknownChars: opts.unknownChars ?? 'error',
    contextLength: m.contextLength,
    overlong: opts.overlong ?? 'error',
    keepPrefixTokens: m.keepPrefixTokens,
    keepSamples: opts.keepSamples,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!(label, d, t) : undefined,
    dataset: row.dataset,
    scoreTruncated: s.score_truncated,
    targetLength: s.target_length,
  });
  return { label, ...r };
}

export async function runEvaluation(opts: RunEvalOptions): Promise<SuiteResult> {
  const m = await loadEvalModel(opts.model);
  try {
    let rows = opts.rows;
    if (rows.length === 0) {
      if (!m.defaults.dataset) throw new Error(`${m.name}: no dataset given (--dataset, --datasets or --suite) and the checkpoint has no default dataset in eval_defaults.json`);
      rows = [{ dataset: m.defaults.dataset }];
    }
    const pool = new VerifierPool({ threads: opts.threads ?? undefined, timeoutMs: opts.timeoutMs ?? 2000, verify: { mode: opts.verifierMode ?? 'strict' } });
    try {
      const out: SuiteRowResult[] = [];
      // One after another: the policy and the pool are shared, and rows are reported in order.
      for (const row of rows) out.push(await evalRow(m, row, opts, pool));
      return { model: m.name, backend: m.backend, suite: opts.suite?.name ?? null, rows: out };
    } finally {
      await pool.close();
    }
  } finally {
    await m.dispose();
  }
}
