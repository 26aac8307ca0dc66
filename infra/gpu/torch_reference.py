"""PyTorch references for the GPU check (infra/gpu/check/gpu-check.ts), run on the same GPU.

  extract: Hugging Face transformers on a random model of the given config (no export, no
           weights), B x T random token ids per batch, the residual after block L copied to the
           host as float16 (what an extractor stores). Two ways:
             full       AutoModelForCausalLM forward with output_hidden_states=True, hidden_states[L+1]
                        (the usual HF extraction: every block and the LM head run);
             truncated  blocks 0..L only, no final norm, no head (like SAELens' stop_at_layer):
                        the strongest fair reference.
  train:   infra/dev/python/bench_train_torch.py's trainer (the same variant math as the bench
           uses on CPU: forward, loss, autograd, decoder projection, clipping, Adam,
           renormalisation) moved to the device, at the given shape.

Prints one JSON object: tokensPerSecond (median over repeats), peak memory from the caching
allocator (max_memory_allocated / max_memory_reserved, MiB), versions and the device name.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def memory(device: str) -> dict:
    if device != "cuda":
        import resource

        return {"peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    return {"peakAllocatedMiB": torch.cuda.max_memory_allocated() / 2**20, "peakReservedMiB": torch.cuda.max_memory_reserved() / 2**20}


def facts(device: str) -> dict:
    return {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "tf32": torch.backends.cuda.matmul.allow_tf32,
    }


def extract(args) -> dict:
    sys.path.insert(0, str(HERE))
    from make_random_model import model_config
    from transformers import AutoModelForCausalLM

    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[args.dtype]
    config = model_config(args.config, None, args.tiny)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=dtype).to(args.device).eval()
    if args.mode == "truncated":
        model.model.layers = model.model.layers[: args.layer + 1]
        model.model.norm = torch.nn.Identity()
        model.config.num_hidden_layers = args.layer + 1
        if getattr(model.config, "layer_types", None):
            model.config.layer_types = model.config.layer_types[: args.layer + 1]
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(3, config.vocab_size, (args.batches, args.batch, args.context), generator=gen)
    ids[:, :, 0] = config.bos_token_id or 2
    ids = ids.to(args.device)
    mask = torch.ones(args.batch, args.context, dtype=torch.long, device=args.device)

    def one_pass() -> float:
        sync(args.device)
        start = time.perf_counter()
        with torch.inference_mode():
            for b in range(args.batches):
                if args.mode == "full":
                    out = model(input_ids=ids[b], attention_mask=mask, output_hidden_states=True, use_cache=False)
                    resid = out.hidden_states[args.layer + 1]
                else:
                    resid = model.model(input_ids=ids[b], attention_mask=mask, use_cache=False).last_hidden_state
                host = resid.to("cpu", torch.float16)
        sync(args.device)
        assert host.shape == (args.batch, args.context, config.hidden_size)
        return args.batches * args.batch * args.context / (time.perf_counter() - start)

    one_pass()  # warm-up: kernels, allocator
    rates = [one_pass() for _ in range(args.repeats)]
    return {"case": "extract", "mode": args.mode, "dtype": args.dtype, "attn": model.config._attn_implementation, "tokensPerSecond": statistics.median(rates), "rates": rates, **memory(args.device), **facts(args.device)}


def train(args) -> dict:
    sys.path.insert(0, str(HERE / "python"))
    import bench_train_torch as bt

    torch.manual_seed(0)
    p = {k: torch.nn.Parameter(v.detach().to(args.device)) for k, v in bt.make_params(args.variant, args.d_in, args.d_sae).items()}
    opt = torch.optim.Adam(list(p.values()), lr=5e-4)
    xs = [torch.randn(args.batch, args.d_in, device=args.device).half().float() for _ in range(2)]
    bt.step(args.variant, p, opt, xs[0], args.k, args.seq, 0.1)  # warm-up
    sync(args.device)
    times = []
    for i in range(args.steps):
        start = time.perf_counter()
        bt.step(args.variant, p, opt, xs[i % 2], args.k, args.seq, 0.1)
        sync(args.device)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"case": "train", "variant": args.variant, "d_in": args.d_in, "d_sae": args.d_sae, "batch": args.batch, "msPerStep": seconds * 1000, "tokensPerSecond": args.batch / seconds, **memory(args.device), **facts(args.device)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    e = sub.add_parser("extract")
    e.add_argument("--config", required=True)
    e.add_argument("--layer", type=int, required=True)
    e.add_argument("--batch", type=int, default=32)
    e.add_argument("--context", type=int, default=128)
    e.add_argument("--batches", type=int, default=8)
    e.add_argument("--repeats", type=int, default=3)
    e.add_argument("--dtype", default="float16", choices=["float16", "bfloat16", "float32"])
    e.add_argument("--mode", default="full", choices=["full", "truncated"])
    e.add_argument("--tiny", action="store_true")
    t = sub.add_parser("train")
    t.add_argument("--variant", required=True)
    t.add_argument("--d-in", type=int, default=2304)
    t.add_argument("--d-sae", type=int, default=65536)
    t.add_argument("--batch", type=int, default=2048)
    t.add_argument("--k", type=int, default=32)
    t.add_argument("--seq", type=int, default=128)
    t.add_argument("--steps", type=int, default=5)
    for p in (e, t):
        p.add_argument("--device", default="cuda")
        p.add_argument("--tf32", action="store_true", help="allow TF32 matmuls (onnxruntime's CUDA provider uses TF32 by default)")
        p.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(extract(args) if args.what == "extract" else train(args)), flush=True)


if __name__ == "__main__":
    main()
