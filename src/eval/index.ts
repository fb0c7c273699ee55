export * from './metrics.js';
export * from './evaluate.js';
export * from './render.js';
export { evaluateCheckpoint, resolveCheckpoint, problemsFor, type CheckpointEvalOptions, type ResolvedCheckpoint } from './checkpoint.js';
