"""sha256 of each preset's tokenizer and of the first packed rows of every stage of every preset.

    python experiments/stream_hashes.py OUT.json [--rows 2000]

A refactor that must not change what a run trains on keeps every hash (run it before and after).
"""

from __future__ import annotations

import hashlib
import json

import typer

from minigen.config import PRESETS, get_preset, stage_configs
from minigen.data.corpus import packed_rows
from minigen.data.tokenizer import train_tokenizer


def main(out: str, rows: int = 2000):
    hashes = {}
    for name in PRESETS:
        cfg = get_preset(name)
        tokenizer = train_tokenizer(cfg.data)
        hashes[f"{name}/tokenizer"] = hashlib.sha256(tokenizer.to_json().encode()).hexdigest()
        for i, (_, stage) in enumerate(stage_configs(cfg)):
            tokens, segments = packed_rows(stage.data, tokenizer, stage.model.seq_len, 0, rows)
            hashes[f"{name}/stage{i}"] = hashlib.sha256(tokens.tobytes() + segments.tobytes()).hexdigest()
        mine = {k.split("/")[1]: v[:12] for k, v in hashes.items() if k.startswith(name + "/")}
        print(name, mine, flush=True)
    with open(out, "w") as f:
        json.dump(hashes, f, indent=1)


if __name__ == "__main__":
    typer.run(main)
