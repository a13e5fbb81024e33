"""Corpus generation + tokenization throughput (tokens/s on one core).

    python benchmarks/bench_corpus.py [--rows 2000] [--seq-len 256] [--workers 1,2,4]

Prints the tokenizer training time, then tokens/s for: generating documents alone, generating and
encoding them, and `packed_rows` (what training calls, one thread). The goal is >= 200,000 tokens/s.
Then `RowWorkers` (`train.data_workers`) with each number of worker processes, beside one thread, on
the same rows (checked identical): its speed-up should follow the cores there are.
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
    parser.add_argument("--workers", default="1,2,4", help="comma-separated worker counts")
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

    from minigen.data.workers import RowWorkers

    start = args.rows  # rows the single-thread run did not pack (no cache helps either side)
    t = time.perf_counter()
    one, _ = packed_rows(cfg, tokenizer, args.seq_len, start, args.rows)
    base = one.size / (time.perf_counter() - t)
    print(f"\nrows {start}..{start + args.rows - 1}, {os.cpu_count()} CPUs:")
    print(f"  1 thread:            {base:>12,.0f} tokens/s  1.00x")
    for n in [int(x) for x in args.workers.split(",")]:
        pool = RowWorkers(tokenizer, n)
        pool.packed_rows(cfg, tokenizer, args.seq_len, 10**7, n)  # start the workers
        t = time.perf_counter()
        got, _ = pool.packed_rows(cfg, tokenizer, args.seq_len, start, args.rows)
        rate = got.size / (time.perf_counter() - t)
        pool.close()
        assert (got == one).all(), "workers packed other rows"
        print(f"  {n} worker(s):         {rate:>12,.0f} tokens/s  {rate / base:.2f}x")


if __name__ == "__main__":
    main()
