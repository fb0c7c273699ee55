import { afterAll, describe, expect, it } from 'vitest';
import { VerifierPool, type PoolItem } from '../../verifiers/pool.js';
import { DEBUG_CRASH, DEBUG_HANG } from '../../verifiers/poolWorker.js';
import { verify } from '../../verifiers/verify.js';

const TIMEOUT_MS = 800;

function mixedItems(n: number): PoolItem[] {
  const out: PoolItem[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) out.push({ response: `We add 3 and 4 first.\n#### ${i}`, gold: `#### ${i}`, format: 'gsm8k' });
    else if (i % 3 === 1) out.push({ response: `So $\\boxed{\\frac{${i}}{2}}$`, gold: `${i / 2}`, format: 'math' });
    else out.push({ response: `Hence \\boxed{${i}\\sqrt{2}}`, gold: `\\sqrt{${2 * i * i + 1}}`, format: 'math' }); // wrong
  }
  return out;
}

describe('VerifierPool', () => {
  // One pool for the file: every worker start-up costs seconds under tsx.
  const pool = new VerifierPool({ threads: 2, timeoutMs: TIMEOUT_MS, chunkSize: 8, debugHooks: true });
  afterAll(async () => {
    await pool.close();
  });

  it('starts each clock when the task runs, not while workers load or tasks queue', async () => {
    // The workers are still loading (tsx + mathjs take longer than TIMEOUT_MS): nothing may time out.
    const items = mixedItems(60);
    const t0 = performance.now();
    const res = await pool.verifyBatch(items);
    const waited = performance.now() - t0;
    expect(res.map((r) => r.verdict)).toEqual(items.map((it) => verify(it.response, it.gold, it.format).verdict));
    expect(res.every((r) => r.ms >= 0 && r.ms < TIMEOUT_MS)).toBe(true);
    expect(waited).toBeGreaterThan(0);
    // 60 items in chunks of at most 8, not 60 tasks.
    expect(pool.stats().tasks).toBeLessThanOrEqual(16);
  });

  it('times out a hanging item, errors a crashing one, and keeps every other item of the batch', async () => {
    const items = mixedItems(40);
    items[5] = { response: DEBUG_HANG, gold: '1', format: 'gsm8k' };
    items[12] = { response: DEBUG_CRASH, gold: '1', format: 'gsm8k' };
    items[30] = { response: DEBUG_HANG, gold: '1', format: 'math' };
    const before = pool.stats();
    const res = await pool.verifyBatch(items);
    expect(res[5]!.verdict).toBe('timeout');
    expect(res[5]!.correct).toBe(false);
    expect(res[5]!.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(res[30]!.verdict).toBe('timeout');
    expect(res[12]!.verdict).toBe('error');
    for (let i = 0; i < items.length; i++) {
      if (i === 5 || i === 12 || i === 30) continue;
      expect(res[i]!.verdict, `item ${i}`).toBe(verify(items[i]!.response, items[i]!.gold, items[i]!.format).verdict);
    }
    const after = pool.stats();
    expect(after.verdicts.timeout - before.verdicts.timeout).toBe(2);
    expect(after.verdicts.error - before.verdicts.error).toBe(1);
    expect(after.workersReplaced - before.workersReplaced).toBe(3);
  });

  it('goes on verifying after replacing workers', async () => {
    const res = await pool.verifyBatch([
      { response: 'The answer is \\boxed{x \\in [0, 1)}', gold: '[0,1)', format: 'math' },
      { response: '#### 7', gold: '7', format: 'gsm8k' },
      { response: 'nothing', gold: '7', format: 'gsm8k' },
    ]);
    expect(res.map((r) => r.verdict)).toEqual(['correct', 'correct', 'no_answer']);
    expect(res[0]!.extracted).toBe('x \\in [0, 1)');
    const s = pool.stats();
    expect(s.items).toBe(103);
    expect(s.msP99).toBeGreaterThanOrEqual(s.msP50);
  });

  it('resolves an empty batch at once', async () => {
    expect(await pool.verifyBatch([])).toEqual([]);
  });
});

describe('VerifierPool in-thread paths', () => {
  it('verifies in the calling thread with threads: 0', async () => {
    const p = new VerifierPool({ threads: 0 });
    const items = mixedItems(9);
    const res = await p.verifyBatch(items);
    expect(res.map((r) => r.correct)).toEqual(items.map((it) => verify(it.response, it.gold, it.format).correct));
    expect(p.stats().inThreadItems).toBe(9);
    await p.close();
    await expect(p.verifyBatch(items)).rejects.toThrow(/closed/);
  });

  it("decides plain-number items in-thread with inThread: 'plain' and sends the rest to workers", async () => {
    const p = new VerifierPool({ threads: 1, inThread: 'plain', timeoutMs: 2000 });
    const res = await p.verifyBatch([
      { response: '#### 18', gold: 'x\n#### 18', format: 'gsm8k' },
      { response: 'no number', gold: '18', format: 'gsm8k' },
      { response: '\\boxed{\\frac{1}{2}}', gold: '0.5', format: 'math' },
    ]);
    expect(res.map((r) => r.verdict)).toEqual(['correct', 'no_answer', 'correct']);
    expect(p.stats().inThreadItems).toBe(2);
    await p.close();
  });

  it('validates its options', () => {
    expect(() => new VerifierPool({ threads: -1 })).toThrow(/threads/);
    expect(() => new VerifierPool({ threads: 0, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new VerifierPool({ threads: 0, chunkSize: 0 })).toThrow(/chunkSize/);
  });
});

describe('VerifierPool.close', () => {
  it('resolves the items of a batch still running with verdict error', async () => {
    const p = new VerifierPool({ threads: 1, timeoutMs: 60_000, debugHooks: true });
    const pending = p.verifyBatch([
      { response: DEBUG_HANG, gold: '1', format: 'gsm8k' },
      { response: '#### 1', gold: '1', format: 'gsm8k' },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    await p.close();
    const res = await pending;
    expect(res.map((r) => r.verdict)).toEqual(['error', 'error']);
    expect(p.stats().verdicts.error).toBe(2);
  });
});
