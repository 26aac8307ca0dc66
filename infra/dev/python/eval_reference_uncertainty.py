"""Reference fixtures for issue 13's eval additions, written independently with NumPy / SciPy.

    .tools/ml-venv/bin/python infra/dev/python/make_eval_reference.py uncertainty splice_multi gap

Groups (test/fixtures/evaluate/<group>/):
  uncertainty   core metrics with and without massive-activation dimensions on windows with
                two planted massive dims (and a huge BOS that must not count), their bootstrap
                intervals over windows given fixed resample indices, and binomial standard
                errors of probing accuracies propagated through class and task means
  splice_multi  per-token KL / CE of a tiny causal model with two SAEs spliced in (SAELens
                get_recons_loss conventions), the scores and their bootstrap intervals
  gap           the gap statistic (Tibshirani et al. 2001) with Ward trees from SciPy, uniform
                and permuted reference sets from given draws, on planted clusters and on
                structureless data

Every number is computed here from its definition; nothing is read from the TypeScript code.
Resample indices and uniform draws come from NumPy and are stored, so both sides see the same.
"""

import numpy as np
import scipy
from scipy.cluster import hierarchy

from eval_reference_io import FixtureWriter

PAD, BOS, EOS = 0, 1, 2
SPECIAL = [PAD, BOS, EOS]
LEVEL = 0.95


def percentile_interval(reps: np.ndarray, estimate: float) -> dict:
    reps = reps[np.isfinite(reps)]
    lo, hi = np.quantile(reps, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return {"estimate": estimate, "std_error": float(np.std(reps, ddof=1)), "low": float(lo), "high": float(hi)}


def relu_sae(rng, d, d_sae, x_mean):
    w_enc = rng.normal(size=(d, d_sae)) / np.sqrt(d)
    return {"W_enc": w_enc, "b_enc": np.full(d_sae, -0.2), "W_dec": 0.8 * w_enc.T, "b_dec": x_mean}


def sae_forward(sae, x):
    """SAELens StandardSAE: f = relu((x - b_dec) W_enc + b_enc), xhat = f W_dec + b_dec (float32 weights)."""
    w = {k: v.astype(np.float32).astype(np.float64) for k, v in sae.items()}
    f = np.maximum((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"], 0).astype(np.float32).astype(np.float64)
    return f, (f @ w["W_dec"] + w["b_dec"]).astype(np.float32).astype(np.float64)


# ---------------------------------------------------------------- uncertainty (core)


def core_metrics(x, xhat, f, keep, batch_of, excluded):
    """Metrics over kept tokens; x, xhat [n, d]; batch_of [n] batch id for the legacy EV's mean."""
    kept_dims = np.array([j for j in range(x.shape[1]) if j not in excluded])
    xs, hs = x[keep], xhat[keep]
    r = xs - hs
    out = {}
    for suffix, dims in [("", np.arange(x.shape[1])), ("_without_massive_dims", kept_dims)]:
        xd, rd = xs[:, dims], r[:, dims]
        out["explained_variance" + suffix] = 1 - (rd**2).sum() / ((xd - xd.mean(0)) ** 2).sum()
        out["explained_variance_centered" + suffix] = 1 - rd.var(0).sum() / xd.var(0).sum()
        legacy = []
        for b in np.unique(batch_of[keep]):
            sel = batch_of[keep] == b
            mu = xd[sel].mean(0)
            legacy.extend(1 - (rd[sel] ** 2).sum(1) / ((xd[sel] - mu) ** 2).sum(1))
        out["explained_variance_legacy" + suffix] = float(np.mean(legacy))
    out["mse"] = float((r**2).sum(1).mean())
    out["l0"] = float((f[keep] != 0).sum(1).mean())
    return {k: float(v) for k, v in out.items()}


def make_uncertainty() -> None:
    rng = np.random.default_rng(13)
    rows, seq, d, d_sae, batch = 12, 16, 12, 24, 4
    tokens = rng.integers(3, 40, size=(rows, seq))
    tokens[:, 0] = BOS
    tokens[3, 13:] = PAD
    tokens[7, 9] = EOS
    x = rng.normal(size=(rows, seq, d))
    x[:, :, 2] += 30 + rng.normal(0, 3, size=(rows, seq))  # massive, mostly a mean offset
    x[:, :, 7] += -20 * rng.uniform(0.5, 1.5, size=(rows, seq))  # massive, with variance
    x[:, 0, 5] = 500.0  # a huge BOS activation: special, must not count
    x = x.astype(np.float32)
    w = FixtureWriter("uncertainty")
    w.tensor("token_ids", tokens)
    w.tensor("activations", x)
    flat = x.reshape(-1, d).astype(np.float64)
    keep = ~np.isin(tokens.reshape(-1), SPECIAL)
    sae = relu_sae(rng, d, d_sae, flat[keep].mean(0))
    for name, value in sae.items():
        w.tensor(name, value)
    f, xhat = sae_forward(sae, flat)
    threshold = 0.05
    sq = (flat[keep] ** 2).sum(0)
    shares = sq / sq.sum()
    massive = [int(j) for j in np.nonzero(shares > threshold)[0]]
    window = np.repeat(np.arange(rows), seq)
    metrics = core_metrics(flat, xhat, f, keep, window // batch, set(massive))
    var = ((flat[keep] - flat[keep].mean(0)) ** 2).sum(0)
    resamples = 200
    indices = np.random.default_rng(5).integers(0, rows, size=(resamples, rows))
    w.tensor("bootstrap_indices", indices)
    reps = {k: [] for k in ["explained_variance", "explained_variance_legacy", "explained_variance_without_massive_dims", "explained_variance_legacy_without_massive_dims", "mse", "l0"]}
    # The legacy EV centres each token on its own batch's mean: per-token values, then resampled.
    legacy = legacy_per_token(flat, xhat, keep, window // batch, set(massive))
    for row in indices:
        sel = np.concatenate([np.arange(u * seq, (u + 1) * seq) for u in row])
        # Pooled EVs centre on the resample's own mean (core_metrics on the resampled tokens).
        m = core_metrics(flat[sel], xhat[sel], f[sel], keep[sel], np.zeros(len(sel), dtype=int), set(massive))
        for key in reps:
            reps[key].append(legacy[key][sel][keep[sel]].mean() if key.startswith("explained_variance_legacy") else m[key])
    intervals = {k: percentile_interval(np.array(v), metrics[k]) for k, v in reps.items()}
    w.finish(
        {
            "batch_prompts": batch,
            "massive_dims": {"threshold": threshold, "dims": massive, "shares": [float(shares[j]) for j in massive], "share_of_variance": float(var[massive].sum() / var.sum())},
            "metrics": metrics,
            "intervals": intervals,
            "binomial": binomial_case(),
        },
        {"source": f"NumPy {np.__version__}; definitions in metrics.md and stages/evaluate/massive-dims.ts", "special_token_ids": SPECIAL, "level": LEVEL},
    )


def legacy_per_token(x, xhat, keep, batch_of, excluded):
    """Per-token legacy EV (centred on its batch's mean of kept tokens), all dims and kept dims."""
    kept_dims = np.array([j for j in range(x.shape[1]) if j not in excluded])
    out = {"explained_variance_legacy": np.full(len(x), np.nan), "explained_variance_legacy_without_massive_dims": np.full(len(x), np.nan)}
    for b in np.unique(batch_of):
        sel = (batch_of == b) & keep
        for key, dims in [("explained_variance_legacy", np.arange(x.shape[1])), ("explained_variance_legacy_without_massive_dims", kept_dims)]:
            mu = x[sel][:, dims].mean(0)
            out[key][sel] = 1 - ((x[sel][:, dims] - xhat[sel][:, dims]) ** 2).sum(1) / ((x[sel][:, dims] - mu) ** 2).sum(1)
    return out


def binomial_case() -> dict:
    """Two tasks (3 and 2 classes): accuracies p on n one-vs-rest test examples -> SE of the means."""
    tasks = [
        {"name": "t1", "classes": [{"p": 0.9, "n": 100}, {"p": 0.75, "n": 40}, {"p": 1.0, "n": 60}]},
        {"name": "t2", "classes": [{"p": 0.6, "n": 500}, {"p": 0.8, "n": 500}]},
    ]
    task_means = [np.mean([c["p"] for c in t["classes"]]) for t in tasks]
    task_vars = [np.sum([c["p"] * (1 - c["p"]) / c["n"] for c in t["classes"]]) / len(t["classes"]) ** 2 for t in tasks]
    return {"tasks": tasks, "estimate": float(np.mean(task_means)), "std_error": float(np.sqrt(np.sum(task_vars)) / len(tasks))}


# ---------------------------------------------------------------- splice_multi


def make_splice_multi() -> None:
    rng = np.random.default_rng(17)
    V, D, D_SAE, ROWS, SEQ, BATCH = 30, 8, 20, 10, 10, 4
    E = rng.normal(size=(V, D)).astype(np.float32)
    P = (0.5 * rng.normal(size=(SEQ, D))).astype(np.float32)
    W_U = (rng.normal(size=(D, V)) / np.sqrt(D)).astype(np.float32)
    b_U = (0.1 * rng.normal(size=V)).astype(np.float32)
    tokens = rng.integers(3, V, size=(ROWS, SEQ))
    tokens[:, 0] = BOS
    tokens[2, 7:] = PAD
    tokens[5, 4] = EOS
    cm = lambda a: np.cumsum(a, axis=1) / np.arange(1, a.shape[1] + 1)[None, :, None]  # noqa: E731
    e = E[tokens].astype(np.float64)
    resid = (e + P[None].astype(np.float64) + cm(e)).astype(np.float32)
    special = np.isin(tokens, SPECIAL)
    flat = resid.reshape(-1, D).astype(np.float64)
    saes = [relu_sae(rng, D, D_SAE, flat[~special.reshape(-1)].mean(0)) for _ in range(2)]
    saes[1]["W_dec"] = saes[1]["W_dec"] * 0.5  # a worse SAE

    def logp(h):
        u = h + 0.5 * cm(h)
        z = u @ W_U.astype(np.float64) + b_U.astype(np.float64)
        return z - scipy.special.logsumexp(z, axis=-1, keepdims=True)

    clean = logp(resid.astype(np.float64))
    replacements = [np.zeros_like(flat)]  # zero ablation everywhere (zero_ablate_special_tokens)
    for sae in saes:
        _, xhat = sae_forward(sae, flat)
        xhat[special.reshape(-1)] = flat[special.reshape(-1)]  # exclude_special_tokens_from_reconstruction
        replacements.append(xhat.astype(np.float32).astype(np.float64))
    kl, ce = [], []
    nxt = np.concatenate([tokens[:, 1:], np.zeros((ROWS, 1), dtype=int)], axis=1)
    ce_clean = -np.take_along_axis(clean, nxt[..., None], -1)[..., 0]
    for rep in replacements:
        lp = logp(rep.reshape(ROWS, SEQ, D))
        kl.append((np.exp(clean) * (clean - lp)).sum(-1))
        ce.append(-np.take_along_axis(lp, nxt[..., None], -1)[..., 0])
    kl_mask = ~special
    ce_mask = kl_mask.copy()
    ce_mask[:, -1] = False
    # per-window sums: tokensKl, tokensCe, klAbl, ceAbl, ceClean, then per SAE kl, ce
    sums = [kl_mask.sum(1), ce_mask.sum(1), (kl[0] * kl_mask).sum(1), (ce[0] * ce_mask).sum(1), (ce_clean * ce_mask).sum(1)]
    for s in range(len(saes)):
        sums += [(kl[s + 1] * kl_mask).sum(1), (ce[s + 1] * ce_mask).sum(1)]
    sums = np.stack(sums, axis=1)

    def scores(tot, s):
        kl_abl, kl_sae = tot[2] / tot[0], tot[5 + 2 * s] / tot[0]
        ce_abl, ce_clean_, ce_sae = tot[3] / tot[1], tot[4] / tot[1], tot[6 + 2 * s] / tot[1]
        return {
            "kl_div_score": (kl_abl - kl_sae) / kl_abl,
            "kl_div_with_ablation": kl_abl,
            "kl_div_with_sae": kl_sae,
            "ce_loss_score": (ce_abl - ce_sae) / (ce_abl - ce_clean_),
            "ce_loss_with_ablation": ce_abl,
            "ce_loss_with_sae": ce_sae,
            "ce_loss_without_sae": ce_clean_,
        }

    indices = np.random.default_rng(8).integers(0, ROWS, size=(100, ROWS))
    expected = {"batch_prompts": BATCH, "window_sums": sums, "saes": []}
    for s in range(len(saes)):
        full = scores(sums.sum(0), s)
        reps = [scores(sums[row].sum(0), s) for row in indices]
        expected["saes"].append({"metrics": full, "intervals": {k: percentile_interval(np.array([r[k] for r in reps]), full[k]) for k in full}})
    w = FixtureWriter("splice_multi")
    w.tensor("token_ids", tokens)
    w.tensor("activations", resid)
    for name, value in [("E", E), ("P", P), ("W_U", W_U), ("b_U", b_U)]:
        w.tensor(name, value)
    for s, sae in enumerate(saes):
        for name, value in sae.items():
            w.tensor(f"sae{s}_{name}", value)
    w.tensor("bootstrap_indices", indices)
    w.finish(expected, {"source": f"NumPy {np.__version__} / SciPy {scipy.__version__}: SAELens get_recons_loss conventions", "special_token_ids": SPECIAL, "level": LEVEL})


# ---------------------------------------------------------------- gap


def gap_statistic(points, references, k_max):
    def log_w(x):
        z = hierarchy.linkage(x, method="ward")
        out = []
        for k in range(1, k_max + 1):
            labels = hierarchy.fcluster(z, k, criterion="maxclust")
            out.append(np.log(sum(((x[labels == c] - x[labels == c].mean(0)) ** 2).sum() for c in np.unique(labels))))
        return np.array(out)

    lw = log_w(points)
    ref = np.array([log_w(r) for r in references])
    b = len(references)
    expected_lw = ref.mean(0)
    sk = ref.std(0) * np.sqrt(1 + 1 / b)  # sd with 1/B, as the paper
    gap = expected_lw - lw
    chosen, at_limit = k_max, True
    for i in range(k_max - 1):
        if gap[i] >= gap[i + 1] - sk[i + 1]:
            chosen, at_limit = i + 1, False
            break
    return {"k": list(range(1, k_max + 1)), "log_w": lw, "expected_log_w": expected_lw, "gap": gap, "s_k": sk, "chosen": chosen, "at_search_limit": at_limit}


def make_gap() -> None:
    rng = np.random.default_rng(21)
    n_per, p, b, k_max = 12, 5, 10, 6
    centres = rng.normal(0, 3.0, size=(3, p))
    planted = np.concatenate([c + rng.normal(0, 0.4, size=(n_per, p)) for c in centres])
    planted = planted[rng.permutation(len(planted))]
    flat = rng.normal(0, 1.0, size=(3 * n_per, p))
    w = FixtureWriter("gap")
    expected = {}
    for name, pts in [("planted", planted), ("structureless", flat)]:
        pts = w.tensor(f"{name}_points", pts).astype(np.float64)
        u = w.tensor(f"{name}_uniforms", rng.random(size=(b, len(pts), p))).astype(np.float64)
        lo, hi = pts.min(0), pts.max(0)
        orders = w.tensor(f"{name}_orders", np.array([[rng.permutation(p) for _ in range(len(pts))] for _ in range(b)]))
        expected[name] = {
            # reference (a): uniform over each feature's range
            "uniform": gap_statistic(pts, [lo + ub * (hi - lo) for ub in u], k_max),
            # permuted null: each row's values in a random order
            "permuted": gap_statistic(pts, [np.take_along_axis(pts, ob, axis=1) for ob in orders], k_max),
        }
    w.finish({"k_max": k_max, **expected}, {"source": f"SciPy {scipy.__version__} Ward linkage + fcluster(maxclust); gap statistic from Tibshirani, Walther & Hastie 2001"})
