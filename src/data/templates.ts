/**
 * Prompt templates for the real datasets. `{question}` is replaced by the problem text. The GSM8K
 * template asks for the `#### N` line the GSM8K verifier extracts; the MATH template is the DeepScaleR
 * prompt (its math_train set is vendored here) asking for `\boxed{}`. Every loader takes a `template`
 * option to override these.
 */
export const TEMPLATES = {
  gsm8k: '{question}\nSolve it step by step, then write the final answer on the last line as: #### <number>\n',
  math: "{question} Let's think step by step and output the final answer within \\boxed{}.\n",
} as const;

export type TemplateName = keyof typeof TEMPLATES;

export const PLACEHOLDER = '{question}';

/** Fills `{question}` (every occurrence). split/join, not String.replace, so `$` in LaTeX stays literal. */
export function applyTemplate(template: string, question: string): string {
  if (!template.includes(PLACEHOLDER)) throw new Error(`prompt template must contain ${PLACEHOLDER}: ${JSON.stringify(template)}`);
  return template.split(PLACEHOLDER).join(question);
}
