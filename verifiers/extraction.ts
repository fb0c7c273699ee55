/**
 * What extraction returns. A leaf module: extract.ts (the markers) and lastExpression.ts (the last-expression
 * fallback) both return it without importing each other's types.
 */

export type AnswerSource = 'hash' | 'boxed' | 'final_answer' | 'answer_phrase' | 'last_expression' | 'last_number';

export interface Extraction {
  /** The answer text (for gsm8k markers other than \boxed, the number found, plain). */
  answer: string;
  source: AnswerSource;
}
