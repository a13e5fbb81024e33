"""The network: a decoder-only transformer (pre-norm RMSNorm, RoPE, SwiGLU, no biases, tied embeddings,
optional GQA), with three attention backends that all honor packed-document segment ids, a KV cache,
batched `generate`, and batched log-likelihood scoring (`score`; `score_contexts` and `score_shared` reuse
a cached context). No training code here.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from minigen.config import ModelConfig


def resolve_backend(name: str, device: torch.device) -> str:
    if name == "auto":
        return "triton" if device.type == "cuda" else "sdpa"
    return name


def attention_mask(q_len: int, k_len: int, seg_q, seg_k, device) -> torch.Tensor:
    """Boolean mask (B or 1, 1, q_len, k_len): causal (queries aligned to the end of the keys) and,
    with segment ids, same document only."""
    qi = torch.arange(k_len - q_len, k_len, device=device)[:, None]
    mask = (torch.arange(k_len, device=device)[None, :] <= qi)[None, None]
    if seg_q is not None:
        mask = mask & (seg_q[:, None, :, None] == seg_k[:, None, None, :])
    return mask


def attend(q, k, v, mask, seg_k, backend: str) -> torch.Tensor:
    """q (B, H, Tq, D); k, v (B, Hkv, Tk, D); mask from `attention_mask` (sdpa/eager; None: plain causal
    with Tq == Tk); seg_k (B, Tk) or None (triton). Returns (B, H, Tq, D)."""
    if k.shape[1] != q.shape[1]:  # GQA: share each key/value head across a group of query heads
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)
        v = v.repeat_interleave(q.shape[1] // v.shape[1], dim=1)
    if backend == "triton":
        from minigen.kernels import flash_attention

        return flash_attention(q, k, v, causal=True, segment_ids=seg_k)
    if backend == "sdpa":
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert backend == "eager", backend
    if mask is None:
        mask = attention_mask(q.shape[2], k.shape[2], None, None, q.device)
    att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    return att.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v


class KVCache:
    """Keys/values of every layer for the tokens seen so far, plus their segment ids (batch, T)."""

    def __init__(self, n_layer: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer
        self.segments: torch.Tensor | None = None

    @property
    def length(self) -> int:
        return 0 if self.keys[0] is None else self.keys[0].shape[2]

    def update(self, layer: int, k, v):
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)


def rotate(x, rope):
    """Rotary embedding on (B, T, heads, D): feature i and i + D/2 are rotated together by their
    position's angle; rope (B or 1, T, 1, D/2, 2) holds (cos, sin). Real arithmetic, so that
    torch.compile fuses it into one kernel."""
    x1, x2 = x.float().chunk(2, dim=-1)
    cos, sin = rope.unbind(-1)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, layer: int):
        super().__init__()
        self.layer = layer
        self.n_head, self.n_kv = cfg.n_head, cfg.n_kv_head or cfg.n_head
        self.head_dim = cfg.d_model // cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, (self.n_head + 2 * self.n_kv) * self.head_dim, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x, rope, mask, seg_k, cache: KVCache | None, backend: str):
        b, t, _ = x.shape
        heads = self.qkv(x).view(b, t, self.n_head + 2 * self.n_kv, self.head_dim)
        qk = rotate(heads[:, :, : self.n_head + self.n_kv], rope)  # queries and keys rotated together
        q = qk[:, :, : self.n_head].transpose(1, 2)
        k = qk[:, :, self.n_head:].transpose(1, 2)
        v = heads[:, :, self.n_head + self.n_kv:].transpose(1, 2)
        if cache is not None:
            k, v = cache.update(self.layer, k, v)
        y = attend(q, k, v, mask, seg_k, backend)
        return self.proj(y.transpose(1, 2).reshape(b, t, -1))


class SwiGLU(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        hidden = 32 * math.ceil(cfg.mlp_ratio * cfg.d_model / 32)
        self.gate_up = nn.Linear(cfg.d_model, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, cfg.d_model, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, layer: int):
        super().__init__()
        self.norm1 = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg, layer)
        self.norm2 = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.mlp = SwiGLU(cfg)

    def forward(self, x, rope, mask, seg_k, cache, backend):
        x = x + self.attn(self.norm1(x), rope, mask, seg_k, cache, backend)
        return x + self.mlp(self.norm2(x))


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        assert cfg.vocab_size > 0, "set model.vocab_size (from the tokenizer) before building the model"
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.head.weight = self.embed.weight
        self.register_buffer("rope", self._rope_table(cfg.seq_len, "cpu"), persistent=False)
        self.apply(self._init)
        for name, p in self.named_parameters():  # residual projections: scaled down by depth (GPT-2)
            if name.endswith(("proj.weight", "down.weight")):
                nn.init.normal_(p, std=cfg.init_std / math.sqrt(2 * cfg.n_layer))

    def _init(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=self.cfg.init_std)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _rope_table(self, n: int, device) -> torch.Tensor:
        """(cos, sin) of position x frequency: (n, head_dim/2, 2)."""
        half = self.cfg.d_model // self.cfg.n_head // 2
        inv = 1.0 / self.cfg.rope_theta ** (torch.arange(half, device=device, dtype=torch.float32) / half)
        ang = torch.outer(torch.arange(n, device=device, dtype=torch.float32), inv)
        return torch.stack([ang.cos(), ang.sin()], dim=-1)

    def _rope(self, start: int, t: int, positions):
        """Tables (B or 1, T, 1, head_dim/2, 2) for positions start..start+t, or explicit positions (B, T)."""
        if positions is None and start + t <= self.rope.shape[0]:  # the fast path (no host sync)
            return self.rope[None, start:start + t, None]
        if positions is None:
            positions = torch.arange(start, start + t, device=self.rope.device)[None]
        n = int(positions.max()) + 1  # the table built at init when it covers them (as the fast path)
        table = self.rope if n <= self.rope.shape[0] else self._rope_table(n, positions.device)
        return table[positions][:, :, None]

    def forward(self, idx, targets=None, *, segment_ids=None, cache: KVCache | None = None, positions=None,
                attn_mask=None, last_only: bool = False):
        """idx (B, T). segment_ids (B, T): tokens attend only within their own segment (packed docs).
        With a cache, idx continues the cached tokens (its segment ids are appended to the cache's).
        positions (B or 1, T): RoPE positions (default: cache length + arange(T)). attn_mask (B or 1,
        1, T, cache length + T), boolean: who sees whom, in place of the causal / segment mask (the
        triton backend then gives way to sdpa). last_only: logits of the last position only (B, 1, V),
        for prefill and sampling (the output head is a sixth of the tiny model's work per token)."""
        b, t = idx.shape
        start = cache.length if cache is not None else 0
        seg_q = seg_k = segment_ids
        if cache is not None and (segment_ids is not None or cache.segments is not None):
            if segment_ids is None:
                seg_q = torch.zeros(b, t, dtype=torch.long, device=idx.device)
            past = cache.segments
            if past is None:
                past = torch.zeros(b, start, dtype=seg_q.dtype, device=idx.device)
            seg_k = torch.cat([past.to(seg_q.dtype), seg_q], dim=1)
            cache.segments = seg_k
        rope = self._rope(start, t, positions)
        backend = resolve_backend(self.cfg.attn_backend, idx.device)
        mask = attn_mask  # built once per forward; None = plain causal (sdpa's is_causal)
        if attn_mask is not None:
            backend = "sdpa" if backend == "triton" else backend
        elif backend != "triton" and (seg_k is not None or start > 0):
            mask = attention_mask(t, start + t, seg_q, seg_k, idx.device)
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x, rope, mask, seg_k, cache, backend)
        if last_only:
            assert targets is None, "a loss needs every position's logits"
            x = x[:, -1:]
        logits = self.head(self.norm(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=-100)
        return logits, loss

    # ---- inference ------------------------------------------------------------------------------

    def _device(self):
        return self.embed.weight.device

    @torch.no_grad()
    def score(self, prefixes: list[list[int]], continuations: list[list[int]]) -> list[float]:
        """Sum of log-probabilities of each continuation after its prefix (batched, right-padded:
        causal attention makes the padding invisible to the real tokens)."""
        assert len(prefixes) == len(continuations) and all(len(p) > 0 for p in prefixes)
        seqs = [p + c for p, c in zip(prefixes, continuations, strict=True)]
        width = max(len(s) for s in seqs)
        idx = torch.zeros(len(seqs), width, dtype=torch.long, device=self._device())
        for i, s in enumerate(seqs):
            idx[i, : len(s)] = torch.tensor(s)
        logp = self(idx)[0].float().log_softmax(-1)
        out = []
        for i, (p, c) in enumerate(zip(prefixes, continuations, strict=True)):
            pos = torch.arange(len(p) - 1, len(p) - 1 + len(c), device=idx.device)
            out.append(logp[i, pos, idx[i, pos + 1]].sum().item())
        return out

    @torch.no_grad()
    def score_shared(self, context: list[int], continuations: list[list[int]], batch_tokens: int = 2048
                     ) -> list[list[float]]:
        """Per-token log-probabilities of every continuation after one shared context (`score_contexts`
        with one context)."""
        return self.score_contexts([context], [continuations], batch_tokens)[0]

    @torch.no_grad()
    def score_contexts(self, contexts: list[list[int]], continuations: list[list[list[int]]],
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
            cache, last, pad = self._prefill([contexts[i] for i in group])
            rows = [self._pack(continuations[i], batch_tokens) for i in group]
            for r in range(max(map(len, rows))):  # round r: the r-th row of every context that has one
                live = [g for g in range(len(group)) if r < len(rows[g])]
                self._score_rows(cache, last, pad, live,
                                 [[continuations[group[g]][j] for j in rows[g][r]] for g in live],
                                 [[out[group[g]][j] for j in rows[g][r]] for g in live])
        return out

    @staticmethod
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

    def _prefill(self, contexts: list[list[int]]):
        """Encode contexts side by side, left-padded. Returns (cache, log-probabilities of the token
        after each context (B, V), padding per row (B,))."""
        dev = self._device()
        width = max(map(len, contexts))
        pad = torch.tensor([width - len(c) for c in contexts], device=dev)
        idx = torch.zeros(len(contexts), width, dtype=torch.long, device=dev)
        for b, c in enumerate(contexts):
            idx[b, width - len(c):] = torch.tensor(c)
        real = torch.arange(width, device=dev)[None] >= pad[:, None]
        cache = KVCache(self.cfg.n_layer)
        positions = (torch.arange(width, device=dev)[None] - pad[:, None]).clamp(min=0)
        seg = real.long() if len(contexts) > 1 else None  # one context: no padding, plain causal
        logits = self(idx, segment_ids=seg, cache=cache, positions=positions if seg is not None else None,
                      last_only=True)[0][:, -1]
        return cache, logits.float().log_softmax(-1), pad

    def _score_rows(self, cache: KVCache, last, pad, live: list[int], rows: list[list[list[int]]],
                    out: list[list[list[float]]]) -> None:
        """One packed row of continuations per live context: rows[k] after the context in cache row
        live[k] (`_prefill`'s cache, last and pad). Fills the lists out[k][j] with the per-token
        log-probabilities of rows[k][j]."""
        dev = self._device()
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
        rowcache = KVCache(self.cfg.n_layer)
        rowcache.keys = [k.index_select(0, sel) for k in cache.keys]
        rowcache.values = [v.index_select(0, sel) for v in cache.values]
        lengths = ctx_keys - pad[sel]  # each context's own length: its continuations' first position
        logp = self(idx, cache=rowcache, positions=lengths[:, None] + offset, attn_mask=mask)[0]
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
    def generate(self, prompts: list[list[int]], max_new_tokens: int, temperature: float = 0.0,
                 top_k: int | None = None, stop_id: int | None = None, seed: int | None = None
                 ) -> list[list[int]]:
        """Batched sampling with a KV cache. Prompts are left-padded; the padding sits in its own
        segment (invisible to real tokens) and RoPE positions start at 0 at each prompt's first token.
        Returns only the new tokens of each prompt, cut after `stop_id` (included)."""
        dev = self._device()
        gen = torch.Generator(device=dev)
        gen.manual_seed(0 if seed is None else seed)
        b, width = len(prompts), max(len(p) for p in prompts)
        idx = torch.zeros(b, width, dtype=torch.long, device=dev)
        seg = torch.zeros(b, width, dtype=torch.long, device=dev)
        pad = torch.tensor([width - len(p) for p in prompts], device=dev)
        for i, p in enumerate(prompts):
            idx[i, width - len(p):] = torch.tensor(p)
            seg[i, width - len(p):] = 1
        cache = KVCache(self.cfg.n_layer)
        positions = (torch.arange(width, device=dev)[None] - pad[:, None]).clamp(min=0)
        logits = self(idx, segment_ids=seg, cache=cache, positions=positions, last_only=True)[0][:, -1]
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
                logits = self(nxt[:, None], segment_ids=torch.ones_like(nxt)[:, None], cache=cache,
                              positions=pos, last_only=True)[0][:, -1]
        results = []
        for row in out.tolist():
            if stop_id is not None and stop_id in row:
                row = row[: row.index(stop_id) + 1]
            results.append(row)
        return results
