"""The retrieval diagnostic: roles land on the right tokens, and its losses are what the model says."""

from __future__ import annotations

import random

import pytest
import torch

from minigen.config import ModelConfig
from minigen.data.corpus import CorpusConfig
from minigen.data.doctypes.common import random_compare
from minigen.data.lexicon import Lexicon
from minigen.data.logic import reverse
from minigen.data.tokenizer import train_tokenizer
from minigen.diagnose import ROLES, copy_or_flip, role_losses, tokens_with_roles
from minigen.model import Transformer


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(CorpusConfig(), num_documents=2000)


def test_roles_cover_the_reversal_line_pieces(tokenizer):
    rng = random.Random(0)
    words = Lexicon(0).eval_words
    for _ in range(200):
        fact = random_compare(rng, *rng.sample(words, 2))
        r = reverse(fact)
        ids, spans = tokens_with_roles(tokenizer, "facts.\n", fact)
        text = {role: tokenizer.decode(ids[a:b]) for role, a, b in spans}
        assert [role for role, _, _ in spans] == list(ROLES)
        assert text["subject_head"] + text["subject_coda"] == r.a
        assert text["object_head"] + text["object_coda"] in (r.b, " " + r.b)
        assert text["comparative"] == (" more" if r.more else " less") and text["adjective"] == " " + r.adj


def test_role_losses_of_a_model_that_knows_nothing_are_near_uniform(tokenizer):
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=1, d_model=32, n_head=2,
                                    seq_len=512, attn_backend="eager"))
    with torch.no_grad():
        model.embed.weight.zero_()  # uniform next-token distribution everywhere
    out = role_losses(model, tokenizer, CorpusConfig(facts_min=2, facts_max=3), n_docs=10)
    uniform = torch.log(torch.tensor(float(tokenizer.vocab_size))).item()
    assert out["comparative"] == pytest.approx(uniform, rel=1e-4)
    assert out["subject_head"] == pytest.approx(uniform, rel=1e-4)  # one token
    assert out["object_coda"] == pytest.approx(uniform, rel=1e-4)
    assert 0.0 <= out["comparative_acc"] <= 1.0


class _AlwaysMore:
    """Prefers whichever option says "more", whatever the context: a model blind to roles."""

    def __init__(self, tokenizer):
        self.more = tokenizer.encode(" more")[0]
        self.contexts = []

    def eval(self):
        return self

    def score_shared(self, context, options):
        self.contexts.append(context)
        return [[1.0 if self.more in option else 0.0] for option in options]


def test_copy_or_flip_shows_a_role_blind_model_as_one_and_zero(tokenizer, monkeypatch):
    """Same and reversed questions are asked about the same facts, so a model that prefers "more" (or
    always copies, or always flips) scores accuracies that sum to exactly 1."""
    model = _AlwaysMore(tokenizer)
    monkeypatch.setattr("minigen.diagnose.score_shared", lambda m, ctx, options: m.score_shared(ctx, options))
    out = copy_or_flip(model, tokenizer, CorpusConfig(facts_min=2, facts_max=4), n_docs=100)
    assert out["same"] + out["reversed"] == pytest.approx(1.0)
    assert 0.3 < out["same"] < 0.7  # facts say "more" about half the time
    assert len(model.contexts) == 200 and all(c[0] == tokenizer.bos_id for c in model.contexts)


def test_copy_or_flip_restates_the_asked_fact_and_states_the_others_once(tokenizer, monkeypatch):
    model = _AlwaysMore(tokenizer)
    monkeypatch.setattr("minigen.diagnose.score_shared", lambda m, ctx, options: m.score_shared(ctx, options))
    out = copy_or_flip(model, tokenizer, CorpusConfig(), n_docs=20, facts=3, restated=4)
    assert out["same"] + out["reversed"] == pytest.approx(1.0)
    for context in model.contexts:
        lines = tokenizer.decode(context[1:]).split("\n")[:-1]  # the fact lines; the prompt follows
        counts = sorted(lines.count(line) for line in set(lines))
        assert counts == [1, 1, 4]  # three facts, the asked one four times
