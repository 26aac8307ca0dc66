"""Small Parquet corpus fixture in The Pile's Parquet layout, written by pyarrow (zstd codec).

Rows: text (string, nullable) and meta (struct<pile_set_name: string>), 25 rows in row groups
of 10, 10, 5. Row 7 has a null text and row 21 an empty one (bad input the reader must report).
Run once from the repository root; the output is committed:
    .tools/ml-venv/bin/python infra/dev/python/make_corpus_fixtures.py
"""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "corpus" / "pile-sample.parquet"


def main() -> None:
    texts = [f"Parquet document {i}: the quick brown fox jumps over the lazy dog {i} times." for i in range(25)]
    texts[7] = None
    texts[21] = ""
    sets = ["Pile-CC", "Github", "PubMed Abstracts", "Enron Emails", "FreeLaw"]
    table = pa.table({
        "text": pa.array(texts, pa.string()),
        "meta": pa.array([{"pile_set_name": sets[i % len(sets)]} for i in range(25)], pa.struct([("pile_set_name", pa.string())])),
    })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, OUT, row_group_size=10, compression="zstd")
    meta = pq.ParquetFile(OUT).metadata
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {meta.num_row_groups} row groups)")


if __name__ == "__main__":
    main()
