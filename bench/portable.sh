#!/usr/bin/env bash
# Build a self-contained folder that runs laconic's benchmarks and CLI on a machine with no npm access
# (a lent GPU box, say):
#   bash bench/portable.sh OUTDIR [NODE_BINARY]
# OUTDIR gets:
#   model.js, parity.js, laconic.js  esbuild bundles of the model and parity benchmarks and the CLI, with
#                                    tfjs and (when installed here) @tensorflow/tfjs-backend-webgpu inside
#   *.wasm                           the wasm backend's binaries
#   node_modules/webgpu              Dawn's Node binding, its linux-x64 dawn.node xz-compressed
#   package.json configs checkpoints data   what the CLI reads (it looks for them beside itself)
#   node.xz                          NODE_BINARY compressed, when given (the GPU image may have no Node)
#   gpu-check.sh                     unpacks the above and runs the probe, parity, benchmarks and a short demo
# There: bash OUTDIR/gpu-check.sh [RESULTS_DIR]. Worker threads (training workers, the verifier pool) need
# script files that a bundle lacks, so the check runs with workers 0 and verifier.threads=0.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: bash bench/portable.sh OUTDIR [NODE_BINARY]" >&2; exit 2; }
mkdir -p "$1"
out=$(cd "$1" && pwd)
node_bin=""
if [ -n "${2:-}" ]; then node_bin=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
esbuild=node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "portable.sh: $esbuild not found (run npm install)" >&2; exit 1; }
npx tsc -p tsconfig.json
mkdir -p .tmp
for b in model parity laconic; do
  if [ "$b" = laconic ]; then
    call="(await import('$root/dist/src/cli/index.js')).main(process.argv).catch((e) => { console.error('laconic: ' + (e && e.message)); process.exit(1); });"
  else
    call="await import('$root/dist/bench/$b.js');"
  fi
  if [ -d node_modules/@tensorflow/tfjs-backend-webgpu ]; then
    # The backend registers itself only if navigator.gpu exists when its module first runs. Node 21+
    # has a getter-only navigator global: define gpu on it instead of replacing it.
    cat > ".tmp/entry-$b.mjs" <<JS
try {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  if (typeof navigator !== 'undefined') Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
  else globalThis.navigator = { gpu };
  await import('@tensorflow/tfjs-backend-webgpu');
} catch (e) {
  process.stderr.write('webgpu unavailable: ' + String(e && e.message).split('\\n')[0] + '\\n');
}
$call
JS
  else
    echo "$call" > ".tmp/entry-$b.mjs"
  fi
done
# an ESM bundle of CommonJS dependencies: give them require, __filename and __dirname
banner="import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for b in model parity laconic; do
  "$esbuild" ".tmp/entry-$b.mjs" --bundle --platform=node --format=esm --outfile="$out/$b.js" \
    --external:webgpu --external:@resvg/resvg-js --log-level=warning "--banner:js=$banner" --main-fields=module,main
  rm ".tmp/entry-$b.mjs"
done
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/"
if [ -d node_modules/webgpu ]; then
  mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
  xz -6 -T0 -c node_modules/webgpu/dist/linux-x64/dawn.node > "$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
fi
rm -rf "$out/configs" "$out/checkpoints" "$out/data"
cp -r package.json configs checkpoints data "$out/"
cp bench/gpu-check.sh "$out/"
if [ -n "$node_bin" ]; then xz -6 -T0 -c "$node_bin" > "$out/node.xz"; fi
du -sh "$out"
