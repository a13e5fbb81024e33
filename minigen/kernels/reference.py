"""Plain PyTorch attention with the kernel's exact conventions: the tests' and the benchmark's reference."""

import math

import torch


def attention_reference(q, k, v, *, causal=True, segment_ids=None, softmax_scale=None):
    """Attention computed in the inputs' dtype, materializing the full score matrix.

    Same conventions as ``flash_attention``: grouped-query heads, queries aligned to the END of the keys,
    ``segment_ids`` (batch, kv_seq) whose last q_seq entries are the queries' ids, and rows that see no
    key give 0 (plain softmax would give NaN).
    """
    group = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    q_len, kv_len = q.shape[2], k.shape[2]
    scale = softmax_scale if softmax_scale is not None else 1.0 / math.sqrt(q.shape[-1])
    scores = (q @ k.transpose(-1, -2)) * scale
    visible = torch.ones(q_len, kv_len, dtype=torch.bool, device=q.device)
    if causal:
        key_pos = torch.arange(kv_len, device=q.device)
        visible = key_pos[None, :] <= torch.arange(q_len, device=q.device)[:, None] + (kv_len - q_len)
    visible = visible[None, None]
    if segment_ids is not None:
        visible = visible & (segment_ids[:, None, -q_len:, None] == segment_ids[:, None, None, :])
    scores = scores.masked_fill(~visible, float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0).to(v.dtype)
    return probs @ v
