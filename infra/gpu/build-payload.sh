#!/usr/bin/env bash
# Builds .gpu/ (the GPU check's transfer folders) with infra/gpu/payload/build-payload.ts; see infra/gpu/README.md.
#   bash infra/gpu/build-payload.sh [--provider sm90|full] [--max-mib 52]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
npx tsc -p tsconfig.json
node dist/infra/gpu/payload/build-payload.js "$@"
