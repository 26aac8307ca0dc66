"""Fixture writing shared by the eval reference generators (run once; outputs are committed).

A fixture group is a folder test/fixtures/evaluate/<group>/ holding fixture.json
({"tensors": {name: {"file", "dtype", "shape"}}, "expected": ..., "meta": ...}) and one
little-endian .bin file per tensor (float32 or int32).
"""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]  # infra/dev/python/<this file>
FIXTURES = ROOT / "test" / "fixtures" / "evaluate"


class FixtureWriter:
    def __init__(self, group: str):
        self.dir = FIXTURES / group
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tensors: dict = {}

    def tensor(self, name: str, array) -> np.ndarray:
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype("<f4")
            dtype = "float32"
        elif array.dtype.kind in "iub":
            array = array.astype("<i4")
            dtype = "int32"
        else:
            raise TypeError(f"unsupported dtype {array.dtype} for {name}")
        file = f"{name}.bin"
        (self.dir / file).write_bytes(np.ascontiguousarray(array).tobytes())
        self.tensors[name] = {"file": file, "dtype": dtype, "shape": list(array.shape)}
        return array

    def finish(self, expected: dict, meta: dict) -> None:
        body = {"tensors": self.tensors, "expected": expected, "meta": meta}
        (self.dir / "fixture.json").write_text(json.dumps(to_jsonable(body), indent=1) + "\n")


def to_jsonable(value):
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
