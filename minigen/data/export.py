"""Writing datasets (train.jsonl, test.jsonl) and the corpus (plain text) to disk, byte-stable."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from minigen.errors import UserError

# Documents in the exported corpus are separated by one blank line (documents never contain one).
CORPUS_SEPARATOR = "\n\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def export_dataset(name: str, out, *, seed: int = 0, lexicon_seed: int = 0, size=None) -> tuple[int, int]:
    """Write DIR/train.jsonl ({"id", "text"}) and DIR/test.jsonl (one TestItem per line)."""
    from minigen.data.datasets import load_dataset

    ds = load_dataset(name, seed=seed, lexicon_seed=lexicon_seed, size=size)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a directory for train.jsonl and test.jsonl")
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "train.jsonl", _jsonl(asdict(d) for d in ds.train))
    _write_atomic(out / "test.jsonl", _jsonl(asdict(t) for t in ds.test))
    return len(ds.train), len(ds.test)


def export_corpus(out, tokens: int, *, seed: int = 0, lexicon_seed: int = 0) -> tuple[int, int]:
    """Write the corpus stream's first documents, up to the one that reaches `tokens` tokens.

    Tokens are counted as in packing ([BOS] + text + [EOS]) with the tokenizer trained on the
    same corpus configuration.
    """
    from minigen.data.corpus import CorpusConfig, documents
    from minigen.data.tokenizer import train_tokenizer

    out = Path(out)
    if out.is_dir():
        raise UserError(f"--out {out} is a directory; give a file name for the corpus text")
    if not out.parent.exists():
        raise UserError(f"--out {out}: directory {out.parent} does not exist; create it first")
    cfg = CorpusConfig(seed=seed, lexicon_seed=lexicon_seed)
    tokenizer = train_tokenizer(cfg)
    texts, total = [], 0
    for text in documents(cfg):
        texts.append(text)
        total += len(tokenizer.encode(text)) + 2
        if total >= tokens:
            break
    _write_atomic(out, CORPUS_SEPARATOR.join(texts) + "\n")
    return len(texts), total
