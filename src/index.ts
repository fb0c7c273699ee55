/**
 * laconic's library entry: whatever the CLI does, a TypeScript user can call.
 * Sub-areas are also exported as namespaces (model, data, rewards, verifiers, ...) so that names
 * that exist in two areas (e.g. two `mean` helpers) stay unambiguous.
 */
export * from './types.js';
export { Rng, type RngState } from './util/rng.js';
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.js';
export { initBackend } from './backend/index.js';

// policy, checkpoints, tokenizers, objectives
export {
  Policy,
  saveCheckpoint,
  loadCheckpoint,
  ModelConfigSchema,
  parseModelConfig,
  Optimizer,
  CharTokenizer,
  registerObjective,
  getObjective,
  listObjectives,
  type ModelConfig,
  type SeqBatch,
  type Objective,
  type ObjectiveContext,
  type Tokenizer,
} from './model/index.js';
export * as model from './model/index.js';

// data
export { loadDataset, generateProblems, makeSftPairs, checkSteps, datasetNames } from './data/index.js';
export * as data from './data/index.js';

// verifiers
export { verify, extractAnswer, isEquivalent, VerifierPool, verifyJsonl } from '../verifiers/index.js';
export * as verifiers from '../verifiers/index.js';

// shapers, curricula, advantages, objectives
export { combine, resolveSpecs, initStates, pipelineBudget } from '../rewards/pipeline.js';
export { getShaper, listShapers, registerShaper } from '../rewards/index.js';
export * as rewards from '../rewards/index.js';
export * as curricula from '../curricula/index.js';
export { computeAdvantages, getAdvantage, registerAdvantage, listAdvantages } from '../rewards/advantages.js';
export { ppoClipLoss, klEstimate } from './objectives/policy/ppoClip.js';
import './objectives/policy/index.js';

// training
export { TrainConfigSchema, resolveTrainConfig, loadTrainConfig, type TrainConfig } from './trainer/config.js';
export { runGrpo, type GrpoOptions, type GrpoResult } from './trainer/grpo.js';
export { SftConfigSchema, loadSftConfig, runSft, type SftConfig } from './sft/sft.js';
export { runDemo, demoConfig, demoTable, type DemoResult } from './demo/demo.js';
export { readConfigFile, applySets, deepMerge } from './config/load.js';

// offline
export { preferenceLosses, runDpo, loadDpoConfig, generatePairs } from './offline/index.js';
export * as offline from './offline/index.js';

// evaluation and sweeps
export { evaluate, evaluateCheckpoint, passAtK, summarize } from './eval/index.js';
export * as evaluation from './eval/index.js';
export { runSweep, loadSweep, planSweep, runWorker, writeReport, paretoFrontier } from './sweep/index.js';
export * as sweep from './sweep/index.js';
