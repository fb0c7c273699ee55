import { z } from 'zod';

/** β, the inverse temperature of the implicit reward β·log(π/π_ref). TRL DPOConfig default 0.1. */
export const beta = (def = 0.1, what = 'inverse temperature of the implicit reward β·log(π/π_ref)') =>
  z.number().positive().default(def).describe(`β: ${what} (default ${def})`);
