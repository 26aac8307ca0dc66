#!/usr/bin/env bash
# Runs on the GPU machine (H100-class, CUDA 13, Vulkan driver, no Node.js, no network) from the
# payload that build-payload.sh made. Prints extraction tokens/s per device beside CPU.
# Env: DEVICES (cpu,webgpu,cuda), BATCH (16), CONTEXT (128), BATCHES (16), THREADS (0 = all), MODEL (skip the export).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
start=$(date +%s)
[ -x ./node ] || { xz -d -c node.xz > node; chmod +x node; }
lib=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
[ -f "$lib" ] || xz -d -c libonnxruntime.so.1.xz > "$lib"
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  for f in debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi unavailable"
echo "node $(./node --version); set-up $(( $(date +%s) - start )) s"
model=${MODEL:-/tmp/tsae-gpu-model}
if [ ! -f "$model/tsae.json" ]; then
  PYTHONUNBUFFERED=1 python3 make_random_model.py --config gemma3-270m-config.json --out "$model" 2>&1 | grep -v -i -E 'warn|torchvision' || true
fi
[ -f "$model/tsae.json" ] || { echo "model export failed" >&2; exit 1; }
echo "model ready after $(( $(date +%s) - start )) s"
./node gpu-extract.mjs --model "$model" --layer 6 --batch "${BATCH:-16}" --context "${CONTEXT:-128}" \
  --batches "${BATCHES:-16}" --devices "${DEVICES:-cpu,webgpu,cuda}" --threads "${THREADS:-0}" | tee "${OUT:-/tmp}/gpu-extract.txt"
echo "total $(( $(date +%s) - start )) s"
