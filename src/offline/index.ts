/**
 * laconic's offline mode: the DPO family of preference losses, preference data, cached reference
 * log-probabilities, pairs made from the policy's own rollouts, and the training loop.
 */
export {
  preferenceLosses,
  preferenceLossNames,
  getPreferenceLoss,
  parseLossParams,
  combinePreferenceLosses,
  combineLossTensors,
  resolveLossSpecs,
  lossSpecSchema,
  pairsFromTokenLogprobs,
  unpairedLosses,
  unpairedLossNames,
  getUnpairedLoss,
  stopGradient,
  log1mexp,
  type PreferenceLossName,
  type PreferenceLossParams,
  type PreferenceLossFn,
  type UnpairedLossFn,
  type UnpairedInputs,
  type PairInputs,
  type PairArrays,
  type PairTensors,
  type LossDefinition,
  type LossTensors,
  type LossSpec,
  type ResolvedLossSpec,
  type CombinedLoss,
  type TokenLogprobPairs,
} from '../objectives/preference/index.js';
export {
  parsePreferenceJsonl,
  parseUnpairedJsonl,
  parseOfflineJsonl,
  readPreferenceFile,
  readUnpairedFile,
  readOfflineData,
  writePreferenceFile,
  serializePreferencePairs,
  pairsToUnpaired,
  preferencePairSchema,
  unpairedExampleSchema,
  type PreferencePair,
  type UnpairedExample,
  type OfflineData,
} from './data.js';
export { encodeSequence, encodePairs, encodeUnpaired, completionMask, type EncodeOptions, type EncodedSeq, type EncodedPair, type EncodedUnpaired } from './encode.js';
export { getRefLogprobs, refCacheKey, hashFile, hashWeights, defaultRefCacheDir, type RefCacheKeyParts, type RefLogprobsResult } from './refcache.js';
export { referenceLogprobs, type ReferenceRequest } from './reference.js';
export { PREFERENCE_OBJECTIVE, preferenceObjective, preferenceObjectiveParamsSchema, type PreferenceObjectiveParams } from '../objectives/preference/objective.js';
export {
  makePairs,
  pairStrategies,
  pairStrategyNames,
  getPairStrategy,
  type Candidate,
  type PairChoice,
  type PairStrategy,
  type PairStrategyName,
  type MakePairsOptions,
  type MakePairsResult,
  type MakePairsStats,
  type PairSamplingPolicy,
  type PairVerifier,
} from './pairs.js';
export { generatePairs, type GeneratePairsOptions } from './selfpairs.js';
export { DpoConfigSchema, loadDpoConfig, resolveDpoConfig, type DpoConfig, type DpoConfigInput } from './config.js';
export { runDpo, evaluatePreferences, type DpoOptions, type DpoResult, type DpoState, type PreferenceEval } from './train.js';
export { makeOracle, loadOracle, winRates, rankByOracle, oracleNames, oracleSpecSchema, describeOracles, type PreferenceOracle, type OracleItem, type OracleSpec } from './oracle.js';
export { builders, builderNames, rsoAccept, type Builder, type BuilderName } from './builders.js';
export { listRowSchema, parseListJsonl, readListFile, writeListFile, type ListRow } from './lists.js';
export { makeLists, allStrategyNames, type MakeListsResult } from './pairs.js';
export { iterativeAlgorithms, iterativeAlgorithmNames, getIterativeAlgorithm, referenceMixture, type IterativeAlgorithm, type IterativeAlgorithmName } from './iterative.js';
export { mixedReferenceLogprobs, type ReferenceTermCheckpoint } from './reference.js';
export { rankingAccuracy, pairPreference, pairScores, type RankingResult } from './ranking.js';
export { lengthControlledWinRate, compareThroughOracle, type LcResult } from './lcwinrate.js';
export { winRateAgainst, readAnswerRecords, attachAgainst, type AgainstResult } from './against.js';
export { listLoss, listLossNames, type ListInputs, type ListLossName } from '../objectives/preference/listwise.js';
export { describeLosses, formatLosses, type LossCatalog } from './catalog.js';
