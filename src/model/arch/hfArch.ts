import * as tf from '@tensorflow/tfjs';
import { alignToTargets, nextTargets } from '../forward.js';
import { vocabLogprobs } from '../ops/vocab.js';
import { compactHfCache, disposeHfCache, hfDecodeStep, hfForward, hfHead, hfHeadForSampling, hfLogits, hfParamSpecs, hfPrefill, type HfKvCache } from './hf.js';
import { hfActivationBytes } from './memory.js';
import type { Architecture } from './types.js';

/** The HF decoder family (llama incl. SmolLM2, qwen2, qwen3) behind the Architecture interface; the block is in hf.ts. */
export const hfArch: Omit<Architecture, 'name'> = {
  specs: hfParamSpecs,
  // through the chunked vocabulary op (ops/vocab.ts): a 150k vocabulary never materialises
  score: (core, grid, lengths, o) => {
    const { hidden } = hfForward(core, grid, { dropoutSeed: o.dropoutSeed, adaptersOff: o.adaptersOff, layerTidy: o.inference });
    const { tgt } = nextTargets(grid);
    const head = hfHead(core);
    const frozenHead = !(head.w as tf.Tensor as tf.Variable).trainable;
    const r = vocabLogprobs(hidden, head.w, tgt, { temperature: o.temperature ?? 1, withEntropy: !!o.withEntropy, vocabRows: head.vocabRows, frozenHead });
    const [lp, ent] = tf.split(r, 2, 1) as [tf.Tensor2D, tf.Tensor2D];
    const shape: [number, number] = [grid.m, grid.T];
    return alignToTargets(tf.reshape(lp, shape) as tf.Tensor2D, o.withEntropy ? (tf.reshape(ent, shape) as tf.Tensor2D) : null, grid, lengths);
  },
  logits: (core, grid, _impl, adaptersOff) => hfLogits(core, hfForward(core, grid, { adaptersOff, layerTidy: true }).hidden),
  activationBytes: hfActivationBytes,
  jsDecoder: false,
  cache: {
    begin: (core) => {
      const head = hfHeadForSampling(core);
      return { head, dispose: () => head?.dispose() };
    },
    prefill: (core, prompts, ctx) => hfPrefill(core, prompts, { head: ctx.head }),
    step: (core, ids, pos, cache, ctx) => hfDecodeStep(core, ids, pos, cache as HfKvCache, { head: ctx.head }),
    compact: (cache, keep) => compactHfCache(cache as HfKvCache, keep),
    dispose: (cache) => disposeHfCache(cache as HfKvCache),
  },
};
