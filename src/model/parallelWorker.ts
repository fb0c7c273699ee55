import { appendFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendChoice } from '../backend/index.js';
import type { WorkerInit } from './parallel.js';
import { Rng } from '../util/rng.js';
import { Policy, type ForwardImpl, type SampleOptions } from './policy.js';

/** Entry of a data-parallel worker (see parallel.ts). */
const init = workerData as WorkerInit;
const port = parentPort!;

function readWeights(): Map<string, Float32Array> {
  const all = new Float32Array(init.weights);
  const m = new Map<string, Float32Array>();
  for (const e of init.layout) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    m.set(e.name, all.slice(e.offset, e.offset + n));
  }
  return m;
}

async function main(): Promise<void> {
  await initBackend(init.backend as BackendChoice);
  for (const m of init.objectiveModules) await import(m);
  const policy = Policy.fromWeights(init.config as never, readWeights(), { tokenizer: null, impl: init.impl as ForwardImpl });
  policy.core.attnBlockRows = init.attnBlockRows;
  port.on('message', (msg: { type: string; id: number; [k: string]: unknown }) => {
    try {
      if (msg.type === 'weights') {
        policy.setWeights(readWeights());
        return;
      }
      if (msg.type === 'sample' || msg.type === 'logprobs') {
        const run =
          msg.type === 'sample'
            ? policy.sample(msg.prompts as number[][], {
                ...(msg.opts as Omit<SampleOptions, 'rng'>),
                rng: new Rng(msg.seed as number),
                parallel: false,
              })
            : policy.logprobs(msg.tokens as number[][], { ...(msg.opts as object), parallel: false });
        run.then(
          (value) => port.postMessage({ type: 'value', id: msg.id, value }),
          (e: unknown) => port.postMessage({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) }),
        );
        return;
      }
      if (msg.type === 'grads') {
        const t0 = performance.now();
        const r = policy.accumulateMicro(
          msg.batch as never,
          msg.objective as never,
          msg.micro as number[][],
          msg.seeds as (number | undefined)[],
          msg.totals as never,
        );
        if (process.env.LACONIC_DEBUG_WORKERS) appendFileSync(process.env.LACONIC_DEBUG_WORKERS, `worker end ${Date.now()} took ${(performance.now() - t0).toFixed(0)}ms\n`);
        const grads: Record<string, Float32Array> = {};
        for (const [k, g] of r.grads) {
          grads[k] = g.dataSync() as Float32Array;
          g.dispose();
        }
        port.postMessage(
          { type: 'grads', id: msg.id, grads, loss: r.loss, stats: r.stats },
          Object.values(grads).map((a) => a.buffer as ArrayBuffer),
        );
      }
    } catch (e) {
      port.postMessage({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ type: 'ready' });
}

main().catch((e) => {
  port.postMessage({ type: 'error', id: 0, message: `init failed: ${e instanceof Error ? e.message : String(e)}` });
});
