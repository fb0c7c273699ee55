#!/usr/bin/env node
// Builds native/build/laconic_blas.node, the optional OpenBLAS matMul addon (see native/laconic_blas.c).
// Run by the root package's `install` script (so `npm ci` builds it) and by hand with
// `node native/build.mjs`. It never fails the install: when the compiler, the N-API headers or the
// BLAS library is missing it prints one line saying how to get them and exits 0, and laconic then
// runs on plain tfjs-wasm. LACONIC_NATIVE=off skips the build; CC picks the compiler (default cc).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const srcs = ['laconic_blas.c', 'laconic_ops.c', 'laconic_decode.c'].map((f) => path.join(here, f));
const outDir = path.join(here, 'build');
const out = path.join(outDir, 'laconic_blas.node');
const HOW =
  process.platform === 'darwin'
    ? 'install the Xcode command-line tools (xcode-select --install)'
    : 'apt-get install build-essential libopenblas-dev (Debian/Ubuntu), then node native/build.mjs';

function skip(why) {
  console.log(`laconic: native OpenBLAS matMul not built (${why}); ${HOW} to enable it. Running on plain wasm.`);
  process.exit(0);
}

function headersDir() {
  for (const base of [root, process.cwd()]) {
    const d = path.join(base, 'node_modules', 'node-api-headers', 'include');
    if (fs.existsSync(path.join(d, 'node_api.h'))) return d;
  }
  return null;
}

function main() {
  if ((process.env.LACONIC_NATIVE ?? '').toLowerCase() === 'off') {
    console.log('laconic: LACONIC_NATIVE=off, native OpenBLAS matMul not built.');
    return;
  }
  const inc = headersDir();
  if (!inc) skip('the npm package node-api-headers is missing');
  const cc = process.env.CC || 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) skip(`no C compiler "${cc}"`);
  const flags = ['-O3', '-fno-trapping-math', '-fno-math-errno', '-fPIC', '-shared', '-std=c11', `-I${inc}`, ...srcs, '-o', out];
  const libs =
    process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup', '-framework', 'Accelerate'] : ['-lopenblas', '-lm'];
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.tmp`;
  flags[flags.length - 1] = tmp;
  const r = spawnSync(cc, [...flags, ...libs], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const msg = `${r.stderr ?? ''}${r.error?.message ?? ''}`;
    if (/openblas|Accelerate|cannot find -l/i.test(msg)) skip('the BLAS library was not found');
    skip(`${cc} failed: ${msg.trim().split('\n')[0]?.slice(0, 160) ?? 'unknown error'}`);
  }
  fs.renameSync(tmp, out);
  console.log(`laconic: built ${path.relative(root, out)} (native OpenBLAS matMul).`);
}

try {
  main();
} catch (e) {
  skip(e instanceof Error ? e.message.split('\n')[0] : String(e));
}
