#!/usr/bin/env node
// Run a benchmark: `npm run bench -- <name> [options]` runs bench/<name>: the compiled
// dist/bench/<name>.js when it exists and is not older than any TypeScript source it may import (bench/,
// src/, rewards/, verifiers/, curricula/), else bench/<name>.ts via tsx: a stale build never runs.
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
/** The newest modification time of a .ts file under `dir` (0 when none). */
function newestTs(dir) {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestTs(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}
const sources = () => Math.max(...['bench', 'src', 'rewards', 'verifiers', 'curricula'].map((d) => newestTs(path.join(root, d))));
let args;
if (fs.existsSync(built) && (!fs.existsSync(src) || fs.statSync(built).mtimeMs >= sources())) {
  args = [built, ...rest];
} else if (fs.existsSync(src)) {
  args = ['--import', 'tsx', src, ...rest];
} else {
  console.error(`bench: no benchmark "${name}"; available: ${available().join(', ') || '(none)'}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
