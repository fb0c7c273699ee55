import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The package root (the folder holding laconic's package.json), from src/ or dist/src/ alike. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: unknown }).name === 'laconic') return (cachedRoot = dir);
      } catch {
        /* keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('laconic: cannot find the package root (package.json named "laconic")');
    dir = up;
  }
}

/**
 * Locate a worker entry next to the calling module. Under vitest/tsx the caller is a .ts file and
 * the worker must be loaded through tsx; from the compiled dist/ it is plain .js.
 * `rel` is written without extension, e.g. workerEntry(import.meta.url, './poolWorker').
 */
export function workerEntry(callerUrl: string, rel: string): { filename: string; execArgv: string[] } {
  const callerFile = fileURLToPath(callerUrl);
  const ext = path.extname(callerFile);
  const filename = path.resolve(path.dirname(callerFile), rel + (ext === '.ts' ? '.ts' : '.js'));
  const execArgv = ext === '.ts' ? ['--import', 'tsx'] : [];
  return { filename, execArgv };
}
