"""Inference on a `Transformer`: log-likelihood scoring and sampling.

- `score`: the summed log-probability of each continuation after its prefix, every sequence run whole
  (right-padded in one batch).
- `score_contexts` (`score_shared` for one context): per-token log-probabilities of many continuations
  per context. Each context is prefilled once into the KV cache; its continuations then run packed in
  rows against the cached keys, each masked to the context and its own tokens, and several contexts
  run side by side, left-padded.
- `generate`: batched sampling (greedy, or temperature and top-k with a seeded generator): one
  left-padded prefill, then one token per step against the cache.

Every function takes the model first and runs it only through its forward, so a sharded (FSDP)
model needs nothing more.
"""

from __future__ import annotations

import torch

from minigen.model import KVCache, Transformer


def _device(model: Transformer):
    return model.embed.weight.device


@torch.no_grad()
def score(model: Transformer, prefixes: list[list[int]], continuations: list[list[int]]) -> list[float]:
    """Sum of log-probabilities of each continuation after its prefix (batched, right-padded:
    causal attention makes the padding invisible to the real tokens)."""
    assert len(prefixes) == len(continuations) and all(len(p) > 0 for p in prefixes)
    seqs = [p + c for p, c in zip(prefixes, continuations, strict=True)]
    width = max(len(s) for s in seqs)
    idx = torch.zeros(len(seqs), width, dtype=torch.long, device=_device(model))
    for i, s in enumerate(seqs):
        idx[i, : len(s)] = torch.tensor(s)
    logp = model(idx)[0].float().log_softmax(-1)
    out = []
    for i, (p, c) in enumerate(zip(prefixes, continuations, strict=True)):
        pos = torch.arange(len(p) - 1, len(p) - 1 + len(c), device=idx.device)
        out.append(logp[i, pos, idx[i, pos + 1]].sum().item())
    return out


@torch.no_grad()
def score_shared(model: Transformer, context: list[int], continuations: list[list[int]],
                 batch_tokens: int = 2048) -> list[list[float]]:
    """Per-token log-probabilities of every continuation after one shared context (`score_contexts`
    with one context)."""
    return score_contexts(model, [context], [continuations], batch_tokens)[0]


@torch.no_grad()
def score_contexts(model: Transformer, contexts: list[list[int]], continuations: list[list[list[int]]],
                   batch_tokens: int = 2048, batch_contexts: int = 8) -> list[list[list[float]]]:
    """Per-token log-probabilities of continuations[i][j] after contexts[i], for every i and j.

    Each context is encoded once; its continuations then run packed in one row (up to `batch_tokens`
    tokens per row), each seeing the whole context and its own earlier tokens, from the position
    after the context: no copy of the context's keys per continuation. Up to `batch_contexts`
    contexts run side by side: left-padded together (the padding is a segment of its own), then one
    row of continuations per context, masked to its own context's keys."""
    assert len(contexts) == len(continuations) and all(len(c) > 0 for c in contexts)
    out = [[[] for _ in conts] for conts in continuations]
    # Contexts with similar amounts of continuation run together: less padding in their rows.
    order = sorted(range(len(contexts)), key=lambda i: sum(map(len, continuations[i])))
    for first in range(0, len(contexts), batch_contexts):
        group = order[first: first + batch_contexts]
        cache, last, pad = _prefill(model, [contexts[i] for i in group])
        rows = [_pack(continuations[i], batch_tokens) for i in group]
        for r in range(max(map(len, rows))):  # round r: the r-th row of every context that has one
            live = [g for g in range(len(group)) if r < len(rows[g])]
            _score_rows(model, cache, last, pad, live,
                        [[continuations[group[g]][j] for j in rows[g][r]] for g in live],
                        [[out[group[g]][j] for j in rows[g][r]] for g in live])
    return out


def _pack(continuations: list[list[int]], batch_tokens: int) -> list[list[int]]:
    """Indices of consecutive non-empty continuations, up to batch_tokens tokens per row."""
    rows, width = [[]], 0
    for j, c in enumerate(continuations):
        if c and rows[-1] and width + len(c) > batch_tokens:
            rows.append([])
            width = 0
        if c:
            rows[-1].append(j)
            width += len(c)
    return [r for r in rows if r]


def _prefill(model: Transformer, contexts: list[list[int]]):
    """Encode contexts side by side, left-padded. Returns (cache, log-probabilities of the token
    after each context (B, V), padding per row (B,))."""
    dev = _device(model)
    width = max(map(len, contexts))
    pad = torch.tensor([width - len(c) for c in contexts], device=dev)
    idx = torch.zeros(len(contexts), width, dtype=torch.long, device=dev)
    for b, c in enumerate(contexts):
        idx[b, width - len(c):] = torch.tensor(c)
    real = torch.arange(width, device=dev)[None] >= pad[:, None]
    cache = KVCache(model.cfg.n_layer)
    positions = (torch.arange(width, device=dev)[None] - pad[:, None]).clamp(min=0)
    seg = real.long() if len(contexts) > 1 else None  # one context: no padding, plain causal
    logits = model(idx, segment_ids=seg, cache=cache, positions=positions if seg is not None else None,
                   last_only=True)[0][:, -1]
    return cache, logits.float().log_softmax(-1), pad


def _score_rows(model: Transformer, cache: KVCache, last, pad, live: list[int],
                rows: list[list[list[int]]], out: list[list[list[float]]]) -> None:
    """One packed row of continuations per live context: rows[k] after the context in cache row
    live[k] (`_prefill`'s cache, last and pad). Fills the lists out[k][j] with the per-token
    log-probabilities of rows[k][j]."""
    dev = _device(model)
    sel = torch.tensor(live, device=dev)
    width = max(sum(map(len, row)) for row in rows)
    n = len(rows)
    idx = torch.zeros(n, width, dtype=torch.long, device=dev)
    seg = torch.full((n, width), -1, dtype=torch.long, device=dev)  # -1: padding
    offset = torch.zeros(n, width, dtype=torch.long, device=dev)
    for k, row in enumerate(rows):
        flat = [tok for c in row for tok in c]
        idx[k, : len(flat)] = torch.tensor(flat)
        seg[k, : len(flat)] = torch.tensor([j for j, c in enumerate(row) for _ in c])
        offset[k, : len(flat)] = torch.tensor([i for c in row for i in range(len(c))])
    ctx_keys = cache.keys[0].shape[2]
    seen_ctx = (torch.arange(ctx_keys, device=dev)[None] >= pad[sel][:, None])  # (n, ctx_keys)
    own = (seg[:, :, None] == seg[:, None, :]) & (offset[:, :, None] >= offset[:, None, :])
    mask = torch.cat([seen_ctx[:, None, :].expand(n, width, ctx_keys), own], dim=2)[:, None]
    rowcache = cache.select(sel)
    rowcache.segments = None  # the explicit mask below says who sees whom
    lengths = ctx_keys - pad[sel]  # each context's own length: its continuations' first position
    logp = model(idx, cache=rowcache, positions=lengths[:, None] + offset, attn_mask=mask)[0]
    logp = logp.float().log_softmax(-1)
    # Token i of a continuation is predicted by its token i-1, its first token by the context.
    starts = offset == 0
    prev = torch.where(starts, 0, torch.arange(width, device=dev)[None] - 1)
    from_ctx = last[sel].gather(1, idx)
    from_row = logp[torch.arange(n, device=dev)[:, None], prev, idx]
    tok = torch.where(starts, from_ctx, from_row).tolist()
    for k, row in enumerate(rows):
        i = 0
        for j, c in enumerate(row):
            out[k][j][:] = tok[k][i: i + len(c)]
            i += len(c)


@torch.no_grad()
def generate(model: Transformer, prompts: list[list[int]], max_new_tokens: int, temperature: float = 0.0,
             top_k: int | None = None, stop_id: int | None = None, seed: int | None = None
             ) -> list[list[int]]:
    """Batched sampling with a KV cache. Prompts are left-padded; the padding sits in its own
    segment (invisible to real tokens) and RoPE positions start at 0 at each prompt's first token.
    Returns only the new tokens of each prompt, cut after `stop_id` (included)."""
    dev = _device(model)
    gen = torch.Generator(device=dev)
    gen.manual_seed(0 if seed is None else seed)
    b, width = len(prompts), max(len(p) for p in prompts)
    idx = torch.zeros(b, width, dtype=torch.long, device=dev)
    seg = torch.zeros(b, width, dtype=torch.long, device=dev)
    pad = torch.tensor([width - len(p) for p in prompts], device=dev)
    for i, p in enumerate(prompts):
        idx[i, width - len(p):] = torch.tensor(p)
        seg[i, width - len(p):] = 1
    cache = KVCache(model.cfg.n_layer)
    positions = (torch.arange(width, device=dev)[None] - pad[:, None]).clamp(min=0)
    logits = model(idx, segment_ids=seg, cache=cache, positions=positions, last_only=True)[0][:, -1]
    out = torch.zeros(b, 0, dtype=torch.long, device=dev)
    done = torch.zeros(b, dtype=torch.bool, device=dev)
    for step in range(max_new_tokens):
        logits = logits.float()
        if temperature <= 0:
            nxt = logits.argmax(-1)
        else:
            logits = logits / temperature
            if top_k is not None:
                kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            nxt = torch.multinomial(logits.softmax(-1), 1, generator=gen)[:, 0]
        out = torch.cat([out, nxt[:, None]], dim=1)
        if stop_id is not None:
            done |= nxt == stop_id
            if bool(done.all()):
                break
        if step + 1 < max_new_tokens:
            pos = (width + step - pad)[:, None]
            logits = model(nxt[:, None], segment_ids=torch.ones_like(nxt)[:, None], cache=cache,
                           positions=pos, last_only=True)[0][:, -1]
    results = []
    for row in out.tolist():
        if stop_id is not None and stop_id in row:
            row = row[: row.index(stop_id) + 1]
        results.append(row)
    return results
