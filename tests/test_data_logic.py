"""Lexicon pools, the logic engine, and the templates' render/parse round trip."""

from __future__ import annotations

import random

import pytest

from minigen.data.english import PREFIXES
from minigen.data.lexicon import CODAS, HEADS, MIN_PIECE_SUPPORT, Lexicon, split_word
from minigen.data.logic import (
    Compare,
    Describe,
    Knowledge,
    Prop,
    Quant,
    Relation,
    classify,
    contradict,
    from_list,
    reverse,
    satisfiable,
    syllogism_conclusions,
    to_list,
    valid_syllogism_patterns,
)
from minigen.data.people_templates import DESC_FIRST, NAME_FIRST, fill
from minigen.data.templates import english_vocabulary, n_variants, parse, render


@pytest.mark.parametrize("seed", [0, 1])
def test_pools_disjoint_and_pieces_supported(seed):
    lex = Lexicon(seed)
    pre, ev = set(lex.pretrain_words), set(lex.eval_words)
    assert not pre & ev
    assert len(ev) == len(lex.eval_words) and len(pre) == len(lex.pretrain_words)
    assert len(lex.adjectives) >= 28
    english = {w.lower() for w in english_vocabulary()}
    for w in pre | ev:
        assert 4 <= len(w) <= 6 and w.islower() and w not in english
        head, coda = split_word(w)
        assert head in HEADS and coda in CODAS
    pieces = [p for w in lex.pretrain_words for p in split_word(w)]
    for w in ev:
        for piece in split_word(w):
            assert pieces.count(piece) >= MIN_PIECE_SUPPORT, (w, piece)


def test_lexicon_is_deterministic_and_seeded():
    assert Lexicon(0).eval_words == Lexicon(0).eval_words
    assert Lexicon(0).eval_words != Lexicon(1).eval_words


def test_syllogisms_valid_moods_only():
    # Barbara and Celarent conclude; the undistributed middle does not.
    assert Quant("all", "s", "p") in syllogism_conclusions(Quant("all", "m", "p"), Quant("all", "s", "m"))
    assert Quant("no", "s", "p") in syllogism_conclusions(Quant("no", "m", "p"), Quant("all", "s", "m"))
    assert syllogism_conclusions(Quant("all", "p", "m"), Quant("all", "s", "m")) == []
    # Darii: some, not all.
    darii = syllogism_conclusions(Quant("all", "m", "p"), Quant("some", "s", "m"))
    assert Quant("some", "s", "p") in darii and Quant("all", "s", "p") not in darii
    # Every pattern's conclusion is entailed: premises + its contradiction are unsatisfiable.
    negation = {"all": None, "no": "some", "some": "no"}
    for first, second, concl in valid_syllogism_patterns():
        assert concl.s == "S" and concl.p == "P"
        if negation[concl.q]:
            assert not satisfiable([first, second, Quant(negation[concl.q], "S", "P")])


def test_conversions_and_classify():
    assert classify(Quant("some", "b", "a"), [Quant("some", "a", "b")]) == "follows"
    assert classify(Quant("no", "b", "a"), [Quant("no", "a", "b")]) == "follows"
    assert classify(Quant("all", "b", "a"), [Quant("all", "a", "b")]) == "unrelated"  # all does not convert
    assert classify(Quant("no", "a", "b"), [Quant("all", "a", "b")]) == "contradicts"
    c = Compare("femp", "dangerous", True, "glon")
    assert classify(reverse(c), [c]) == "follows"
    assert classify(contradict(c), [c]) == "contradicts"
    assert classify(Compare("femp", "heavy", True, "glon"), [c]) == "unrelated"
    chain = [Compare("a", "agile", True, "b"), Compare("b", "agile", True, "c")]
    assert classify(Compare("c", "agile", False, "a"), chain) == "follows"  # multi-hop


def test_inheritance_down_the_hierarchy():
    facts = [Quant("all", "a", "b"), Quant("all", "b", "c"), Prop("c", "have", "wings"),
             Relation("c", "eat", "x")]
    k = Knowledge(facts)
    assert k.follows(Prop("a", "have", "wings"))
    assert k.follows(Quant("all", "a", "c"))
    assert k.follows(Relation("a", "eat", "x"))
    assert k.follows(Quant("some", "c", "a"))
    assert not k.follows(Prop("x", "have", "wings"))
    assert k.classify(Describe("Femp Glon", "the mayor of the yomp trelp")) == "unrelated"


def _forms():
    return [
        Compare("femp", "dangerous", True, "glon"), Compare("femp", "agile", False, "glon"),
        Quant("all", "troff", "yomp"), Quant("some", "troff", "yomp"), Quant("no", "troff", "yomp"),
        Prop("glon", "are", "red"), Prop("glon", "have", "wings"), Prop("glon", "can", "swim"),
        Relation("glon", "eat", "femp"), Describe("Femp Glonski", "the inventor of the yomp trelp"),
    ]


def test_render_parse_round_trip_every_variant_and_prefix():
    for form in _forms():
        assert from_list(to_list(form)) == form
        for variant in range(n_variants(form)):
            for prefix in range(len(PREFIXES)):
                text = render(form, variant, prefix)
                assert parse(text) == form, text
    person = Describe("Femp Glonski", "the inventor of the yomp trelp")
    for template in NAME_FIRST + DESC_FIRST:
        assert parse(fill(template, person.name, person.desc)) == person, template
    assert parse("this is not a template sentence.") is None


def test_engine_is_fast_enough_for_corpus_worlds():
    rng = random.Random(0)
    words = Lexicon(0).pretrain_words
    for _ in range(50):
        a, b, c, d = rng.sample(words, 4)
        k = Knowledge([Quant("all", a, b), Quant("all", b, c), Prop(c, "can", "fly"), Quant("no", c, d)])
        assert k.follows(Quant("no", a, d)) and k.follows(Prop(a, "can", "fly"))
