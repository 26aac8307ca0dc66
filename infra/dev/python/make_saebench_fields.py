"""The field names and JSON types SAEBench's eval outputs have, as a small fixture for the
compatibility test (test/stages/report/eval-compat.test.ts).

SAEBench publishes a JSON Schema per eval type, generated from its pydantic output classes
(sae_bench/evals/generate_json_schemas.py) and shipped in its wheel:
  sae_bench/evals/core/eval_output_schema_core.json
  sae_bench/evals/absorption/eval_output_schema_absorption_first_letter.json
  sae_bench/evals/sparse_probing/eval_output_schema_sparse_probing.json
This script downloads the pinned wheel (pip download, no dependencies), resolves each schema's
$refs and anyOfs, and writes the facts the test needs, one entry per field path:
  {"path": "eval_result_metrics.sparsity.l0", "types": ["number"], "required": true}
`a[]` stands for every item of the array `a`; an object with free-form keys is marked "open"
(its children are not checked). "required" is relative to the parent: SAEBench's loader
(pydantic) rejects an output whose present parent lacks it.

Run (any Python with pip; no other packages):
  .tools/ml-venv/bin/python infra/dev/python/make_saebench_fields.py --out test/fixtures/evaluate/saebench-fields.json
"""

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "sae-bench"
VERSION = "0.6.0"
SCHEMAS = {
    "core": "sae_bench/evals/core/eval_output_schema_core.json",
    "absorption": "sae_bench/evals/absorption/eval_output_schema_absorption_first_letter.json",
    "sparse_probing": "sae_bench/evals/sparse_probing/eval_output_schema_sparse_probing.json",
}


def download_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"{PACKAGE}=={VERSION}", "--no-deps", "--only-binary", ":all:", "-d", str(folder), "-q"],
        check=True,
    )
    wheels = sorted(folder.glob("sae_bench-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one sae_bench wheel in {folder}, found {wheels}")
    return wheels[0]


def resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def alternatives(node: dict, defs: dict) -> list:
    node = resolve(node, defs)
    if "anyOf" in node:
        return [alt for option in node["anyOf"] for alt in alternatives(option, defs)]
    return [node]


def walk(node: dict, path: str, required: bool, defs: dict, out: dict) -> None:
    """Adds `path` (and its children) to `out`, merging what the anyOf alternatives allow."""
    entry = out.setdefault(path, {"path": path, "types": [], "required": required})
    entry["required"] = entry["required"] and required
    for alt in alternatives(node, defs):
        kind = alt.get("type", "any")
        if kind not in entry["types"]:
            entry["types"].append(kind)
        if kind == "object":
            props = alt.get("properties")
            if props is None:
                entry["open"] = True
                continue
            wanted = set(alt.get("required", []))
            for name, child in props.items():
                walk(child, f"{path}.{name}" if path else name, name in wanted, defs, out)
        elif kind == "array" and "items" in alt:
            walk(alt["items"], f"{path}[]", True, defs, out)


def fields_of(schema: dict) -> list:
    out: dict = {}
    defs = schema.get("$defs", {})
    wanted = set(schema.get("required", []))
    for name, child in schema["properties"].items():
        walk(child, name, name in wanted, defs, out)
    for entry in out.values():
        entry["types"].sort()
    return sorted(out.values(), key=lambda e: e["path"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(Path(tmp))
        sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
        with zipfile.ZipFile(wheel) as zf:
            families = {family: fields_of(json.loads(zf.read(member))) for family, member in SCHEMAS.items()}
    result = {
        "source": {"package": PACKAGE, "version": VERSION, "wheel": wheel.name, "sha256": sha, "schemas": SCHEMAS},
        "families": families,
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}: " + ", ".join(f"{k} {len(v)} fields" for k, v in families.items()))


if __name__ == "__main__":
    main()
