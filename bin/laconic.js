#!/usr/bin/env node
import { main } from '../dist/src/cli/index.js';

main(process.argv).catch((err) => {
  console.error(`laconic: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.LACONIC_DEBUG) console.error(err);
  process.exit(1);
});
