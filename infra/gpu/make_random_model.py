"""On the GPU machine (no registry, no model weights): a model of a real model's shape with random
weights, exported exactly as `tsae model prepare` exports real ones (infra/python-runtime/onnx_export.py).
Speed does not depend on the weight values. Uses the machine's own torch / transformers / onnxscript.

  python3 make_random_model.py --config gemma3-270m-config.json --out /tmp/tsae-gpu/gemma3-270m
  python3 make_random_model.py --config gemma2-2b-config.json --layers 13 --out /tmp/tsae-gpu/gemma2-2b-L13

--layers keeps the first N blocks (extraction at layer L runs blocks 0..L only, so a model cut
after block L has the same prefix cost and exports in half the time); --tiny shrinks every width
(CPU rehearsals of the check).
"""
import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))
from onnx_export import export_onnx, write_config, write_tsae_json  # noqa: E402

TINY = {"hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32, "vocab_size": 2048}


def model_config(path: str, layers: int | None, tiny: bool):
    from transformers import AutoConfig

    cfg = {k: v for k, v in json.loads(Path(path).read_text()).items() if not k.startswith("_") and k != "transformers.js_config"}
    cfg.pop("quantization_config", None)
    if tiny:
        cfg.update(TINY)
    if layers:
        cfg["num_hidden_layers"] = layers
        if cfg.get("layer_types"):
            cfg["layer_types"] = cfg["layer_types"][:layers]
    return AutoConfig.for_model(**cfg)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    from transformers import AutoModelForCausalLM

    config = model_config(args.config, args.layers, args.tiny)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (out / name).write_text("{}\n")  # extraction feeds token ids; no tokenizer needed
    write_config(out, model)
    info = export_onnx(model, out, exporter="dynamo")
    write_tsae_json(out, model, info, {"source": {"kind": "random", "name": Path(args.config).stem + (f"-L{args.layers}" if args.layers else "")}})
    print(json.dumps({"event": "model", "out": str(out), "layers": config.num_hidden_layers, "params": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
