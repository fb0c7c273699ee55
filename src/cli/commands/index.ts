import type { Command } from 'commander';
import { register as config } from './config.js';
import { register as data } from './data.js';
import { register as demo } from './demo.js';
import { register as dpo } from './dpo.js';
import { register as evalCmd } from './eval.js';
import { register as losses } from './losses.js';
import { register as pairs } from './pairs.js';
import { register as report } from './report.js';
import { register as rewards } from './rewards.js';
import { register as schemes } from './schemes.js';
import { register as sft } from './sft.js';
import { register as sweep } from './sweep.js';
import { register as train } from './train.js';
import { register as verify } from './verify.js';
import { register as worker } from './worker.js';
import { register as exportCmd } from './export.js';
import { register as score } from './score.js';
import { register as generate } from './generate.js';

/**
 * Every CLI command lives in its own module exporting `register(program)`; commands are thin
 * wrappers over library functions (whatever the CLI does, a TypeScript user can call).
 */
export const commands: Array<(program: Command) => void> = [
  demo,
  train,
  sft,
  dpo,
  pairs,
  evalCmd,
  verify,
  schemes,
  losses,
  rewards,
  sweep,
  worker,
  report,
  data,
  config,
  exportCmd,
  score,
  generate,
];
