"""On the GPU machine (no registry, no model weights): a Gemma-3-270M-shaped model with random
weights, exported exactly as `tsae model prepare` exports the real one (infra/python-runtime/onnx_export.py).
Speed does not depend on the weight values. Uses the machine's own torch / transformers / onnxscript.

  python3 make_random_model.py --config gemma3-270m-config.json --out /tmp/tsae-gpu-model
"""
import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))
from onnx_export import export_onnx, write_config, write_tsae_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg_dict = json.loads(Path(args.config).read_text())
    cfg_dict.pop("transformers.js_config", None)
    config = AutoConfig.for_model(**cfg_dict)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32).eval()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (out / name).write_text("{}\n")  # extraction feeds token ids; no tokenizer needed
    write_config(out, model)
    info = export_onnx(model, out, exporter="dynamo")
    write_tsae_json(out, model, info, {"source": {"kind": "random", "name": "gemma3-270m-shaped"}})
    print(json.dumps({"event": "model", "out": str(out), "layers": config.num_hidden_layers}))


if __name__ == "__main__":
    main()
