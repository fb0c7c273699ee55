import type { Command } from 'commander';

/**
 * Every CLI command lives in its own module exporting `register(program)`; commands are thin
 * wrappers over library functions (whatever the CLI does, a TypeScript user can call).
 */
export const commands: Array<(program: Command) => void> = [];
