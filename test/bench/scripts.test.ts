import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('bench shell scripts', () => {
  for (const f of ['bench/portable.sh', 'bench/gpu-check.sh', '.ci/run']) {
    it(`${f} parses (bash -n)`, () => {
      expect(() => execFileSync('bash', ['-n', path.join(root, f)], { stdio: 'pipe' })).not.toThrow();
    });
  }

  it('portable.sh ships gpu-check.sh, and gpu-check.sh runs only benchmarks and commands that exist', () => {
    const portable = fs.readFileSync(path.join(root, 'bench/portable.sh'), 'utf8');
    expect(portable).toContain('cp bench/gpu-check.sh "$out/"');
    const check = fs.readFileSync(path.join(root, 'bench/gpu-check.sh'), 'utf8');
    for (const m of check.matchAll(/\b(model|parity)\.js\b/g)) expect(fs.existsSync(path.join(root, 'bench', `${m[1]}.ts`))).toBe(true);
    // the bundled CLI cannot start worker threads: the demo must verify in-thread
    expect(check).toMatch(/laconic\.js demo [^\n]*--set verifier\.threads=0/);
    let stderr = '';
    try {
      execFileSync('bash', [path.join(root, 'bench/portable.sh')], { stdio: 'pipe' });
    } catch (e) {
      stderr = String((e as { stderr?: Buffer }).stderr);
    }
    expect(stderr).toMatch(/usage: bash bench\/portable\.sh OUTDIR/);
  });
});
