/**
 * laconic's math answer verifiers: extraction, normalisation, comparison, the guard, and the
 * worker pool. See each file's header for the rules it implements.
 */
export { verify, type VerifyOptions, type VerifyResult } from './verify.js';
export { extract, extractAnswer, lastNumber, EXTRACT_MODES, type ExtractMode, type ExtractOptions, type Extraction, type AnswerSource } from './extract.js';
export { lastExpression } from './lastExpression.js';
export { normalizeGold } from './gold.js';
export { isEquivalent, nodesEqual } from './compare/index.js';
export { parseAnswer } from './parse.js';
export { normaliseLatex } from './normalise.js';
export { assess, type Assessment } from './guard.js';
export { LIMITS, GuardError, ParseError } from './limits.js';
export { VerifierPool, type VerifierPoolOptions, type PoolItem, type PoolResult, type PoolStats } from './pool.js';
export { verifyJsonl, formatSummary, parseLine, type VerifyJsonlOptions, type VerifyJsonlSummary } from './jsonl.js';
