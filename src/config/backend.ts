import { z } from 'zod';

/**
 * The compute backend a run asks for: the one list the run configs (GRPO, DPO, SFT) and the CLI share;
 * src/backend/index.ts initialises the choice. A leaf, so a config schema names the backends without
 * loading tfjs.
 */

/** tfjs backends: auto picks tensorflow (tfjs-node) when installed, else wasm. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu', 'webgpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The OpenBLAS addon under wasm: auto (if built), on (error if not), off. */
export const NATIVE_MODES = ['auto', 'on', 'off'] as const;

/** The `backend` and `native` fields of every run config. */
export const backendFields = {
  backend: z.enum(BACKEND_CHOICES).default('auto').describe('tfjs backend.'),
  native: z
    .enum(NATIVE_MODES)
    .nullable()
    .default(null)
    .describe('Matrix products on the OpenBLAS addon when the backend is wasm: auto (if built), on (error if not), off; null = LACONIC_NATIVE, else auto. The CLI --native wins.'),
};
