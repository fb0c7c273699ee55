import type { Command } from 'commander';
import { register as data } from './data.js';
import { register as demo } from './demo.js';
import { register as rewards } from './rewards.js';
import { register as schemes } from './schemes.js';
import { register as sft } from './sft.js';
import { register as train } from './train.js';

/**
 * Every CLI command lives in its own module exporting `register(program)`; commands are thin
 * wrappers over library functions (whatever the CLI does, a TypeScript user can call).
 */
export const commands: Array<(program: Command) => void> = [demo, train, sft, data, schemes, rewards];
