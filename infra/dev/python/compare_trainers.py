"""Ours vs a plain PyTorch trainer, per variant and seed, on a run's activations.

For each (variant, seed): trains the ONNX trainer (dist/stages/train/train-sae.js, through node),
dumps the exact token order its batch stream used, trains plain_trainers.py on that same order,
and evaluates both SAEs with the same code on the held-out split: pooled explained variance
(metrics.md definition 1) and L0, special tokens excluded. Prints one JSON line per run and a
markdown table (mean +- sd over seeds). Needs `npx tsc` first; run with `nice`:

  nice .tools/ml-venv/bin/python infra/dev/python/compare_trainers.py \\
      --extract <data>/artifacts/extract --variants topk,standard --seeds 0,1,2 --target-l0 89 --out /tmp/cmp
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np
import torch
from safetensors.torch import load_file

from activation_data import load_split, part_files

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PYTHON = sys.executable

# The ONNX trainer on the parts in activation_data's canonical order; writes the SAE folder and
# the stream's token order (global indices, -1 = padding) as int32 [steps, batch].
NODE_DRIVER = r"""
const [dist, cfgJson, seed, out, ...files] = process.argv.slice(1);
const { trainSae } = await import(`${dist}/stages/train/train-sae.js`);
const { TrainConfig } = await import(`${dist}/schemas/train.js`);
const { resolveTrainConfig } = await import(`${dist}/stages/train/resolve-config.js`);
const { defaultStageContext } = await import(`${dist}/lib/core/context.js`);
const { readActivationShard } = await import(`${dist}/stages/extract/activation-shard-io.js`);
const { BatchStream, longestWindow } = await import(`${dist}/stages/train/batches.js`);
const { bufferBytes } = await import(`${dist}/stages/train/train-state.js`);
const { tokenNormsAbove } = await import(`${dist}/stages/train/sequences.js`);
const { writeFileSync } = await import('node:fs');
const tables = [];
for (const f of files) tables.push(await readActivationShard(f));
const data = { shardCount: tables.length, loadShard: async (i) => tables[i] };
const cfg = resolveTrainConfig(TrainConfig.parse(JSON.parse(cfgJson)));
const t0 = Date.now();
const summary = await trainSae({ data, config: cfg, seed: Number(seed), device: 'cpu', threads: 2 }, out, defaultStageContext());
const seconds = (Date.now() - t0) / 1000;
// The same stream again over index tables: which token each batch row held.
let base = 0;
// 1-based ids so that 0 marks padding; the norm filter's exclusions come from the real values.
const maxNorm = summary.mechanisms.outliers.maxNorm ?? undefined;
const ids = tables.map((t) => { const v = Float32Array.from({ length: t.count }, (_, i) => base + i + 1); base += t.count; return { ...t, dModel: 1, dtype: 'float32', values: v, isSpecial: tokenNormsAbove(t, maxNorm) }; });
const mode = cfg.variant === 'atr' ? 'sequence' : 'token';
const seqLen = cfg.seqLen ?? longestWindow(tables[0]);
// Same groups as training: the buffer holds as many shards as the real values' bytes allow.
const bytes = bufferBytes(cfg) * (4 / tables[0].values.BYTES_PER_ELEMENT / tables[0].dModel);
const stream = new BatchStream({ shardCount: ids.length, loadShard: async (i) => ids[i] }, { mode, batchSize: cfg.batchSize, seqLen, seed: Number(seed), bufferBytes: bytes }, 1, 'float32');
const order = new Int32Array(cfg.steps * cfg.batchSize);
for (let s = 0; s < cfg.steps; s++) {
  const xs = new Float32Array(cfg.batchSize);
  const buf = mode === 'sequence' ? { xs, tokenMasks: new Float32Array(cfg.batchSize), pairMasks: new Float32Array(cfg.batchSize) } : { xs };
  await stream.fill(buf, 0);
  for (let r = 0; r < cfg.batchSize; r++) order[s * cfg.batchSize + r] = xs[r] - 1;
}
writeFileSync(`${out}/order.bin`, Buffer.from(order.buffer));
console.log(JSON.stringify({ seconds, tokensPerSecond: summary.tokensPerSecond, mechanisms: summary.mechanisms, final: summary.finalMetrics }));
"""


def node_config(variant, args):
    cfg = {"variant": variant, "dSae": args.d_sae, "steps": args.steps, "batchSize": args.batch, "lr": args.lr,
           "warmupSteps": args.warmup, "checkpointEvery": 100000, "contextSize": 128}
    if args.target_l0:
        cfg["targetL0"] = args.target_l0
    cfg.update(json.loads(args.ours).get(variant, {}))
    return cfg


@torch.no_grad()
def evaluate_folder(folder, data):
    """Pooled EV and L0 of an exported SAE (SAELens layout, raw units) on a split's non-special
    tokens, and the EV without tokens above 5 x the median norm (massive-activation sinks)."""
    cfg = json.load(open(os.path.join(folder, "cfg.json")))
    w = load_file(os.path.join(folder, "sae.safetensors"))
    x = torch.from_numpy(data.values[~data.is_special].astype(np.float32))
    norms = x.norm(dim=1)
    inlier = norms <= 5 * norms.median()
    per_token = torch.zeros(x.shape[0])
    err = l0 = 0.0
    for i in range(0, x.shape[0], 4096):
        xb = x[i:i + 4096]
        xc = xb - w["b_dec"]
        if cfg["architecture"] == "gated":
            gate = xc @ w["W_enc"] + w["b_gate"]
            f = (gate > 0).float() * torch.relu(xc @ (w["W_enc"] * w["r_mag"].exp()) + w["b_mag"])
        else:
            pre = xc @ w["W_enc"] + w["b_enc"]
            if cfg["architecture"] == "topk":
                vals, idx = pre.topk(cfg["k"], dim=1)
                f = torch.zeros_like(pre).scatter(1, idx, torch.relu(vals))
            elif cfg["architecture"] == "jumprelu":
                f = pre * (pre > w["threshold"]).float()
            else:
                f = torch.relu(pre)
        per_token[i:i + 4096] = ((f @ w["W_dec"] + w["b_dec"] - xb) ** 2).sum(1)
        l0 += float((f != 0).sum())
    xi = x[inlier]
    return {"eval_ev": 1 - float(per_token.sum()) / float(((x - x.mean(0)) ** 2).sum()), "eval_l0": l0 / x.shape[0],
            "eval_ev_inliers": 1 - float(per_token[inlier].sum()) / float(((xi - xi.mean(0)) ** 2).sum()), "outliers": int((~inlier).sum())}


def run_pair(variant, seed, args, test):
    out = os.path.join(args.out, f"{variant}-s{seed}")
    os.makedirs(out, exist_ok=True)
    files = part_files(args.extract, "train")
    saved = os.path.join(out, "ours.json")
    if os.path.exists(saved):  # a restarted comparison reuses finished runs of ours
        ours = json.load(open(saved))
    else:
        cmd = ["node", "--input-type=module", "-e", NODE_DRIVER, args.dist, json.dumps(node_config(variant, args)), str(seed), out, *files]
        ours = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        json.dump(ours, open(saved, "w"))
    ours.update(evaluate_folder(out, test))
    plain_cmd = [PYTHON, os.path.join(os.path.dirname(__file__), "plain_trainers.py"), "--extract", args.extract, "--variant", variant,
                 "--seed", str(seed), "--steps", str(args.steps), "--batch", str(args.batch), "--d-sae", str(args.d_sae), "--lr", str(args.lr),
                 "--warmup", str(args.warmup), "--order", os.path.join(out, "order.bin"), *json.loads(args.plain).get(variant, [])]
    if args.target_l0:
        plain_cmd += ["--target-l0", str(args.target_l0)] + (["--k", str(round(args.target_l0))] if variant in ("topk", "batchtopk") else [])
    plain = json.loads(subprocess.run(plain_cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    row = {"variant": variant, "seed": seed, "ours_ev": ours["eval_ev_inliers"], "ours_ev_all": ours["eval_ev"], "ours_l0": ours["eval_l0"],
           "plain_ev": plain["eval_ev_inliers"], "plain_ev_all": plain["eval_ev"], "plain_l0": plain["eval_l0"],
           "ours_seconds": ours["seconds"], "plain_seconds": plain["train_seconds"], "outliers": ours["outliers"]}
    print(json.dumps(row), flush=True)
    return row


def table(rows):
    def stat(values, digits=3):
        mean = f"{statistics.mean(values):.{digits}f}"
        return f"{mean} ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else mean
    lines = ["| variant | seeds | EV ours | EV plain PyTorch | EV ours, all tokens | EV plain, all tokens | L0 ours | L0 plain PyTorch |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for variant in dict.fromkeys(r["variant"] for r in rows):
        rs = [r for r in rows if r["variant"] == variant]
        lines.append(f"| {variant} | {len(rs)} | {stat([r['ours_ev'] for r in rs])} | {stat([r['plain_ev'] for r in rs])} | "
                     f"{stat([r['ours_ev_all'] for r in rs])} | {stat([r['plain_ev_all'] for r in rs])} | "
                     f"{stat([r['ours_l0'] for r in rs], 1)} | {stat([r['plain_l0'] for r in rs], 1)} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extract", required=True)
    ap.add_argument("--variants", default="standard,topk,batchtopk,jumprelu,gated,atr")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--d-sae", type=int, default=5120)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--target-l0", type=float, default=None)
    ap.add_argument("--ours", default="{}", help="JSON: per-variant TrainConfig overrides")
    ap.add_argument("--plain", default="{}", help="JSON: per-variant extra plain_trainers.py arguments")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dist", default=os.path.join(ROOT, "dist"), help="compiled TypeScript (a copy keeps a long comparison independent of rebuilds)")
    args = ap.parse_args()
    test = load_split(args.extract, "test")
    rows = [run_pair(v, int(s), args, test) for v in args.variants.split(",") for s in args.seeds.split(",")]
    print(table(rows))


if __name__ == "__main__":
    main()
