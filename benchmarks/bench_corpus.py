"""Corpus generation + tokenization throughput (tokens/s on one core).

    python benchmarks/bench_corpus.py [--rows 2000] [--seq-len 256]

Prints the tokenizer training time, then tokens/s for: generating documents alone, generating and
encoding them, and `packed_rows` (what training calls). The goal is >= 200,000 tokens/s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # measure one core
os.environ.setdefault("RAYON_NUM_THREADS", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seq-len", type=int, default=256)
    args = parser.parse_args()

    from minigen.data.corpus import CorpusConfig, documents, packed_rows
    from minigen.data.tokenizer import train_tokenizer

    cfg = CorpusConfig()
    t = time.perf_counter()
    tokenizer = train_tokenizer(cfg)
    print(f"tokenizer: trained in {time.perf_counter() - t:.1f} s, vocab {tokenizer.vocab_size}")

    packed_rows(cfg, tokenizer, args.seq_len, 10**7, 16)  # warm the encoding cache

    n_docs = args.rows * 3
    t = time.perf_counter()
    docs = list(itertools.islice(documents(cfg, 10**8), n_docs))
    gen_s = time.perf_counter() - t
    t = time.perf_counter()
    n_tokens = sum(len(ids) + 2 for ids in tokenizer.encode_batch(docs))
    enc_s = time.perf_counter() - t
    print(f"documents: {n_docs} docs, {n_tokens / n_docs:.0f} tokens/doc")
    print(f"generate only:       {n_tokens / gen_s:>12,.0f} tokens/s")
    print(f"encode only:         {n_tokens / enc_s:>12,.0f} tokens/s")
    print(f"generate + encode:   {n_tokens / (gen_s + enc_s):>12,.0f} tokens/s")

    t = time.perf_counter()
    tokens, _ = packed_rows(cfg, tokenizer, args.seq_len, 0, args.rows)
    s = time.perf_counter() - t
    print(f"packed_rows:         {tokens.size / s:>12,.0f} tokens/s  ({args.rows} rows x {args.seq_len + 1})")


if __name__ == "__main__":
    main()
