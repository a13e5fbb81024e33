"""The conditions `minigen compare` runs, each a plain function `(setup, seed) -> ConditionResult`.

- `base`: the pretrained model, no exposure to the dataset (the contamination / guessability check);
- `icl`: the training documents in the context, then the prompt (see `contexts.py`);
- `ft`: full-parameter finetuning on the training documents, then the prompt with no context;
- `ft-format`: the format control: finetuning on the test strings themselves (prompt + answer of every
  item), then the same no-context test. Near 1.0 it shows FT can answer the test's format at all; below
  it, an `ft` failure is (also) a format failure, not evidence that FT does not generalize.

ICL and FT read the same documents, `setup.documents`. New conditions (the augmentation issue's
aug-ft-*) join by adding a function to `CONDITIONS`.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from minigen.eval.contexts import build_contexts
from minigen.eval.options import CompareOptions
from minigen.eval.scoring import ItemScore, check_separable, score_items, score_items_in_contexts


@dataclass
class EvalSetup:
    """Everything a condition needs; conditions never modify `model`."""

    model: object  # the pretrained minigen.model.Transformer
    tokenizer: object
    documents: list  # the dataset's training documents (Document: id, text)
    items: list  # test items (TestItem), the dataset's and the same-direction ones
    seq_len: int  # the model's context length
    options: CompareOptions = field(default_factory=CompareOptions)
    out_dir: Path | None = None  # where a condition may write files (finetuned weights)
    lexicon_seed: int = 0  # the checkpoint's lexicon (its pretraining pool gives few-shot examples)


@dataclass
class ConditionResult:
    scores: list[ItemScore]  # one per item of setup.items, same order
    info: dict  # reported in results.json (context sizes, losses, timings ...)
    # ICL: per context, (its document texts, the ids of the items scored in it), for the heuristics
    contexts: list[tuple[list[str], list[str]]] | None = None


Condition = Callable[[EvalSetup, int], ConditionResult]


def base(setup: EvalSetup, seed: int) -> ConditionResult:
    """The pretrained model as it is (deterministic: every seed gives the same scores)."""
    start = time.perf_counter()
    scores = score_items(setup.model, setup.tokenizer, setup.items, batch_size=setup.options.eval.batch_size)
    return ConditionResult(scores, {"score_s": time.perf_counter() - start})


def icl(setup: EvalSetup, seed: int) -> ConditionResult:
    """Training documents in the context (all, or a sample holding every needed one), then the prompt."""
    max_tokens = setup.options.icl.max_tokens or setup.seq_len
    plan = build_contexts(setup.documents, setup.items, setup.tokenizer, max_tokens, seed,
                          restatements=setup.options.icl.restatements)
    start = time.perf_counter()
    for ctx in plan.contexts:
        check_separable(setup.tokenizer, ctx.text, ctx.tokens, ctx.items[0])
    pairs = [(c.tokens, c.items) for c in plan.contexts]
    scored = score_items_in_contexts(setup.model, setup.tokenizer, pairs,
                                     batch_size=setup.options.eval.batch_size)
    by_id = {s.item_id: s for group in scored for s in group}
    info = {"score_s": time.perf_counter() - start, "max_tokens": max_tokens,
            "restatements": setup.options.icl.restatements, **plan.summary()}
    if plan.unbalanced:  # accuracy where the context does not favour the answer (see contexts.py)
        balanced: dict[str, list[bool]] = {}
        for s in by_id.values():
            if s.item_id not in plan.unbalanced_ids:
                balanced.setdefault(s.split, []).append(s.correct())
        info["balanced_items_acc"] = {k: sum(v) / len(v) for k, v in balanced.items()}
        info["balanced_items_n"] = {k: len(v) for k, v in balanced.items()}
    texts = {d.id: d.text for d in setup.documents}
    contexts = [([texts[i] for i in c.doc_ids], [item.id for item in c.items]) for c in plan.contexts]
    return ConditionResult([by_id[item.id] for item in setup.items], info, contexts)


def split_sentences(text: str) -> list[str]:
    """Sentences of a document: split after . ? ! and at line breaks; a question line ("Q: ...",
    "Question: ...") stays with its answer line ("A: ...", "Answer: ..."), as the semantic dataset's QA
    articles and the syllogism question format need."""
    out: list[str] = []
    for part in re.split(r"(?<=[.?!])\s+|\n+", text.strip()):
        if not part.strip():
            continue
        if out and "\n" not in out[-1] and any(part.startswith(a) and out[-1].startswith(q)
                                               for q, a in (("Q:", "A:"), ("Question:", "Answer:"))):
            out[-1] += "\n" + part
        else:
            out.append(part)
    return out


def training_texts(documents: list, sentences: str = "none") -> list[str]:
    """The finetuning texts: whole documents, each sentence on its own, or cumulative prefixes of the
    document (up to sentence 1; up to sentence 2; ...; the whole document)."""
    if sentences == "none":
        return [d.text for d in documents]
    texts = []
    for d in documents:
        parts = split_sentences(d.text)
        if sentences == "independent":
            texts.extend(parts)
            continue
        assert sentences == "cumulative", sentences
        end = 0
        for part in parts:
            end = d.text.index(part, end) + len(part)
            texts.append(d.text[:end].strip())
    return texts


def training_sequences(documents: list, tokenizer, sentences: str = "none") -> list[list[int]]:
    """[BOS] + tokens + [EOS] for every finetuning text."""
    texts = training_texts(documents, sentences)
    return [[tokenizer.bos_id, *tokenizer.encode(t), tokenizer.eos_id] for t in texts]


def ft(setup: EvalSetup, seed: int) -> ConditionResult:
    """Full-parameter finetuning of a copy of the model on the training documents, then no-context scoring."""
    sentences = setup.options.ft.sentences
    result = finetune_and_score(setup, seed, training_sequences(setup.documents, setup.tokenizer, sentences),
                                "ft")
    result.info["sentences"] = sentences
    return result


def ft_format(setup: EvalSetup, seed: int) -> ConditionResult:
    """The format control: finetuning on every test item's prompt + answer, then the same test. It
    trains for the paper's most steps (1,000; ft.steps when set): a control gives FT every chance."""
    from minigen.eval.options import MAX_AUTO_STEPS

    texts = [item.prompt + item.options[item.answer] for item in setup.items]
    sequences = [[setup.tokenizer.bos_id, *setup.tokenizer.encode(t), setup.tokenizer.eos_id] for t in texts]
    return finetune_and_score(setup, seed, sequences, "ft-format", setup.options.ft.steps or MAX_AUTO_STEPS)


def finetune_and_score(setup: EvalSetup, seed: int, sequences: list[list[int]], name: str,
                       steps: int = 0) -> ConditionResult:
    """Finetune a copy of the model on `sequences` (setup.options.ft; `steps`, or 0: ft's own rule), then
    score every item without context; the weights go to out_dir/NAME/seedS/ when ft.save is on."""
    from minigen.train import finetune

    opts = setup.options.ft
    model = copy.deepcopy(setup.model)
    start = time.perf_counter()
    steps = steps or opts.resolve_steps(len(sequences))
    losses = finetune(model, sequences, lr=opts.lr, steps=steps, batch_size=opts.batch_size, seed=seed,
                      warmup=min(opts.warmup, steps // 2))
    train_s = time.perf_counter() - start
    model.eval()
    info = {"train_s": train_s, "sequences": len(sequences), "first_loss": losses[0],
            "final_loss": losses[-1], "steps": steps, "lr": opts.lr, "batch_size": opts.batch_size}
    if opts.save and setup.out_dir is not None:
        from safetensors.torch import save_model

        path = Path(setup.out_dir) / name / f"seed{seed}" / "model.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, str(path), metadata={"seed": str(seed), "steps": str(steps),
                                               "lr": str(opts.lr)})
        info["weights"] = str(path)
    start = time.perf_counter()
    scores = score_items(model, setup.tokenizer, setup.items, batch_size=setup.options.eval.batch_size)
    info["score_s"] = time.perf_counter() - start
    return ConditionResult(scores, info)


CONDITIONS: dict[str, Condition] = {"base": base, "icl": icl, "ft": ft, "ft-format": ft_format}
DETERMINISTIC = {"base"}  # conditions whose result does not depend on the seed: run once
CONTROLS = {"ft-format"}  # controls, run at one seed: they check a premise, they are not a result
