#!/usr/bin/env node
import { Command } from 'commander';
import { setNativeOverride } from '../backend/native.js';
import { commands } from './commands/index.js';

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command();
  program
    .name('laconic')
    .description('Train language models to reason concisely: GRPO with pluggable length shapers, verifiers, DPO, sweeps.')
    .showHelpAfterError();
  for (const register of commands) register(program);
  addNativeOption(program);
  // --native holds for the whole process, worker threads included
  program.hook('preAction', (_root, cmd) => {
    const n = (cmd.opts() as { native?: string }).native;
    if (n !== undefined) setNativeOverride(n);
  });
  await program.parseAsync(argv);
}

/** Every command that takes --backend also takes --native (OpenBLAS matMul on wasm, see backend/native.ts). */
function addNativeOption(cmd: Command): void {
  const has = (flag: string) => cmd.options.some((o) => o.long === flag);
  if (has('--backend') && !has('--native')) {
    cmd.option('--native <mode>', 'OpenBLAS matMul on wasm: auto | on | off (wins over the config and LACONIC_NATIVE)');
  }
  for (const sub of cmd.commands) addNativeOption(sub);
}

