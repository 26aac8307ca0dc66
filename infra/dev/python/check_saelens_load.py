"""Checks that exported SAE folders load in SAELens and reproduce our own forward.

For each folder written by stages/train/export-sae.ts (cfg.json, sae_weights.safetensors,
sae.onnx): SAELens' SAE.load_from_disk builds the SAE from cfg.json + weights; onnxruntime
(Python) runs our sae.onnx; both encode and decode the same activations, and the script reports
the largest relative differences of latents and reconstructions and the share of tokens whose
active-latent sets differ. Inputs are drawn around the SAE's own b_dec at the scale of its
decoder, so they resemble the activations it was trained on.

Needs SAELens, which drags in its own torch/transformers stack, so it runs from its own venv:
  python3 -m venv .tools/saelens-venv
  .tools/saelens-venv/bin/pip install sae-lens onnxruntime 'torch==2.13.0'
  .tools/saelens-venv/bin/python infra/dev/python/check_saelens_load.py OUT_DIR [OUT_DIR ...]
Exit status 1 if any folder fails to load or differs beyond --tol (relative, default 1e-4).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from sae_lens import SAE


def check(folder: Path, rows: int, tol: float) -> dict:
    sae = SAE.load_from_disk(str(folder), device="cpu")
    cfg = json.loads((folder / "cfg.json").read_text())
    gen = np.random.default_rng(0)
    d_in = cfg["d_in"]
    b_dec = sae.b_dec.detach().numpy()
    scale = float(np.linalg.norm(sae.W_dec.detach().numpy(), axis=1).mean())
    x = (b_dec + gen.standard_normal((rows, d_in)) * scale * 3).astype(np.float32)
    with torch.no_grad():
        latents_ref = sae.encode(torch.from_numpy(x))
        recon_ref = sae.decode(latents_ref).numpy()
        latents_ref = latents_ref.numpy()
    session = ort.InferenceSession(str(folder / "sae.onnx"), providers=["CPUExecutionProvider"])
    latents, recon = session.run(["latents", "reconstruction"], {"x": x})
    rel = lambda a, b: float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))
    active_mismatch = float(((latents > 0) != (latents_ref > 0)).any(axis=1).mean())
    result = {
        "folder": str(folder),
        "architecture": cfg["architecture"],
        "training_variant": cfg.get("metadata", {}).get("training_variant"),
        "saelens_class": type(sae).__name__,
        "latents_rel_err": rel(latents, latents_ref),
        "reconstruction_rel_err": rel(recon, recon_ref),
        "tokens_with_different_active_set": active_mismatch,
        "mean_l0": float((latents_ref > 0).sum(axis=1).mean()),
    }
    result["ok"] = result["reconstruction_rel_err"] <= tol and result["latents_rel_err"] <= tol
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    ok = True
    for folder in args.folders:
        try:
            result = check(folder, args.rows, args.tol)
        except Exception as error:  # report and continue with the other folders
            result = {"folder": str(folder), "ok": False, "error": f"{type(error).__name__}: {error}"}
        ok &= bool(result["ok"])
        print(json.dumps(result))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
