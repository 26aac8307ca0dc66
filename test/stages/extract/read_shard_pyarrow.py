"""Reads an activation shard with pyarrow and prints what the interop test compares (JSON)."""
import hashlib
import json
import sys

import pyarrow as pa
import pyarrow.ipc as ipc

table = ipc.open_file(pa.memory_map(sys.argv[1])).read_all()
act = table.column("activation").combine_chunks()
flat = act.flatten() if hasattr(act, "flatten") else act.values
values = flat.to_numpy(zero_copy_only=False)
out = {
    "schema": {f.name: str(f.type) for f in table.schema},
    "rows": table.num_rows,
    "activationDtype": str(values.dtype),
    "activationSha256": hashlib.sha256(values.astype(values.dtype.newbyteorder("<")).tobytes()).hexdigest(),
    "activationSum": float(values.astype("float64").sum()),
}
for name in ("token_id", "row_id", "position", "doc_index", "is_special"):
    out[name] = [int(v) for v in table.column(name).to_pylist()]
for name in ("doc_id", "source_set"):
    out[name] = [str(v) for v in table.column(name).to_pylist()]
print(json.dumps(out))
