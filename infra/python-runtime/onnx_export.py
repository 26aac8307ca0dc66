"""Export a Hugging Face causal LM to a transformers.js-layout ONNX folder with named residuals.

Shared by prepare_model.py (real models) and make_model_fixtures.py (tiny random models) so the
fixtures exercise exactly the export path the demo model goes through.

Residual convention (documented in stages/model/model-folder.ts and the README):
  resid_post.L = output of decoder block L (0-based) = SAELens `blocks.L.hook_resid_post`
              = Hugging Face `hidden_states[L + 1]` for L < num_layers - 1. For the last block
              HF's hidden_states[-1] is taken after the final norm; resid_post is before it.
  final_hidden = the final-norm output that feeds the unembedding (HF `hidden_states[-1]`).

The exported graph computes these as named intermediate tensors; only `logits` stays a graph
output (transformers.js reads it by name). tsae.json records the tensor names so the TypeScript
side can cut the graph into a prefix (tokens -> resid_post.L) and a suffix (resid_post.L -> ...).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

TSAE_FORMAT = 1


class ResidualExportWrapper(torch.nn.Module):
    """Runs the HF model; returns (logits, present.*, resid_post.0 .. resid_post.{n-1}, final_hidden).

    With past key/value tensors (2 per layer, [B, kv_heads, P, head_dim]) the model runs with a
    cache, so the exported graph has the onnx-community decoder interface transformers.js expects
    for `generate` (past_key_values.L.key/value in, present.L.key/value out). The cache is built
    from full (non-sliding) layers: sliding windows are applied by the attention masks, so every
    present grows by T and parity holds past the window (checked on the fixtures). Position ids are
    not an input: HF derives them as arange(P, P + T), which is also why transformers.js' 1-based
    gemma3 position_ids never reach this graph.
    """

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model
        self.captured: list[torch.Tensor] = []
        # The last block's output is captured by a hook because HF replaces hidden_states[-1]
        # with the final-norm output (checked on transformers 5.24).
        model.model.layers[-1].register_forward_hook(self._capture)

    def _capture(self, _module, _inputs, output):
        self.captured.append(output[0] if isinstance(output, tuple) else output)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, *past: torch.Tensor):
        from transformers import DynamicCache

        self.captured.clear()
        cache = None
        if past:
            cache = DynamicCache()
            for i in range(len(past) // 2):
                cache.update(past[2 * i], past[2 * i + 1], i)
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            past_key_values=cache,
            output_hidden_states=True,
            use_cache=bool(past),
        )
        hidden = list(out.hidden_states)
        resid = hidden[1:-1] + [self.captured[-1]]
        presents = []
        if past:
            for layer in out.past_key_values.layers:
                presents += [layer.keys, layer.values]
        return (out.logits, *presents, *resid, hidden[-1])


def reference_outputs(model: torch.nn.Module, input_ids: np.ndarray) -> dict[str, np.ndarray]:
    """HF PyTorch reference (no cache): logits [B,T,V], resid_post [n,B,T,d], final_hidden [B,T,d]."""
    wrapper = ResidualExportWrapper(model).eval()
    ids = torch.from_numpy(input_ids.astype(np.int64))
    with torch.no_grad():
        outs = wrapper(ids, torch.ones_like(ids))
    n = model.config.num_hidden_layers
    return {
        "logits": outs[0].float().numpy(),
        "resid_post": torch.stack(outs[1 : 1 + n]).float().numpy(),
        "final_hidden": outs[1 + n].float().numpy(),
    }


def kv_shape(config) -> tuple[int, int]:
    heads = getattr(config, "num_key_value_heads", None) or config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return heads, head_dim


def export_onnx(model: torch.nn.Module, out_dir: Path, exporter: str = "dynamo", opset: int = 18) -> dict:
    """Exports `model` into out_dir/onnx/model.onnx (+ model.onnx_data). Returns the tsae graph info."""
    model = model.eval()
    # GGUF-loaded models refuse .float(); they were loaded with dtype=float32 already.
    if any(p.dtype != torch.float32 for p in model.parameters()):
        raise ValueError("export expects a float32 model; load it with dtype=torch.float32")
    n = model.config.num_hidden_layers
    heads, head_dim = kv_shape(model.config)
    kv_names = [f"{i}.{kv}" for i in range(n) for kv in ("key", "value")]
    in_names = ["input_ids", "attention_mask"] + [f"past_key_values.{k}" for k in kv_names]
    out_names = ["logits"] + [f"present.{k}" for k in kv_names] + [f"resid_post.{i}" for i in range(n)] + ["final_hidden"]
    wrapper = ResidualExportWrapper(model).eval()
    # Trace with B, T, P > 1 so no dimension is specialised to a constant.
    B, T, P = 2, 16, 3
    ids = torch.randint(0, model.config.vocab_size, (B, T), generator=torch.Generator().manual_seed(0))
    mask = torch.ones(B, P + T, dtype=torch.long)
    past = [torch.zeros(B, heads, P, head_dim) for _ in kv_names]
    raw_dir = out_dir / "onnx" / ".export"
    raw_dir.mkdir(parents=True, exist_ok=True)
    raw_path = raw_dir / "raw.onnx"
    with torch.no_grad():
        if exporter == "dynamo":
            # transformers.js sizes the first (empty) cache from the input metadata: the batch
            # dimension must be called batch_size, any other symbol becomes 0.
            batch, seq = torch.export.Dim("batch_size"), torch.export.Dim("sequence_length")
            total, past_len = torch.export.Dim("total_sequence_length"), torch.export.Dim("past_sequence_length", min=0)
            shapes = {"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: total}, "past": tuple({0: batch, 2: past_len} for _ in kv_names)}
            torch.onnx.export(wrapper, (ids, mask, *past), str(raw_path), input_names=in_names, output_names=out_names,
                              opset_version=opset, dynamo=True, external_data=True, dynamic_shapes=shapes)
        elif exporter == "torchscript":
            axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "total_sequence_length"}}
            axes.update({name: {0: "batch_size", 2: "past_sequence_length"} for name in in_names[2:]})
            torch.onnx.export(wrapper, (ids, mask, *past), str(raw_path), input_names=in_names, output_names=out_names,
                              opset_version=opset, dynamo=False, dynamic_axes=axes)
        else:
            raise ValueError(f"exporter must be dynamo or torchscript, got {exporter!r}")
    graph_model = onnx.load(str(raw_path), load_external_data=True)
    info = finalize_graph(graph_model, model.config)
    info["pastKeyValues"] = {"numHeads": heads, "headDim": head_dim, "inputs": in_names[2:]}
    onnx_dir = out_dir / "onnx"
    for stale in ("model.onnx", "model.onnx_data"):
        if (onnx_dir / stale).exists():
            (onnx_dir / stale).unlink()
    onnx.save_model(
        graph_model, str(onnx_dir / "model.onnx"), save_as_external_data=True,
        all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=1024,
    )
    for f in raw_dir.iterdir():
        f.unlink()
    raw_dir.rmdir()
    info["exporter"] = exporter
    info["opset"] = opset
    return info


def finalize_graph(m: onnx.ModelProto, config) -> dict:
    """Keeps only `logits` as a graph output, ties a duplicated unembedding back to the embedding."""
    g = m.graph
    n = config.num_hidden_layers
    residual_names = [f"resid_post.{i}" for i in range(n)]
    keep = [o for o in g.output if o.name == "logits" or o.name.startswith("present.")]
    del g.output[:]
    g.output.extend(keep)
    for name in residual_names + ["final_hidden"]:
        make_canonical(g, name)
    for node in g.node:
        # The dynamo exporter attaches stack traces to every node: megabytes of text for a real model.
        del node.metadata_props[:]
        node.doc_string = ""
    unembedding = tie_unembedding(g, config)
    softcap = getattr(config, "final_logit_softcapping", None)
    return {
        "residualTensors": residual_names,
        "finalHiddenTensor": "final_hidden",
        "logitsTensor": "logits",
        "unembedding": unembedding,
        "finalLogitSoftcapping": float(softcap) if softcap else None,
    }


def make_canonical(g: onnx.GraphProto, name: str) -> None:
    """Makes `name` the tensor that downstream nodes read. An exporter may emit the named output as
    Identity(x) or Cast<float>(x) while the next block still reads x; cutting the graph at `name`
    is exact only when every consumer of x reads `name` instead."""
    producer = next((n for n in g.node if name in n.output), None)
    if producer is None:
        raise RuntimeError(f"no node produces {name!r}")
    passthrough = producer.op_type == "Identity" or (
        producer.op_type == "Cast" and any(a.name == "to" and a.i == onnx.TensorProto.FLOAT for a in producer.attribute)
    )
    if not passthrough:
        return
    source = producer.input[0]
    # Keep the node list topologically sorted: the pass-through moves right after its source.
    moved = onnx.NodeProto()
    moved.CopyFrom(producer)
    del g.node[next(i for i, n in enumerate(g.node) if name in n.output)]
    at = next((i + 1 for i, n in enumerate(g.node) if source in n.output), 0)
    g.node.insert(at, moved)
    for node in g.node:
        if name in node.output:
            continue
        for i, inp in enumerate(node.input):
            if inp == source:
                node.input[i] = name


def tie_unembedding(g: onnx.GraphProto, config) -> dict:
    """Finds the lm_head MatMul fed by final_hidden; if its [d, V] weight is the transpose of the
    [V, d] embedding (tied weights, exported twice), replaces it by a Transpose node of the
    embedding so the weights are stored once. Returns where W_U lives and in which layout."""
    inits = {t.name: t for t in g.initializer}
    vocab, d = config.vocab_size, config.hidden_size
    head = next((node for node in g.node if node.op_type == "MatMul" and node.input[0] == "final_hidden"), None)
    if head is None:
        raise RuntimeError("no MatMul reads final_hidden: cannot locate the unembedding")
    w_name = head.input[1]
    transpose = next((n for n in g.node if w_name in n.output and n.op_type == "Transpose"), None)
    if transpose is not None and transpose.input[0] in inits and list(inits[transpose.input[0]].dims) == [vocab, d]:
        return {"initializer": transpose.input[0], "layout": "vocab_major"}
    w = inits.get(w_name)
    if w is None or list(w.dims) != [d, vocab]:
        raise RuntimeError(f"unembedding {w_name!r} is not a [{d}, {vocab}] initializer")
    w_arr = numpy_helper.to_array(w)
    for cand in g.initializer:
        if list(cand.dims) == [vocab, d] and cand.data_type == w.data_type:
            if np.array_equal(numpy_helper.to_array(cand), w_arr.T):
                node = helper.make_node("Transpose", [cand.name], ["tsae_unembedding_t"], perm=[1, 0], name="tsae_unembedding_transpose")
                g.node.insert(0, node)
                head.input[1] = "tsae_unembedding_t"
                if not any(w_name in x.input for x in g.node):
                    g.initializer.remove(w)
                return {"initializer": cand.name, "layout": "vocab_major"}
    return {"initializer": w_name, "layout": "model_major"}


def write_tsae_json(out_dir: Path, model, info: dict, extra: dict) -> None:
    cfg = model.config
    meta = {
        "format": TSAE_FORMAT,
        "architecture": architecture_of(cfg),
        "modelType": cfg.model_type,
        "numLayers": cfg.num_hidden_layers,
        "dModel": cfg.hidden_size,
        "vocabSize": cfg.vocab_size,
        "slidingWindow": getattr(cfg, "sliding_window", None),
        "bosTokenId": getattr(cfg, "bos_token_id", None),
        "residualConvention": "resid_post.L = output of block L = SAELens blocks.L.hook_resid_post = HF hidden_states[L+1] (L < numLayers-1)",
        **info,
        "toolchain": {"torch": torch.__version__, "onnx": onnx.__version__, "transformers": __import__("transformers").__version__},
        **extra,
    }
    (out_dir / "tsae.json").write_text(json.dumps(meta, indent=2) + "\n")


def architecture_of(cfg) -> str:
    mt = cfg.model_type
    if mt.startswith("gemma3"):
        return "gemma3"
    if mt.startswith("gemma2"):
        return "gemma2"
    return mt


def write_config(out_dir: Path, model) -> None:
    """config.json as transformers.js reads it (model_type picks the class), plus generation config."""
    model.config.save_pretrained(str(out_dir))
    cfg_path = out_dir / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["transformers.js_config"] = {"use_external_data_format": True}
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    gen = getattr(model, "generation_config", None)
    if gen is not None:
        gen.save_pretrained(str(out_dir))


def save_f32(path: Path, arr: np.ndarray) -> dict:
    """Little-endian float32/int32 .bin plus a JSON sidecar entry (shape, dtype)."""
    arr = np.ascontiguousarray(arr)
    dtype = "int32" if arr.dtype.kind in "iu" else "float32"
    arr.astype("<i4" if dtype == "int32" else "<f4").tofile(path)
    return {"file": os.path.basename(path), "shape": list(arr.shape), "dtype": dtype}


def write_check(out: Path, model, bos: int | None, beyond: int = 64, positions: int = 4) -> dict:
    """Reference outputs on a sequence longer than the sliding window, for the ONNX parity check
    the TypeScript side runs right after the export (a traced mask can be wrong past the window)."""
    window = getattr(model.config, "sliding_window", None) or 0
    length = window + beyond if window else 2 * beyond
    rng = np.random.default_rng(11)
    ids = rng.integers(4, min(model.config.vocab_size, 30000), size=(1, length)).astype(np.int64)
    if bos is not None:
        ids[0, 0] = bos
    ref = reference_outputs(model, ids)
    check = out / "check"
    check.mkdir(exist_ok=True)
    tail = slice(length - positions, length)
    return {
        "inputIds": save_f32(check / "input_ids.bin", ids.astype(np.int32)),
        "positions": list(range(length - positions, length)),
        "residPost": save_f32(check / "resid_post.bin", ref["resid_post"][:, :, tail, :]),
        "logits": save_f32(check / "logits.bin", ref["logits"][:, tail, :]),
    }
