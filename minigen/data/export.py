"""Writing datasets (train.jsonl, test.jsonl) and the corpus (plain text) to disk, byte-stable."""

from __future__ import annotations

import json
from dataclasses import asdict

from minigen.files import atomic_write_text, output_dir, output_file

# Documents in the exported corpus are separated by one blank line (documents never contain one).
CORPUS_SEPARATOR = "\n\n"


def _jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def export_dataset(name: str, out, *, seed: int = 0, lexicon_seed: int = 0, size=None,
                   words: str = "test") -> tuple[int, int]:
    """Write DIR/train.jsonl ({"id", "text"}) and DIR/test.jsonl (one TestItem per line)."""
    from minigen.data.datasets import load_dataset

    out = output_dir(out)
    ds = load_dataset(name, seed=seed, lexicon_seed=lexicon_seed, size=size, words=words)
    atomic_write_text(out / "train.jsonl", _jsonl(asdict(d) for d in ds.train))
    atomic_write_text(out / "test.jsonl", _jsonl(asdict(t) for t in ds.test))
    return len(ds.train), len(ds.test)


def export_corpus(out, tokens: int, *, seed: int = 0, lexicon_seed: int = 0) -> tuple[int, int]:
    """Write the corpus stream's first documents, up to the one that reaches `tokens` tokens.

    Tokens are counted as in packing ([BOS] + text + [EOS]) with the tokenizer trained on the
    same corpus configuration.
    """
    from minigen.data.corpus import CorpusConfig, documents
    from minigen.data.tokenizer import train_tokenizer

    out = output_file(out)
    cfg = CorpusConfig(seed=seed, lexicon_seed=lexicon_seed)
    tokenizer = train_tokenizer(cfg)
    texts, total = [], 0
    for text in documents(cfg):
        texts.append(text)
        total += len(tokenizer.encode(text)) + 2
        if total >= tokens:
            break
    atomic_write_text(out, CORPUS_SEPARATOR.join(texts) + "\n")
    return len(texts), total
