"""The semantic dataset: no option is its item's own subject, the train_verbatim split asks trained facts in
the articles' own wording, and builds are deterministic."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict
from functools import cache

import pytest

from minigen.data.datasets import load_dataset
from minigen.data.datasets.semantic import N_OPTIONS, _draw
from minigen.data.english import PREFIXES

SEEDS = range(5)


@cache
def dataset(seed: int, words: str = "test"):
    return load_dataset("semantic", seed=seed, words=words)


def _subject(item) -> str:
    """The category the item asks about, from its logical form: the relation's object for "femp are
    eaten by" (the option is the eater), otherwise the subject ("All dift are", "Some femp are",
    "glon have")."""
    form = item.meta["form"]
    return form[3] if form[0] == "relation" else form[1]


def _word(option: str) -> str:
    return option.strip().rstrip(".")


@pytest.mark.parametrize("seed", SEEDS)
def test_no_option_is_the_items_own_subject(seed):
    """"All dift are" -> " dift." was offered as a distractor marked invalid (the closure never derives
    "X are X"): 15, 7, 5, 11, 11 items on seeds 0-4 before the fix."""
    bad = [(t.id, t.prompt, t.options) for t in dataset(seed).test
           if any(_word(o) == _subject(t) for o in t.options)]
    assert not bad, bad


def _strip_prefix(line: str) -> str:
    for start, _ in PREFIXES:
        if start and line.startswith(start):
            return line[len(start):]
    return line


def _normal(sentence: str) -> str:
    """Without its final punctuation, its first letter in lower case ("Every" after "Did you know that")."""
    sentence = sentence.rstrip(".?")
    return sentence[:1].lower() + sentence[1:]


@pytest.mark.parametrize("seed", SEEDS)
def test_train_verbatim_completes_an_article_sentence(seed):
    ds = dataset(seed)
    lines = [line for d in ds.train for line in d.text.split("\n")]
    sentences = {_normal(_strip_prefix(line)) for line in lines}
    exact = set(lines)
    items = [t for t in ds.test if t.split == "train_verbatim"]
    assert items
    n_exact = 0
    for t in items:
        statement = t.prompt + t.options[t.answer]
        assert not t.prompt.endswith(" ") and not t.prompt[:1].isspace(), t.id
        # The sentence of some article (after its context prefix, if it has one), word for word.
        assert _normal(statement) in sentences, (t.id, statement)
        n_exact += statement in exact
    # Every fact is also written at least once with no context prefix, as the prompt reads (seeds 0-4).
    assert n_exact == len(items)


@pytest.mark.parametrize("seed", SEEDS)
def test_train_verbatim_mirrors_train(seed):
    """The same trained facts, options and answers as `train`; only the wording of the prompt differs
    (so `train` is the paraphrase check beside it). Answers valid, distractors not."""
    ds = dataset(seed)
    train = {t.id.removeprefix("sem-train-"): t for t in ds.test if t.split == "train"}
    verbatim = {t.id.removeprefix("sem-train_verbatim-"): t for t in ds.test if t.split == "train_verbatim"}
    assert verbatim.keys() == train.keys()  # every template the articles use ends with the answer word
    for key, v in verbatim.items():
        t = train[key]
        assert len(v.options) == N_OPTIONS and v.options == t.options and v.answer == t.answer
        assert v.meta["valid"][v.answer] and sum(v.meta["valid"]) == 1, v.id
        assert v.meta["option_forms"] == t.meta["option_forms"] and v.meta["doc_ids"] == t.meta["doc_ids"]
        assert v.prompt != t.prompt, v.id
    assert ds.chance["train_verbatim"] == pytest.approx(1 / N_OPTIONS)
    # `train` asks in the canonical template, which no article uses for these facts.
    corpus = {_normal(_strip_prefix(line)) for d in ds.train for line in d.text.split("\n")}
    assert not [t.id for t in train.values() if _normal(t.prompt + t.options[t.answer]) in corpus]


def test_train_verbatim_on_the_dev_slice():
    ds = dataset(0, "dev")
    n = Counter(t.split for t in ds.test)
    assert n["train_verbatim"] == n["train"] > 0


def test_same_seed_same_items():
    a = load_dataset("semantic", seed=2)
    b = load_dataset("semantic", seed=2)
    assert [asdict(t) for t in a.test] == [asdict(t) for t in b.test]
    assert [asdict(d) for d in a.train] == [asdict(d) for d in b.train]
    assert a.chance == b.chance
    assert [asdict(t) for t in load_dataset("semantic", seed=3).test] != [asdict(t) for t in a.test]


def test_draw_skips_one_word_and_otherwise_draws_as_random_choices():
    """Items whose distractors never were the subject keep them: the draw is random.choices' draw
    whenever that is not the skipped word; the skipped word's share goes to the others in proportion."""
    pool = ["a", "b", "c", "d", "e"]
    weights = Counter({"a": 3, "b": 1, "c": 5, "d": 2, "e": 1})
    for k in range(300):
        ours = _draw(random.Random(k), pool, weights, skip="c")
        theirs = random.Random(k).choices(pool, weights=[weights[w] for w in pool])[0]
        assert ours != "c"
        if theirs != "c":
            assert ours == theirs
    rng = random.Random(0)
    counts = Counter(_draw(rng, pool, weights, skip="c") for _ in range(20000))
    total = sum(weights[w] for w in pool if w != "c")
    for w in ("a", "b", "d", "e"):
        assert counts[w] / 20000 == pytest.approx(weights[w] / total, abs=0.015), w
