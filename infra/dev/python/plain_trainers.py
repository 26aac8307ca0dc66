"""Plain PyTorch SAE trainers, one per variant, for end-to-end comparison with the ONNX trainer.

Written the way a PyTorch user would write them from the papers and the reference trainers
(dictionary_learning trainers/top_k.py, batch_top_k.py, jumprelu.py; SAELens training SAEs),
with torch autograd, torch.optim.Adam and clip_grad_norm_. They share no code with the
TypeScript engine; only the algorithm (and optionally the data order) is the same.

Data: a run's activation shards (activation_data.py). Settings default to the demo's: 5,120
latents, batch 1,024, 200 steps, lr 5e-4 with 20 linear warm-up steps and cosine decay to 0,
global-norm clip 0.1, unit-norm decoder rows with the parallel gradient removed, inputs scaled
so E||x|| = sqrt(d) (from 8,192 sampled tokens), b_dec = their geometric median, W_enc = W_dec^T.
Special tokens are excluded from training and evaluation.

Data order: `--order FILE` replays the ONNX trainer's order (int32 [steps, batch] global token
indices, -1 = padding; dumped from stages/train/batches.ts), else a seeded global shuffle per
epoch (tokens) or of context-window pieces (atr sequences).

Evaluation on the held-out split (`--eval-split`, default test): pooled explained variance
(1 - sum ||x - xhat||^2 / sum ||x - mean x||^2, metrics.md definition 1) and inference L0.

Run: nice .tools/ml-venv/bin/python infra/dev/python/plain_trainers.py --extract DIR --variant topk --seed 0
Prints one JSON object per run.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from activation_data import load_split
from plain_atr import Atr
from plain_variants import VARIANTS, Controller, make_params

VARIANTS = {**VARIANTS, "atr": Atr}

torch.set_num_threads(2)


def geometric_median(points: torch.Tensor, iters: int = 100, tol: float = 1e-6) -> torch.Tensor:
    """Weiszfeld iteration (Bricken et al. 2023; dictionary_learning trainers/top_k.py geometric_median)."""
    guess = points.mean(0)
    for _ in range(iters):
        w = 1 / (points - guess).norm(dim=1).clamp_min(1e-12)
        new = (w[:, None] * points).sum(0) / w.sum()
        moved = (new - guess).norm()
        guess = new
        if moved <= tol * max(float(guess.norm()), 1.0):
            break
    return guess


def lr_at(t: int, args) -> float:
    if t < args.warmup:
        return args.lr * (t + 1) / args.warmup
    progress = min(1.0, (t - args.warmup) / max(1, args.steps - args.warmup))
    return args.lr * 0.5 * (1 + math.cos(math.pi * progress))


class Batches:
    """Token or sequence batches as index arrays into the split (-1 = padding)."""

    def __init__(self, data, args, gen, excluded):
        self.data, self.args, self.gen = data, args, gen
        self.excluded = excluded
        self.order = np.fromfile(args.order, dtype=np.int32).reshape(-1, args.batch) if args.order else None
        valid = np.flatnonzero(~excluded)
        self.tokens = valid
        self.pieces = self._pieces() if args.variant == "atr" else None
        self.stream, self.pos = None, 0

    def _pieces(self):
        """Context windows cut into seqLen pieces with at least one non-special token."""
        rows = self.data.row_id
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        ends = np.r_[starts[1:], len(rows)]
        out = []
        for s, e in zip(starts, ends):
            for p in range(s, e, self.args.seq):
                q = min(p + self.args.seq, e)
                if (~self.excluded[p:q]).any():
                    out.append((p, q))
        return out

    def next(self, step: int) -> np.ndarray:
        if self.order is not None:
            return self.order[step]
        units = self.tokens if self.pieces is None else np.arange(len(self.pieces))
        per = self.args.batch if self.pieces is None else self.args.batch // self.args.seq
        if self.stream is None or self.pos + per > len(self.stream):
            perm = torch.randperm(len(units), generator=self.gen).numpy()
            rest = self.stream[self.pos:] if self.stream is not None else np.empty(0, dtype=units.dtype)
            self.stream, self.pos = np.concatenate([rest, units[perm]]), 0
        chosen = self.stream[self.pos:self.pos + per]
        self.pos += per
        if self.pieces is None:
            return chosen.astype(np.int64)
        idx = np.full(self.args.batch, -1, dtype=np.int64)
        for i, piece in enumerate(chosen):
            s, e = self.pieces[piece]
            idx[i * self.args.seq:i * self.args.seq + (e - s)] = np.arange(s, e)
        return idx


def masks_of(data, excluded, idx: np.ndarray, seq: int):
    """Token mask (valid: not special, not a norm outlier) and pair mask ((r-1, r) in one window and document) [rows]."""
    ok = idx >= 0
    safe = np.where(ok, idx, 0)
    token = ok & ~excluded[safe]
    prev = np.r_[-1, idx[:-1]]
    same = (prev >= 0) & (idx == prev + 1) & (np.arange(len(idx)) % seq != 0)
    same &= data.row_id[safe] == data.row_id[np.where(prev >= 0, prev, 0)]
    same &= data.doc_index[safe] == data.doc_index[np.where(prev >= 0, prev, 0)]
    pair = same & token & np.r_[False, token[:-1]]
    return torch.from_numpy(token.astype(np.float32)), torch.from_numpy(pair.astype(np.float32))


def train(args) -> dict:
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    data = load_split(args.extract, "train")
    d = data.values.shape[1]
    valid = np.flatnonzero(~data.is_special)
    sample = torch.from_numpy(data.values[valid[torch.randperm(len(valid), generator=gen)[: args.init_tokens].numpy()]].astype(np.float32))
    # dictionary_learning ActivationBuffer max_activation_norm_multiple: drop tokens above m x median norm
    max_norm = args.max_norm_multiple * float(sample.norm(dim=1).median()) if args.max_norm_multiple else math.inf
    sample = sample[sample.norm(dim=1) <= max_norm]
    norms = np.linalg.norm(data.values.astype(np.float32), axis=1)
    excluded = data.is_special | (norms > max_norm)
    scale = math.sqrt(d) / float(sample.norm(dim=1).mean())
    b_dec = geometric_median(sample * scale)
    variant = VARIANTS[args.variant]
    raw = make_params(args.variant, d, args.d_sae, b_dec, args, gen)
    if hasattr(variant, "init_from_sample"):
        variant.init_from_sample(raw, sample * scale, args)
    params = {k: torch.nn.Parameter(v) for k, v in raw.items()}
    # log_threshold may learn faster (jumprelu thresholdLrScale): its own parameter group
    threshold_scale = getattr(args, "threshold_lr_scale", None)
    scales = {"log_threshold": threshold_scale if threshold_scale is not None else max(1.0, 3 / (args.lr * args.steps))}
    groups = [{"params": [v], "scale": scales.get(k, 1.0)} for k, v in params.items()]
    opt = torch.optim.Adam(groups, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    state = variant.init_state(args, raw, sample * scale)
    batches = Batches(data, args, gen, excluded)
    since = torch.zeros(args.d_sae)
    state.update(optimizer=opt, since=since)
    dead_window = args.dead_window if args.dead_window >= 1 else max(1, round(args.dead_window * args.steps * args.batch))
    log = []
    t0 = time.time()
    for step in range(args.steps):
        idx = batches.next(step)
        rows = torch.from_numpy(data.values[np.where(idx >= 0, idx, 0)].astype(np.float32)) * scale
        token, pair = masks_of(data, excluded, idx, args.seq) if args.variant == "atr" else (None, None)
        if token is not None:
            rows = rows * token[:, None]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args) * g["scale"]
        dead = since >= dead_window
        opt.zero_grad(set_to_none=True)
        out = variant.loss(params, rows, state, args, dead=dead, token=token, pair=pair, step=step)
        out["loss"].backward()
        with torch.no_grad():
            W = params["W_dec"]
            W.grad -= (W.grad * W).sum(1, keepdim=True) * W
            grad_norm = float(torch.nn.utils.clip_grad_norm_(list(params.values()), args.clip))
            opt.step()
            W /= W.norm(dim=1, keepdim=True)
            fired = out["fired"]
            n_tok = float(token.sum()) if token is not None else rows.shape[0]
            state["since"] = since = torch.clamp((since + n_tok) * (fired == 0).float(), max=dead_window)
            variant.after_step(params, state, out, args, step)
            since = state["since"]
        rec = {"step": step + 1, "loss": float(out["loss"].detach()), "mse": float(out["mse"]), "l0": float(out["l0"]),
               "ev": float(out["ev"]), "grad_norm": grad_norm, "dead": int((since >= dead_window).sum())}
        rec.update({k: float(v) for k, v in out.get("log", {}).items()})
        log.append(rec)
    train_s = time.time() - t0
    result = {"variant": args.variant, "seed": args.seed, "steps": args.steps, "order": args.order or "global-shuffle",
              "train_seconds": train_s, "scale": scale, "max_norm": max_norm if math.isfinite(max_norm) else None,
              "final_train": log[-1], "resampled": state.get("resampled", [])}
    result.update(evaluate(args, variant, params, state, scale))
    if args.log:
        with open(args.log, "w") as fh:
            for rec in log:
                fh.write(json.dumps(rec) + "\n")
    return result


@torch.no_grad()
def evaluate(args, variant, params, state, scale) -> dict:
    data = load_split(args.extract, args.eval_split)
    x = torch.from_numpy(data.values[~data.is_special].astype(np.float32)) * scale
    per_token = torch.zeros(x.shape[0])
    l0 = 0.0
    for i in range(0, x.shape[0], 4096):
        xb = x[i:i + 4096]
        f, recon = variant.infer(params, xb, state, args)
        per_token[i:i + 4096] = ((recon - xb) ** 2).sum(1)
        l0 += float((f != 0).sum())
    # also without massive-norm tokens (above 5 x the median norm), as compare_trainers.py
    norms = x.norm(dim=1)
    inlier = norms <= 5 * norms.median()
    xi = x[inlier]
    return {"eval_tokens": x.shape[0], "eval_ev": 1 - float(per_token.sum()) / float(((x - x.mean(0)) ** 2).sum()), "eval_l0": l0 / x.shape[0],
            "eval_ev_inliers": 1 - float(per_token[inlier].sum()) / float(((xi - xi.mean(0)) ** 2).sum())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extract", required=True, help="<data dir>/artifacts/extract")
    ap.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--d-sae", type=int, default=5120)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--clip", type=float, default=0.1)
    ap.add_argument("--init-tokens", type=int, default=8192)
    ap.add_argument("--dead-window", type=float, default=0.1, help="tokens, or a fraction of the run's tokens if < 1")
    ap.add_argument("--max-norm-multiple", type=float, default=5.0, help="0 keeps every token; default 5, as the ONNX trainer")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--order", default=None)
    ap.add_argument("--eval-split", default="test")
    ap.add_argument("--log", default=None, help="per-step JSON lines")
    Controller.add_args(ap)
    for v in VARIANTS.values():
        v.add_args(ap)
    args = ap.parse_args()
    print(json.dumps(train(args)))


if __name__ == "__main__":
    main()
