"""The generalization datasets: training documents and multiple-choice test items over the
evaluation pool (words the pretraining corpus never contains).

`load_dataset(name, seed=, lexicon_seed=, size=, words=)` builds one deterministically. `words` is the
slice of the evaluation pool it is built on: "test" (the default, what `compare` reports) or "dev"
(disjoint from test: for the pretraining probe and every choice of recipe or setting). `size` scales the
world: an int is a count of the dataset's unit (reversal: facts; syllogism: items; semantic:
categories; reversal_curse: people per subset; process: items per split), a float is a fraction of the
default size.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from minigen.data.lexicon import WORD_SLICES
from minigen.errors import UserError

DATASETS = ("reversal", "syllogism", "semantic", "reversal_curse", "process")


@dataclass
class Document:
    id: str
    text: str


@dataclass
class TestItem:
    """A multiple-choice item: options are scored as continuations of `prompt`.

    meta["doc_ids"]: the training documents the item needs; meta["doc_groups"] (optional): those of
    them that restate one fact, one list per fact (a sampled ICL context may keep a few of each, see
    `minigen.eval.contexts`); meta["valid"]: per option, whether it
    follows from them (by the logic engine); meta["accepted"] (optional): the options counted as
    right, when several state the answer ("No glon are femp" = "No femp are glon"); plus the item's
    logical forms. meta["generate"] (optional): the item is exact-match generation, its one option the
    answer, its check named there (`minigen.eval.generation`): the model writes the answer, at most
    the answer's tokens + GENERATION_MARGIN.
    """

    __test__ = False  # not a pytest test class

    id: str
    split: str
    prompt: str
    options: list[str]
    answer: int
    meta: dict = field(default_factory=dict)

    def accepted(self) -> list[int]:
        """Indices of the options scored as correct: the answer and any option equivalent to it."""
        return list(self.meta.get("accepted", [self.answer]))

    def generates(self) -> bool:
        """Whether the item is answered by generation (exact match), not by choosing an option."""
        return bool(self.meta.get("generate"))


GENERATION_MARGIN = 8  # new tokens a generation item allows beyond its answer's own length


@dataclass
class Dataset:
    name: str
    train: list[Document]
    test: list[TestItem]
    chance: dict[str, float]  # per split: the accuracy of guessing
    words: str = "test"  # the slice of the evaluation pool it is built on (lexicon.WORD_SLICES)

    def splits(self) -> list[str]:
        return list(dict.fromkeys(item.split for item in self.test))


def resolve_size(name: str, size, default: int, unit: str, maximum: int) -> int:
    """The number of units for `size` (None: default, or as many as the word slice holds if fewer;
    int: count; float: fraction of default)."""
    if size is None:
        n = min(default, maximum)
    elif isinstance(size, bool) or not isinstance(size, (int, float)):
        raise UserError(
            f"{name}: size must be a number; got {size!r} (an int counts {unit}, a float scales {default})"
        )
    elif isinstance(size, float):
        n = round(default * size)
    else:
        n = int(size)
    if n < 1:
        raise UserError(f"{name}: size {size!r} gives {n} {unit}; use a size that gives at least 1 "
                        f"(default {default})")
    if n > maximum:
        raise UserError(f"{name}: size {size!r} needs {n} {unit} but the evaluation pool supplies at most "
                        f"{maximum}; use size <= {maximum}")
    return n


def load_dataset(
    name: str, *, seed: int = 0, lexicon_seed: int = 0, size: float | int | None = None, words: str = "test"
) -> Dataset:
    """Build dataset `name` (one of DATASETS) deterministically from the seeds, on one word slice."""
    if name not in DATASETS:
        raise UserError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    check_words(words)
    module = importlib.import_module(f"minigen.data.datasets.{name}")
    dataset = module.build(seed=seed, lexicon_seed=lexicon_seed, size=size, words=words)
    dataset.words = words
    return dataset


def check_words(words: str) -> str:
    if words not in WORD_SLICES:
        raise UserError(f"unknown word slice {words!r}; choose one of: {', '.join(WORD_SLICES)} "
                        f"(test: what compare reports; dev: for choosing recipes and settings)")
    return words
