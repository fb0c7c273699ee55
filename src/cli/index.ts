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
  // --native (on the commands that take --backend) holds for the whole process, worker threads included
  program.hook('preAction', (_root, cmd) => {
    const n = (cmd.opts() as { native?: string }).native;
    if (n !== undefined) setNativeOverride(n);
  });
  await program.parseAsync(argv);
}
