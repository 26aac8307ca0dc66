"""Sparse-probing and absorption reference fixtures (groups "sparse_probing", "absorption").

Both run SAEBench 0.5 code on constructed inputs: mean pooling and
probe_training.train_probe_on_activations for sparse probing; the absorption groups are in
eval_reference_absorption.py.
"""

import numpy as np
import sae_bench
import torch
from sae_bench.evals.sparse_probing import probe_training
from sae_bench.sae_bench_utils import activation_collection
from sae_lens import StandardSAE, StandardSAEConfig
from sae_lens.saes.sae import SAEMetadata
from sklearn.linear_model import LogisticRegression

from eval_reference_absorption import make_absorption  # noqa: F401  (re-exported for main)
from eval_reference_io import FixtureWriter

SEQ, D, D_SAE = 6, 20, 64
TRAIN_PER_CLASS, TEST_PER_CLASS = 150, 100
K_VALUES = [1, 2, 5]
TASKS = {"task_a": ["x", "y"], "task_b": ["p", "q"]}


def make_examples(rng, n, direction, strength):
    """Token residuals [n, SEQ, D]: noise plus the class direction on a random subset of tokens;
    position 0 is BOS and some examples end in padding (both special)."""
    x = rng.normal(0, 1.0, size=(n, SEQ, D)) + 0.5
    on = rng.uniform(size=(n, SEQ)) < 0.5
    x += on[..., None] * rng.normal(strength, 1.0, size=(n, SEQ, 1)) * direction
    special = np.zeros((n, SEQ), dtype=bool)
    special[:, 0] = True
    pad = rng.uniform(size=n) < 0.3
    special[pad, SEQ - 2 :] = True
    return x, special


def train_sae(tokens: np.ndarray) -> StandardSAE:
    torch.manual_seed(3)
    cfg = StandardSAEConfig(d_in=D, d_sae=D_SAE, metadata=SAEMetadata(hook_name="blocks.0.hook_resid_post"))
    sae = StandardSAE(cfg)
    x = torch.tensor(tokens, dtype=torch.float32)
    with torch.no_grad():
        sae.W_enc.copy_(torch.randn(D, D_SAE) / D**0.5)
        sae.W_dec.copy_(sae.W_enc.T)
        sae.b_dec.copy_(x.mean(0))
    opt = torch.optim.Adam(sae.parameters(), lr=3e-3)
    for _ in range(300):
        f = sae.encode(x)
        loss = ((sae.decode(f) - x) ** 2).sum(-1).mean() + 0.2 * f.sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return sae


def make_sparse_probing() -> None:
    rng = np.random.default_rng(21)
    w = FixtureWriter("sparse_probing")
    splits = {}
    for t, (task, classes) in enumerate(TASKS.items()):
        direction = rng.normal(size=D)
        direction /= np.linalg.norm(direction)
        for split, per_class in [("train", TRAIN_PER_CLASS), ("test", TEST_PER_CLASS)]:
            parts = [make_examples(rng, per_class, direction, (0.9 + 0.5 * t) * (1 if c == 0 else -1)) for c in range(2)]
            splits[(task, split)] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    all_tokens = np.concatenate([x[~s] for x, s in splits.values()])
    sae = train_sae(all_tokens)
    expected = {}
    for task, classes in TASKS.items():
        acts = {}
        for split in ["train", "test"]:
            x, special = splits[(task, split)]
            w.tensor(f"{task}_{split}_residuals", x)
            w.tensor(f"{task}_{split}_special", special)
            zeroed = torch.tensor(np.where(special[..., None], 0.0, x), dtype=torch.float32)
            per_class = {c: zeroed[i * len(x) // 2 : (i + 1) * len(x) // 2] for i, c in enumerate(classes)}
            acts[split] = {
                "llm": activation_collection.create_meaned_model_activations(per_class),
                "sae": activation_collection.get_sae_meaned_activations(per_class, sae, 125),
            }
        expected[task] = reference_accuracies(acts, classes)
    for name, value in {"W_enc": sae.W_enc, "b_enc": sae.b_enc, "W_dec": sae.W_dec, "b_dec": sae.b_dec}.items():
        w.tensor(name, value.detach().numpy())
    w.finish(expected, {"source": f"SAEBench {sae_bench.__version__ if hasattr(sae_bench, '__version__') else '0.5.0'} "
                                  "activation_collection pooling + probe_training.train_probe_on_activations",
                        "k_values": K_VALUES, "tasks": TASKS})


def reference_accuracies(acts, classes):
    torch.manual_seed(0)
    out = {}
    for source in ["llm", "sae"]:
        train, test = acts["train"][source], acts["test"][source]
        for k in K_VALUES:
            _, accs = probe_training.train_probe_on_activations(train, test, select_top_k=k)
            out[f"{source}_top_{k}_test_accuracy"] = accs
        # Full-width probe with our definition (sklearn L2, C = 1) on the same balanced rows.
        out[f"{source}_test_accuracy"] = {c: full_probe(train, test, c) for c in classes}
        out[f"pooled_{source}_train_head"] = {c: train[c][:5].numpy() for c in classes}
    return out


def full_probe(train, test, positive):
    negative = [c for c in train if c != positive][0]
    x = torch.cat([train[positive], train[negative]]).numpy()
    y = np.r_[np.ones(len(train[positive])), np.zeros(len(train[negative]))]
    xt = torch.cat([test[positive], test[negative]]).numpy()
    yt = np.r_[np.ones(len(test[positive])), np.zeros(len(test[negative]))]
    model = LogisticRegression(C=1.0, max_iter=10000, tol=1e-8).fit(x, y)
    return float(model.score(xt, yt))
