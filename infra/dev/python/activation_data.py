"""Reads a run's activation shards (Arrow IPC, stages/extract/activation-shard-io.ts) for the
plain PyTorch trainers (plain_trainers.py) and the training experiments.

An extraction artifact is `<artifacts>/extract/<key>/` with `manifest.json` (config.unit.split,
summary.parts) and one Arrow file per part; rows are tokens ordered by (row_id, position).
Parts are concatenated in a fixed order (split, token shard, rowStart, part file) so a global
token index means the same token to every script.
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass

import numpy as np
import pyarrow.ipc as ipc


@dataclass
class Split:
    """All tokens of one split: values fp16 [N, d] and per-token metadata [N]."""

    values: np.ndarray
    row_id: np.ndarray
    doc_index: np.ndarray
    is_special: np.ndarray
    token_id: np.ndarray
    source_set: list[str]
    parts: list[str]
    part_starts: np.ndarray


def part_files(extract_root: str, split: str) -> list[str]:
    """Arrow part files of one split in the canonical order."""
    units = []
    for folder in sorted(glob.glob(os.path.join(extract_root, "*", ""))):
        path = os.path.join(folder, "manifest.json")
        if not os.path.exists(path):
            continue
        manifest = json.load(open(path))
        unit = manifest["config"]["unit"]
        if unit["split"] != split:
            continue
        for part in manifest["summary"]["parts"]:
            units.append(((unit["tokenShard"], unit["rowStart"], part["file"]), os.path.join(folder, part["file"])))
    return [f for _, f in sorted(units)]


def load_split(extract_root: str, split: str) -> Split:
    files = part_files(extract_root, split)
    if not files:
        raise SystemExit(f"no '{split}' activation parts under {extract_root}")
    cols = {k: [] for k in ("values", "row_id", "doc_index", "is_special", "token_id", "source_set")}
    starts = []
    total = 0
    row_offset = 0
    for f in files:
        table = ipc.open_file(f).read_all()
        act = table.column("activation").combine_chunks()
        d = act.type.list_size
        flat = act.flatten().to_numpy(zero_copy_only=False)
        cols["values"].append(flat.reshape(-1, d))
        # row ids restart per token shard: offset them so windows stay distinct after concatenation
        rows = table.column("row_id").to_numpy()
        cols["row_id"].append(rows + row_offset)
        row_offset += int(rows.max()) + 1 if len(rows) else 0
        cols["doc_index"].append(table.column("doc_index").to_numpy())
        cols["is_special"].append(np.asarray(table.column("is_special").to_pylist(), dtype=bool))
        cols["token_id"].append(table.column("token_id").to_numpy())
        cols["source_set"].extend(table.column("source_set").to_pylist())
        starts.append(total)
        total += table.num_rows
    return Split(
        values=np.concatenate(cols["values"]).astype(np.float16, copy=False),
        row_id=np.concatenate(cols["row_id"]),
        doc_index=np.concatenate(cols["doc_index"]),
        is_special=np.concatenate(cols["is_special"]),
        token_id=np.concatenate(cols["token_id"]),
        source_set=cols["source_set"],
        parts=files,
        part_starts=np.asarray(starts),
    )
