"""Stand-ins shared by the eval tests (no tests here): a greedy longest-match tokenizer, hand-made items."""

from __future__ import annotations

import torch

from minigen.data.datasets import Document, TestItem

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,?!:;'\n"


class GreedyTokenizer:
    """Longest-match tokenizer over single characters plus some multi-character pieces.

    Pieces may contain spaces ("are m"), so a token can straddle a prompt/option boundary.
    """

    def __init__(self, pieces=("are", " are", " more", " less", " than", " are m", "femp", " glon", "ll ")):
        self.pieces = ["<bos>", "<eos>", "<pad>", *ALPHABET, *pieces]
        self.index = {p: i for i, p in enumerate(self.pieces)}
        self.bos_id, self.eos_id, self.pad_id = 0, 1, 2
        self.vocab_size = len(self.pieces)
        self.longest = max(len(p) for p in self.pieces)

    def encode(self, text: str) -> list[int]:
        ids, i = [], 0
        while i < len(text):
            for n in range(min(self.longest, len(text) - i), 0, -1):
                if text[i: i + n] in self.index and not text[i: i + n].startswith("<"):
                    ids.append(self.index[text[i: i + n]])
                    i += n
                    break
            else:
                raise ValueError(f"cannot tokenize {text[i]!r}")
        return ids

    def decode(self, ids: list[int]) -> str:
        return "".join(self.pieces[i] for i in ids)


# The data layer's own records, under the short names the eval tests use.
Doc, Item = Document, TestItem


def tiny_model(vocab_size: int, seq_len: int = 256, seed: int = 0):
    from minigen.config import ModelConfig
    from minigen.model import Transformer

    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=vocab_size, n_layer=2, n_head=2, d_model=32, seq_len=seq_len)
    return Transformer(cfg).eval()


def comparison_items(n: int = 5) -> list[Item]:
    words = ["femp", "glon", "yomp", "troff", "gruds", "blick", "dax", "wug"]
    items = []
    for k in range(n):
        a, b = words[k % len(words)], words[(k + 3) % len(words)]
        items.append(Item(
            id=f"r{k}", split="reversal", prompt=f"{a} are",
            options=[f" more dangerous than {b}.", f" less dangerous than {b}."], answer=k % 2,
            meta={"doc_ids": [f"d{k}"]},
        ))
    return items
