"""Options of `minigen compare` (and `minigen augment`), typed, with `--set SECTION.KEY=VALUE` overrides
(`minigen.overrides`, the engine pretraining's config also uses).

Finetuning defaults follow the paper's recipe (full-parameter, 200-1,000 steps) scaled to a model
pretrained from scratch: steps chosen to give 20 passes over the training sequences within the paper's
200-1,000, and documents split into independent sentences, so each fact is also learned on its own,
as the no-context test asks for it. The peak learning rate is chosen per dataset from `ft.lr_sweep`
(plain FT at seed 0, on trained-facts accuracy, ties broken by the answer's log-probability margin:
the same-direction split, never a generalization split; see `minigen.compare.sweep_ft_lr`);
`ft.lr` is used when the sweep is empty.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from minigen.errors import UserError
from minigen.overrides import apply, keys

SENTENCE_MODES = ("none", "independent", "cumulative")
DEFAULT_CONDITIONS = "base,icl,ft,ft-format"  # what `minigen compare` runs unless told otherwise
MIN_AUTO_STEPS, MAX_AUTO_STEPS = 200, 1000  # the paper's range of finetuning steps
AUG_SAMPLES = 2  # augmentations per sentence / document, for `minigen augment` and the aug-ft conditions
# rewrite examples before the sentence in a local prompt, chosen on dev words: a model trained on rewrite
# documents of 1-3 blocks copies the wrong block's words when the sentence is the fourth
# (docs/log/2026-12-05-rewrite-documents.md)
AUG_EXAMPLES = 1


@dataclass
class FTOptions:
    lr: float = 3e-3  # peak learning rate (warmup, then cosine decay to lr/10) when lr_sweep is empty
    # Comma-separated peak rates tried per dataset (seed 0), the best on trained facts is used; "": ft.lr
    # (setting ft.lr alone also turns the sweep off)
    lr_sweep: str = "3e-4,1e-3,3e-3"
    steps: int = 0  # optimizer steps per finetuning run; 0: `epochs` passes, within the paper's 200-1,000
    epochs: float = 20.0  # passes over the training sequences when steps=0
    batch_size: int = 16  # sequences per step
    warmup: int = 20
    sentences: str = "independent"  # none: whole documents; independent: each sentence; cumulative: prefixes
    save: bool = True  # write the finetuned weights (safetensors) to the output directory

    def __post_init__(self) -> None:
        if self.sentences not in SENTENCE_MODES:
            modes = ", ".join(SENTENCE_MODES)
            raise UserError(f"ft.sentences={self.sentences!r} is unknown; use one of {modes}")
        self.sweep_rates()
        if self.steps < 0 or self.batch_size < 1 or self.lr <= 0 or self.warmup < 0 or self.epochs <= 0:
            raise UserError("need ft.steps >= 0 (0: auto), ft.batch_size >= 1, ft.lr > 0, ft.epochs > 0, "
                            "ft.warmup >= 0")

    def sweep_rates(self) -> list[float]:
        try:
            rates = [float(x) for x in self.lr_sweep.split(",") if x.strip()]
        except ValueError:
            raise UserError(f"ft.lr_sweep={self.lr_sweep!r}: use comma-separated rates like 3e-4,1e-3,3e-3 "
                            f"(or \"\" for ft.lr alone)") from None
        if any(r <= 0 for r in rates):
            raise UserError(f"ft.lr_sweep={self.lr_sweep!r}: every rate must be > 0")
        return rates

    def resolve_steps(self, n_sequences: int) -> int:
        """`steps`, or (steps=0) enough for `epochs` passes, clamped to the paper's 200-1,000 steps."""
        if self.steps:
            return self.steps
        steps = math.ceil(self.epochs * n_sequences / self.batch_size)
        return min(MAX_AUTO_STEPS, max(MIN_AUTO_STEPS, steps))


@dataclass
class ICLOptions:
    max_tokens: int = 0  # context budget in tokens (documents + prompt + option); 0: the model's seq_len
    # In a sampled context, how many of the documents restating one fact an item needs (0: all of
    # them, as the pretraining probe; see minigen/eval/contexts.py). 3 puts five reversal facts in a
    # tiny context instead of one: cheaper per item, and a harder retrieval
    # (docs/log/2026-11-27-icl-restatements.md).
    # Unused when every training document fits.
    restatements: int = 0

    def __post_init__(self) -> None:
        if self.max_tokens < 0:
            raise UserError(f"icl.max_tokens={self.max_tokens} must be >= 0 (0: the model's context length)")
        if self.restatements < 0:
            raise UserError(f"icl.restatements={self.restatements} must be >= 0 (0: every restatement)")


@dataclass
class DatasetOptions:
    size: str = ""  # "": the paper's size; "20": 20 units (facts / items / categories / people); "0.5": half
    seed: int = 0  # dataset seed (which facts and items); the words come from the checkpoint's lexicon_seed
    words: str = "test"  # evaluation-word slice: test (what compare reports) or dev (for choosing settings)

    def __post_init__(self) -> None:
        from minigen.data.datasets import check_words

        self.dataset_size()
        check_words(self.words)

    def dataset_size(self) -> int | float | None:
        """The `size` argument of load_dataset: None, a count (int) or a fraction of the default (float)."""
        text = self.size.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            pass
        try:
            return float(text)
        except ValueError:
            raise UserError(f"dataset.size={text!r}: use a count like 20 or a fraction like 0.5") from None


@dataclass
class EvalOptions:
    batch_size: int = 64  # sequences per scoring forward pass
    same_direction: bool = True  # add same-direction questions about the trained facts
    # CPU threads for torch; 0: torch's default. One by default: a ~1M-parameter model's matrices are
    # too small to split, and on a shared 2-core CPU two spinning threads ran finetuning 30x slower.
    threads: int = 1
    # Processes that finetune the `ft` seeds side by side on a CPU (each with `threads` threads);
    # 0: one per seed, up to two per core. The scores are those of one process.
    workers: int = 0
    # A dataset whose prompts or options hold a token the checkpoint's pretraining never showed (coverage
    # below 1: every row would be n/i): "skip" runs none of its conditions and says so (its heuristic
    # rows and coverage are still written); "score" runs them anyway, each row marked n/i.
    uncovered: str = "skip"

    def __post_init__(self) -> None:
        if self.workers < 0 or self.threads < 0:
            raise UserError(f"need eval.workers >= 0 and eval.threads >= 0 (0: automatic); "
                            f"got {self.workers}, {self.threads}")
        if self.uncovered not in ("skip", "score"):
            raise UserError(f"eval.uncovered={self.uncovered!r} is unknown; use skip or score")


GLOBAL_PROMPTS = ("header", "question")  # aug.global_prompt (minigen.augment.prompts)


@dataclass
class AugOptions:
    """Augmented finetuning (the aug-ft-* conditions)."""

    n: int = AUG_SAMPLES  # samples per sentence (local) / per document (global); oracle-global: traces
    # sampling temperature of the model's own augmentations: 0.3, chosen on dev words for the share of
    # valid local rewrites (docs/log/2026-12-06-rewrite-reader.md); 0.8 until 2026-12-06
    temperature: float = 0.3
    top_k: int = 0  # sample among the k most likely tokens only; 0: the whole vocabulary
    examples: int = AUG_EXAMPLES  # local: rewrite examples before the sentence in each prompt
    # global: "header" (the inference documents' "It follows that:") or "question" (the syllogism
    # documents' "Question: what follows about X and Y?" for each pair of a document's unlinked words)
    global_prompt: str = "header"
    # finetune on a question prompt's answers with their question ("Question: ...?\nAnswer: ..."), not alone
    keep_question: bool = False

    def __post_init__(self) -> None:
        if self.n < 1 or self.temperature < 0 or self.examples < 0 or self.top_k < 0:
            raise UserError(f"need aug.n >= 1, aug.temperature >= 0, aug.examples >= 0 and aug.top_k >= 0 "
                            f"(0: no cut); got {self.n}, {self.temperature}, {self.examples}, {self.top_k}")
        if self.global_prompt not in GLOBAL_PROMPTS:
            raise UserError(f"aug.global_prompt={self.global_prompt!r}; choose one of: "
                            f"{', '.join(GLOBAL_PROMPTS)}")


@dataclass
class CompareOptions:
    ft: FTOptions = field(default_factory=FTOptions)
    icl: ICLOptions = field(default_factory=ICLOptions)
    dataset: DatasetOptions = field(default_factory=DatasetOptions)
    eval: EvalOptions = field(default_factory=EvalOptions)
    aug: AugOptions = field(default_factory=AugOptions)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def apply_overrides(options: CompareOptions, overrides: list[str]) -> CompareOptions:
    """A checked copy of `options` with each "section.key=value" applied (typed); UserError on a bad one."""
    out = apply(options, overrides, what="compare option", example="ft.lr=1e-4")
    keys_set = {item.partition("=")[0].strip() for item in overrides}
    if "ft.lr" in keys_set and "ft.lr_sweep" not in keys_set:  # a rate the user chose is the rate used
        out.ft.lr_sweep = ""
    return out


def option_keys_help() -> str:
    """Every `--set` key of compare, generated from the dataclasses (for --help)."""
    return ", ".join(keys(CompareOptions()))
