#!/usr/bin/env bash
# The GPU check, on the device machine (CUDA 13 driver, PyTorch, no Node.js, no network), from
# .gpu/run plus the provider parts that earlier calls staged in /tmp/tsae-gpu/parts (or that
# travel in this call as .gpu/p*). See infra/gpu/README.md for the device-tool calls.
#
#   bash .gpu/run/run.sh [gpu-check options: --only setup,extract,parity,train  --shape tiny  --device cpu]
# Env: OUT (results folder; the device tool sets it), PYTHON (default python3).
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
stage=/tmp/tsae-gpu
out=${OUT:-$stage/out}
mkdir -p "$stage/parts" "$out"
start=$(date +%s)
# Work on a copy: the carried folder stays as built (a CPU rehearsal leaves it fit to carry).
here="$stage/run"
rm -rf "$here"
cp -r "$src" "$here"

# 1. The provider: parts from this tree and from earlier calls, checked against provider.json.
for d in "$src"/../p*/; do [ -d "$d" ] && cp -n "$d"provider.so.xz.part* "$stage/parts/" 2>/dev/null || true; done
python3 - "$here/provider.json" "$stage/parts" "$here/provider" "$stage" <<'PY'
import hashlib, json, lzma, os, shutil, sys
meta, parts, dest, stage = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
target = os.path.join(dest, "libonnxruntime_providers_cuda.so")
cached = os.path.join(stage, "provider-" + meta["sha256"][:16] + ".so")  # survives the next call's fresh .gpu/run
if os.path.exists(cached):
    shutil.copyfile(cached, target); print("provider: from the unpacked copy of an earlier call"); sys.exit(0)
blobs = []
for p in meta["parts"]:
    path = os.path.join(parts, p["name"])
    if not os.path.exists(path):
        sys.exit(f"provider part {p['name']} is missing: run .gpu/p*/stage.sh in earlier calls to this warm machine")
    data = open(path, "rb").read()
    if hashlib.sha256(data).hexdigest() != p["sha256"]:
        sys.exit(f"provider part {p['name']} is corrupt (sha256 differs)")
    blobs.append(data)
raw = lzma.decompress(b"".join(blobs))
if hashlib.sha256(raw).hexdigest() != meta["sha256"]:
    sys.exit("unpacked provider's sha256 differs from provider.json")
open(cached + ".tmp", "wb").write(raw); os.replace(cached + ".tmp", cached)
shutil.copyfile(cached, target)
print(f"provider: {len(raw)} bytes from {len(blobs)} part(s)")
PY

# 2. Node.js and onnxruntime-node's runtime library.
[ -x "$stage/node" ] || { xz -d -c "$here/node.xz" > "$stage/node.tmp"; chmod +x "$stage/node.tmp"; mv "$stage/node.tmp" "$stage/node"; }
ln -sf "$stage/node" "$here/node"
lib="$here/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
[ -f "$stage/libonnxruntime.so.1" ] || { xz -d -c "$here/libonnxruntime.so.1.xz" > "$stage/libonnxruntime.so.1.tmp"; mv "$stage/libonnxruntime.so.1.tmp" "$stage/libonnxruntime.so.1"; }
cp "$stage/libonnxruntime.so.1" "$lib"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi unavailable"
echo "node $("$here/node" --version), $(${PYTHON:-python3} -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'); set-up $(( $(date +%s) - start )) s"

# 3. The check. Records, results and the projection land in $OUT.
export PYTHONUNBUFFERED=1
"$here/node" "$here/gpu-check.mjs" --out "$out" --work "$stage/work" --python "${PYTHON:-python3}" "$@" 2> >(tee "$out/gpu-check.log" >&2)
echo "total $(( $(date +%s) - start )) s"
