export * from './config.js';
export * from './objective.js';
export * from './policy.js';
export * from './optimizer.js';
export * from './checkpoint.js';
export * from './safetensors.js';
export { paramSpecs, countParams, type ParamSpec } from './params.js';
export * from './tokenizers/index.js';
export { nllObjective } from './objectives/nll.js';
