"""Multiple-choice scoring by log-likelihood.

Each option is scored as a continuation of its prompt; the options are never shown in the context
(as in Lampinen et al. 2025). The prompt and the option are tokenized once, jointly, and split at
the character boundary between them: a token that straddles the boundary belongs to the option,
so the scored tokens are exactly the joint tokenization's tokens. The main score is the sum of the
option tokens' log-probabilities; per-token and per-character normalized scores sit beside it.

Two entry points:
- `score_items`: no context; each option after [BOS] + prompt (base and finetuned models);
- `score_items_in_contexts`: contexts (e.g. ICL documents), each encoded once with the model's KV cache
  (`minigen.inference.score_contexts`, several side by side) and reused for every option of every item
  that shares it.
Both also answer the exact-match generation items among theirs (`minigen.eval.generation`) by greedy
decoding after the same context and prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minigen.inference import score, score_contexts

NORMS = ("sum", "per_token", "per_char")


@dataclass
class ItemScore:
    """Log-likelihood scores of one test item's options."""

    item_id: str
    split: str
    answer: int
    logprob: list[float]  # sum of the option tokens' log-probabilities
    n_tokens: list[int]  # tokens scored per option
    n_chars: list[int]  # characters per option
    accepted: list[int] | None = None  # options counted as correct (None: the answer only)
    # exact-match generation items (`minigen.eval.generation`): the greedy continuation, and whether
    # the dataset's checker accepts it (what correct() then counts, whatever the option scores say)
    generated: str | None = None
    exact: bool | None = None

    def scores(self, norm: str = "sum") -> list[float]:
        if norm == "sum":
            return list(self.logprob)
        if norm == "per_token":
            return [lp / n for lp, n in zip(self.logprob, self.n_tokens, strict=True)]
        if norm == "per_char":
            return [lp / max(n, 1) for lp, n in zip(self.logprob, self.n_chars, strict=True)]
        raise ValueError(f"unknown norm {norm!r}; use one of {NORMS}")

    def predicted(self, norm: str = "sum") -> int:
        s = self.scores(norm)
        return max(range(len(s)), key=s.__getitem__)  # first maximum on ties

    def correct(self, norm: str = "sum") -> bool:
        if self.exact is not None:
            return self.exact
        return self.predicted(norm) in (self.accepted or [self.answer])

    def to_dict(self) -> dict:
        d = {
            "id": self.item_id, "split": self.split, "answer": self.answer, "logprob": self.logprob,
            "n_tokens": self.n_tokens, "n_chars": self.n_chars, "correct": self.correct(),
        }
        if self.exact is not None:
            d["generated"] = self.generated
        return d


def split_at_boundary(tokenizer, left: str, right: str) -> tuple[list[int], list[int]]:
    """Tokenize `left + right` once; return (tokens wholly inside `left`, the remaining tokens).

    A token that straddles the boundary goes to the right part, so `left_ids + right_ids` is always
    the joint tokenization. `right` must be non-empty, so the right part is never empty.
    """
    assert right, "cannot score an empty continuation"
    ids = tokenizer.encode(left + right)
    # Fast path: the left text's own tokens are a prefix of the joint tokens and decode to exactly
    # `left`, so they end at the boundary.
    own = tokenizer.encode(left)
    if ids[: len(own)] == own and tokenizer.decode(own) == left:
        return ids[: len(own)], ids[len(own):]
    # Otherwise walk the joint tokens until one ends past the boundary.
    text = left + right
    for k in range(len(ids)):
        decoded = tokenizer.decode(ids[: k + 1])
        assert text.startswith(decoded), f"decode of a token prefix is not a text prefix: {decoded!r}"
        if len(decoded) > len(left):
            return ids[:k], ids[k:]
    raise AssertionError(f"joint tokens of {text!r} never pass the boundary at {len(left)}")


def _chunks(n: int, size: int):
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def _assemble(items, flat_logprobs: list[float], flat_ntok: list[int]) -> list[ItemScore]:
    out, k = [], 0
    for item in items:
        n = len(item.options)
        out.append(ItemScore(
            item_id=item.id, split=item.split, answer=item.answer,
            logprob=[float(x) for x in flat_logprobs[k: k + n]], n_tokens=flat_ntok[k: k + n],
            n_chars=[len(o) for o in item.options], accepted=item.accepted(),
        ))
        k += n
    assert k == len(flat_logprobs)
    return out


def score_items(model, tokenizer, items: Sequence, *, batch_size: int = 64) -> list[ItemScore]:
    """Score every option of every item after [BOS] + prompt, with no other context (batched)."""
    prefixes, continuations = [], []
    for item in items:
        for option in item.options:
            p, c = split_at_boundary(tokenizer, item.prompt, option)
            prefixes.append([tokenizer.bos_id] + p)
            continuations.append(c)
    logprobs: list[float] = []
    for idx in _chunks(len(prefixes), batch_size):
        logprobs += score(model, [prefixes[i] for i in idx], [continuations[i] for i in idx])
    out = _assemble(items, logprobs, [len(c) for c in continuations])
    _generate(model, tokenizer, [[tokenizer.bos_id]] * len(items), items, out, batch_size)
    return out


def _generate(model, tokenizer, contexts: list[list[int]], items: Sequence, scores: list[ItemScore],
              batch_size: int) -> None:
    """The exact-match generation items among `items`: their greedy continuations after context +
    prompt, checked (`minigen.eval.generation`)."""
    from minigen.eval.generation import fill_generations, is_generation

    picked = [k for k, item in enumerate(items) if is_generation(item)]
    if picked:
        prompts = [contexts[k] + tokenizer.encode(items[k].prompt) for k in picked]
        fill_generations(model, tokenizer, prompts, [items[k] for k in picked], [scores[k] for k in picked],
                         batch_size)


def score_items_in_contexts(
    model, tokenizer, contexts: Sequence[tuple[list[int], Sequence]], *, batch_size: int = 64
) -> list[list[ItemScore]]:
    """Per (context, items) pair, the scores of every option of every item after `context` + prompt.

    A `context` is token ids (starting with BOS) that end at a hard token boundary (a newline for the
    ICL layout), so `context + joint(prompt + option)` is the joint tokenization of the whole text;
    `check_separable` verifies that. Each context is encoded once (`score_contexts`, several side by
    side) and its items' prompt+option sequences run after it; only the option's tokens are summed.
    """
    sequences, n_prompt = [], []
    for _, items in contexts:
        seqs, ns = [], []
        for item in items:
            for option in item.options:
                p, c = split_at_boundary(tokenizer, item.prompt, option)
                seqs.append(p + c)
                ns.append(len(p))
        sequences.append(seqs)
        n_prompt.append(ns)
    # A packed row's attention grows with the square of its length, so 8 * batch_size tokens per row
    # (512 by default; 256-1,024 timed alike on a busy CPU).
    per_token = score_contexts(model, [c for c, _ in contexts], sequences, batch_tokens=8 * batch_size)
    out = []
    for (_, items), seqs, ns, lps_all in zip(contexts, sequences, n_prompt, per_token, strict=True):
        logprobs = []
        for seq, n, lps in zip(seqs, ns, lps_all, strict=True):
            assert len(lps) == len(seq)
            logprobs.append(float(sum(lps[n:])))
        out.append(_assemble(items, logprobs, [len(s) - n for s, n in zip(seqs, ns, strict=True)]))
    for (context, items), group in zip(contexts, out, strict=True):
        _generate(model, tokenizer, [list(context)] * len(items), items, group, batch_size)
    return out


def check_separable(tokenizer, context_text: str, context_ids: list[int], item) -> None:
    """Assert that tokenizing context and item jointly gives context_ids + the item's own tokens."""
    option = item.options[0]
    joint = tokenizer.encode(context_text + item.prompt + option)
    p, c = split_at_boundary(tokenizer, item.prompt, option)
    body = context_ids[1:] if context_ids[:1] == [tokenizer.bos_id] else context_ids
    assert joint == body + p + c, "the context does not end at a token boundary"
