import { main } from '../cli/index.js';

/**
 * The `laconic` CLI as a module that runs when started, so a sweep or worker can start its own CLI in
 * a child process both from the compiled package and from TypeScript under tsx (bin/laconic.js only
 * knows the compiled one).
 */
main(process.argv).catch((err) => {
  console.error(`laconic: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.LACONIC_DEBUG) console.error(err);
  process.exit(1);
});
