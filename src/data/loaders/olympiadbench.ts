import { z } from 'zod';
import type { DatasetProblem, LoaderOptions } from './common.js';
import { benchmarkLoader, benchmarkRecord } from './benchmark.js';

/**
 * OlympiadBench, the English, text-only, open-ended maths part (OE_TO_maths_en_COMP, 675 problems;
 * data/olympiadbench, from QwenLM/Qwen2.5-Math). The vendored file is already that subset, so the loader
 * filters nothing; it checks the subset instead (`source` names it), so a different OlympiadBench file
 * given with `file` is refused rather than silently mixed in. Gold is `final_answer[0]` without `$`:
 * 94 answers have several parts ("69,84"), compared as tuples by the verifier. `subfield` is the subject.
 */
const olympiadRecord = benchmarkRecord.extend({
  source: z.literal('OlympiadBench OE_TO_maths_en_COMP', {
    message: "not an English text-only open-ended maths record (source 'OlympiadBench OE_TO_maths_en_COMP')",
  }),
  subfield: z.string().min(1),
});

export const loadOlympiadBench: (opts?: LoaderOptions) => DatasetProblem[] = benchmarkLoader({
  name: 'olympiadbench',
  folder: 'olympiadbench',
  schema: olympiadRecord,
  subject: (r) => r.subfield,
});
