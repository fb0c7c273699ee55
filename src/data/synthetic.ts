/**
 * The built-in synthetic task: chains of one-digit modular arithmetic with reference solutions from
 * verbose to concise. See synthetic/spec.ts for why the task looks the way it does.
 */
export { SYNTHETIC_ALPHABET, alphabetViolations, inSyntheticAlphabet, assertSyntheticAlphabet } from './synthetic/alphabet.js';
export {
  type Op,
  OPS,
  MODULUS,
  START_VALUES,
  OPERANDS,
  type LevelSpec,
  LEVELS,
  ALL_LEVELS,
  NAME_POOL,
  FIXED_NAMES,
  CONTEXT_CHARS,
  MAX_TEXT_CHARS,
  TASK_VERSION,
  type SyntheticSplit,
  SPLIT_BUCKETS,
  applyOp,
} from './synthetic/spec.js';
export {
  type ChainStep,
  type SyntheticChain,
  chainValues,
  chainAnswer,
  chainLevel,
  skeletonKey,
  contentKey,
  splitOf,
  problemId,
} from './synthetic/chain.js';
export { type SolutionStyle, STYLES, STYLE_RENDERERS, renderPrompt, renderSolutions, answerLine } from './synthetic/styles.js';
export {
  type SyntheticProblem,
  type SyntheticOptions,
  SyntheticOptionsSchema,
  parseSyntheticOptions,
  validateChain,
  isSyntheticProblem,
  makeProblem,
  generateProblems,
} from './synthetic/generate.js';
export { type ParsedStep, type StepCheckOptions, parseSteps, checkSteps, checkChain } from './synthetic/steps.js';
export {
  type StyleMix,
  type SftPair,
  type SftOptions,
  SftOptionsSchema,
  DEFAULT_SFT_MIX,
  parseMix,
  styleQuotas,
  makeSftPairs,
  writeSftJsonl,
  readSftJsonl,
} from './synthetic/sft.js';
export { type DrillFact, type DrillPair, DRILL_PROMPT, allFacts, drillLossChars, makeDrillPairs } from './synthetic/drill.js';
export {
  TRADEOFF_TASK_VERSION,
  TRADEOFF_LEVELS,
  TRADEOFF_ALL_LEVELS,
  type TradeoffProblem,
  type TradeoffOptions,
  TradeoffOptionsSchema,
  parseTradeoffOptions,
  tradeoffSkeletonKey,
  tradeoffSplitOf,
  tradeoffProblemId,
  tradeoffStepLine,
  renderTradeoffSolution,
  makeTradeoffProblem,
  generateTradeoffProblems,
  isTradeoffProblem,
} from './synthetic/tradeoff.js';
export { type TradeoffSftPair, type TradeoffSftOptions, TradeoffSftOptionsSchema, writtenDistribution, makeTradeoffSftPairs } from './synthetic/tradeoffSft.js';
export { type CurveSample, type CurveRow, writtenSteps, accuracyBySkipped } from './synthetic/tradeoffCurve.js';
