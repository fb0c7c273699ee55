#!/usr/bin/env bash
# The GPU check, run from a folder made by bench/portable.sh on the GPU machine:
#   bash OUTDIR/gpu-check.sh [RESULTS_DIR]
# It prints the GPU and the WebGPU adapter Dawn finds, then runs the parity check against wasm, the
# model benchmark (spec settings, then larger batches) and a 10-step demo, and writes the JSON lines to
# RESULTS_DIR/results.jsonl (default: OUTDIR/results). Dawn needs a Vulkan loader: if
# `ldconfig -p | grep libvulkan` prints nothing, install libvulkan1 (and, on NVIDIA, libglvnd0, libglx0
# and libegl1, which the driver's ICD library loads). Each step has its own time limit; a failing step
# does not stop the others.
set -u
here=$(cd "$(dirname "$0")" && pwd)
res=${1:-$here/results}
mkdir -p "$res"
R="$res/results.jsonl"
cd "$here"
echo "== machine"; date; (nvidia-smi -L 2>/dev/null || echo "no nvidia-smi") | head -2; nproc
ldconfig -p | grep -i libvulkan | head -1 || echo "no libvulkan in ldconfig: install libvulkan1"
for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$j" ]; then export VK_DRIVER_FILES=$j VK_ICD_FILENAMES=$j; echo "vulkan icd: $j"; fi
done
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$1" "$2"; fi; }
dawn=node_modules/webgpu/dist/linux-x64/dawn.node
if [ -f "$dawn.xz" ] && [ ! -f "$dawn" ]; then unxz_to "$dawn.xz" "$dawn"; fi
if command -v node >/dev/null && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  NODE=$(command -v node)
elif [ -f node.xz ]; then
  unxz_to node.xz "$here/node" && chmod +x "$here/node" && NODE=$here/node
else
  echo "no Node >= 20 here and no node.xz beside this script" >&2; exit 1
fi
echo "node: $NODE $($NODE --version)"
quiet() { grep -v "artificially reduced\|Hi, looks like\|=====\|tfjs-node\|^$"; }
cat > probe.mjs <<'P'
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
console.log('webgpu adapter:', adapter ? JSON.stringify({ vendor: adapter.info?.vendor, device: adapter.info?.device, description: adapter.info?.description }) : 'none');
P
timeout 60 "$NODE" probe.mjs 2>&1 | quiet | head -5
run() { echo "== ${*:2}"; timeout "$1" "$NODE" "${@:2}" 2> >(quiet >&2) | tee -a "$R"; echo "rc=${PIPESTATUS[0]}"; }
run 90 parity.js --backend webgpu --against wasm --config tiny
run 90 parity.js --backend webgpu --against wasm --config tiny --impl blocked
run 90 model.js --config tiny --backend webgpu --steps 5
run 90 model.js --config small --backend webgpu --steps 3
run 90 model.js --config tiny --backend webgpu --steps 5 --micro-batch 16 --sample-batch 64
run 90 model.js --config small --backend webgpu --steps 3 --micro-batch 16 --sample-batch 64
run 60 model.js --config tiny --backend wasm --workers 0 --steps 3
echo "== demo on webgpu: 10 GRPO steps, 200 held-out problems"
timeout 400 "$NODE" laconic.js demo --set backend=webgpu --set verifier.threads=0 --set train.steps=10 --set eval.count=200 \
  --out "$res/demo" 2>&1 | quiet
echo "rc=${PIPESTATUS[0]}"
echo "== done"; date
