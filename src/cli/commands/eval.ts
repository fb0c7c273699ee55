import { Option, type Command } from 'commander';
import { Progress } from '../../trainer/metrics.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic.js';
import { renderEvalMarkdown } from '../../eval/render.js';
import type { OverlongPolicy, UnknownCharsPolicy } from '../../eval/evaluate.js';
import { AesWeightsSchema } from '../../eval/aes.js';
import { compare, readScorePoints, type Comparison } from '../../eval/compare.js';
import { loadSuite, selectRows, type Suite, type SuiteRowSpec } from '../../eval/suite.js';
import { comparisonMarkdown, suiteCsv, suiteJson, suiteMarkdown } from '../../eval/table.js';
import type { SuiteResult } from '../../eval/run.js';
import type { FieldMapping } from '../../eval/problems.js';
import { attachAgainst } from '../../offline/against.js';
import { BACKEND_CHOICES } from '../../config/backend.js';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
}

function num(name: string, min: number, max = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return n;
  };
}

function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new Error(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return v as T;
  };
}

interface EvalCliOptions {
  checkpoint?: string;
  model?: string;
  dataset?: string;
  datasets?: string;
  suite?: string;
  samples?: number;
  budget?: number;
  count?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  split?: string;
  scoreTruncated?: boolean;
  targetLength?: number;
  template?: string;
  problemField?: string;
  answerField?: string;
  idField?: string;
  difficultyField?: string;
  targetField?: string;
  answerFormat?: 'auto' | 'gsm8k' | 'math';
  baseline?: string;
  aesAlpha?: number;
  aesBeta?: number;
  aesGamma?: number;
  batchSize: number;
  threads?: number;
  verifierMode: 'strict' | 'math_verify';
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu' | 'webgpu';
  engine: 'tfjs' | 'llama_cpp';
  llamaDtype: 'f32' | 'f16' | 'bf16' | 'q8_0';
  unknownChars: UnknownCharsPolicy;
  overlong: OverlongPolicy;
  json?: boolean;
  csv?: boolean;
  out?: string;
  csvOut?: string;
  mdOut?: string;
  samplesOut?: string;
  against?: string;
  oracle: string;
  quiet?: boolean;
}

/** The rows to run and the suite they come from: --suite, --datasets (rows of --suite, default math), or --dataset. */
function plan(o: EvalCliOptions): { rows: SuiteRowSpec[]; suite: Suite | null; table: boolean } {
  if (o.dataset && (o.datasets || o.suite)) throw new Error('give either --dataset or --suite/--datasets, not both');
  if (o.datasets) {
    const suite = loadSuite(o.suite ?? 'math');
    const names = o.datasets.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new Error('--datasets: give a comma-separated list, e.g. aime24,amc23');
    return { rows: selectRows(suite, names), suite, table: true };
  }
  if (o.suite) {
    const suite = loadSuite(o.suite);
    return { rows: suite.datasets, suite, table: true };
  }
  return { rows: o.dataset ? [{ dataset: o.dataset }] : [], suite: null, table: false };
}

function comparisonFor(o: EvalCliOptions, r: SuiteResult): Comparison | null {
  if (!o.baseline) return null;
  const w = AesWeightsSchema.parse({ alpha: o.aesAlpha, beta: o.aesBeta, gamma: o.aesGamma });
  const current = r.rows.map((x) => ({ dataset: x.dataset ?? x.label, accuracy: x.accuracy, mean_length: x.mean_length }));
  return compare(current, readScorePoints(o.baseline), o.baseline, w);
}

function warn(o: EvalCliOptions, r: SuiteResult): void {
  if (o.quiet) return;
  for (const x of r.rows) {
    const tag = `laconic eval (${x.label})`;
    if (x.prompts_with_dropped_chars > 0) {
      const shown = x.dropped_chars.slice(0, 12).map((c) => JSON.stringify(c)).join(' ');
      process.stderr.write(`${tag}: ${x.prompts_with_dropped_chars} prompt(s) had characters the tokenizer lacks (${shown}${x.dropped_chars.length > 12 ? ' ...' : ''}); ${o.unknownChars === 'fold' ? 'folded or dropped' : 'dropped'}\n`);
    }
    if (x.undecodable_tokens > 0) process.stderr.write(`${tag}: ${x.undecodable_tokens} sampled token id(s) are outside the tokenizer's vocabulary (skipped in the text)\n`);
    if (x.prompts_truncated > 0) process.stderr.write(`${tag}: ${x.prompts_truncated} prompt(s) were cut to fit the model's context (kept their end)\n`);
  }
}

function output(o: EvalCliOptions, r: SuiteResult, table: boolean, cmp: Comparison | null): void {
  const detail = r.rows.flatMap((x) => (x.samples_detail ?? []).map((s) => ({ dataset: x.dataset, ...s })));
  for (const x of r.rows) delete x.samples_detail;
  // One dataset keeps its familiar JSON (the EvalResult) and report; a suite is one table.
  const single = !table && r.rows.length === 1;
  const { label: _l, ...one } = r.rows[0]!;
  const json = single ? { ...one, checkpoint: r.model, backend: r.backend, ...(cmp ? { comparison: cmp } : {}) } : suiteJson(r, cmp);
  if (o.out) writeJsonAtomic(o.out, json);
  if (o.csvOut) writeFileAtomic(o.csvOut, suiteCsv(r, cmp));
  const md = single ? renderEvalMarkdown(one, `${one.dataset}: ${r.model}`) + (cmp ? '\n' + comparisonMarkdown(cmp) + '\n' : '') : suiteMarkdown(r, cmp);
  if (o.mdOut) writeFileAtomic(o.mdOut, md);
  if (o.samplesOut) writeFileAtomic(o.samplesOut, detail.map((s) => JSON.stringify(s)).join('\n') + (detail.length ? '\n' : ''));
  process.stdout.write(o.json ? JSON.stringify(json, null, 2) + '\n' : o.csv ? suiteCsv(r, cmp) : md);
}

async function runEvalCommand(o: EvalCliOptions): Promise<void> {
  const { rows, suite, table } = plan(o);
  const fields: FieldMapping = {
    problem_field: o.problemField,
    answer_field: o.answerField,
    id_field: o.idField,
    difficulty_field: o.difficultyField,
    target_field: o.targetField,
    format: o.answerFormat,
  };
  // Loaded here, not at the top: it pulls in tfjs, which other commands (worker, sweep) need not load.
  const { runEvaluation } = await import('../../eval/run.js');
  if (!o.checkpoint === !o.model) throw new Error('eval: give exactly one of --checkpoint DIR, --model DIR');
  // one progress line per benchmark: elapsed time, time per problem and ETA
  const bars = new Map<string, Progress>();
  const r = await runEvaluation({
    model: { checkpoint: (o.checkpoint ?? o.model)!, backend: o.backend, engine: o.engine, llamaCpp: { dtype: o.llamaDtype, sequences: Math.min(256, o.batchSize) } },
    rows,
    suite,
    overrides: {
      samples: o.samples,
      temperature: o.temperature,
      top_p: o.topP,
      top_k: o.topK,
      budget: o.budget,
      count: o.count,
      seed: o.seed,
      split: o.split,
      score_truncated: o.scoreTruncated,
      target_length: o.targetLength,
    },
    template: o.template,
    fields,
    batchSize: o.batchSize,
    threads: o.threads ?? null,
    verifierMode: o.verifierMode,
    unknownChars: o.unknownChars,
    overlong: o.overlong,
    keepSamples: Boolean(o.samplesOut || o.against),
    onProgress: o.quiet ? undefined : (l, d, t) => {
      let bar = bars.get(l);
      if (!bar) bars.set(l, (bar = new Progress(`eval ${l}`, t, process.stderr, 0)));
      bar.update(d, 'problems');
    },
  });
  for (const b of bars.values()) b.done();
  warn(o, r);
  if (o.against) await attachAgainst(r.rows as never, o.against, o.oracle, o.quiet);
  output(o, r, table, comparisonFor(o, r));
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('Evaluate a checkpoint: pass@1 over n samples, pass@k, maj@k, lengths, truncation, accuracy per 1k tokens; one dataset or a suite table.')
    .option('--checkpoint <dir>', 'laconic checkpoint folder, a run folder (uses its checkpoints/latest), or a Hugging Face model folder')
    .option('--model <dir>', 'the same as --checkpoint (a Hugging Face model folder reads naturally here)')
    .option('--dataset <name|file>', "a dataset name (laconic data list) or a .json/.jsonl file (default: the checkpoint's eval_defaults.json)")
    .option('--datasets <a,b,c>', 'several datasets as one table, with their rows of --suite (default math) as presets')
    .option('--suite <name|file>', 'a suite preset (configs/eval/<name>.yaml, e.g. math) or a YAML file')
    .option('--samples <n>', 'completions per problem, n (pass@1 is their mean)', int('--samples', 1))
    .option('--temperature <t>', 'sampling temperature, 0 = greedy (default: greedy with one sample, else 1; presets 0.6)', num('--temperature', 0))
    .option('--top-p <p>', 'nucleus sampling mass (default 1; presets 0.95)', num('--top-p', Number.MIN_VALUE, 1))
    .option('--top-k <k>', 'top-k sampling (default 0 = off)', int('--top-k', 0))
    .option('--budget <n>', "max new tokens (default: the checkpoint's, the run's eval budget, else min(200, context/2))", int('--budget', 1))
    .option('--count <n>', 'first n problems of each set (0 = all; default 200, suites all)', int('--count', 0))
    .option('--seed <n>', 'sampling seed (synthetic: also the problem seed, as in training)', int('--seed', 0))
    .option('--split <name>', "split of a registered set (default test; synthetic eval)")
    .option('--score-truncated', 'score completions cut off by the budget by the verifier (default: incorrect, verdict truncated)')
    .option('--target-length <n>', 'target length in tokens for every problem: reports length adherence', int('--target-length', 1))
    .option('--template <text>', 'prompt template with {question} (default: the checkpoint\'s, else each set\'s)')
    .option('--problem-field <name>', "file datasets: the problem field (default problem, or question)")
    .option('--answer-field <name>', 'file datasets: the gold answer field (default answer)')
    .option('--id-field <name>', 'file datasets: an id field (default: the record index)')
    .option('--difficulty-field <name>', 'file datasets: a difficulty field for the breakdown')
    .option('--target-field <name>', 'file datasets: a per-problem target length field (length adherence)')
    .option('--answer-format <f>', 'file datasets: auto | gsm8k | math (default auto)', oneOf('--answer-format', ['auto', 'gsm8k', 'math'] as const))
    .option('--baseline <eval.json>', "compare with another model's evaluation (laconic eval --out): Δ accuracy, Δ length, AES")
    .option('--aes-alpha <w>', 'AES weight of the length saving (O1-Pruner: 1)', num('--aes-alpha', 0))
    .option('--aes-beta <w>', 'AES weight of an accuracy gain (O1-Pruner: 3)', num('--aes-beta', 0))
    .option('--aes-gamma <w>', 'AES weight of an accuracy loss (O1-Pruner: 5)', num('--aes-gamma', 0))
    .option('--batch-size <n>', 'prompts sampled together', int('--batch-size', 1), 64)
    .option('--threads <n>', 'verifier threads (default: cores)', int('--threads', 0))
    .addOption(new Option('--verifier-mode <mode>', "answer extraction: strict, or math_verify (Math-Verify's last-expression fallback)").choices(['strict', 'math_verify']).default('strict'))
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | wasm | cpu | webgpu', oneOf('--backend', BACKEND_CHOICES), 'auto')
    .option('--engine <name>', 'who samples: tfjs (the model itself) or llama_cpp (Hugging Face models; docs/llama-cpp.md)', oneOf('--engine', ['tfjs', 'llama_cpp'] as const), 'tfjs')
    .option('--llama-dtype <type>', 'llama_cpp: tensor type of the GGUF copy (f32 matches tfjs; bf16 is faster on CPUs with avx512_bf16)', oneOf('--llama-dtype', ['f32', 'f16', 'bf16', 'q8_0'] as const), 'f32')
    .option(
      '--unknown-chars <mode>',
      'prompt characters the tokenizer lacks: fold (lowercase / strip accents, else drop), drop, or error',
      oneOf('--unknown-chars', ['fold', 'drop', 'error'] as const),
      'fold',
    )
    .option(
      '--overlong <mode>',
      "prompts that leave no room for the budget in the model's context: truncate (keep BOS and the end) or error",
      oneOf('--overlong', ['truncate', 'error'] as const),
      'truncate',
    )
    .option('--json', 'print JSON instead of markdown')
    .option('--csv', 'print the table as CSV instead of markdown')
    .option('--out <file>', 'also write the JSON to this file (usable as --baseline later)')
    .option('--csv-out <file>', 'also write the table as CSV')
    .option('--md-out <file>', 'also write the markdown report')
    .option('--against <samples.jsonl>', "win rate and length-controlled win rate against another model's answers (its laconic eval --samples-out file) through --oracle")
    .option('--oracle <name|path>', 'preference oracle for --against: verifier_length | verifier | a module path', 'verifier_length')
    .option('--samples-out <file>', 'write every completion (dataset, text, verdict, length) as JSONL')
    .option('--quiet', 'no progress output')
    .action(runEvalCommand);
}
