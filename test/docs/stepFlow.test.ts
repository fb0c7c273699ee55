import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/util/paths.js';

/** The README's "How one training step flows" names the files a reader opens; a moved file fails here. */
describe("README's step-flow table", () => {
  it('names files that exist', () => {
    const text = fs.readFileSync(path.join(packageRoot(), 'README.md'), 'utf8');
    const start = text.indexOf('## How one training step flows');
    const end = text.indexOf('\n## ', start + 1);
    expect(start).toBeGreaterThanOrEqual(0);
    const section = text.slice(start, end);
    const files = [...section.matchAll(/`([a-z]+(?:\/[A-Za-z0-9_<>.-]+)+\.ts)`/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      // `rewards/<shaper>.ts` stands for a folder of files: the folder must exist.
      const p = f.includes('<') ? path.dirname(f) : f;
      expect(fs.existsSync(path.join(packageRoot(), p)), f).toBe(true);
    }
  });
});
