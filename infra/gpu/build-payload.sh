#!/usr/bin/env bash
# Builds .gpu/ in the repository root: everything the GPU extraction check needs, xz-compressed,
# within the device tool's 64 MiB (node, one bundled JS file, onnxruntime-node for linux-x64,
# the Vulkan loader .deb, the export script and the Gemma 3 270M config). Run here, then on the
# GPU machine:  run(command="bash .gpu/run.sh", carry=[".gpu"], timeout_s=540)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/.gpu"
ort="$root/node_modules/onnxruntime-node"
rm -rf "$out"
mkdir -p "$out/python" "$out/lib/onnx" "$out/debs" "$out/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
grep -qx '/.gpu/' "$root/.git/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$root/.git/info/exclude"

# Node.js (the GPU machine has none).
xz -T0 -9 -c "$(command -v node)" > "$out/node.xz"
# Our code, bundled; onnxruntime-node stays external (native).
"$root/node_modules/.bin/esbuild" "$root/infra/gpu/gpu-extract.ts" --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile="$out/gpu-extract.mjs" --log-level=warning \
  --banner:js="import { createRequire as __tsaeRequire } from 'node:module'; const require = __tsaeRequire(import.meta.url);"
# projectPath() finds the package root by package.json + stages/; onnx-proto.ts reads onnx.proto.
echo '{ "name": "tsae-gpu-check", "private": true, "type": "module" }' > "$out/package.json"
cp "$root/lib/onnx/onnx.proto" "$out/lib/onnx/"
# onnxruntime-node 1.30 for linux-x64 only (its webgpu provider is inside libonnxruntime.so.1).
cp -r "$ort/package.json" "$ort/dist" "$out/node_modules/onnxruntime-node/"
cp "$ort/bin/napi-v6/linux/x64/onnxruntime_binding.node" "$out/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/"
xz -T0 -9 -c "$ort/bin/napi-v6/linux/x64/libonnxruntime.so.1" > "$out/libonnxruntime.so.1.xz"
cp -r "$root/node_modules/onnxruntime-common" "$out/node_modules/"
# Export code and the demo model's shape.
cp "$root/infra/python-runtime/onnx_export.py" "$out/python/"
cp "$root/infra/gpu/make_random_model.py" "$root/infra/gpu/run.sh" "$root/infra/gpu/gemma3-270m-config.json" "$out/"
# Vulkan loader for Dawn (WebGPU); the NVIDIA driver brings the ICD.
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/tsae-apt-amd64)
mkdir -p /tmp/tsae-apt-amd64/partial
apt-get "${apt_opts[@]}" update -qq >/dev/null
(cd "$out/debs" && apt-get "${apt_opts[@]}" download libvulkan1 >/dev/null)
du -sh "$out"
ls -la "$out" "$out/debs"
total=$(du -sb "$out" | cut -f1)
if [ "$total" -gt $((60 * 1024 * 1024)) ]; then echo "payload is $total bytes: over the 60 MiB budget" >&2; exit 1; fi
