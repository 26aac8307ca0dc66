"""The SAE variants of plain_trainers.py: loss, state updates and inference, in plain PyTorch.

Each variant follows the same algorithm as the ONNX trainer (stages/train/variants/*.ts), written
independently from the papers and reference trainers named in each docstring.
"""

from __future__ import annotations

import math

import torch


def make_params(variant, d, n, b_dec, args, gen):
    W_dec = torch.randn(n, d, generator=gen)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    p = {"W_enc": W_dec.T.clone(), "W_dec": W_dec, "b_dec": b_dec.clone()}
    if variant == "gated":
        p.update(b_gate=torch.zeros(n), r_mag=torch.zeros(n), b_mag=torch.zeros(n))
    else:
        p["b_enc"] = torch.zeros(n)
    if variant == "jumprelu":
        p["log_threshold"] = torch.full((n,), math.log(0.001 * math.sqrt(d)))
    return {k: v.contiguous() for k, v in p.items()}


def pooled_ev(x, recon, w=None):
    if w is None:
        return 1 - ((x - recon) ** 2).sum() / ((x - x.mean(0)) ** 2).sum()
    mean = (x * w[:, None]).sum(0) / w.sum()
    return 1 - (((x - recon) * w[:, None]) ** 2).sum() / (((x - mean) * w[:, None]) ** 2).sum()


class Controller:
    """Sparsity controller (stages/train/variants/sparsity-control.ts): multiplicative integral
    control of lambda on the log L0 error predicted `horizon` steps ahead, each step bounded by how
    fast L0 has been moving (plus a floor) and scaled by the LR warm-up; a plain float version."""

    RATE_DECAY, RESPONSE_FLOOR = 0.7, 0.2

    @staticmethod
    def add_args(ap):
        ap.add_argument("--target-l0", type=float, default=None)
        ap.add_argument("--control-gain", type=float, default=0.03)
        ap.add_argument("--control-horizon", type=float, default=0.05, help="steps, or a fraction of the run if < 1")
        ap.add_argument("--l0-ema", type=float, default=0.5)
        ap.add_argument("--control-init-factor", type=float, default=0.25)
        ap.add_argument("--control-min-factor", type=float, default=0.01)
        ap.add_argument("--control-max-factor", type=float, default=100.0)

    def __init__(self, args, initial, start=None):
        start = initial if start is None else start
        self.args, self.initial, self.lam = args, start, start
        self.ema, self.rate, self.seen = 0.0, 0.0, False
        h = args.control_horizon
        self.horizon = h * args.steps if 0 < h < 1 else h

    def update(self, l0, step):
        a = self.args
        smoothed = max(l0 if not self.seen else a.l0_ema * self.ema + (1 - a.l0_ema) * l0, 1e-3)
        if self.seen:
            self.rate = self.RATE_DECAY * self.rate + (1 - self.RATE_DECAY) * math.log(smoothed / max(self.ema, 1e-3))
        self.ema, self.seen = smoothed, True
        if a.target_l0 is None:
            return
        factor = min(1.0, (step + 1) / a.warmup) if a.warmup else 1.0
        error = math.log(smoothed / a.target_l0) + self.horizon * self.rate
        bound = abs(self.rate) + self.RESPONSE_FLOOR * a.control_gain
        change = min(max(a.control_gain * math.tanh(error), -bound), bound)
        self.lam *= math.exp(change * factor)
        self.lam = min(max(self.lam, self.initial * a.control_min_factor), self.initial * a.control_max_factor)


def target_levels(p, sample, target, bias="b_enc", per_latent_target=None):
    """The (1 - target/n) quantile q of the initial pre-activations over 1,024 sample rows, and each
    latent's k-th largest pre-activation (k = rows * per_latent_target / n) over the whole sample."""
    n = p["W_enc"].shape[1]
    pre = (sample - p["b_dec"]) @ p["W_enc"] + p[bias]
    k = max(1, round(sample.shape[0] * (per_latent_target or target) / n))
    per_latent = pre.topk(k, dim=0).values[-1]
    head = pre[:1024].flatten()
    q = max(float(head.topk(max(1, round(1024 * target))).values[-1]), 1e-3)
    return q, per_latent


def data_start(args, params, sample, penalty, bias="b_enc"):
    """lambda_0 from data under a target (sparsity-init.ts): a fraction of 2 q for L1, of q^2 for L0."""
    if args.target_l0 is None:
        return None
    q, _ = target_levels(params, sample, args.target_l0, bias)
    return args.control_init_factor * (2 * q if penalty == "l1" else q * q)


def auxk_loss(pre, residual, dead, W_dec, k_aux, coefficient):
    """dictionary_learning trainers/top_k.py get_auxiliary_loss: top-k_aux dead latents (ReLU'd)
    reconstruct the residual without b_dec; normalised by the residual's variance; times 1/32."""
    num_dead = int(dead.sum())
    if num_dead == 0 or coefficient == 0:
        return torch.zeros(())
    k = min(k_aux, num_dead)
    acts = torch.where(dead[None, :], torch.relu(pre), torch.full_like(pre, -math.inf))
    vals, idx = acts.topk(k, dim=1)
    buf = torch.zeros_like(pre).scatter(1, idx, vals)
    l2 = ((residual - buf @ W_dec) ** 2).sum(-1).mean()
    denom = ((residual - residual.mean(0)) ** 2).sum(-1).mean()
    return coefficient * torch.nan_to_num(l2 / denom, 0.0)


def result(loss, mse, recon, x, f, w=None, log=None):
    n = w.sum() if w is not None else x.shape[0]
    active = (f > 0).float() if w is None else (f > 0).float() * w[:, None]
    fired = active.sum(0)
    return {"loss": loss, "mse": mse.detach(), "l0": fired.sum() / n, "ev": pooled_ev(x, recon.detach(), w),
            "fired": fired, "latents": f.detach(), "log": log or {}}


class TopK:
    """Gao et al. 2024: ReLU of the k largest pre-activations; AuxK on dead latents."""

    @staticmethod
    def add_args(ap):
        ap.add_argument("--k", type=int, default=32)
        ap.add_argument("--auxk-coefficient", type=float, default=1 / 32)

    @staticmethod
    def init_state(args, params, sample=None):
        return {}

    @staticmethod
    def encode(p, x, args, state):
        pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
        vals, idx = pre.topk(args.k, dim=1)
        return pre, torch.zeros_like(pre).scatter(1, idx, torch.relu(vals))

    @classmethod
    def loss(cls, p, x, state, args, dead, **_):
        pre, f = cls.encode(p, x, args, state)
        recon = f @ p["W_dec"] + p["b_dec"]
        mse = ((recon - x) ** 2).sum(-1).mean()
        aux = auxk_loss(pre, (x - recon).detach(), dead, p["W_dec"], x.shape[1] // 2, args.auxk_coefficient)
        return result(mse + aux, mse, recon, x, f, log={"auxk": aux.detach()})

    @staticmethod
    def after_step(p, state, out, args, step):
        pass

    @classmethod
    def infer(cls, p, x, state, args):
        _, f = cls.encode(p, x, args, state)
        return f, f @ p["W_dec"] + p["b_dec"]


class BatchTopK(TopK):
    """Bussmann et al. 2024: the k N largest ReLU'd pre-activations of the batch; inference
    threshold as dictionary_learning trainers/batch_top_k.py update_threshold (from step
    threshold_start, first value then EMA)."""

    @staticmethod
    def add_args(ap):
        ap.add_argument("--threshold-start", type=float, default=0.5, help="fraction of the run, or a step")
        ap.add_argument("--threshold-decay", type=float, default=0.99)

    @staticmethod
    def init_state(args, params, sample=None):
        return {"threshold": -1.0}

    @staticmethod
    def encode(p, x, args, state):
        pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
        flat = torch.relu(pre).flatten()
        vals, idx = flat.topk(args.k * x.shape[0])
        return pre, torch.zeros_like(flat).scatter(0, idx, vals).view_as(pre)

    @staticmethod
    def after_step(p, state, out, args, step):
        start = args.threshold_start * args.steps if args.threshold_start < 1 else args.threshold_start
        if step <= round(start):
            return
        active = out["latents"][out["latents"] > 0]
        minimum = float(active.min()) if active.numel() else 0.0
        t = state["threshold"]
        state["threshold"] = minimum if t < 0 else args.threshold_decay * t + (1 - args.threshold_decay) * minimum

    @classmethod
    def infer(cls, p, x, state, args):
        pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
        f = pre * (pre > max(state["threshold"], 0.0)).float()
        return f, f @ p["W_dec"] + p["b_dec"]


class Standard:
    """ReLU SAE with L1 on sum_i f_i (Bricken et al. 2023), lambda from the controller."""

    @staticmethod
    def add_args(ap):
        ap.add_argument("--l1-coefficient", type=float, default=0.04)

    @staticmethod
    def init_state(args, params, sample=None):
        return {"control": Controller(args, args.l1_coefficient, data_start(args, params, sample, "l1"))}

    @staticmethod
    def encode(p, x, args, state):
        return torch.relu((x - p["b_dec"]) @ p["W_enc"] + p["b_enc"])

    @classmethod
    def loss(cls, p, x, state, args, token=None, **_):
        f = cls.encode(p, x, args, state)
        recon = f @ p["W_dec"] + p["b_dec"]
        w = token if token is not None else torch.ones(x.shape[0])
        n = w.sum().clamp_min(1)
        mse = (((recon - x) * w[:, None]) ** 2).sum() / n
        lam = state["control"].lam
        l1 = lam * (f * w[:, None]).sum() / n
        return result(mse + l1, mse, recon, x, f, w if token is not None else None, log={"l1": l1.detach(), "lambda": lam})

    @staticmethod
    def after_step(p, state, out, args, step):
        state["control"].update(float(out["l0"]), step)

    @classmethod
    def infer(cls, p, x, state, args):
        f = cls.encode(p, x, args, state)
        return f, f @ p["W_dec"] + p["b_dec"]


class JumpReLUFn(torch.autograd.Function):
    """z H(z - theta); d/dz = H; d/dtheta = -(theta/eps) K((z - theta)/eps) (Rajamanoharan et al. 2024b)."""

    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return z * (z > theta).to(z)

    @staticmethod
    def backward(ctx, g):
        z, theta = ctx.saved_tensors
        k = ((z - theta).abs() < ctx.eps / 2).to(z)
        return g * (z > theta).to(z), (-(theta / ctx.eps) * k * g).sum(0), None


class StepFn(torch.autograd.Function):
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


class JumpReLU:
    """JumpReLU with the SAELens L0 loss (l0_coefficient in summed-MSE units = paper lambda x d),
    thresholds started at each latent's target-L0 quantile over the init sample."""

    @staticmethod
    def add_args(ap):
        ap.add_argument("--l0-coefficient", type=float, default=0.001, help="paper units (unit mean squared norm)")
        ap.add_argument("--threshold-lr-scale", type=float, default=None, help="default max(1, 3 / (lr x steps)), as the ONNX trainer")
        ap.add_argument("--threshold-init-l0-factor", type=float, default=4.0)
        ap.add_argument("--l0-penalty", choices=["linear", "quadratic"], default=None, help="default quadratic with a target")
        ap.add_argument("--target-penalty-coefficient", type=float, default=1.0, help="dictionary_learning units (x d)")

    @staticmethod
    def quadratic(args):
        return (args.l0_penalty or ("quadratic" if args.target_l0 else "linear")) == "quadratic"

    @classmethod
    def init_state(cls, args, params, sample=None):
        d = params["W_enc"].shape[0]
        if cls.quadratic(args):
            return {"c": args.target_penalty_coefficient * d, "eps": 0.001 * math.sqrt(d)}
        return {"control": Controller(args, args.l0_coefficient * d, data_start(args, params, sample, "l0")), "eps": 0.001 * math.sqrt(d)}

    @staticmethod
    def init_from_sample(p, sample, args):
        if args.target_l0 is None:
            return
        n = p["W_enc"].shape[1]
        _, per_latent = target_levels(p, sample, args.target_l0, per_latent_target=min(args.target_l0 * args.threshold_init_l0_factor, n / 2))
        p["log_threshold"] = per_latent.clamp_min(1e-3).log()

    @classmethod
    def loss(cls, p, x, state, args, **_):
        pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
        theta = p["log_threshold"].exp()
        f = JumpReLUFn.apply(pre, theta, state["eps"])
        recon = f @ p["W_dec"] + p["b_dec"]
        mse = ((recon - x) ** 2).sum(-1).mean()
        counts = StepFn.apply(pre, theta, state["eps"]).sum(-1)
        if "c" in state:  # dictionary_learning trainers/jumprelu.py: c (L0 / target - 1)^2
            lam = state["c"]
            l0 = lam * (counts.mean() / args.target_l0 - 1) ** 2
        else:  # SAELens: (lambda * L0).mean()
            lam = state["control"].lam
            l0 = (lam * counts).mean()
        return result(mse + l0, mse, recon, x, f, log={"l0_penalty": l0.detach(), "lambda": lam})

    @staticmethod
    def after_step(p, state, out, args, step):
        if "control" in state:
            state["control"].update(float(out["l0"]), step)

    @classmethod
    def infer(cls, p, x, state, args):
        pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
        f = pre * (pre > p["log_threshold"].exp()).float()
        return f, f @ p["W_dec"] + p["b_dec"]


class Gated:
    """Rajamanoharan et al. 2024a: gate and magnitude paths sharing W_enc (r_mag), L1 on the
    gate's ReLU, auxiliary reconstruction through a frozen decoder; lambda from the controller."""

    @staticmethod
    def add_args(ap):
        pass

    @staticmethod
    def init_state(args, params, sample=None):
        return {"control": Controller(args, args.l1_coefficient, data_start(args, params, sample, "l1", "b_gate"))}

    @staticmethod
    def paths(p, x):
        xc = x - p["b_dec"]
        pi_gate = xc @ p["W_enc"] + p["b_gate"]
        pi_mag = xc @ (p["W_enc"] * p["r_mag"].exp()) + p["b_mag"]
        return pi_gate, (pi_gate > 0).to(x) * torch.relu(pi_mag)

    @classmethod
    def loss(cls, p, x, state, args, **_):
        pi_gate, f = cls.paths(p, x)
        recon = f @ p["W_dec"] + p["b_dec"]
        mse = ((recon - x) ** 2).sum(-1).mean()
        act = torch.relu(pi_gate)
        lam = state["control"].lam
        l1 = lam * act.sum(-1).mean()
        aux = ((act @ p["W_dec"].detach() + p["b_dec"].detach() - x) ** 2).sum(-1).mean()
        return result(mse + l1 + aux, mse, recon, x, f, log={"l1": l1.detach(), "aux_mse": aux.detach(), "lambda": lam})

    after_step = Standard.after_step

    @classmethod
    def infer(cls, p, x, state, args):
        _, f = cls.paths(p, x)
        return f, f @ p["W_dec"] + p["b_dec"]


VARIANTS = {"topk": TopK, "batchtopk": BatchTopK, "standard": Standard, "jumprelu": JumpReLU, "gated": Gated}
