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
  if (!inc) return skip('the npm package node-api-headers is missing');
  const cc = process.env.CC || 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return skip(`no C compiler "${cc}"`);
  buildBlas(inc, cc);
  try {
    buildLlama(inc, cc);
  } catch (e) {
    console.log(`laconic: llama.cpp rollout driver not built (${e instanceof Error ? e.message.split('\n')[0] : String(e)}).`);
  }
}

function buildBlas(inc, cc) {
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
    if (/openblas|Accelerate|cannot find -l/i.test(msg)) return skip('the BLAS library was not found');
    return skip(`${cc} failed: ${msg.trim().split('\n')[0]?.slice(0, 160) ?? 'unknown error'}`);
  }
  fs.renameSync(tmp, out);
  console.log(`laconic: built ${path.relative(root, out)} (native OpenBLAS matMul).`);
}

/**
 * native/build/laconic_llama.node: laconic's llama.cpp rollout driver (native/laconic_llama.c), linked against the
 * libllama that the optional dependency node-llama-cpp ships prebuilt. llama.h comes from the llama.cpp source
 * bundle inside the same node-llama-cpp package, so header and binary are one release. Optional like the BLAS
 * addon: without node-llama-cpp, git or a prebuilt CPU binary for this platform it says so and the llama_cpp
 * engine samples through node-llama-cpp's own API.
 */
function buildLlama(inc, cc) {
  const say = (why) => console.log(`laconic: llama.cpp rollout driver not built (${why}); rollout.engine llama_cpp will sample through node-llama-cpp.`);
  const plat = `${process.platform}-${process.arch}`;
  const bins = path.join(root, 'node_modules', '@node-llama-cpp', plat, 'bins', plat);
  const bundle = path.join(root, 'node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');
  if (process.platform !== 'linux') return say(`only built on Linux, this is ${plat}`);
  if (!fs.existsSync(bins) || !fs.existsSync(bundle)) return say(`node-llama-cpp or its ${plat} binaries are not installed`);
  const libs = fs.readdirSync(bins);
  const llama = libs.find((f) => /^libllama(\.v[\d.]+)?\.so$/.test(f));
  const ggml = libs.find((f) => /^libggml(\.v[\d.]+)?\.so$/.test(f));
  if (!llama || !ggml) return say(`no libllama / libggml in ${path.relative(root, bins)}`);
  const hdr = path.join(outDir, 'llama-include');
  const git = path.join(outDir, 'llama-src.git');
  fs.rmSync(git, { recursive: true, force: true });
  fs.mkdirSync(hdr, { recursive: true });
  const run = (args) => spawnSync('git', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  let r = run(['init', '-q', '--bare', git]);
  if (r.error || r.status !== 0) return say('git is not installed');
  r = run(['-C', git, 'fetch', '-q', bundle, 'HEAD:refs/heads/release']);
  if (r.status !== 0) return say(`git could not read ${path.relative(root, bundle)}`);
  for (const [from, to] of [['include/llama.h', 'llama.h'], ...['ggml.h', 'ggml-cpu.h', 'ggml-backend.h', 'ggml-alloc.h', 'ggml-opt.h', 'gguf.h'].map((h) => [`ggml/include/${h}`, h])]) {
    r = run(['-C', git, 'show', `release:${from}`]);
    if (r.status !== 0) return say(`${from} is missing from the llama.cpp bundle`);
    fs.writeFileSync(path.join(hdr, to), r.stdout);
  }
  fs.rmSync(git, { recursive: true, force: true });
  const out = path.join(outDir, 'laconic_llama.node');
  const tmp = `${out}.tmp`;
  // $ORIGIN-relative, so the checkout can move
  const rpath = `$ORIGIN/${path.relative(outDir, bins)}`;
  const c = spawnSync(cc, ['-O3', '-fPIC', '-shared', '-std=c11', `-I${inc}`, `-I${hdr}`, path.join(here, 'laconic_llama.c'), '-o', tmp,
    path.join(bins, llama), path.join(bins, ggml), `-Wl,-rpath,${rpath}`, '-lm'], { encoding: 'utf8' });
  if (c.error || c.status !== 0) {
    fs.rmSync(tmp, { force: true });
    return say(`${cc} failed: ${`${c.stderr ?? ''}${c.error?.message ?? ''}`.trim().split('\n')[0]?.slice(0, 160)}`);
  }
  fs.renameSync(tmp, out);
  console.log(`laconic: built ${path.relative(root, out)} (llama.cpp rollout driver, against ${path.relative(root, path.join(bins, llama))}).`);
}

try {
  main();
} catch (e) {
  skip(e instanceof Error ? e.message.split('\n')[0] : String(e));
}
