"""The generation probe: shares of the model's own local rewrites and global inferences that parse and
follow, with their guards, counted as `minigen augment`'s report counts them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from minigen.augment import sampling
from minigen.data.datasets import load_dataset
from minigen.data.logic import Describe, reverse
from minigen.data.templates import INFERENCE_HEADER, REWRITE_LABEL, parse, render
from minigen.probe import GENERATION_SOURCES, GenerationProbe


@pytest.fixture(scope="module")
def tokenizer():
    from minigen.data.corpus import CorpusConfig
    from minigen.data.tokenizer import train_tokenizer

    return train_tokenizer(CorpusConfig(), num_documents=300)


class Writer:
    """A stand-in model: after "In other words:" it writes `local(statement)`; after "It follows that:"
    the first statement of the prompt's last document, or a line that is not a statement."""

    def __init__(self, tokenizer, local, global_valid: bool):
        self.tokenizer, self.local, self.global_valid = tokenizer, local, global_valid
        self.cfg = SimpleNamespace(seq_len=256)

    def generate(self, prompts, max_new_tokens, temperature=0.0, top_k=None, stop_id=None, seed=None):
        outs = []
        for p in prompts:
            lines = self.tokenizer.decode(p[1:]).split("\n")
            if lines[-2] == REWRITE_LABEL:
                text = self.local(lines[-3])
            else:
                doc = lines[:lines.index(INFERENCE_HEADER)]
                text = doc[-1] if self.global_valid else "Glorp blorp indeed."
            outs.append(self.tokenizer.encode(text) + [stop_id])
        return outs


def _probe():
    return GenerationProbe({name: load_dataset(name, size=4, words="dev") for name in GENERATION_SOURCES}, 0)


def _reversed(sentence: str) -> str:
    fact = parse(sentence)
    return render(reverse(fact)) if hasattr(fact, "more") else sentence


@pytest.mark.parametrize("local, valid, copied", [
    (lambda s: "Glorp blorp indeed.", 0.0, 0.0),  # not a statement: nothing parses
    (lambda s: s, 1.0, 1.0),  # the sentence itself: valid, and only a copy (the guard)
])
def test_generation_shares_read_what_the_model_writes(tokenizer, monkeypatch, local, valid, copied):
    monkeypatch.setattr(sampling, "generate", lambda model, *a, **k: model.generate(*a, **k))
    out = _probe().run(Writer(tokenizer, local, global_valid=valid > 0), tokenizer)
    assert out["probe_gen_local_valid"] == valid and out["probe_gen_local_copied"] == copied
    assert out["probe_gen_global_valid"] == valid and out["probe_gen_global_new_valid"] == 0.0
    assert {out[f"probe_gen_local_valid_{name}"] for name in GENERATION_SOURCES} == {valid}


def test_each_source_has_its_own_share_and_people_stay_out_of_the_pooled_one(tokenizer, monkeypatch):
    """A model that restates comparisons and premises but writes nothing about people: the pooled share
    (reversal and syllogism, as it always was) is 1, the people's own share 0."""
    monkeypatch.setattr(sampling, "generate", lambda model, *a, **k: model.generate(*a, **k))
    def local(sentence):
        return "Glorp blorp indeed." if isinstance(parse(sentence), Describe) else sentence

    out = _probe().run(Writer(tokenizer, local, global_valid=True), tokenizer)
    assert out["probe_gen_local_valid"] == 1.0 and out["probe_gen_local_valid_reversal"] == 1.0
    assert out["probe_gen_local_valid_syllogism"] == 1.0
    assert out["probe_gen_local_valid_reversal_curse"] == 0.0


def test_a_reversal_is_valid_and_not_a_copy(tokenizer, monkeypatch):
    monkeypatch.setattr(sampling, "generate", lambda model, *a, **k: model.generate(*a, **k))
    out = _probe().run(Writer(tokenizer, _reversed, global_valid=True), tokenizer)
    assert out["probe_gen_local_valid"] == 1.0 and 0.0 < out["probe_gen_local_copied"] < 1.0
