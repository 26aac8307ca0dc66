"""SciPy reference for the report's dendrogram layout (stages/report/dendrogram.ts).

Clusters a few random point sets with scipy.cluster.hierarchy.linkage and records what
scipy.cluster.hierarchy.dendrogram draws (leaf order, icoord, dcoord), untruncated and with
truncate_mode='lastp'. The TypeScript test lays out the same linkage matrices and compares.

Run once (CI never runs it; the output is committed):
  .tools/ml-venv/bin/python infra/dev/python/make_report_fixtures.py --out test/fixtures/report
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import dendrogram, fcluster, linkage


def case(name: str, points: np.ndarray, method: str, p: int | None, k: int) -> dict:
    Z = linkage(points, method=method)
    clusters = fcluster(Z, t=k, criterion="maxclust")
    kwargs = {"no_plot": True, "count_sort": False, "distance_sort": False}
    if p is not None:
        kwargs.update(truncate_mode="lastp", p=p)
    d = dendrogram(Z, **kwargs)
    return {
        "name": name,
        "n": int(points.shape[0]),
        "p": p,
        "method": method,
        "linkage": Z.tolist(),
        "clusters": clusters.tolist(),
        # SciPy puts leaf j at x = 5 + 10 j; one entry per merge: [xa, xa, xb, xb], [ya, h, h, yb].
        "icoord": d["icoord"],
        "dcoord": d["dcoord"],
        "leaves": d["leaves"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    blobs = np.concatenate([rng.normal(c, 0.3, size=(6, 3)) for c in (0.0, 2.0, 5.0)])
    cases = [
        case("ward-18", blobs, "ward", None, 3),
        case("ward-18-lastp5", blobs, "ward", 5, 3),
        case("average-25", rng.normal(size=(25, 4)), "average", None, 4),
        case("complete-40-lastp12", rng.normal(size=(40, 2)), "complete", 12, 4),
        case("single-2", rng.normal(size=(2, 2)), "single", None, 1),
    ]
    out = Path(args.out) / "dendrogram-scipy.json"
    out.write_text(json.dumps({"generator": "infra/dev/python/make_report_fixtures.py", "cases": cases}) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
