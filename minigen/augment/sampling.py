"""Batched sampling for augmentation, and the no-cache reference that checks and benchmarks it.

`sample_texts` runs many prompts through `minigen.inference.generate` (KV cache) in batches of similar
length, each batch with its own seed derived from the run's seed, so the output is a pure function
of (model, prompts, seed, batch size). `generate_recompute` is the naive decoder that re-encodes the
whole sequence for every new token: the baseline of benchmarks/bench_generate.py, and the reference
that the cached decoder must match token for token at temperature 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch

from minigen.inference import generate

BATCH_SIZE = 64


@dataclass
class Sample:
    index: int  # position of the prompt in the input list
    text: str  # decoded new tokens, without the end-of-document token
    ended: bool  # the model closed the document (EOS) before the token limit
    tokens: int = 0  # new tokens the model generated for it (the one it ended at included)


def sample_texts(model, tokenizer, prompts: list[str], *, max_new_tokens: int, temperature: float,
                 top_k: int | None, seed: int, batch_size: int = BATCH_SIZE,
                 stop_id: int | None = None) -> Iterator[list[Sample]]:
    """Yield the samples of each batch as soon as it is done (callers write them out as they go).

    Each prompt is one document: [BOS] + encode(prompt); prompts longer than the model's context
    minus `max_new_tokens` keep their last tokens (callers size prompts to fit; this is a guard).
    A sample ends at `stop_id` (e.g. a line break) or at the end-of-document token, whichever comes
    first (None: the end of the document only); the token it ends at is not in its text.
    """
    limit = model.cfg.seq_len - max_new_tokens
    assert limit > 1, "max_new_tokens leaves no room for a prompt"
    encoded = [[tokenizer.bos_id, *tokenizer.encode(p)] for p in prompts]
    encoded = [ids if len(ids) <= limit else [tokenizer.bos_id, *ids[-(limit - 1):]] for ids in encoded]
    # Similar lengths together: less padding. Stable sort, so the order is a function of the prompts.
    order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]))
    eos = tokenizer.eos_id
    stop = eos if stop_id is None else stop_id
    for b, start in enumerate(range(0, len(order), batch_size)):
        chunk = order[start: start + batch_size]
        outs = generate(model, [encoded[i] for i in chunk], max_new_tokens, temperature=temperature,
                        top_k=top_k, stop_id=stop, seed=seed * 1_000_003 + b)
        batch = []
        for i, out in zip(chunk, outs, strict=True):
            generated = len(out)
            if stop != eos and eos in out:
                out = out[: out.index(eos) + 1]
            ended = bool(out) and out[-1] in (eos, stop)
            batch.append(Sample(i, tokenizer.decode(out[:-1] if ended else out), ended, generated))
        yield batch


@torch.no_grad()
def generate_recompute(model, prompts: list[list[int]], max_new_tokens: int,
                       stop_id: int | None = None) -> list[list[int]]:
    """Greedy decoding without a cache: every step runs the model over the whole sequence so far.

    Prompts are decoded one by one (no padding), so this also checks the batched, left-padded path.
    """
    dev = next(model.parameters()).device
    results = []
    for prompt in prompts:
        seq = torch.tensor([prompt], device=dev)
        new: list[int] = []
        for _ in range(max_new_tokens):
            nxt = int(model(seq)[0][0, -1].argmax())
            new.append(nxt)
            if nxt == stop_id:
                break
            seq = torch.cat([seq, torch.tensor([[nxt]], device=dev)], dim=1)
        results.append(new)
    return results


@torch.no_grad()
def generate_recompute_batched(model, prompts: list[list[int]], max_new_tokens: int) -> list[list[int]]:
    """Greedy decoding without a cache for a batch of equal-length prompts (the benchmark baseline:
    the same batch shape as the cached decoder, the whole prefix recomputed at every step)."""
    dev = next(model.parameters()).device
    assert len({len(p) for p in prompts}) == 1, "the batched baseline takes prompts of one length"
    seq = torch.tensor(prompts, device=dev)
    start = seq.shape[1]
    for _ in range(max_new_tokens):
        nxt = model(seq, last_only=True)[0][:, -1].argmax(-1)
        seq = torch.cat([seq, nxt[:, None]], dim=1)
    return seq[:, start:].tolist()
