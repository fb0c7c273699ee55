import type { Problem } from '../types.js';
import { loadGsm8k } from './loaders/gsm8k.js';
import { loadMath500 } from './loaders/math500.js';
import { loadMathTrain } from './loaders/mathTrain.js';
import { loadSvamp } from './loaders/svamp.js';
import type { LoaderOptions } from './loaders/common.js';
import { loadAime24, loadAime25 } from './loaders/aime.js';
import { loadAmc23 } from './loaders/amc23.js';
import { isDatasetPath, loadProblemFile, type FileDatasetOptions } from './loaders/file.js';
import { loadMinerva } from './loaders/minerva.js';
import { loadOlympiadBench } from './loaders/olympiadbench.js';
import { generateProblems, type SyntheticOptions } from './synthetic/generate.js';
import { generateTradeoffProblems, type TradeoffOptions } from './synthetic/tradeoff.js';

export type DatasetName = 'synthetic' | 'synthetic_tradeoff' | 'gsm8k' | 'math500' | 'svamp' | 'math_train' | 'aime24' | 'aime25' | 'amc23' | 'olympiadbench' | 'minerva';

/**
 * Options for any dataset. Synthetic takes seed, count, split (train/test/eval), levels, names; the real
 * sets take split (only the splits they have), count, seed, template, file. Keys a dataset does not
 * know are rejected, so a typo (or `levels` on GSM8K) fails loudly instead of being ignored.
 */
export type DatasetOptions = SyntheticOptions & LoaderOptions & Omit<FileDatasetOptions, 'format'> & { split?: string; format?: string };

export type DatasetLoader = (opts: DatasetOptions) => Problem[];

interface Entry {
  loader: DatasetLoader;
  description: string;
}

const registry = new Map<string, Entry>();

export function registerDataset(name: string, loader: DatasetLoader, description: string): void {
  if (registry.has(name)) throw new Error(`dataset '${name}' is already registered`);
  registry.set(name, { loader, description });
}

/** A real set has fixed splits: check the one asked for and pass the other options on. */
function withSplit(name: string, allowed: readonly string[], fallback: string | undefined, load: (split: string, rest: LoaderOptions) => Problem[]): DatasetLoader {
  return (opts) => {
    const { split, ...rest } = opts as DatasetOptions;
    const s = split ?? fallback;
    if (s === undefined) throw new Error(`dataset '${name}': split is required (${allowed.join(' or ')})`);
    if (!allowed.includes(s)) throw new Error(`dataset '${name}': split must be ${allowed.join(' or ')}, got ${JSON.stringify(s)}`);
    return load(s, rest as LoaderOptions);
  };
}

registerDataset('synthetic', (opts) => generateProblems(opts as SyntheticOptions), 'built-in modular arithmetic chains, levels 1-3 (splits train/test/eval)');
registerDataset('synthetic_tradeoff', (opts) => generateTradeoffProblems(opts as TradeoffOptions), '4-6 independent facts, answer one bit (value > 1) per fact; each fact left unwritten costs part of the accuracy, levels 1-3 (splits train/test/eval)');
// GSM8K has two real splits, so the caller must say which: a silent default could train on the test set.
registerDataset('gsm8k', withSplit('gsm8k', ['train', 'test'], undefined, (s, o) => loadGsm8k(s as 'train' | 'test', o)), 'GSM8K grade-school math, 7473 train / 1319 test');
registerDataset('math500', withSplit('math500', ['test'], 'test', (_s, o) => loadMath500(o)), 'MATH-500 test subset, 500 problems, levels 1-5');
registerDataset('svamp', withSplit('svamp', ['test'], 'test', (_s, o) => loadSvamp(o)), 'SVAMP one-step word problems, 1000 (an evaluation set)');
registerDataset('math_train', withSplit('math_train', ['train'], 'train', (_s, o) => loadMathTrain(o)), 'MATH train (DeepScaleR copy), 7470 problems with a gold');
registerDataset('aime24', withSplit('aime24', ['test'], 'test', (_s, o) => loadAime24(o)), 'AIME 2024 (I and II), 30 problems, integer answers');
registerDataset('aime25', withSplit('aime25', ['test'], 'test', (_s, o) => loadAime25(o)), 'AIME 2025 (I and II), 30 problems, integer answers');
registerDataset('amc23', withSplit('amc23', ['test'], 'test', (_s, o) => loadAmc23(o)), 'AMC 12 2023, 40 numeric-answer problems');
registerDataset('olympiadbench', withSplit('olympiadbench', ['test'], 'test', (_s, o) => loadOlympiadBench(o)), 'OlympiadBench English text-only open-ended maths, 675 problems');
registerDataset('minerva', withSplit('minerva', ['test'], 'test', (_s, o) => loadMinerva(o)), 'Minerva Math (MIT OCW courses), 272 problems, LaTeX answers');

export function datasetNames(): string[] {
  return [...registry.keys()];
}

export function describeDataset(name: string): string {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown dataset '${name}' (known: ${datasetNames().join(', ')})`);
  return e.description;
}

/**
 * The registry entry point used by eval and the trainer. A name ending in .json or .jsonl that is not
 * registered is read as a file of your own (loaders/file.ts: field mapping, format, template).
 */
export function loadDataset(name: DatasetName | (string & {}), opts: DatasetOptions = {}): Problem[] {
  const e = registry.get(name);
  if (!e && isDatasetPath(name)) return loadProblemFile(name, opts as FileDatasetOptions);
  if (!e) throw new Error(`unknown dataset '${name}' (known: ${datasetNames().join(', ')}; or a path to a .json/.jsonl file)`);
  return e.loader(opts);
}
