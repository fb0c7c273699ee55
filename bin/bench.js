#!/usr/bin/env node
// Run a benchmark: `npm run bench -- <name> [options]` runs bench/<name>: the compiled
// dist/bench/<name>.js when it exists and is not older than the source, else bench/<name>.ts via tsx.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [name, ...rest] = process.argv.slice(2);

function available() {
  const names = new Set();
  for (const [dir, ext] of [[path.join(root, 'bench'), '.ts'], [path.join(root, 'dist', 'bench'), '.js']]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      if (f.endsWith(ext) && !f.endsWith('.d.ts') && f !== `index${ext}`) names.add(f.slice(0, -ext.length));
    }
  }
  return [...names].sort();
}

if (!name || name === '--help' || name === '-h') {
  console.log(`usage: npm run bench -- <name> [options]\nbenchmarks: ${available().join(', ') || '(none)'}`);
  process.exit(name ? 0 : 1);
}
if (!/^[a-z0-9_-]+$/i.test(name)) {
  console.error(`bench: invalid benchmark name "${name}"`);
  process.exit(1);
}
const src = path.join(root, 'bench', `${name}.ts`);
const built = path.join(root, 'dist', 'bench', `${name}.js`);
let args;
if (fs.existsSync(built) && (!fs.existsSync(src) || fs.statSync(built).mtimeMs >= fs.statSync(src).mtimeMs)) {
  args = [built, ...rest];
} else if (fs.existsSync(src)) {
  args = ['--import', 'tsx', src, ...rest];
} else {
  console.error(`bench: no benchmark "${name}"; available: ${available().join(', ') || '(none)'}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
