"""Reference tokenization speed: Hugging Face `tokenizers` (Rust, from PyPI) on one thread.

Usage: bench_tokenize.py TOKENIZER_JSON TEXTS_JSON REPEATS
TEXTS_JSON is a JSON array of strings (the same texts the TypeScript bench encodes). Each text
is encoded on its own without special tokens, like the tokenize stage does; prints one JSON
object with the median throughput over REPEATS passes.
"""

import json
import os
import statistics
import sys
import time

# One thread, as the TypeScript stage uses (set before tokenizers starts its thread pool).
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def main() -> None:
    tokenizer_json, texts_json, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tok = Tokenizer.from_file(tokenizer_json)
    with open(texts_json, encoding="utf-8") as f:
        texts = json.load(f)
    rates = []
    tokens = 0
    for _ in range(repeats):
        start = time.perf_counter()
        tokens = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)
        rates.append(tokens / (time.perf_counter() - start))
    print(json.dumps({
        "tokens": tokens,
        "tokensPerSecond": statistics.median(rates),
        "repeats": repeats,
        "threads": 1,
        "tokenizersVersion": tokenizers.__version__,
    }))


if __name__ == "__main__":
    main()
