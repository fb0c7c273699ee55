import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { loadLlama } from '../../src/rollout/llamaCpp.js';

/**
 * What every llama.cpp test file needs: a temporary folder removed after its tests, the cpu backend, and why
 * node-llama-cpp's binary cannot load here (null when it loads; the tests skip with that reason).
 */
export function llamaTestSetup(prefix: string): { root: string; binaryError: () => string | null } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let error: string | null = null;
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeAll(async () => {
    await initBackend('cpu');
    try {
      await loadLlama(false); // the process's shared Llama: laconic never disposes it
    } catch (e) {
      error = (e as Error).message;
    }
  });
  return { root, binaryError: () => error };
}
