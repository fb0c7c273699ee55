#!/usr/bin/env node
import { Command } from 'commander';
import { commands } from './commands/index.js';

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = new Command();
  program
    .name('laconic')
    .description('Train language models to reason concisely: GRPO with pluggable length shapers, verifiers, DPO, sweeps.')
    .showHelpAfterError();
  for (const register of commands) register(program);
  await program.parseAsync(argv);
}
