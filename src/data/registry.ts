import type { Problem } from '../types.js';
import { loadGsm8k } from './loaders/gsm8k.js';
import { loadMath500 } from './loaders/math500.js';
import { loadMathTrain } from './loaders/mathTrain.js';
import { loadSvamp } from './loaders/svamp.js';
import type { LoaderOptions } from './loaders/common.js';
import { generateProblems, type SyntheticOptions } from './synthetic/generate.js';

export type DatasetName = 'synthetic' | 'gsm8k' | 'math500' | 'svamp' | 'math_train';

/**
 * Options for any dataset. Synthetic takes seed, count, split (train/test/eval), levels, names; the real
 * sets take split (only the splits they have), count, seed, template, file. Keys a dataset does not
 * know are rejected, so a typo (or `levels` on GSM8K) fails loudly instead of being ignored.
 */
export type DatasetOptions = SyntheticOptions & LoaderOptions & { split?: string };

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
// GSM8K has two real splits, so the caller must say which: a silent default could train on the test set.
registerDataset('gsm8k', withSplit('gsm8k', ['train', 'test'], undefined, (s, o) => loadGsm8k(s as 'train' | 'test', o)), 'GSM8K grade-school math, 7473 train / 1319 test');
registerDataset('math500', withSplit('math500', ['test'], 'test', (_s, o) => loadMath500(o)), 'MATH-500 test subset, 500 problems, levels 1-5');
registerDataset('svamp', withSplit('svamp', ['test'], 'test', (_s, o) => loadSvamp(o)), 'SVAMP one-step word problems, 1000 (an evaluation set)');
registerDataset('math_train', withSplit('math_train', ['train'], 'train', (_s, o) => loadMathTrain(o)), 'MATH train (DeepScaleR copy), 7470 problems with a gold');

export function datasetNames(): string[] {
  return [...registry.keys()];
}

export function describeDataset(name: string): string {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown dataset '${name}' (known: ${datasetNames().join(', ')})`);
  return e.description;
}

/** The registry entry point used by eval and the trainer. */
export function loadDataset(name: DatasetName | (string & {}), opts: DatasetOptions = {}): Problem[] {
  const e = registry.get(name);
  if (!e) throw new Error(`unknown dataset '${name}' (known: ${datasetNames().join(', ')})`);
  return e.loader(opts);
}
