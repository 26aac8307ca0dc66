"""PyTorch CPU reference trainer for bench/train.ts: ms per optimizer step of one SAE variant.

Same math as the ONNX trainer (forward, loss, autograd backward, decoder projection, gradient
clipping, Adam, renormalisation) written the way a PyTorch user would: dense ReLU-family SAEs,
and TopK/BatchTopK with a sparse embedding_bag decoder. 2 intra-op threads by default.

Usage: python bench_train_torch.py --variant topk --d-in 640 --d-sae 5120 --batch 1024 [--steps 5]
Prints one JSON object: {"variant", "d_in", "d_sae", "batch", "threads", "ms_per_step", "tokens_per_s", "peak_rss_mb"}.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F


def make_params(variant, d, n):
    W_dec = torch.randn(n, d)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    p = {"W_enc": W_dec.T.clone(), "W_dec": W_dec, "b_dec": torch.zeros(d)}
    if variant == "gated":
        p.update(b_gate=torch.zeros(n), r_mag=torch.zeros(n), b_mag=torch.zeros(n))
    else:
        p["b_enc"] = torch.zeros(n)
    if variant == "jumprelu":
        p["log_threshold"] = torch.full((n,), -3.0)
    return {k: torch.nn.Parameter(v.contiguous()) for k, v in p.items()}


class JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return z * (z > theta)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        k = ((z - theta).abs() < ctx.eps / 2).to(z)
        return g * (z > theta), (-(theta / ctx.eps) * k * g).sum(0), None


class Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return (z > theta).to(z)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        k = ((z - theta).abs() < ctx.eps / 2).to(z)
        return None, (-(1 / ctx.eps) * k * g).sum(0), None


def sparse_decode(W_dec, b_dec, idx, vals, offsets=None):
    """sum_j vals_j W_dec[idx_j] per token with embedding_bag (mode='sum', per-sample weights)."""
    if offsets is None:
        return F.embedding_bag(idx, W_dec, per_sample_weights=vals, mode="sum") + b_dec
    return F.embedding_bag(idx, W_dec, offsets, per_sample_weights=vals, mode="sum") + b_dec


def loss_fn(variant, p, x, k, seq):
    n_tok = x.shape[0]
    if variant == "gated":
        xc = x - p["b_dec"]
        pi_gate = xc @ p["W_enc"] + p["b_gate"]
        pi_mag = xc @ (p["W_enc"] * p["r_mag"].exp()) + p["b_mag"]
        f = (pi_gate > 0).to(x) * torch.relu(pi_mag)
        recon = f @ p["W_dec"] + p["b_dec"]
        act = torch.relu(pi_gate)
        aux = act @ p["W_dec"].detach() + p["b_dec"].detach()
        return ((recon - x) ** 2).sum() / n_tok + 0.04 * act.sum() / n_tok + ((aux - x) ** 2).sum() / n_tok
    pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    if variant == "topk":
        vals, idx = pre.topk(k, dim=1, sorted=False)
        recon = sparse_decode(p["W_dec"], p["b_dec"], idx, torch.relu(vals))
        return ((recon - x) ** 2).sum() / n_tok
    if variant == "batchtopk":
        flat = torch.relu(pre).flatten()
        vals, fidx = flat.topk(k * n_tok, sorted=False)
        rows, order = torch.sort(fidx // pre.shape[1])
        cols = (fidx % pre.shape[1])[order]
        counts = torch.bincount(rows, minlength=n_tok)
        offsets = torch.cumsum(counts, 0) - counts
        recon = sparse_decode(p["W_dec"], p["b_dec"], cols, vals[order], offsets)
        return ((recon - x) ** 2).sum() / n_tok
    if variant == "jumprelu":
        theta = p["log_threshold"].exp()
        f = JumpReLU.apply(pre, theta, 0.05)
        recon = f @ p["W_dec"] + p["b_dec"]
        return ((recon - x) ** 2).sum() / n_tok + 0.01 * Step.apply(pre, theta, 0.05).sum() / n_tok
    f = torch.relu(pre)
    recon = f @ p["W_dec"] + p["b_dec"]
    loss = ((recon - x) ** 2).sum() / n_tok + 0.04 * f.sum() / n_tok
    if variant == "atr":
        fs = f.view(-1, seq, f.shape[1])
        loss = loss + 0.002 * ((fs[:, 1:] - fs[:, :-1]) ** 2).sum() / (fs.shape[0] * (seq - 1))
    return loss


def step(variant, p, opt, x, k, seq, clip):
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(variant, p, x, k, seq)
    loss.backward()
    with torch.no_grad():
        W = p["W_dec"]
        W.grad -= (W.grad * W).sum(1, keepdim=True) * W
    torch.nn.utils.clip_grad_norm_(list(p.values()), clip)
    opt.step()
    with torch.no_grad():
        W /= W.norm(dim=1, keepdim=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", required=True)
    ap.add_argument("--d-in", type=int, default=640)
    ap.add_argument("--d-sae", type=int, default=5120)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    p = make_params(args.variant, args.d_in, args.d_sae)
    opt = torch.optim.Adam(list(p.values()), lr=5e-4)
    xs = [torch.randn(args.batch, args.d_in).half().float() for _ in range(2)]
    step(args.variant, p, opt, xs[0], args.k, args.seq, 0.1)  # warm-up
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        step(args.variant, p, opt, xs[i % 2].clone(), args.k, args.seq, 0.1)
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({
        "variant": args.variant, "d_in": args.d_in, "d_sae": args.d_sae, "batch": args.batch, "threads": args.threads,
        "ms_per_step": ms, "tokens_per_s": args.batch / (ms / 1000),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
