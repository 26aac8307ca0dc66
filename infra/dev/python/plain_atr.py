"""ATR for plain_trainers.py (TemporalSAE paper Sec. 4, with the decisions of
stages/train/variants/atr.ts and resample.ts): a ReLU SAE on [sequences x positions] batches with
an adaptive L1 coefficient (the shared controller), the temporal penalty alpha_t R(f) over valid
consecutive pairs (Eq. 2) with Eq. 3's momentum update, and Eq. 6 position-aware resampling."""

from __future__ import annotations

import collections
import math

import torch

from plain_variants import Controller, Standard, data_start, result


class Atr:
    @staticmethod
    def add_args(ap):
        ap.add_argument("--lambda0", type=float, default=0.04)
        ap.add_argument("--alpha0", type=float, default=0.002)
        ap.add_argument("--alpha-beta", type=float, default=0.95)
        ap.add_argument("--mse-ema-steps", type=float, default=0.05)
        ap.add_argument("--resample-every", type=float, default=0.25)
        ap.add_argument("--history-window", type=float, default=0.25)
        ap.add_argument("--gamma", type=float, default=5.0)

    @staticmethod
    def steps_of(v, args):
        return v if v == 0 or v >= 1 else max(1, round(v * args.steps))

    @classmethod
    def init_state(cls, args, params, sample=None):
        n = params["W_enc"].shape[1]
        return {"control": Controller(args, args.lambda0, data_start(args, params, sample, "l1")), "alpha": args.alpha0, "mse_ema": None,
                "window": collections.deque(), "recent": collections.deque(maxlen=8), "n": n}

    @classmethod
    def loss(cls, p, x, state, args, token=None, pair=None, **_):
        f = torch.relu((x - p["b_dec"]) @ p["W_enc"] + p["b_enc"])
        recon = f @ p["W_dec"] + p["b_dec"]
        w = token
        n = w.sum().clamp_min(1)
        mse = (((recon - x) * w[:, None]) ** 2).sum() / n
        lam = state["control"].lam
        l1 = lam * (f * w[:, None]).sum() / n
        valid = pair.clone()
        valid[0] = 0
        diff = (f[1:] - f[:-1]) * valid[1:, None]
        temporal = state["alpha"] * (diff ** 2).sum() / valid.sum().clamp_min(1)
        out = result(mse + l1 + temporal, mse, recon, x, f, w, log={"l1": l1.detach(), "temporal": temporal.detach(), "lambda": lam, "alpha": state["alpha"]})
        out["token"], out["x"], out["recon"] = w, x, recon.detach()
        return out

    @classmethod
    def after_step(cls, p, state, out, args, step):
        state["control"].update(float(out["l0"]), step)
        mse = float(out["mse"])
        window = cls.steps_of(args.mse_ema_steps, args)
        decay = 1 - 1 / window
        state["mse_ema"] = mse if state["mse_ema"] is None else decay * state["mse_ema"] + (1 - decay) * mse
        target = args.alpha0 * state["mse_ema"] / max(mse, 1e-30)
        alpha = args.alpha_beta * state["alpha"] + (1 - args.alpha_beta) * target
        state["alpha"] = min(max(alpha, 0.1 * args.alpha0), 10 * args.alpha0)
        f, w = out["latents"], out["token"]
        state["window"].append(((f > 0).float().T @ w, f.T @ w, (f * f).T @ w, float(w.sum())))
        while len(state["window"]) > cls.steps_of(args.history_window, args):
            state["window"].popleft()
        state["recent"].append((out["x"], out["recon"], w))
        every = cls.steps_of(args.resample_every, args)
        if every and (step + 1) % every == 0 and step + 1 < args.steps:
            state.setdefault("resampled", []).append(cls.resample(p, state, args))

    @staticmethod
    def resample(p, state, args):
        """Eq. 6 scores over the window; bottom 10% that also fire on < 1% of tokens are
        reinitialised from residuals of high-loss recent tokens (drawn by loss^2)."""
        fired = sum(e[0] for e in state["window"])
        s1 = sum(e[1] for e in state["window"])
        s2 = sum(e[2] for e in state["window"])
        tokens = max(sum(e[3] for e in state["window"]), 1)
        mean = s1 / tokens
        score = mean * (1 + args.gamma * (s2 / tokens - mean ** 2).clamp_min(0))
        n = score.shape[0]
        bottom = torch.zeros(n, dtype=torch.bool)
        bottom[torch.argsort(score, stable=True)[: n * 10 // 100]] = True
        chosen = torch.nonzero(bottom & (fired / tokens < 0.01)).flatten()
        if len(chosen) == 0:
            return 0
        x = torch.cat([r[0] for r in state["recent"]])
        w = torch.cat([r[2] for r in state["recent"]])
        with torch.no_grad():
            recon = torch.relu((x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]) @ p["W_dec"] + p["b_dec"]
        residual = x - recon
        # loss^2 draws, without replacement, never among tokens above 5 x the median norm (resample.ts drawWeights)
        norms = x.norm(dim=1)
        cut = 5 * norms[w > 0].median()
        weights = (residual ** 2).sum(1) ** 2 * w * (norms <= cut).float()
        count = min(len(chosen), int((weights > 0).sum()))
        chosen = chosen[:count]
        picks = torch.multinomial(weights, count, replacement=False)
        alive = torch.ones(n, dtype=torch.bool)
        alive[chosen] = False
        enc_norm = p["W_enc"].detach()[:, alive].norm(dim=0).mean()
        directions = residual[picks] / residual[picks].norm(dim=1, keepdim=True).clamp_min(1e-12)
        with torch.no_grad():
            p["W_dec"][chosen] = directions
            p["W_enc"][:, chosen] = 0.2 * enc_norm * directions.T
            # b_enc: each new latent fires on targetL0 / n of the valid tokens (resample.ts firingBiases)
            pre = (x[w > 0] - p["b_dec"]) @ p["W_enc"][:, chosen]
            k = max(1, round(pre.shape[0] * args.target_l0 / n))
            p["b_enc"][chosen] = -pre.topk(k, dim=0).values[-1]
        opt = state["optimizer"]
        for name, cols in (("W_dec", None), ("W_enc", True), ("b_enc", None)):
            for key in ("exp_avg", "exp_avg_sq"):
                buf = opt.state[p[name]][key]
                if cols:
                    buf[:, chosen] = 0
                else:
                    buf[chosen] = 0
        for entry in state["window"]:
            for t in entry[:3]:
                t[chosen] = 0
        state["since"][chosen] = 0
        return len(chosen)

    infer = Standard.infer
