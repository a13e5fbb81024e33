"""Exact-match generation items: the model continues the prompt greedily, and a checker of the item's
dataset (`CHECKS`, named by meta["generate"]) decides whether the continuation is the answer.

An item of this kind has the answer as its one option, so it is scored for log-likelihood as any item
is; `fill_generations` then sets each score's `generated` text and `exact` verdict, and `exact` is
what the item's accuracy counts. Greedy decoding (temperature 0) stops at the first line break,
at the end of document, or after `max_new_tokens(...)` tokens, so the answer's own length plus a margin.
"""

from __future__ import annotations

from collections.abc import Callable

from minigen.data.datasets import GENERATION_MARGIN as MARGIN
from minigen.inference import generate


def _process(item, text: str) -> bool:
    from minigen.data.process_logic import parse, to_term
    from minigen.errors import UserError

    try:
        return parse(text.strip()) == to_term(item.meta["answer_term"])
    except (UserError, RecursionError):  # not an expression: wrong, never an error
        return False


CHECKS: dict[str, Callable] = {"process": _process}  # meta["generate"] -> (item, text) -> correct


def is_generation(item) -> bool:
    return item.generates()


def max_new_tokens(tokenizer, item) -> int:
    return len(tokenizer.encode(item.options[item.answer])) + MARGIN


def fill_generations(model, tokenizer, prompts: list[list[int]], items: list, scores: list,
                     batch_size: int = 64) -> None:
    """Greedy continuations of `prompts` (token ids, one per item, ending where the item's prompt ends),
    checked by each item's `CHECKS` entry; sets `generated` and `exact` on the matching `scores`."""
    newline = tokenizer.encode("\n")
    stop = newline[0] if len(newline) == 1 else tokenizer.eos_id
    for start in range(0, len(items), batch_size):
        chunk = range(start, min(start + batch_size, len(items)))
        limit = max(max_new_tokens(tokenizer, items[k]) for k in chunk)
        outs = generate(model, [prompts[k] for k in chunk], limit, temperature=0.0, stop_id=stop)
        for k, out in zip(chunk, outs, strict=True):
            ids = out[: max_new_tokens(tokenizer, items[k])]
            if tokenizer.eos_id in ids:  # a document's end (what finetuning sequences end with) ends it too
                ids = ids[: ids.index(tokenizer.eos_id)]
            text = tokenizer.decode(ids).split("\n")[0]
            check = CHECKS[items[k].meta["generate"]]
            scores[k].generated = text
            scores[k].exact = bool(check(items[k], text))
