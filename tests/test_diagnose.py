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
from minigen.diagnose import (
    ATTENTION_ROLES,
    ROLES,
    _attention_at_last_token,
    _labelled,
    attention_by_role,
    copy_or_flip,
    most_question_dependent,
    role_losses,
    tokens_with_roles,
)
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


def _small_model(tokenizer, seed=0, **kw):
    torch.manual_seed(seed)
    return Transformer(ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=2, d_model=32, n_head=2,
                                   seq_len=512, attn_backend="eager", **kw))


def test_attention_spy_sees_the_models_attention_and_changes_nothing(tokenizer):
    import minigen.model as model_module

    model, attend = _small_model(tokenizer, n_kv_head=1), model_module.attend
    ids, labels = _labelled(tokenizer, [random_compare(random.Random(0), "glorp", "fenk")] * 2,
                            random_compare(random.Random(1), "fenk", "glorp"))
    assert len(labels) == len(ids) and labels[0] == "bos" and labels[-1] == "q_are"
    assert {"subject", "comparative", "object", "end", "q_word"} <= set(labels)
    x = torch.tensor([ids])
    with torch.no_grad():
        plain = model(x)[0]
        store: list = []
        with _attention_at_last_token(store):
            spied = model(x)[0]
    assert model_module.attend is attend  # restored
    assert torch.equal(plain, spied) and len(store) == 2  # one entry per layer
    for probs in store:
        assert probs.shape == (2, len(ids)) and torch.allclose(probs.sum(-1), torch.ones(2))


def test_attention_by_role_of_uniform_attention_is_each_roles_share_of_the_tokens(tokenizer):
    """Zero query/key weights: every head attends uniformly, so a role's mass is its share of the tokens;
    same and reversed differ only in the question's word (a different word, maybe of other length)."""
    model = _small_model(tokenizer)
    with torch.no_grad():
        for block in model.blocks:
            block.attn.qkv.weight[: 2 * 32].zero_()  # q and k rows (2 heads x 16, then 2 kv heads x 16)
    cfg = CorpusConfig()
    mass = attention_by_role(model, tokenizer, cfg, n_docs=5, restated=3)
    words = Lexicon(cfg.lexicon_seed).words("dev")
    rng, expect = random.Random(0), {"same": 0, "reversed": 0}
    for _ in range(5):
        fact = random_compare(rng, *rng.sample(words, 2))
        for kind, q in (("same", fact), ("reversed", reverse(fact))):
            _, labels = _labelled(tokenizer, [fact] * 3, q)
            expect[kind] += torch.tensor([labels.count(r) / len(labels) for r in ATTENTION_ROLES]) / 5
    for kind in ("same", "reversed"):
        assert mass[kind].shape == (2, 2, len(ATTENTION_ROLES))
        assert torch.allclose(mass[kind], expect[kind].expand(2, 2, -1), atol=1e-5)


def test_copy_or_flip_fillers_are_property_lines_about_other_words(tokenizer, monkeypatch):
    model = _AlwaysMore(tokenizer)
    monkeypatch.setattr("minigen.diagnose.score_shared", lambda m, ctx, options: m.score_shared(ctx, options))
    copy_or_flip(model, tokenizer, CorpusConfig(), n_docs=10, facts=1, restated=2, fillers=3)
    for context in model.contexts:
        lines = tokenizer.decode(context[1:]).split("\n")[:-1]
        comparisons = [line for line in lines if " than " in line]
        assert len(lines) == 5 and len(comparisons) == 2 and len(set(comparisons)) == 1
        words = {line.split(" ")[0] for line in lines if line not in comparisons}
        fact_words = set(comparisons[0].rstrip(".").split(" ")[::5])  # "A are more ADJ than B"
        assert len(words) == 3 and not words & fact_words


def test_the_most_question_dependent_head_is_the_one_whose_attention_moves_most():
    roles = len(ATTENTION_ROLES)
    same = torch.full((2, 3, roles), 1 / roles)
    rev = same.clone()
    rev[0, 2] = 0.0
    rev[0, 2, ATTENTION_ROLES.index("object")] = 1.0  # all on the object: tv 1 - 1/roles
    rev[1, 0] = 0.0
    rev[1, 0, ATTENTION_ROLES.index("subject")] = 0.5  # half the mass moved: a smaller tv
    rev[1, 0, ATTENTION_ROLES.index("q_word")] = 0.5
    line = most_question_dependent({"same": same, "reversed": rev})
    assert line.startswith(f"most question-dependent head: 0.2 (tv {1 - 1 / roles:.2f}): reversed looks at "
                           "object 1.00")
