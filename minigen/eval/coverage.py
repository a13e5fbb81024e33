"""Vocabulary coverage: which tokens of a dataset's prompts and options the checkpoint ever trained on.

Embeddings are tied, so a token that never occurs in the pretraining corpus keeps its random vector:
a row scored on such tokens says nothing about in-context learning or finetuning. The corpus a run
trained on is its recorded stream (rows 0 .. steps x batch_size - 1 of each stage's data config);
`corpus_token_counts` counts the tokens of `SAMPLE_ROWS` rows spread evenly over it (a sample, so
a token it reports unseen is at most rare in the stream; a token it reports seen was trained on).
The counts are kept in the run directory (`token_counts.json`, written by `minigen pretrain` before
its first step, or by `minigen compare` the first time it reads a run without it), with the sha256 of the
tokenizer and of the data recipe they were counted for; a file that does not match is refused.

A dataset's coverage is the share of the distinct tokens of its test prompts and options (tokenized
as scoring does: jointly, split at the boundary) that the counts have seen. Below 1.0, `compare`
marks the dataset's rows as not interpretable.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from minigen.errors import UserError

COUNTS_FILE = "token_counts.json"
SAMPLE_ROWS = 4000  # rows of the stream counted, spread over every stage in proportion to its length
FINGERPRINT_ROWS = 8  # rows of each stage hashed into recipe_sha256


def recipe_sha256(cfg, tokenizer) -> str:
    """What the stream is: each stage's length, batch and context, and the tokens of its first rows (so
    the same stream written in another config layout has the same hash)."""
    from minigen.config import stage_configs
    from minigen.data.corpus import packed_rows

    digest = hashlib.sha256()
    for begin, st in stage_configs(cfg):
        digest.update(json.dumps([begin, st.train.steps, st.train.batch_size, st.model.seq_len]).encode())
        tokens, segments = packed_rows(st.data, tokenizer, st.model.seq_len, 0, FINGERPRINT_ROWS)
        digest.update(tokens.tobytes() + segments.tobytes())
    return digest.hexdigest()


def tokenizer_sha256(tokenizer) -> str:
    return hashlib.sha256(tokenizer.to_json().encode()).hexdigest()


def corpus_token_counts(cfg, tokenizer, sample_rows: int = SAMPLE_ROWS) -> dict:
    """Token counts over `sample_rows` rows spread evenly over the run's recorded stream."""
    from minigen.config import stage_configs
    from minigen.data.corpus import packed_rows

    stages = stage_configs(cfg)
    total_rows = sum(st.train.steps * st.train.batch_size for _, st in stages)
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    sampled = 0
    for _, st in stages:
        rows = st.train.steps * st.train.batch_size
        take = max(1, min(rows, round(sample_rows * rows / total_rows)))
        for r in np.linspace(0, rows - 1, take).round().astype(int):
            tokens, _ = packed_rows(st.data, tokenizer, st.model.seq_len, int(r), 1)
            counts += np.bincount(tokens[0], minlength=tokenizer.vocab_size)
        sampled += take
    return {"tokenizer_sha256": tokenizer_sha256(tokenizer), "recipe_sha256": recipe_sha256(cfg, tokenizer),
            "rows_sampled": sampled, "rows_in_stream": total_rows, "counts": counts.tolist()}


def write_counts(run_dir: Path, counts: dict) -> None:
    from minigen.files import atomic_write_text

    atomic_write_text(Path(run_dir) / COUNTS_FILE, json.dumps(counts) + "\n")


def load_counts(run_dir: Path, cfg, tokenizer) -> dict:
    """The run's token counts: read (and checked against the run) or, when absent, measured and kept."""
    path = Path(run_dir) / COUNTS_FILE
    if not path.exists():
        counts = corpus_token_counts(cfg, tokenizer)
        write_counts(run_dir, counts)
        return counts
    try:
        counts = json.loads(path.read_text())
        ok = len(counts["counts"]) == tokenizer.vocab_size
    except (json.JSONDecodeError, KeyError, TypeError):
        raise UserError(f"{path} is corrupt; delete it and `minigen compare` counts it again") from None
    if not ok or counts.get("tokenizer_sha256") != tokenizer_sha256(tokenizer) or \
            counts.get("recipe_sha256") != recipe_sha256(cfg, tokenizer):
        raise UserError(f"{path} was counted for another tokenizer or data recipe than this run's; delete it "
                        f"and `minigen compare` counts this run's stream again")
    return counts


def item_tokens(tokenizer, items) -> set[int]:
    """The distinct tokens of the items' prompts and options, as scoring tokenizes them."""
    from minigen.eval.scoring import split_at_boundary

    out: set[int] = set()
    for item in items:
        for option in item.options:
            prefix, cont = split_at_boundary(tokenizer, item.prompt, option)
            out.update(prefix)
            out.update(cont)
    return out


def covers(cov: dict) -> bool:
    """Whether a `coverage` result lets a row mean anything: every prompt and option token was seen."""
    return cov["share"] >= 1.0


def coverage(tokenizer, items, counts: dict, documents=()) -> dict:
    """Share of the items' prompt and option tokens seen in pretraining (and of the documents' tokens)."""
    seen = np.asarray(counts["counts"]) > 0
    tokens = sorted(item_tokens(tokenizer, items))
    unseen = [t for t in tokens if not seen[t]]
    doc_tokens = sorted({t for d in documents for t in tokenizer.encode(d.text)})
    doc_unseen = [t for t in doc_tokens if not seen[t]]
    return {
        "share": 1 - len(unseen) / max(1, len(tokens)), "tokens": len(tokens),
        "unseen": [tokenizer.token(t) for t in unseen],
        "documents_share": 1 - len(doc_unseen) / max(1, len(doc_tokens)),
        "documents_unseen": len(doc_unseen), "rows_sampled": counts["rows_sampled"],
    }
