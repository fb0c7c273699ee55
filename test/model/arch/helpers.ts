import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { iterHfTensors } from '../../../src/model/hf/safetensors.js';
import { makeTinyHfCheckpoint, type TinyHfCheckpoint, type TinyHfOptions } from '../../../src/model/hf/tiny.js';
import type { HfWeights } from './reference64.js';

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `laconic-arch-${prefix}-`));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A tiny checkpoint under `root/name`; initStd 0.15 so attention is far from uniform and a wrong op shows. */
export function tinyCk(root: string, name: string, opts: TinyHfOptions): TinyHfCheckpoint {
  return makeTinyHfCheckpoint(path.join(root, name), { initStd: 0.15, ...opts });
}

/** Every tensor of an HF folder in HF layout, read by the safetensors reader (not laconic's loader). */
export function readHf(dir: string): { cfg: Record<string, unknown>; w: HfWeights } {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const w: HfWeights = new Map();
  for (const t of iterHfTensors(dir)) w.set(t.name, t.data);
  return { cfg, w };
}

/** Deterministic token rows over [0, vocab) (an LCG, independent of the project's Rng). */
export function tokenRows(lengths: number[], vocab: number, seed = 11): number[][] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return lengths.map((n) => Array.from({ length: n }, () => Math.floor(next() * vocab)));
}

export function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A seeded N(0, std) Float32Array (Box–Muller on an LCG). */
export function randn(n: number, std: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}
