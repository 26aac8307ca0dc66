"""Core-metric and temporal-analysis reference fixture (group "core").

A tiny causal "model" (embedding + causal mean -> hook -> causal-mean suffix -> unembedding)
is wrapped as a TransformerLens HookedRootModule, and SAELens 6.18's own
get_sparsity_and_variance_metrics / get_downstream_reconstruction_metrics run on it with a
StandardSAE, so the core numbers come from SAELens code. Temporal numbers use the definitions
written in stages/evaluate/temporal-analysis.ts, computed independently here with NumPy.
"""

import numpy as np
import sae_lens
import torch
from sae_lens import StandardSAE, StandardSAEConfig
from sae_lens.evals import get_downstream_reconstruction_metrics, get_sparsity_and_variance_metrics
from sae_lens.saes.sae import SAEMetadata
from sae_lens.training.activation_scaler import ActivationScaler
from transformer_lens.hook_points import HookedRootModule, HookPoint

from eval_reference_io import FixtureWriter

HOOK = "blocks.0.hook_resid_post"
PAD, BOS, EOS = 0, 1, 2
V, D, D_SAE, ROWS, SEQ = 40, 16, 48, 8, 16
BATCH_PROMPTS = 4


def causal_mean(x: torch.Tensor) -> torch.Tensor:
    """mean_{s <= t} x_s along dim 1."""
    counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype).view(1, -1, 1)
    return torch.cumsum(x, dim=1) / counts


class TinyModel(HookedRootModule):
    """resid_t = E[tok_t] + P[t] + mean_{s<=t} E[tok_s]; logits_t = (h_t + 0.5 mean_{s<=t} h_s) W_U + b_U."""

    def __init__(self, g: torch.Generator):
        super().__init__()
        self.E = torch.randn(V, D, generator=g)
        self.P = 0.5 * torch.randn(SEQ, D, generator=g)
        self.W_U = torch.randn(D, V, generator=g) / D**0.5
        self.b_U = 0.1 * torch.randn(V, generator=g)
        block = torch.nn.Module()
        block.hook_resid_post = HookPoint()
        self.blocks = torch.nn.ModuleList([block])
        self.setup()  # names the hook point "blocks.0.hook_resid_post"

    def prefix(self, tokens: torch.Tensor) -> torch.Tensor:
        e = self.E[tokens]
        return e + self.P[: tokens.shape[1]].unsqueeze(0) + causal_mean(e)

    def forward(self, tokens, return_type="logits", loss_per_token=False, stop_at_layer=None, **_):
        h = self.blocks[0].hook_resid_post(self.prefix(tokens))
        if stop_at_layer is not None:
            return None
        logits = (h + 0.5 * causal_mean(h)) @ self.W_U + self.b_U
        log_probs = torch.log_softmax(logits, dim=-1)
        loss = -log_probs[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0]
        if not loss_per_token:
            loss = loss.mean()
        return (logits, loss) if return_type == "both" else logits


class TokenStore:
    """The part of ActivationsStore the SAELens eval functions call."""

    def __init__(self, tokens: torch.Tensor):
        self.tokens = tokens
        self.cursor = 0

    def get_batch_tokens(self, n: int) -> torch.Tensor:
        out = self.tokens[self.cursor : self.cursor + n]
        self.cursor += n
        return out


def make_tokens(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    tokens = rng.integers(3, V, size=(ROWS, SEQ))
    tokens[:, 0] = BOS
    doc_index = np.zeros((ROWS, SEQ), dtype=np.int64)
    for r in range(ROWS):
        if r % 3 == 1:  # a document ends mid-window
            cut = int(rng.integers(5, SEQ - 4))
            tokens[r, cut] = EOS
            doc_index[r, cut + 1 :] = 1
        if r % 4 == 3:  # right padding
            tokens[r, SEQ - 3 :] = PAD
    return tokens, doc_index


def train_sae(acts: torch.Tensor, keep: torch.Tensor, g: torch.Generator) -> StandardSAE:
    cfg = StandardSAEConfig(d_in=D, d_sae=D_SAE, metadata=SAEMetadata(hook_name=HOOK))
    sae = StandardSAE(cfg)
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(D, D_SAE, generator=g) / D**0.5)
        sae.W_dec.copy_(sae.W_enc.T * 0.8)
        sae.b_dec.copy_(acts[keep].mean(0))
        sae.b_enc.fill_(-0.2)
    opt = torch.optim.Adam(sae.parameters(), lr=3e-3)
    x = acts[keep]
    for _ in range(300):
        f = sae.encode(x)
        loss = ((sae.decode(f) - x) ** 2).sum(-1).mean() + 0.3 * f.sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        sae.b_enc[:3] = -50.0  # three dead latents
    return sae


def temporal_reference(x, xhat, f, special, doc_index):
    """Per-position and per-feature temporal statistics (definitions in temporal-analysis.ts)."""
    rows, seq, _ = x.shape
    keep = ~special
    mu = x[keep].mean(0)
    rss = ((x - xhat) ** 2).sum(-1)
    dev = ((x - mu) ** 2).sum(-1)
    l0 = (f != 0).sum(-1)
    per_position = []
    for p in range(seq):
        k = keep[:, p]
        if k.sum() == 0:
            continue
        per_position.append({"position": p, "tokens": int(k.sum()), "l0": l0[k, p].mean(), "mse": rss[k, p].mean(),
                             "explained_variance": 1 - rss[k, p].sum() / dev[k, p].sum()})
    pair = keep[:, 1:] & keep[:, :-1] & (doc_index[:, 1:] == doc_index[:, :-1])
    cur, prev, ft = f[:, 1:][pair], f[:, :-1][pair], f[keep]
    mean_sq = (ft**2).mean(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        instability = ((cur - prev) ** 2).mean(0) / mean_sq
        mu_f = ft.mean(0)
        autocorr = ((prev - mu_f) * (cur - mu_f)).mean(0) / ((ft - mu_f) ** 2).mean(0)
    vector = (((cur - prev) ** 2).sum(-1)).mean() / ((ft**2).sum(-1)).mean()
    firing = np.zeros((f.shape[-1], seq))
    mean_act = np.zeros((f.shape[-1], seq))
    for p in range(seq):
        k = keep[:, p]
        if k.sum():
            firing[:, p] = (f[k, p] > 0).mean(0)
            mean_act[:, p] = f[k, p].mean(0)
    return {"per_position": per_position, "feature_instability": instability, "feature_autocorrelation": autocorr,
            "temporal_instability": vector, "pairs": int(pair.sum()), "firing_rate": firing, "mean_activation": mean_act}


def make_core() -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(11)
    tokens_np, doc_index = make_tokens(np.random.default_rng(11))
    tokens = torch.tensor(tokens_np)
    model = TinyModel(g)
    special = np.isin(tokens_np, [PAD, BOS, EOS])
    with torch.no_grad():
        acts = model.prefix(tokens)
    sae = train_sae(acts, torch.tensor(~special), g)
    ignore = [PAD, BOS, EOS]
    scaler = ActivationScaler()
    with torch.no_grad():
        sparsity, feature = get_sparsity_and_variance_metrics(
            sae, model, TokenStore(tokens), scaler, n_batches=ROWS // BATCH_PROMPTS, compute_l2_norms=True,
            compute_sparsity_metrics=True, compute_variance_metrics=True, compute_featurewise_density_statistics=True,
            eval_batch_size_prompts=BATCH_PROMPTS, model_kwargs={}, ignore_tokens=ignore)
        recon = get_downstream_reconstruction_metrics(
            sae, model, TokenStore(tokens), scaler, compute_kl=True, compute_ce_loss=True,
            n_batches=ROWS // BATCH_PROMPTS, eval_batch_size_prompts=BATCH_PROMPTS, ignore_tokens=ignore)
        f = sae.encode(acts)
        xhat = sae.decode(f)
    x, xh, fn = acts.numpy().astype(np.float64), xhat.numpy().astype(np.float64), f.numpy().astype(np.float64)
    keep = ~special
    rss = ((x - xh) ** 2).sum(-1)[keep]
    numpy_ref = {
        "explained_variance": 1 - rss.sum() / ((x[keep] - x[keep].mean(0)) ** 2).sum(),
        "explained_variance_centered": 1 - (x - xh)[keep].var(0).sum() / x[keep].var(0).sum(),
        "mse": rss.mean(),
        "tokens": int(keep.sum()),
    }
    density = np.array(feature["feature_density"])
    misc = {"frac_alive": (density > 0).mean(), "freq_over_1_percent": (density > 0.01).mean(),
            "freq_over_10_percent": (density > 0.1).mean(),
            "normalized_freq_over_1_percent": density[density > 0.01].sum() / density.sum(),
            "normalized_freq_over_10_percent": density[density > 0.1].sum() / density.sum()}
    w = FixtureWriter("core")
    w.tensor("token_ids", tokens_np)
    w.tensor("doc_index", doc_index)
    w.tensor("activations", acts.numpy())
    for name, value in {"W_enc": sae.W_enc, "b_enc": sae.b_enc, "W_dec": sae.W_dec, "b_dec": sae.b_dec,
                        "E": model.E, "P": model.P, "W_U": model.W_U, "b_U": model.b_U}.items():
        w.tensor(name, value.detach().numpy())
    expected = {"saelens_sparsity_variance": sparsity, "saelens_feature": feature, "saelens_reconstruction": recon,
                "saebench_misc": misc, "numpy": numpy_ref,
                "temporal": temporal_reference(x, xh, fn, special, doc_index)}
    w.finish(expected, {"source": f"SAELens {sae_lens.__version__} evals on a StandardSAE and a tiny HookedRootModule",
                        "special_token_ids": ignore, "batch_prompts": BATCH_PROMPTS, "hook": HOOK})
