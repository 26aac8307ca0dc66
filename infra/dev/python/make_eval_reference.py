"""Reference numbers for the evaluate stage's parity tests (issue 6).

Run once, from the repository root, with the SAEBench venv (SAELens 6.18 + sae-bench 0.5 +
scikit-learn + SciPy on torch 2.13 CPU; see the README / report for how it was built):

    .tools/saebench-venv/bin/python infra/dev/python/make_eval_reference.py [group ...]

Groups: logistic, clustering, core, sparse_probing, absorption (these need the SAEBench venv),
and uncertainty, splice_multi, gap (issue 13; NumPy / SciPy only, run with .tools/ml-venv). Each writes
test/fixtures/evaluate/<group>/. CI never runs this; tests read the committed fixtures.
Where the number comes from SAELens / SAEBench code itself, the fixture's meta says so.
"""

import sys

import numpy as np
import scipy
import sklearn
from scipy.cluster import hierarchy
from scipy.optimize import minimize
from scipy.spatial.distance import pdist
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import silhouette_score

from eval_reference_io import FixtureWriter


def sklearn_objective(x, y, weights, C):
    """sklearn's L2 objective C * sum_i s_i loss_i + ||w||^2 / 2 and its gradient, float64."""

    def f(v):
        w, b = v[:-1], v[-1]
        z = x @ w + b
        loss = np.sum(weights * (np.logaddexp(0, z) - y * z))
        r = weights * (1 / (1 + np.exp(-z)) - y)
        return C * loss + 0.5 * w @ w, np.concatenate([C * (x.T @ r) + w, [C * np.sum(r)]])

    return f


def make_logistic() -> None:
    """sklearn LogisticRegression (L2, lbfgs) fits, polished to the exact optimum with BFGS.

    On badly scaled features sklearn's lbfgs stops early (max |grad| ~ 0.5), so the fixture
    records both sklearn's coefficients and the optimum of the same objective; tests compare
    coefficients with the optimum and accuracies with sklearn.
    """
    rng = np.random.default_rng(6)
    n, d = 400, 24
    scales = rng.uniform(0.2, 40.0, size=d)
    offsets = rng.normal(0, 30.0, size=d)
    true_w = rng.normal(size=d) / scales
    x = rng.normal(size=(n, d)) * scales + offsets
    logits = (x - offsets) @ true_w * 1.5 + 0.3
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logits))).astype(np.int64)
    y[: n // 5] = (logits[: n // 5] > 1.0).astype(np.int64)
    x_test = rng.normal(size=(200, d)) * scales + offsets
    y_test = ((x_test - offsets) @ true_w * 1.5 + 0.3 > 0).astype(np.int64)
    w = FixtureWriter("logistic")
    x32 = w.tensor("x", x).astype(np.float64)
    w.tensor("y", y)
    xt32 = w.tensor("x_test", x_test)
    w.tensor("y_test", y_test)
    expected = {}
    for name, kwargs in {"plain": {}, "balanced": {"class_weight": "balanced"}, "c_0_01": {"C": 0.01}}.items():
        model = LogisticRegression(max_iter=10000, **kwargs).fit(x32, y)
        weights = np.ones(n) if "class_weight" not in kwargs else n / (2 * np.bincount(y))[y]
        f = sklearn_objective(x32, y.astype(np.float64), weights, kwargs.get("C", 1.0))
        start = np.concatenate([model.coef_[0], model.intercept_])
        opt = minimize(f, start, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 100000})
        expected[name] = {
            "sklearn_coef": model.coef_[0],
            "sklearn_intercept": float(model.intercept_[0]),
            "sklearn_test_accuracy": float(model.score(xt32, y_test)),
            "sklearn_max_abs_gradient": float(np.abs(f(start)[1]).max()),
            "optimum_coef": opt.x[:-1],
            "optimum_intercept": float(opt.x[-1]),
            "optimum_max_abs_gradient": float(np.abs(opt.jac).max()),
            "optimum_test_accuracy": float(np.mean(((xt32 @ opt.x[:-1] + opt.x[-1]) > 0) == y_test)),
            "kwargs": kwargs,
        }
    w.finish(expected, {"source": f"scikit-learn {sklearn.__version__} LogisticRegression(lbfgs); optimum by SciPy BFGS"})


def make_clustering() -> None:
    """SciPy linkage / leaves_list / fcluster and sklearn silhouette on blobs."""
    rng = np.random.default_rng(7)
    centres = rng.normal(0, 4.0, size=(4, 6))
    points = np.concatenate([c + rng.normal(0, 1.0, size=(15, 6)) for c in centres])
    points = points[rng.permutation(len(points))].astype(np.float32)
    w = FixtureWriter("clustering")
    w.tensor("points", points)
    expected = {}
    dist = pdist(points.astype(np.float64))
    for method in ["ward", "average", "complete", "single", "weighted"]:
        z = hierarchy.linkage(dist, method=method)
        cuts = {}
        for k in range(2, 8):
            labels = hierarchy.fcluster(z, k, criterion="maxclust")
            cuts[str(k)] = {"labels": labels, "silhouette": float(silhouette_score(points, labels))}
        expected[method] = {"linkage": z, "leaves": hierarchy.leaves_list(z), "cuts": cuts}
    w.finish(expected, {"source": f"SciPy {scipy.__version__} / scikit-learn {sklearn.__version__}"})


GROUPS = {"logistic": make_logistic, "clustering": make_clustering}


def main(argv: list[str]) -> None:
    from eval_reference_uncertainty import make_gap, make_splice_multi, make_uncertainty

    GROUPS.update({"uncertainty": make_uncertainty, "splice_multi": make_splice_multi, "gap": make_gap})
    if not argv or not set(argv) <= set(GROUPS):
        # The SAELens / SAEBench groups need the SAEBench venv (sae_lens, sae_bench, transformer_lens).
        from eval_reference_core import make_core
        from eval_reference_probing import make_absorption, make_sparse_probing

        GROUPS.update({"core": make_core, "sparse_probing": make_sparse_probing, "absorption": make_absorption})
    for name in argv or list(GROUPS):
        print(f"making {name}", flush=True)
        GROUPS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
