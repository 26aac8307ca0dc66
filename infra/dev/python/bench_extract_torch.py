"""Reference extraction speed: Hugging Face transformers (PyTorch CPU) on the same model, layer,
batch, context and thread count as bench/extract.ts. Prints one JSON object.

The model runs only blocks 0..L (the decoder's later layers are dropped, like SAELens'
stop_at_layer), which is the strongest fair reference for residual extraction at layer L.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare_model import load_model, resolve_gguf  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", default="gemma3-270m")
    parser.add_argument("--cache", required=True, help="folder holding (or receiving) the assembled GGUF")
    parser.add_argument("--layer", type=int, default=6)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--serve", action="store_true",
                        help="after loading, time one pass per 'run' line on stdin (lets the caller interleave runs)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.source, resolve_gguf(args.source, Path(args.cache))).eval()
    model.model.layers = model.model.layers[: args.layer + 1]
    model.model.norm = torch.nn.Identity()  # last_hidden_state = resid_post.L, as extracted
    model.config.num_hidden_layers = args.layer + 1
    model.config.layer_types = model.config.layer_types[: args.layer + 1] if getattr(model.config, "layer_types", None) else None
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(3, min(model.config.vocab_size, 200000), (args.batches, args.batch, args.context), generator=gen)
    ids[:, :, 0] = model.config.bos_token_id or 2
    mask = torch.ones(args.batch, args.context, dtype=torch.long)

    def run_once() -> float:
        start = time.perf_counter()
        with torch.inference_mode():
            for b in range(args.batches):
                out = model.model(input_ids=ids[b], attention_mask=mask, use_cache=False)
                _ = out.last_hidden_state.to(torch.float16)  # what an extractor stores
        return args.batches * args.batch * args.context / (time.perf_counter() - start)

    run_once()  # warm-up
    if args.serve:
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            if line.strip() != "run":
                break
            print(json.dumps({"tokensPerSecond": run_once()}), flush=True)
        return
    rates = [run_once() for _ in range(args.repeats)]
    print(json.dumps({
        "tokensPerSecond": statistics.median(rates),
        "rates": rates,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "attn": model.config._attn_implementation,
        "layer": args.layer, "batch": args.batch, "context": args.context,
    }))


if __name__ == "__main__":
    main()
