"""Rewrite documents (the local augmentation format) say what their docstring says."""

import random

from minigen.augment.prompts import rewrite_blocks
from minigen.data.corpus import CorpusConfig
from minigen.data.doctypes import rewrite
from minigen.data.doctypes.common import canonical
from minigen.data.lexicon import Lexicon
from minigen.data.logic import Compare, Describe
from minigen.data.templates import PREFIXES, REWRITE_LABEL, parse, restatements

WORDS = Lexicon(0).pretrain_words


def blocks(cfg, n=200):
    """(statement, restatements) of every block of n documents."""
    rng = random.Random(0)
    for _ in range(n):
        for block in rewrite_blocks(rewrite.generate(rng, WORDS, cfg)):
            first, label, *rest = block.split("\n")
            assert label == REWRITE_LABEL
            yield first, rest


def test_default_rewrites_state_any_fact_canonically_then_every_other_restatement():
    kinds = set()
    for first, rest in blocks(CorpusConfig(canonical_share=0.5, prefix_prob=0.4)):
        form = parse(first)
        kinds.add(type(form))
        assert first == canonical(form)  # the corpus-wide template and prefix knobs do not reach it
        assert sorted([first, *rest]) == sorted(restatements(form))
    assert len(kinds) >= 4


def test_comparison_rewrites_in_fact_lines_restate_with_every_other_template_and_the_converse():
    cfg = CorpusConfig(canonical_share=0.5, prefix_prob=0.4)
    cfg.rewrite.compare_only, cfg.rewrite.as_fact_line = True, True
    prefixed = templated = n = 0
    for first, rest in blocks(cfg):
        n += 1
        form = parse(first)
        assert isinstance(form, Compare)
        own = [s for s in restatements(form) if first[:-1].endswith(s[1:-1])]  # its template, any prefix
        assert len(own) == 1 and sorted(rest) == sorted(set(restatements(form)) - set(own))
        prefixed += any(start and first.startswith(start) for start, _ in PREFIXES)
        templated += own[0] != canonical(form)
    assert 0.3 < prefixed / n < 0.5 and 0.25 < templated / n < 0.55  # about 40% prefixed, half not canonical


def test_people_rewrites_restate_a_paraphrased_person_in_the_two_canonical_orders():
    cfg = CorpusConfig(canonical_share=0.5, prefix_prob=0.4)
    cfg.rewrite.compare_only, cfg.rewrite.as_fact_line, cfg.rewrite.people_share = True, True, 0.5
    people = paraphrased = n = 0
    for first, rest in blocks(cfg):
        n += 1
        form = parse(first)
        if isinstance(form, Describe):
            people += 1
            paraphrased += first not in restatements(form)
            assert set(rest) == set(restatements(form)) - {first} and rest  # both orders, bar the statement
        else:
            assert isinstance(form, Compare)
    assert 0.4 < people / n < 0.6 and paraphrased > 0.8 * people


def test_role_word_script_asks_for_the_role_of_the_sentence_it_restates():
    """experiments/role_word.py: each item is the local prompt for a people sentence over dev words, then the
    start of one of its canonical restatements; the role it scores is the one that restatement continues
    with (so the teacher-forced answer is right by construction, and only the model can be wrong)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "experiments" / "role_word.py"
    spec = importlib.util.spec_from_file_location("role_word", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    dev = set(Lexicon(0).words("dev"))
    cells = set()
    for text, role, order, start in script.items(20, lexicon_seed=0):
        *_, sentence, label, begun = text.split("\n")
        person = parse(sentence)
        assert label == REWRITE_LABEL and isinstance(person, Describe)
        assert person.name.split()[0].lower() in dev  # the first name (a suffix goes on the last)
        assert set(person.desc.split()[-2:]) <= dev
        assert any(r.startswith(begun + f" {role} of the") for r in restatements(person))
        cells.add((order, start))
    assert len(cells) == 4



def test_people_blocks_state_up_to_n_people_over_distinct_words_then_all_their_restatements():
    rng, sizes = random.Random(0), set()
    for _ in range(200):
        n = rng.randint(1, 4)
        stated, rest = rewrite._people_block(rng, WORDS, n)
        lines = stated.split("\n")
        people = [parse(s) for s in lines]
        assert len(people) == n and all(isinstance(p, Describe) for p in people)
        descs = [w for p in people for w in p.desc.split()[-2:]]
        firsts = [p.name.split()[0].lower() for p in people]
        assert len(set(descs + firsts)) == 3 * n  # no word in two people: a description finds one line
        assert sorted(rest) == sorted(r for s, p in zip(lines, people, strict=True)
                                      for r in restatements(p) if r != s)
        sizes.add(n)
    assert sizes == {1, 2, 3, 4}


def test_a_block_of_several_people_ends_its_rewrite_document(monkeypatch):
    cfg = CorpusConfig()
    cfg.rewrite.people_share, cfg.rewrite.people_block_max = 1.0, 4
    monkeypatch.setattr(rewrite, "_statement", lambda rng, words, cfg: ("A line.\nB line.", ["C line."]))
    for seed in range(20):  # 1-3 statements drawn, the first a block: the document is that block
        assert rewrite.generate(random.Random(seed), WORDS, cfg).count(REWRITE_LABEL) == 1


def test_people_block_max_outside_its_range_is_a_user_error():
    import pytest

    from minigen.errors import UserError
    with pytest.raises(UserError, match="people_block_max"):
        rewrite.RewriteDocs(people_block_max=0)
