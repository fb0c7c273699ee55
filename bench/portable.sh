#!/usr/bin/env bash
# Build a self-contained folder that runs the model and parity benchmarks on a machine with Node
# (or the node binary it carries) but no npm access, such as a lent GPU box:
#   bash bench/portable.sh OUTDIR [NODE_BINARY]
# OUTDIR gets model.js, parity.js and laconic.js (esbuild bundles of the compiled benchmarks and the
# CLI with tfjs and,
# when installed, @tensorflow/tfjs-backend-webgpu), the wasm binaries, the webgpu package's
# linux-x64 dawn.node, and node.zst when NODE_BINARY is given. Run there:
#   node OUTDIR/model.js --backend webgpu ; node OUTDIR/parity.js --backend webgpu --against wasm
#   node OUTDIR/laconic.js demo --set backend=webgpu --set verifier.threads=0
# Worker threads (training workers, the verifier pool) need their own script files, which a bundle
# lacks: on wasm pass --workers 0 / --set workers=0, and verify in-thread with verifier.threads=0.
# The CLI finds configs/ and checkpoints/ in the first folder above it whose package.json is laconic's.
set -euo pipefail
out=${1:?usage: bash bench/portable.sh OUTDIR [NODE_BINARY]}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npx tsc -p tsconfig.json
mkdir -p "$out"
mkdir -p .tmp
for b in model parity laconic; do
  if [ "$b" = laconic ]; then target="$root/dist/src/cli/index.js"; call="(await import('$target')).main(process.argv).catch((e) => { console.error('laconic: ' + (e && e.message)); process.exit(1); });"
  else target="$root/dist/bench/$b.js"; call="await import('$target');"; fi
  if [ -d node_modules/@tensorflow/tfjs-backend-webgpu ]; then
    # the backend registers itself only if navigator.gpu exists when its module runs
    cat > ".tmp/entry-$b.mjs" <<JS
try {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  globalThis.navigator = { gpu: create([]) };
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
# ESM bundle of CommonJS dependencies: give them require, __filename and __dirname
banner="import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for b in model parity laconic; do
  npx esbuild ".tmp/entry-$b.mjs" --bundle --platform=node --format=esm --outfile="$out/$b.js" \
    --external:webgpu --external:@resvg/resvg-js --log-level=warning "--banner:js=$banner" --main-fields=module,main
  rm ".tmp/entry-$b.mjs"
done
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/"
if [ -d node_modules/webgpu ]; then
  mkdir -p "$out/node_modules/webgpu/dist/linux-x64"
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
fi
if [ -n "${2:-}" ]; then zstd -19 -T0 -q -f "$2" -o "$out/node.zst"; fi
du -sh "$out"
