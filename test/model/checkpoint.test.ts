import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../../src/model/safetensors.js';
import { CharTokenizer } from '../../src/model/tokenizers/char.js';
import { fullMask, randomSeqs, tiny, useWasm } from './helpers.js';

beforeAll(useWasm);
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'laconic-ckpt-'));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

const nll = { name: 'nll', params: {} };

describe('checkpoints', () => {
  it('round-trips weights bit-exactly, with config, tokenizer, rng and extra state', async () => {
    const p = tiny(21, { positional: 'learned', norm: 'layernorm', bias: true, tiedEmbeddings: false });
    const rng = new Rng('r');
    rng.next();
    const dir = path.join(tmpRoot, 'a');
    await saveCheckpoint(dir, { policy: p, rng, extra: { step: 7, shaper: { ema: [0.5] } } });
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'rng.json', 'state.json']) {
      expect(fs.existsSync(path.join(dir, f))).toBe(true);
    }
    expect(fs.existsSync(path.join(dir, 'optimizer.json'))).toBe(false);
    const ck = await loadCheckpoint(dir);
    expect(ck.policy.config).toEqual(p.config);
    expect(ck.policy.tokenizer!.toJSON()).toEqual(new CharTokenizer().toJSON());
    expect(ck.extra).toEqual({ step: 7, shaper: { ema: [0.5] } });
    expect(ck.rng!.next()).toBe(rng.next());
    expect(ck.optimizer).toBeNull();
    const a = p.getWeights();
    const b = ck.policy.getWeights();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(v.buffer))).toBe(true);
    p.dispose();
    ck.policy.dispose();
  });

  it('resuming the optimizer gives the identical next step', async () => {
    const seqs = randomSeqs(6, 5, 20, 4);
    const batch = { tokens: seqs, lossMask: fullMask(seqs) };
    const p = tiny(22);
    p.setOptimizer({ lr: 1e-3, warmupSteps: 3, totalSteps: 10 });
    for (let i = 0; i < 2; i++) await p.trainStep(batch, nll, { microBatchSize: 3 });
    const dir = path.join(tmpRoot, 'b');
    await saveCheckpoint(dir, { policy: p, optimizer: p.optimizer });
    const r1 = await p.trainStep(batch, nll, { microBatchSize: 3 });
    const ck = await loadCheckpoint(dir);
    expect(ck.optimizer!.step).toBe(2);
    const r2 = await ck.policy.trainStep(batch, nll, { microBatchSize: 3 });
    expect(r2.loss).toBe(r1.loss);
    expect(r2.gradNorm).toBe(r1.gradNorm);
    expect(r2.stats.lr).toBe(r1.stats.lr);
    const a = p.getWeights();
    const b = ck.policy.getWeights();
    for (const [k, v] of a) expect(Array.from(b.get(k)!)).toEqual(Array.from(v));
    p.dispose();
    ck.policy.dispose();
  });

  it('names the misshaped, missing or unexpected tensor', async () => {
    const p = tiny(23);
    const dir = path.join(tmpRoot, 'c');
    await saveCheckpoint(dir, { policy: p });
    const cfgFile = path.join(dir, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    // a config claiming a wider MLP than the weights have
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, mlpRatio: 2 }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`checkpoint ${dir}: tensor "h.0.mlp.c_fc.weight" has shape [32,128], expected [32,64]`);
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    const modelFile = path.join(dir, 'model.safetensors');
    const orig = fs.readFileSync(modelFile);
    const { tensors } = decodeSafetensors(orig, 'x');
    const less = new Map(tensors);
    less.delete('h.1.attn.c_proj.weight');
    fs.writeFileSync(modelFile, encodeSafetensors(less));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/tensor "h\.1\.attn\.c_proj\.weight" is missing \(expected shape \[32,32\]\)/);
    const more = new Map<string, NamedArray>(tensors);
    more.set('h.9.extra', { shape: [2], data: new Float32Array(2) });
    fs.writeFileSync(modelFile, encodeSafetensors(more));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/unexpected tensor "h\.9\.extra"/);
    fs.writeFileSync(modelFile, orig.subarray(0, orig.length - 10));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: tensor "[^"]+" has data_offsets .* outside the \d+-byte data section/);
    fs.writeFileSync(cfgFile, '{"dModel": 33');
    await expect(loadCheckpoint(dir)).rejects.toThrow(/config\.json is not valid JSON/);
    await expect(loadCheckpoint(path.join(tmpRoot, 'nope'))).rejects.toThrow(/no such checkpoint directory/);
    p.dispose();
  });

  it('falls back to the previous copy when a swap was interrupted', async () => {
    const p = tiny(24);
    const dir = path.join(tmpRoot, 'd');
    await saveCheckpoint(dir, { policy: p, extra: { n: 1 } });
    // the state swapDirAtomic leaves if killed between its two renames
    fs.renameSync(dir, `${dir}.old`);
    const ck = await loadCheckpoint(dir);
    expect(ck.extra).toEqual({ n: 1 });
    expect(ck.dir).toBe(`${dir}.old`);
    // the next save completes the swap and cleans up
    await saveCheckpoint(dir, { policy: p, extra: { n: 2 } });
    expect(fs.existsSync(`${dir}.old`)).toBe(false);
    expect((await loadCheckpoint(dir)).extra).toEqual({ n: 2 });
    p.dispose();
    ck.policy.dispose();
  });

  it('survives kill -9 during saves: the checkpoint stays loadable', async () => {
    const dir = path.join(tmpRoot, 'e');
    const script = path.join(tmpRoot, 'saver.mts');
    const src = path.resolve(__dirname, '../../src');
    fs.writeFileSync(
      script,
      `import { initBackend } from '${src}/backend/index.ts';
import { Policy } from '${src}/model/policy.ts';
import { saveCheckpoint } from '${src}/model/checkpoint.ts';
await initBackend('wasm');
const p = Policy.create({ vocabSize: 64, contextLength: 64, dModel: 128, nLayers: 4, nHeads: 4 }, { seed: 1 });
for (let i = 0; ; i++) {
  await saveCheckpoint(${JSON.stringify(dir)}, { policy: p, optimizer: p.optimizer, extra: { i } });
  if (i === 0) process.stdout.write('saved\\n');
}
`,
    );
    for (const delay of [10, 90]) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          if (d.toString().includes('saved')) setTimeout(resolve, delay);
        });
        child.on('exit', (code) => reject(new Error(`saver exited early with ${code}`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const ck = await loadCheckpoint(dir);
      expect(typeof ck.extra.i).toBe('number');
      expect(ck.policy.numParams).toBeGreaterThan(700_000);
      ck.policy.dispose();
    }
    // the next save removes the temporary directories of killed saves
    const p = tiny(25);
    await saveCheckpoint(dir, { policy: p });
    expect(fs.readdirSync(tmpRoot).filter((f) => f.startsWith('e.tmp-'))).toEqual([]);
    p.dispose();
  });
});
