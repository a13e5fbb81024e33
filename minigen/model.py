"""The network: a decoder-only transformer (pre-norm RMSNorm, RoPE, SwiGLU, no biases, tied embeddings,
optional GQA, optional canon layers), with three attention backends that all honor packed-document
segment ids, and its KV cache. Scoring and sampling live in minigen.inference; no training code here.
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
    """Keys/values of every layer for the tokens seen so far, plus their segment ids (batch, T); with
    canon layers also each layer's canon inputs and every token's RoPE position (batch, T)."""

    def __init__(self, n_layer: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer
        self.segments: torch.Tensor | None = None
        self.canon: list[torch.Tensor | None] = [None] * n_layer
        self.positions: torch.Tensor | None = None

    def select(self, rows: torch.Tensor) -> KVCache:
        """A copy holding only the batch rows `rows` (a 1-D index tensor)."""
        out = KVCache(len(self.keys))
        pick = [None if t is None else t.index_select(0, rows) for t in (self.segments, self.positions)]
        out.segments, out.positions = pick
        out.keys, out.values, out.canon = ([None if t is None else t.index_select(0, rows) for t in ts]
                                           for ts in (self.keys, self.values, self.canon))
        return out

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


class Canon(nn.Module):
    """A canon layer (Allen-Zhu 2025, "Physics of Language Models: Part 4.1"): a causal depthwise
    convolution over a token and its k-1 predecessors in the same document, added to its input. It gives
    every position a learned mix of the few tokens before it, so that attention can match a key made of
    several tokens (a two-piece word, the words before a name) in one layer. Zero-initialised: a model
    starts as the plain transformer.

    Two ways to find the predecessors: by shifting (training and whole-sequence scoring: positions are
    consecutive, only segment boundaries cut) or, with a cache or an explicit mask, as the visible key
    whose RoPE position is the query's minus j (packed continuations and left padding included)."""

    def __init__(self, d_model: int, k: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k, d_model))

    def forward(self, h, layer: int, ctx: CanonContext):
        h_all = ctx.history(h, layer)
        out = h * (1 + self.weight[0])
        for j in range(1, self.weight.shape[0]):
            out = out + ctx.predecessor(h_all, j) * self.weight[j]
        return out


class CanonContext:
    """What a forward pass's canon layers need: segment ids (shift path), or the visible keys (B or 1,
    T, S) with the RoPE positions of queries (B or 1, T) and keys (B or 1, S), and the cache. Which key
    is each query's j-th predecessor is worked out once a pass, for every layer."""

    def __init__(self, seg=None, visible=None, pos_q=None, pos_k=None, cache=None):
        self.seg, self.visible, self.pos_q, self.pos_k, self.cache = seg, visible, pos_q, pos_k, cache
        self._picks: dict[int, torch.Tensor | None] = {}

    def history(self, h, layer: int):
        """A layer's canon inputs: this pass's, after the cached ones (then cached in their turn)."""
        if self.cache is None:
            return h
        past = self.cache.canon[layer]
        h_all = h if past is None else torch.cat([past, h], dim=1)
        self.cache.canon[layer] = h_all
        return h_all

    def predecessor(self, h_all, j: int):
        """Every query token's j-th predecessor in its document among h_all's rows (zero where none)."""
        pick = self._pick(j)
        if self.visible is not None:
            return pick.to(h_all.dtype) @ h_all
        prev = torch.zeros_like(h_all)
        prev[:, j:] = h_all[:, :-j]
        return prev if pick is None else prev * pick

    def _pick(self, j: int):
        if j not in self._picks:
            if self.visible is not None:  # (B, T, S): the visible key at the query's position minus j
                self._picks[j] = self.visible & (self.pos_k[:, None, :] == self.pos_q[:, :, None] - j)
            elif self.seg is None:  # one document: every shift is in it
                self._picks[j] = None
            else:  # (B, T, 1): the token j back is in the same segment
                same = torch.zeros_like(self.seg, dtype=torch.bool)
                same[:, j:] = self.seg[:, j:] == self.seg[:, :-j]
                self._picks[j] = same[..., None]
        return self._picks[j]


class SwiGLU(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        hidden = cfg.mlp_hidden
        self.gate_up = nn.Linear(cfg.d_model, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, cfg.d_model, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, layer: int):
        super().__init__()
        self.norm1 = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.canon = Canon(cfg.d_model, cfg.canon) if cfg.canon else None
        self.attn = Attention(cfg, layer)
        self.norm2 = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.mlp = SwiGLU(cfg)

    def forward(self, x, rope, mask, seg_k, cache, backend, canon: CanonContext | None = None):
        h = self.norm1(x)
        if self.canon is not None:
            h = self.canon(h, self.attn.layer, canon)
        x = x + self.attn(h, rope, mask, seg_k, cache, backend)
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
        canon = self._canon_context(t, start, seg_q, seg_k, cache, positions, attn_mask, idx.device)
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x, rope, mask, seg_k, cache, backend, canon)
        if last_only:
            assert targets is None, "a loss needs every position's logits"
            x = x[:, -1:]
        logits = self.head(self.norm(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=-100)
        return logits, loss

    def _canon_context(self, t, start, seg_q, seg_k, cache, positions, attn_mask, device):
        if not self.cfg.canon:
            return None
        if cache is None and attn_mask is None and positions is None:
            return CanonContext(seg=seg_q)
        pos_q = torch.arange(start, start + t, device=device)[None] if positions is None else positions
        pos_k = pos_q
        if cache is not None:
            b = max(pos_q.shape[0], seg_q.shape[0] if seg_q is not None else 1)
            pos_q = pos_q.expand(b, t)
            past = cache.positions
            if past is None and start:
                past = torch.arange(start, device=device)[None].expand(b, start)
            pos_k = pos_q if past is None else torch.cat([past.expand(b, -1), pos_q], dim=1)
            cache.positions = pos_k
        visible = (attn_mask if attn_mask is not None
                   else attention_mask(t, start + t, seg_q, seg_k, device))[:, 0]
        return CanonContext(visible=visible, pos_q=pos_q, pos_k=pos_k, cache=cache)
