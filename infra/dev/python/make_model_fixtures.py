"""Tiny random-weight gemma2 / gemma3 / llama model folders with Hugging Face reference outputs.

Each fixture is exported exactly as `tsae model prepare` exports a real model (onnx_export.py),
so the TypeScript parity tests exercise the same graphs. Sliding windows are tiny (8 tokens) and
the reference sequences longer (24), so parity is checked beyond the window.

Run once (CI never runs it; the outputs are committed):
  .tools/prepare-venv/bin/python infra/dev/python/make_model_fixtures.py --out test/fixtures/model
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from onnx_export import export_onnx, reference_outputs, save_f32, write_check, write_config, write_tsae_json

SPECIALS = ["<pad>", "<eos>", "<bos>"]
VOCAB = len(SPECIALS) + 256
WINDOW = 8
SEQ = 24
COMMON = dict(
    vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=3,
    num_attention_heads=2, num_key_value_heads=1, head_dim=16, max_position_embeddings=128,
    pad_token_id=0, eos_token_id=1, bos_token_id=2, initializer_range=0.2,
)


def make_tokenizer(out: Path) -> None:
    """Byte-level BPE with no merges: every byte is a token, after three special tokens."""
    byte_chars = list(pre_tokenizers.ByteLevel.alphabet())
    byte_chars.sort(key=lambda c: bytes_to_byte(c))
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for c in byte_chars:
        vocab[c] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "add_bos_token": True,
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 128,
    }, indent=2) + "\n")


def bytes_to_byte(c: str) -> int:
    """Inverse of GPT-2's bytes_to_unicode for one character."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    if ord(c) in printable:
        return ord(c)
    extra = [b for b in range(256) if b not in printable]
    return extra[ord(c) - 256]


def build_model(arch: str) -> torch.nn.Module:
    torch.manual_seed({"gemma2": 2, "gemma3": 3, "llama": 1}[arch])
    if arch == "gemma2":
        from transformers import Gemma2Config, Gemma2ForCausalLM
        cfg = Gemma2Config(**COMMON, sliding_window=WINDOW, query_pre_attn_scalar=16,
                           attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                           layer_types=["sliding_attention", "full_attention", "sliding_attention"])
        model = Gemma2ForCausalLM(cfg)
    elif arch == "gemma3":
        from transformers import Gemma3ForCausalLM, Gemma3TextConfig
        cfg = Gemma3TextConfig(**COMMON, sliding_window=WINDOW, query_pre_attn_scalar=16,
                               layer_types=["sliding_attention", "sliding_attention", "full_attention"])
        model = Gemma3ForCausalLM(cfg)
    elif arch == "llama":
        from transformers import LlamaConfig, LlamaForCausalLM
        cfg = LlamaConfig(**COMMON, tie_word_embeddings=True)
        model = LlamaForCausalLM(cfg)
    else:
        raise ValueError(arch)
    with torch.no_grad():
        # Non-trivial norm weights so a wrong (1 + w) convention would show up in parity.
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(torch.randn_like(p) * 0.3 + (0.0 if arch.startswith("gemma") else 1.0))
    return model.eval()


def make_fixture(arch: str, root: Path) -> None:
    out = root / arch
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model = build_model(arch)
    make_tokenizer(out)
    write_config(out, model)
    info = export_onnx(model, out, exporter="dynamo")
    check = write_check(out, model, 2, beyond=16)
    write_tsae_json(out, model, info, {"source": {"kind": "fixture", "name": f"tiny-{arch}"}, "check": check})
    rng = np.random.default_rng(7)
    ids = rng.integers(3, VOCAB, size=(2, SEQ)).astype(np.int64)
    ids[:, 0] = 2  # BOS
    ref = reference_outputs(model, ids)
    with torch.no_grad():
        # HF greedy decoding (with its own cache) continuing row 0 past the window: the
        # transformers.js generate test must reproduce these ids through the exported KV cache.
        row = torch.from_numpy(ids[:1])
        greedy = model.generate(row, attention_mask=torch.ones_like(row), max_new_tokens=8, do_sample=False,
                                pad_token_id=0, eos_token_id=None)[0, SEQ:].tolist()
    ref_dir = out / "reference"
    ref_dir.mkdir()
    meta = {
        "inputIds": save_f32(ref_dir / "input_ids.bin", ids.astype(np.int32)),
        "logits": save_f32(ref_dir / "logits.bin", ref["logits"]),
        "residPost": save_f32(ref_dir / "resid_post.bin", ref["resid_post"]),
        "finalHidden": save_f32(ref_dir / "final_hidden.bin", ref["final_hidden"]),
        "greedyContinuation": greedy,
        "slidingWindow": WINDOW if arch != "llama" else None,
        "generator": "infra/dev/python/make_model_fixtures.py (HF transformers PyTorch, float32)",
    }
    (ref_dir / "reference.json").write_text(json.dumps(meta, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="test/fixtures/model")
    parser.add_argument("--arch", nargs="*", default=["gemma2", "gemma3", "llama"])
    args = parser.parse_args()
    for arch in args.arch:
        make_fixture(arch, Path(args.out))
        print(json.dumps({"fixture": arch, "out": str(Path(args.out) / arch)}))


if __name__ == "__main__":
    main()
