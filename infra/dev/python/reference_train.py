"""Independent PyTorch reference for one training step of every SAE variant.

Writes test/fixtures/train/<variant>.json + .bin: a fixed tiny batch, parameters and optimizer
state at step 3, and what one step must produce (loss terms, raw gradients, updated parameters,
Adam moments, variant state, dead-latent counters, metrics). The TypeScript trainer's ONNX step
graph is checked against these (test/stages/train/parity.test.ts). CI never runs this script.

The math is written from the source papers and the reference trainers with torch autograd
(custom autograd functions only for JumpReLU's straight-through estimator) and torch.optim.Adam /
clip_grad_norm_, so it shares no code with the hand-written ONNX backward. Each formula that
follows a reference implementation names it: AuxK (dictionary_learning trainers/top_k.py
get_auxiliary_loss), the JumpReLU L0 loss (SAELens sae_lens/saes/jumprelu_sae.py
JumpReLUTrainingSAE.calculate_aux_loss), the BatchTopK inference threshold (dictionary_learning
trainers/batch_top_k.py BatchTopKTrainer.update_threshold), the sparsity controller
(decoderesearch/synth-sae-bench-experiments saes/components/coefficient_autotuner.py
CoefficientAutotuner.update). Besides one step per variant it writes
test/fixtures/train/batchtopk-threshold.json: a sequence of batches through the threshold rule.

Run: .tools/ml-venv/bin/python infra/dev/python/reference_train.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
torch.manual_seed(0)

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "test" / "fixtures" / "train"
ROWS, D_IN, D_SAE, SEQ = 32, 8, 24, 8
STEP = 3  # steps already done: Adam's bias corrections use step 4
NORM_SCALE = 1.25
WINDOW = 64

COMMON = dict(dSae=D_SAE, steps=100, batchSize=ROWS, lr=1e-3, warmupSteps=10, lrDecay="none",
              gradClip=0.5, deadWindowTokens=WINDOW, adamEps=1e-8)
LR_T = COMMON["lr"] * (STEP + 1) / COMMON["warmupSteps"]  # linear warm-up: the step's learning rate
CONTROL = dict(controlGain=0.1, controlHorizon=5, l0Ema=0.8, controlMinFactor=0.01, controlMaxFactor=100.0)
CONFIGS = {
    "standard": dict(l1Coefficient=0.05, targetL0=5, **CONTROL),
    "topk": dict(k=4, kAux=5, auxKCoefficient=0.25),
    "batchtopk": dict(k=4, kAux=5, auxKCoefficient=0.25, thresholdDecay=0.9, thresholdStartStep=2),
    "jumprelu": dict(l0Coefficient=0.02, bandwidth=0.1, initThreshold=0.1, targetL0=6, l0Penalty="linear", **CONTROL),
    "gated": dict(l1Coefficient=0.05, targetL0=20, **CONTROL),
    "atr": dict(lambda0=0.05, targetL0=6, alpha0=0.3, alphaBeta=0.95, mseEmaSteps=10, seqLen=SEQ,
                temporalNorm="pairs", alphaSignal="quality", **CONTROL),
}
# Extra fixtures: name -> config (the variant is the name's first word)
EXTRA = {
    "jumprelu-quadratic": dict(bandwidth=0.1, initThreshold=0.1, targetL0=6, l0Penalty="quadratic", targetPenaltyCoefficient=0.5, **CONTROL),
}


# the ONNX trainer's coefficient units: the JumpReLU lambda is the paper's (unit mean squared norm)
# times d_in under expected-norm normalisation (SAELens l0_coefficient units)
def initial_coefficient(variant, cfg):
    if cfg.get("l0Penalty") == "quadratic":
        return cfg["targetPenaltyCoefficient"] * D_IN
    return {"standard": cfg.get("l1Coefficient"), "gated": cfg.get("l1Coefficient"), "atr": cfg.get("lambda0"),
            "jumprelu": cfg.get("l0Coefficient", 0.001) * D_IN}.get(variant)


def rectangle(u):
    return ((u > -0.5) & (u < 0.5)).to(u)


class JumpReLUFn(torch.autograd.Function):
    """z H(z - theta); d/dz = H, d/dtheta = -(theta/eps) K((z - theta)/eps) (Rajamanoharan et al. 2024b)."""

    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return z * (z > theta).to(z)

    @staticmethod
    def backward(ctx, grad):
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        dz = (z > theta).to(z) * grad
        dtheta = (-(theta / eps) * rectangle((z - theta) / eps) * grad).sum(0)
        return dz, dtheta, None


class StepFn(torch.autograd.Function):
    """H(z - theta); d/dz = 0, d/dtheta = -(1/eps) K((z - theta)/eps)."""

    @staticmethod
    def forward(ctx, z, theta, eps):
        ctx.save_for_backward(z, theta)
        ctx.eps = eps
        return (z > theta).to(z)

    @staticmethod
    def backward(ctx, grad):
        z, theta = ctx.saved_tensors
        eps = ctx.eps
        return torch.zeros_like(z), (-(1.0 / eps) * rectangle((z - theta) / eps) * grad).sum(0), None


def param_names(variant):
    if variant == "gated":
        return ["W_enc", "b_gate", "r_mag", "b_mag", "W_dec", "b_dec"]
    names = ["W_enc", "b_enc", "W_dec", "b_dec"]
    return names + ["log_threshold"] if variant == "jumprelu" else names


def aux_k(cfg, pre, recon, x, dead, W_dec):
    """dictionary_learning trainers/top_k.py get_auxiliary_loss: the top min(k_aux, dead) dead
    latents (post-ReLU) reconstruct the residual (held constant) through the decoder without
    b_dec; the loss is divided by the residual's variance and weighted by auxk_alpha."""
    num_dead = int(dead.sum())
    if num_dead == 0 or cfg["auxKCoefficient"] == 0:
        return torch.zeros(())
    k_aux = min(cfg["kAux"], num_dead)
    post_relu = torch.relu(pre)
    latents = torch.where(dead[None, :], post_relu, torch.full_like(pre, -math.inf))
    vals, idx = latents.topk(k_aux, dim=1, sorted=False)
    acts = torch.zeros_like(pre).scatter(1, idx, vals)
    residual = (x - recon).detach()
    l2 = ((residual - acts @ W_dec) ** 2).sum(dim=-1).mean()
    denom = ((residual - residual.mean(dim=0)[None, :]) ** 2).sum(dim=-1).mean()
    return cfg["auxKCoefficient"] * torch.nan_to_num(l2 / denom, 0.0)


def forward(variant, cfg, p, x, dead, masks, state):
    """Returns (loss terms dict, recon, fired [n], l0, latents or None)."""
    n_tok = masks["token"].sum() if variant == "atr" else torch.tensor(float(ROWS))
    if variant == "gated":
        xc = x - p["b_dec"]
        pi_gate = xc @ p["W_enc"] + p["b_gate"]
        pi_mag = xc @ (p["W_enc"] * p["r_mag"].exp()) + p["b_mag"]
        f = (pi_gate > 0).to(x) * torch.relu(pi_mag)
        recon = f @ p["W_dec"] + p["b_dec"]
        gate_act = torch.relu(pi_gate)
        aux_recon = gate_act @ p["W_dec"].detach() + p["b_dec"].detach()
        terms = {"mse": ((recon - x) ** 2).sum() / ROWS,
                 "l1": state["lambda"] * gate_act.sum() / ROWS,
                 "aux_mse": ((aux_recon - x) ** 2).sum() / ROWS}
        return terms, recon, (f > 0).to(x).sum(0), f
    pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    if variant in ("standard", "atr"):
        f = torch.relu(pre)
    elif variant == "topk":
        vals, idx = pre.topk(cfg["k"], dim=1)
        f = torch.zeros_like(pre).scatter(1, idx, torch.relu(vals))
    elif variant == "batchtopk":
        flat = torch.relu(pre).flatten()
        vals, idx = flat.topk(cfg["k"] * ROWS)
        f = torch.zeros_like(flat).scatter(0, idx, vals).view(ROWS, D_SAE)
    elif variant == "jumprelu":
        theta = p["log_threshold"].exp()
        f = JumpReLUFn.apply(pre, theta, cfg["bandwidth"])
    recon = f @ p["W_dec"] + p["b_dec"]
    if variant == "atr":
        w = masks["token"][:, None]
        terms = {"mse": (((recon - x) * w) ** 2).sum() / n_tok,
                 "l1": state["lambda"] * (f * w).sum() / n_tok}
        pairs = masks["pair"][1:, None]
        diff = (f[1:] - f[:-1]) * pairs
        terms["temporal"] = state["alpha"] * (diff ** 2).sum() / masks["pair"][1:].sum().clamp(min=1)
        fired = ((f > 0).to(x) * w).sum(0)
        return terms, recon, fired, f
    terms = {"mse": ((recon - x) ** 2).sum() / ROWS}
    if variant == "standard":
        terms["l1"] = state["lambda"] * f.sum() / ROWS
    if variant in ("topk", "batchtopk"):
        terms["auxk"] = aux_k(cfg, pre, recon, x, dead, p["W_dec"])
    if variant == "jumprelu":
        l0 = StepFn.apply(pre, p["log_threshold"].exp(), cfg["bandwidth"]).sum(dim=-1)
        if cfg.get("l0Penalty") == "quadratic":
            # dictionary_learning trainers/jumprelu.py JumpReluTrainer.loss:
            # sparsity_coefficient * (l0 / target_l0 - 1)^2 with l0 the batch mean through the Step STE
            terms["l0_penalty"] = state["lambda"] * (l0.mean() / cfg["targetL0"] - 1) ** 2
        else:
            # SAELens JumpReLUTrainingSAE.calculate_aux_loss: l0_loss = (l0_coefficient * l0).mean(),
            # with l0 the per-token count through the Step STE, beside the summed-over-d MSE
            terms["l0_penalty"] = (state["lambda"] * l0).mean()
        return terms, recon, (pre > p["log_threshold"].exp()).to(x).sum(0), f
    return terms, recon, (f > 0).to(x).sum(0), f


def make_masks():
    token = torch.ones(ROWS)
    token[[0, 8, 13, 31]] = 0  # special tokens
    pair = torch.ones(ROWS)
    for i in range(ROWS):
        doc_break = i == 20
        if i % SEQ == 0 or token[i] == 0 or token[i - 1] == 0 or doc_break:
            pair[i] = 0
    return {"token": token, "pair": pair}


def initial(variant, gen):
    p = {}
    W_dec = torch.randn(D_SAE, D_IN, generator=gen)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    p["W_dec"] = W_dec
    p["W_enc"] = W_dec.T.clone() + 0.2 * torch.randn(D_IN, D_SAE, generator=gen)
    p["b_dec"] = 0.1 * torch.randn(D_IN, generator=gen)
    if variant == "gated":
        p["b_gate"] = 0.1 * torch.randn(D_SAE, generator=gen)
        p["r_mag"] = 0.1 * torch.randn(D_SAE, generator=gen)
        p["b_mag"] = 0.1 * torch.randn(D_SAE, generator=gen)
    else:
        p["b_enc"] = 0.1 * torch.randn(D_SAE, generator=gen) - (0.3 if variant in ("standard", "atr") else 0)
    if variant == "jumprelu":
        p["log_threshold"] = torch.log(0.2 + 0.4 * torch.rand(D_SAE, generator=gen))
    return {k: p[k].float().contiguous() for k in param_names(variant)}


def initial_state(variant, cfg):
    """The state before this step (mid-run values, so every branch of the updates is exercised)."""
    control = {"lambda": 0.06, "lambda0": 0.05, "l0Ema": 7.0, "l0Rate": -0.2, "l0Seen": 1.0}
    if variant == "jumprelu":
        control.update(**{"lambda": 0.2, "lambda0": 0.16})
    if variant == "atr":
        return {**control, "l0Ema": 11.0, "l0Rate": 0.0, "alpha": 0.25, "mseEma": 5.0, "mseSeen": 1.0}  # a flat L0: the response bound binds
    if variant in ("standard", "gated", "jumprelu"):
        return control
    if variant == "batchtopk":
        return {"threshold": 0.3}
    return {}


def controller(cfg, state, l0, lr_factor):
    """The sparsity controller of stages/train/variants/sparsity-control.ts: a multiplicative
    integral controller on the log L0 error predicted controlHorizon steps ahead, each step bounded
    by L0's own rate of change plus a floor and scaled by the gain schedule (in the family of
    decoderesearch/synth-sae-bench-experiments CoefficientAutotuner.update: smoothed L0, bounded
    multiplicative steps, rate awareness)."""
    beta, floor = cfg["l0Ema"], 1e-3
    if not state["l0Seen"]:
        smoothed, rate = max(l0, floor), 0.0
    else:
        smoothed = max(beta * state["l0Ema"] + (1 - beta) * l0, floor)
        rate = 0.7 * state["l0Rate"] + 0.3 * math.log(smoothed / max(state["l0Ema"], floor))
    error = math.log(smoothed / cfg["targetL0"]) + cfg["controlHorizon"] * rate
    bound = abs(rate) + 0.2 * cfg["controlGain"]
    change = min(max(cfg["controlGain"] * math.tanh(error), -bound), bound)
    lam = state["lambda"] * math.exp(change * lr_factor)
    start = state["lambda0"]  # the clamps are relative to the start (configured or data-derived)
    lam = min(max(lam, start * cfg["controlMinFactor"]), start * cfg["controlMaxFactor"])
    return {"lambda": lam, "lambda0": start, "l0Ema": smoothed, "l0Rate": rate, "l0Seen": 1.0}


def update_threshold(threshold, kept, decay):
    """dictionary_learning trainers/batch_top_k.py BatchTopKTrainer.update_threshold: the batch's
    smallest positive kept activation (0 if none) sets the threshold the first time (threshold < 0),
    then an EMA with beta = decay follows it."""
    active = kept[kept > 0]
    minimum = float(active.min()) if active.numel() else 0.0
    return minimum if threshold < 0 else decay * threshold + (1 - decay) * minimum


def next_state(variant, cfg, state, terms, l0, kept_vals):
    f32 = lambda v: float(np.float32(v))
    out = {}
    if variant in ("standard", "gated", "jumprelu", "atr"):
        if cfg.get("l0Penalty") == "quadratic":  # the penalty targets L0 itself: lambda (= c) is fixed
            smoothed = cfg["l0Ema"] * state["l0Ema"] + (1 - cfg["l0Ema"]) * l0
            rate = 0.7 * state["l0Rate"] + 0.3 * math.log(smoothed / state["l0Ema"])
            out.update({"lambda": state["lambda"], "lambda0": state["lambda0"], "l0Ema": smoothed, "l0Rate": rate, "l0Seen": 1.0})
        else:
            out.update(controller(cfg, state, l0, LR_T / cfg["lr"]))
    if variant == "atr":
        mse = float(terms["mse"].detach())
        decay = 1 - 1 / cfg["mseEmaSteps"]
        mse_ema = decay * state["mseEma"] + (1 - decay) * mse
        alpha = cfg["alphaBeta"] * state["alpha"] + (1 - cfg["alphaBeta"]) * cfg["alpha0"] * (mse_ema / mse)
        alpha = min(max(alpha, cfg["alpha0"] * 0.1), cfg["alpha0"] * 10)
        out.update(alpha=alpha, mseEma=mse_ema, mseSeen=1.0)
    if variant == "batchtopk":
        # 0-based step STEP > thresholdStartStep: the update is active
        out["threshold"] = update_threshold(state["threshold"], kept_vals, cfg["thresholdDecay"])
    return {k: f32(v) for k, v in out.items()}


def one_step(variant, name=None):
    """One step of `variant`; `name` picks an extra fixture (EXTRA) with its own config."""
    cfg = {**COMMON, **(EXTRA[name] if name else CONFIGS[variant])}
    gen = torch.Generator().manual_seed(1234 + list(CONFIGS).index(variant))
    x_raw = torch.randn(ROWS, D_IN, generator=gen) * 1.5 + 0.3
    params = initial(variant, gen)
    m0 = {k: 0.01 * torch.randn(v.shape, generator=gen) for k, v in params.items()}
    v0 = {k: 1e-4 * torch.rand(v.shape, generator=gen) for k, v in params.items()}
    since = torch.zeros(D_SAE)
    since[::4] = WINDOW  # every fourth latent is dead
    since[1::4] = 10.0
    masks = make_masks()
    state = initial_state(variant, cfg)

    x = x_raw * NORM_SCALE
    p = {k: torch.nn.Parameter(v.clone()) for k, v in params.items()}
    dead = since >= WINDOW
    terms, recon, fired, f = forward(variant, cfg, p, x, dead, masks, state)
    loss = sum(terms.values())
    loss.backward()
    raw_grads = {k: v.grad.detach().clone() for k, v in p.items()}

    with torch.no_grad():
        if cfg.get("decoderUnitNorm", True):
            W = p["W_dec"]
            W.grad -= (W.grad * W).sum(1, keepdim=True) * W
        grad_norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(q.grad) for q in p.values()])))
        torch.nn.utils.clip_grad_norm_(list(p.values()), cfg["gradClip"])
    # jumprelu's log_threshold learns at thresholdLrScale x lr (default max(1, 3 / (lr x steps)))
    threshold_scale = cfg.get("thresholdLrScale", max(1.0, 3 / (cfg["lr"] * cfg["steps"])))
    groups = [{"params": [q], "lr": LR_T * (threshold_scale if k == "log_threshold" else 1.0)} for k, q in p.items()]
    opt = torch.optim.Adam(groups, lr=LR_T, betas=(0.9, 0.999), eps=cfg["adamEps"])
    for k, q in p.items():
        opt.state[q] = {"step": torch.tensor(float(STEP)), "exp_avg": m0[k].clone(), "exp_avg_sq": v0[k].clone()}
    opt.step()
    with torch.no_grad():
        p["W_dec"] /= p["W_dec"].norm(dim=1, keepdim=True)

    n_tok = masks["token"].sum() if variant == "atr" else torch.tensor(float(ROWS))
    l0 = float(fired.sum() / n_tok)
    kept = None
    if variant == "batchtopk":
        kept = torch.relu((x - params["b_dec"]) @ params["W_enc"] + params["b_enc"]).flatten().topk(cfg["k"] * ROWS).values
    tokens = float(n_tok)
    since_next = torch.clamp((since + tokens) * (fired == 0).float(), max=WINDOW)
    w = masks["token"][:, None] if variant == "atr" else torch.ones(ROWS, 1)
    mean = (x * w).sum(0, keepdim=True) / w.sum()
    ev = 1 - float((((x - recon.detach()) * w) ** 2).sum() / (((x - mean) * w) ** 2).sum())
    metrics = {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in terms.items()}, "l0": l0, "explained_variance": ev,
               "dead_pct": float((since_next >= WINDOW).float().mean() * 100), "grad_norm": grad_norm}

    tensors = {"x": x_raw, "sinceFired": since, "tokenMask": masks["token"], "pairMask": masks["pair"]}
    for k in params:
        tensors[f"param:{k}"] = params[k]
        tensors[f"m:{k}"] = m0[k]
        tensors[f"v:{k}"] = v0[k]
        tensors[f"grad:{k}"] = raw_grads[k]
        tensors[f"next:param:{k}"] = p[k].detach()
        tensors[f"next:m:{k}"] = opt.state[p[k]]["exp_avg"]
        tensors[f"next:v:{k}"] = opt.state[p[k]]["exp_avg_sq"]
    tensors["next:sinceFired"] = since_next
    tensors["recon"] = recon.detach()
    if variant != "atr":
        del tensors["tokenMask"], tensors["pairMask"]
    write_fixture(name or variant, variant, cfg, tensors, {
        "state": state, "nextState": next_state(variant, cfg, state, terms, l0, kept), "metrics": metrics,
        "step": STEP, "normScale": NORM_SCALE, "rows": ROWS, "dIn": D_IN,
        "initialCoefficient": initial_coefficient(variant, cfg),
    })


def write_fixture(fixture, variant, cfg, tensors, meta):
    blob = bytearray()
    index = {}
    for name, t in tensors.items():
        arr = t.detach().float().contiguous().numpy().astype("<f4")
        index[name] = {"offset": len(blob), "shape": list(arr.shape)}
        blob += arr.tobytes()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{fixture}.bin").write_bytes(bytes(blob))
    doc = {"generator": "infra/dev/python/reference_train.py", "torch": torch.__version__, "variant": variant,
           "config": {"variant": variant, **cfg}, "tensors": index, **meta}
    (OUT / f"{fixture}.json").write_text(json.dumps(doc, indent=1) + "\n")


def threshold_sequence():
    """Kept-value batches through update_threshold from step 0 with a start step: the threshold
    stays -1 up to the start, takes the first minimum, then follows the EMA."""
    gen = torch.Generator().manual_seed(77)
    start, decay, steps, kept = 3, 0.8, 9, 12
    batches, thresholds = [], []
    threshold = -1.0
    for step in range(steps):
        vals = torch.relu(torch.randn(kept, generator=gen) + 0.5 - 0.05 * step)
        if step == 5:
            vals = torch.zeros(kept)  # no positive kept value: dictionary_learning uses 0
        if step > start:
            threshold = update_threshold(threshold, vals, decay)
        batches.append([float(np.float32(v)) for v in vals])
        thresholds.append(float(np.float32(threshold)))
    doc = {"generator": "infra/dev/python/reference_train.py",
           "reference": "dictionary_learning trainers/batch_top_k.py BatchTopKTrainer.update_threshold",
           "thresholdStartStep": start, "thresholdDecay": decay, "kept": batches, "thresholds": thresholds}
    (OUT / "batchtopk-threshold.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    for name in CONFIGS:
        one_step(name)
        print("wrote", name)
    for name in EXTRA:
        one_step(name.split("-")[0], name)
        print("wrote", name)
    threshold_sequence()
    print("wrote batchtopk-threshold")
