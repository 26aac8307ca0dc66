"""Writes the bring-your-own-SAE fixtures: small checkpoints in other libraries' own formats,
written by those libraries' own classes (not by our exporter), with their own forward passes.

For each case, test/fixtures/external-sae/<case>/ holds the checkpoint folder and reference.json:
the inputs x [rows, d_in], the library's latents [rows, d_sae] and reconstruction [rows, d_in],
and metrics over those rows (l0, mse = mean over tokens of the squared error summed over d_in,
explained_variance = 1 - rss / sum |x - mean(x)|^2, cossim). test/stages/external-sae checks our
loader and runtime against them.

  SAELens 6.54.12 (sae_lens.StandardSAE, TopKSAE, JumpReLUSAE, GatedSAE, BatchTopKTrainingSAE
  saved with save_inference_model -> jumprelu): written with save_model, reloaded with
  SAE.load_from_disk(dtype="float32") and run with encode/decode. Cases cover apply_b_dec_to_input
  false, layer_norm and constant_norm_rescale, rescale_acts_by_decoder_norm, bfloat16 and float16
  weights (the reference runs float32 on the stored values, as our runtime does), and a pre-6
  config (hook_point, no architecture, an all-ones scaling_factor) read by SAELens' own upgrade.
  EleutherAI sparsify 1.3.3 (SparseCoder.save_to_disk / load_from_disk / forward).
  dictionary_learning 0.1.0 (AutoEncoder, AutoEncoderNew, GatedAutoEncoder, JumpReluAutoEncoder,
  AutoEncoderTopK, BatchTopKSAE, MatryoshkaBatchTopKSAE; torch.save of the state dict + config.json,
  reloaded with each class's from_pretrained as utils.load_dictionary does).

Weights are random (seeded); a case is redrawn with the next seed until every pre-activation is
clear of its decision boundary (threshold, gate, k-th largest) by MARGIN, so float32 rounding
differences between implementations cannot flip a latent.

Run (toolchain: node infra/setup/toolchain.mjs external-sae):
  .tools/external-sae-venv/bin/python infra/dev/python/make_external_sae_fixtures.py
dictionary_learning is installed into that venv with --no-deps on first use (its package
__init__ imports nnsight for training; only its torch-only dictionary modules are imported).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "test" / "fixtures" / "external-sae"
D_IN, D_SAE, ROWS, K, LAYER = 8, 24, 6, 4, 2
HOOK = f"blocks.{LAYER}.hook_resid_post"
MARGIN = 2e-3


def randn(gen: torch.Generator, *shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale + shift


def decoder_rows(gen: torch.Generator) -> torch.Tensor:
    """[D_SAE, D_IN] with row norms spread over 0.5..1.5, so norm folds matter."""
    w = randn(gen, D_SAE, D_IN)
    return w / w.norm(dim=1, keepdim=True) * (0.5 + torch.rand(D_SAE, 1, generator=gen, dtype=torch.float64))


def inputs(gen: torch.Generator, b_dec: torch.Tensor, offset: float = 0.0) -> torch.Tensor:
    return (b_dec.double() + randn(gen, ROWS, D_IN) + offset).float()


def metrics(x: torch.Tensor, lat: torch.Tensor, rec: torch.Tensor) -> dict:
    x, lat, rec = x.double(), lat.double(), rec.double()
    rss = ((x - rec) ** 2).sum(1)
    total = ((x - x.mean(0)) ** 2).sum()
    cos = (x * rec).sum(1) / (x.norm(dim=1) * rec.norm(dim=1))
    return {
        "l0": float((lat != 0).sum(1).double().mean()),
        "mse": float(rss.mean()),
        "explained_variance": float(1 - rss.sum() / total),
        "cossim": float(cos.mean()),
    }


def min_margin(pre: torch.Tensor, kind: str, bound: torch.Tensor | None = None) -> float:
    """Smallest distance of a pre-activation to the boundary that decides whether it fires."""
    if kind == "topk":
        top = pre.topk(K + 1, dim=1).values
        return float((top[:, K - 1] - top[:, K]).abs().min())
    return float((pre - (bound if bound is not None else 0)).abs().min())


def write_case(name: str, folder: str, x: torch.Tensor, lat: torch.Tensor, rec: torch.Tensor, note: dict) -> None:
    case = OUT / name
    ref = {
        "library": note.pop("library"),
        "folder": folder,
        "rows": ROWS,
        "d_in": D_IN,
        "d_sae": D_SAE,
        "layer": LAYER,
        **note,
        "x": x.float().flatten().tolist(),
        "latents": lat.float().flatten().tolist(),
        "reconstruction": rec.float().flatten().tolist(),
        "metrics": metrics(x, lat, rec),
    }
    (case / "reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    print(f"{name}: l0 {ref['metrics']['l0']:.2f}, mse {ref['metrics']['mse']:.4f}")


def fresh(name: str, folder: str) -> Path:
    case = OUT / name
    shutil.rmtree(case, ignore_errors=True)
    (case / folder).mkdir(parents=True)
    return case / folder


# ---------------------------------------------------------------- SAELens


def saelens_case(name: str, arch: str, seed: int, dtype: str = "float32", apply_b_dec: bool = True, norm: str = "none", rescale: bool = False, offset: float = 0.0) -> None:
    from sae_lens import SAE, GatedSAE, GatedSAEConfig, JumpReLUSAE, JumpReLUSAEConfig, StandardSAE, StandardSAEConfig, TopKSAE, TopKSAEConfig
    from sae_lens.saes.sae import SAEMetadata

    classes = {"standard": (StandardSAE, StandardSAEConfig), "topk": (TopKSAE, TopKSAEConfig), "jumprelu": (JumpReLUSAE, JumpReLUSAEConfig), "gated": (GatedSAE, GatedSAEConfig)}
    cls, cfg_cls = classes[arch]
    for attempt in range(200):
        gen = torch.Generator().manual_seed(seed * 1000 + attempt)
        extra = {"k": K, "rescale_acts_by_decoder_norm": rescale} if arch == "topk" else {}
        cfg = cfg_cls(d_in=D_IN, d_sae=D_SAE, dtype=dtype, apply_b_dec_to_input=apply_b_dec, normalize_activations=norm, metadata=SAEMetadata(hook_name=HOOK, model_name="fixture-model"), **extra)
        sae = cls(cfg)
        params = {"W_dec": decoder_rows(gen), "b_dec": randn(gen, D_IN, scale=0.5)}
        params["W_enc"] = randn(gen, D_IN, D_SAE, scale=D_IN**-0.5)
        if arch == "gated":
            params.update(b_gate=randn(gen, D_SAE, scale=0.3), r_mag=randn(gen, D_SAE, scale=0.3), b_mag=randn(gen, D_SAE, scale=0.3))
        else:
            params["b_enc"] = randn(gen, D_SAE, scale=0.3, shift=-0.1)
        if arch == "jumprelu":
            params["threshold"] = torch.rand(D_SAE, generator=gen, dtype=torch.float64) * 0.5 + 0.1
        with torch.no_grad():
            for key, value in params.items():
                getattr(sae, key).data = value.to(sae.dtype)
        folder = fresh(name, "sae")
        sae.save_model(folder)
        ref = SAE.load_from_disk(str(folder), dtype="float32")
        x = inputs(gen, ref.b_dec.detach(), offset)
        if reference_is_clear(ref, arch, x):
            break
    else:
        raise RuntimeError(f"{name}: no seed gave clear margins")
    with torch.no_grad():
        lat = ref.encode(x)
        rec = ref.decode(lat)
    write_case(name, "sae", x, lat, rec, {"library": "sae_lens 6.54.12", "architecture": arch, "dtype": dtype, "apply_b_dec_to_input": apply_b_dec, "normalize_activations": norm})


def reference_is_clear(sae, arch: str, x: torch.Tensor) -> bool:
    """Recomputes SAELens' pre-activations (hooks) and checks the firing margins."""
    _, cache = sae.run_with_cache(x)
    pre = cache["hook_sae_acts_pre"].double()
    if arch == "topk":
        if sae.cfg.rescale_acts_by_decoder_norm:
            pre = pre * sae.W_dec.norm(dim=-1).double()
        return min_margin(pre, "topk") > MARGIN
    if arch == "jumprelu":
        return min_margin(pre, "threshold", sae.threshold.detach().double()) > MARGIN
    if arch == "gated":
        sae_in = sae.process_sae_in(x).double()
        gate = sae_in @ sae.W_enc.double() + sae.b_gate.double()
        return min_margin(gate, "gate") > MARGIN and min_margin(pre, "relu") > MARGIN
    return min_margin(pre, "relu") > MARGIN


def saelens_batchtopk_case(name: str, seed: int) -> None:
    """BatchTopK trained in SAELens is saved for inference as jumprelu with a constant threshold."""
    from sae_lens import SAE
    from sae_lens.saes.batchtopk_sae import BatchTopKTrainingSAE, BatchTopKTrainingSAEConfig
    from sae_lens.saes.sae import SAEMetadata

    for attempt in range(200):
        gen = torch.Generator().manual_seed(seed * 1000 + attempt)
        cfg = BatchTopKTrainingSAEConfig(d_in=D_IN, d_sae=D_SAE, k=K, metadata=SAEMetadata(hook_name=HOOK, model_name="fixture-model"))
        sae = BatchTopKTrainingSAE(cfg)
        with torch.no_grad():
            sae.W_dec.data = decoder_rows(gen).float()
            sae.W_enc.data = randn(gen, D_IN, D_SAE, scale=D_IN**-0.5).float()
            sae.b_enc.data = randn(gen, D_SAE, scale=0.3, shift=-0.1).float()
            sae.b_dec.data = randn(gen, D_IN, scale=0.5).float()
            sae.topk_threshold = torch.tensor(0.35, dtype=torch.double)
        folder = fresh(name, "sae")
        sae.save_inference_model(folder)
        ref = SAE.load_from_disk(str(folder), dtype="float32")
        x = inputs(gen, ref.b_dec.detach())
        if reference_is_clear(ref, "jumprelu", x):
            break
    with torch.no_grad():
        lat = ref.encode(x)
        rec = ref.decode(lat)
    write_case(name, "sae", x, lat, rec, {"library": "sae_lens 6.54.12", "architecture": "batchtopk (saved as jumprelu)", "dtype": "float32"})


def saelens_pre6_case(name: str, seed: int) -> None:
    """A SAELens 3.x-style folder: hook_point, no architecture, activation_fn_str, scaling_factor of ones."""
    from safetensors.torch import save_file
    from sae_lens import SAE

    gen = torch.Generator().manual_seed(seed)
    folder = fresh(name, "sae")
    weights = {"W_enc": randn(gen, D_IN, D_SAE, scale=D_IN**-0.5), "b_enc": randn(gen, D_SAE, scale=0.3, shift=-0.1), "W_dec": decoder_rows(gen), "b_dec": randn(gen, D_IN, scale=0.5), "scaling_factor": torch.ones(D_SAE, dtype=torch.float64)}
    save_file({k: v.float().contiguous() for k, v in weights.items()}, str(folder / "sae_weights.safetensors"))
    cfg = {"model_name": "fixture-model", "hook_point": HOOK, "hook_point_layer": LAYER, "hook_point_head_index": None, "d_in": D_IN, "d_sae": D_SAE, "dtype": "torch.float32", "device": "cpu", "activation_fn_str": "relu", "apply_b_dec_to_input": True, "normalize_activations": False, "sae_lens_training_version": "3.5.0", "context_size": 128}
    (folder / "cfg.json").write_text(json.dumps(cfg))
    ref = SAE.load_from_disk(str(folder), dtype="float32")
    x = inputs(gen, ref.b_dec.detach())
    assert reference_is_clear(ref, "standard", x), "pick another seed"
    with torch.no_grad():
        lat = ref.encode(x)
        rec = ref.decode(lat)
    write_case(name, "sae", x, lat, rec, {"library": "sae_lens 6.54.12 (pre-6 config)", "architecture": "standard", "dtype": "float32"})


# ---------------------------------------------------------------- sparsify


def sparsify_case(name: str, seed: int) -> None:
    from sparsify import SparseCoder, SparseCoderConfig

    hookpoint = f"layers.{LAYER}"
    for attempt in range(200):
        gen = torch.Generator().manual_seed(seed * 1000 + attempt)
        sae = SparseCoder(D_IN, SparseCoderConfig(num_latents=D_SAE, k=K))
        with torch.no_grad():
            sae.encoder.weight.data = randn(gen, D_SAE, D_IN, scale=D_IN**-0.5).float()
            sae.encoder.bias.data = randn(gen, D_SAE, scale=0.3, shift=-0.1).float()
            sae.W_dec.data = decoder_rows(gen).float()
            sae.b_dec.data = randn(gen, D_IN, scale=0.5).float()
        folder = fresh(name, hookpoint)
        sae.save_to_disk(folder)
        ref = SparseCoder.load_from_disk(folder)
        x = inputs(gen, ref.b_dec.detach())
        pre = torch.relu((x.double() - ref.b_dec.double()) @ ref.encoder.weight.double().T + ref.encoder.bias.double())
        if min_margin(pre, "topk") > MARGIN and min_margin(pre, "relu") > MARGIN:
            break
    with torch.no_grad():
        out = ref(x)
        lat = torch.zeros(ROWS, D_SAE).scatter_(-1, out.latent_indices, out.latent_acts.float())
    write_case(name, hookpoint, x, lat, out.sae_out, {"library": "eai-sparsify 1.3.3", "architecture": "topk", "dtype": "float32"})


# ---------------------------------------------------------------- dictionary_learning


def dictionary_learning() -> types.SimpleNamespace:
    """The torch-only modules of dictionary_learning 0.1.0, without running its package __init__."""
    if importlib.util.find_spec("dictionary_learning") is None:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "dictionary-learning==0.1.0"], check=True)
    root = Path(importlib.util.find_spec("dictionary_learning").submodule_search_locations[0])
    for package, path in (("dictionary_learning", root), ("dictionary_learning.trainers", root / "trainers")):
        stub = types.ModuleType(package)
        stub.__path__ = [str(path)]
        sys.modules[package] = stub
    mods = [importlib.import_module(f"dictionary_learning.{m}") for m in ("dictionary", "trainers.top_k", "trainers.batch_top_k", "trainers.matryoshka_batch_top_k")]
    return types.SimpleNamespace(**{k: v for m in mods for k, v in vars(m).items() if isinstance(v, type)})


def dl_case(dl, name: str, dict_class: str, seed: int) -> None:
    cls = getattr(dl, dict_class)
    for attempt in range(200):
        gen = torch.Generator().manual_seed(seed * 1000 + attempt)
        torch.manual_seed(seed * 1000 + attempt)  # the classes' own initialisers
        ae = cls(D_IN, D_SAE, K, [D_SAE // 2, D_SAE - D_SAE // 2]) if dict_class == "MatryoshkaBatchTopKSAE" else cls(D_IN, D_SAE, K) if "TopK" in dict_class else cls(D_IN, D_SAE)
        state = ae.state_dict()
        for key, value in state.items():
            if value.dtype.is_floating_point and value.ndim > 0 and key not in ("group_sizes",):
                scale = D_IN**-0.5 if value.ndim == 2 else 0.3
                state[key] = (randn(gen, *value.shape, scale=scale) * (1.5 if "decoder" in key or key == "W_dec" else 1)).float()
        if "threshold" in state:
            state["threshold"] = (torch.rand(state["threshold"].shape, generator=gen, dtype=torch.float64) * 0.4 + 0.1).float()
        folder = fresh(name, "trainer_0")
        torch.save(state, folder / "ae.pt")
        config = {"trainer": {"trainer_class": "fixture", "dict_class": dict_class, "activation_dim": D_IN, "dict_size": D_SAE, "k": K, "layer": LAYER, "lm_name": "fixture-model", "submodule_name": f"resid_post_layer_{LAYER}"}}
        (folder / "config.json").write_text(json.dumps(config, indent=4))
        ref = cls.from_pretrained(str(folder / "ae.pt"), k=K) if "TopK" in dict_class else cls.from_pretrained(str(folder / "ae.pt"))
        bias = next(state[n] for n in ("bias", "b_dec", "decoder_bias", "decoder.bias") if n in state)
        x = inputs(gen, bias)
        with torch.no_grad():
            lat = ref.encode(x)
            rec = ref.decode(lat)
        if clear_dl(ref, dict_class, x):
            break
    write_case(name, "trainer_0", x, lat, rec, {"library": "dictionary_learning 0.1.0", "architecture": dict_class, "dtype": "float32"})


def clear_dl(ae, dict_class: str, x: torch.Tensor) -> bool:
    """Firing margins of dictionary_learning's pre-activations (recomputed in float64)."""
    d = {k: v.double() for k, v in ae.state_dict().items()}
    if dict_class in ("JumpReluAutoEncoder", "MatryoshkaBatchTopKSAE"):
        xin = x.double() - (d["b_dec"] if dict_class == "MatryoshkaBatchTopKSAE" else 0)
        pre = xin @ d["W_enc"] + d["b_enc"]
        return min_margin(pre, "threshold", d["threshold"]) > MARGIN and min_margin(pre, "relu") > MARGIN
    if dict_class == "GatedAutoEncoder":
        enc = (x.double() - d["decoder_bias"]) @ d["encoder.weight"].T
        return min_margin(enc + d["gate_bias"], "gate") > MARGIN and min_margin(d["r_mag"].exp() * enc + d["mag_bias"], "relu") > MARGIN
    center = {"AutoEncoder": "bias", "AutoEncoderTopK": "b_dec", "BatchTopKSAE": "b_dec"}.get(dict_class)
    pre = (x.double() - (d[center] if center else 0)) @ d["encoder.weight"].T + d["encoder.bias"]
    if dict_class == "AutoEncoderTopK":
        return min_margin(pre, "topk") > MARGIN
    if dict_class == "BatchTopKSAE":
        return min_margin(pre, "threshold", d["threshold"]) > MARGIN and min_margin(pre, "relu") > MARGIN
    return min_margin(pre, "relu") > MARGIN


def torch_checkpoint_case() -> None:
    """Reader cases for torch-checkpoint.ts: views with strides and storage offsets, and every float dtype."""
    gen = torch.Generator().manual_seed(99)
    base = randn(gen, 5, 7)
    tensors = {
        "transposed": base.float().T,  # stride (1, 7): not row-major
        "sliced": base.float()[1:4, 2:6],  # storage offset 9, row stride 7
        "half": base[0].half(),
        "bfloat": base[1].bfloat16(),
        "double": base[2],
        "int_k": torch.tensor(5, dtype=torch.int32),
        "long": torch.tensor([3, -4], dtype=torch.int64),
    }
    folder = OUT / "torch-checkpoint"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    torch.save(tensors, folder / "views.pt")
    expected = {k: {"shape": list(v.shape), "values": v.double().flatten().tolist()} for k, v in tensors.items()}
    (folder / "views.json").write_text(json.dumps(expected, indent=1) + "\n")


def main() -> None:
    torch.set_grad_enabled(False)
    OUT.mkdir(parents=True, exist_ok=True)
    saelens_case("saelens-standard", "standard", 1)
    saelens_case("saelens-standard-layernorm-nobdec", "standard", 2, apply_b_dec=False, norm="layer_norm", offset=3.0)
    saelens_case("saelens-topk-rescaled-normrescale", "topk", 3, rescale=True, norm="constant_norm_rescale")
    saelens_case("saelens-jumprelu-bf16-nobdec", "jumprelu", 4, dtype="bfloat16", apply_b_dec=False)
    saelens_case("saelens-gated-f16-nobdec", "gated", 5, dtype="float16", apply_b_dec=False)
    saelens_batchtopk_case("saelens-batchtopk", 6)
    saelens_pre6_case("saelens-pre6-standard", 7)
    sparsify_case("sparsify-topk", 8)
    dl = dictionary_learning()
    for seed, dict_class in enumerate(["AutoEncoder", "AutoEncoderNew", "GatedAutoEncoder", "JumpReluAutoEncoder", "AutoEncoderTopK", "BatchTopKSAE", "MatryoshkaBatchTopKSAE"], start=10):
        dl_case(dl, f"dictionary-learning-{dict_class}", dict_class, seed)
    torch_checkpoint_case()


if __name__ == "__main__":
    main()
