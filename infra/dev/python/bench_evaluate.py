"""Reference timings for bench/evaluate.ts: scikit-learn LogisticRegression (L2, C=1, lbfgs) and
SciPy Ward linkage on the exact data the TypeScript bench wrote (float32 little-endian files).
Prints one JSON line: {"probe_fit_seconds": median, "linkage_seconds": median, "versions": ...}.
"""

import argparse
import json
import time

import numpy as np
import scipy
import sklearn
from scipy.cluster import hierarchy
from sklearn.linear_model import LogisticRegression


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--probe-x", required=True)
    p.add_argument("--probe-y", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--d", type=int, required=True)
    p.add_argument("--profiles", required=True)
    p.add_argument("--features", type=int, required=True)
    p.add_argument("--positions", type=int, required=True)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    x = np.fromfile(a.probe_x, dtype="<f4").reshape(a.n, a.d)
    y = np.fromfile(a.probe_y, dtype="<f4").astype(np.int64)
    profiles = np.fromfile(a.profiles, dtype="<f4").reshape(a.features, a.positions).astype(np.float64)
    fits, links = [], []
    for _ in range(a.repeats):
        t = time.perf_counter()
        LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
        fits.append(time.perf_counter() - t)
        t = time.perf_counter()
        hierarchy.linkage(profiles, method="ward")
        links.append(time.perf_counter() - t)
    print(json.dumps({"probe_fit_seconds": float(np.median(fits)), "linkage_seconds": float(np.median(links)),
                      "versions": {"scikit-learn": sklearn.__version__, "scipy": scipy.__version__}}))


if __name__ == "__main__":
    main()
