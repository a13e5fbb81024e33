"""Role-curriculum documents (`icl_roles`, the `tiny-roles` preset's corpus) say what
docs/log/2026-11-27-role-curriculum.md claims they say."""

import random

from minigen.data.corpus import CorpusConfig, _Generator
from minigen.data.doctypes.common import canonical
from minigen.data.doctypes.roles import RolesDocs, role_doc
from minigen.data.doctypes.roles import generate as icl_roles_doc
from minigen.data.lexicon import Lexicon
from minigen.data.logic import reverse

WORDS = Lexicon(0).pretrain_words


def _docs(mode, cross, **kw):
    rng = random.Random(mode + str(cross))
    return [role_doc(rng, WORDS, 3, mode, cross, **kw) for _ in range(200)]


def test_one_direction_documents_ask_only_unambiguous_words_and_carry_confusers():
    confused = 0
    for mode in ("copy", "flip"):
        for text, facts, asked in _docs(mode, 1.0):
            lines = text.split("\n")
            assert sorted(lines) == sorted(canonical(f) for f in facts)
            for q in asked:
                source = q if mode == "copy" else reverse(q)
                assert source in facts  # a restatement (copy) or a reversal (flip) of a stated fact
                role = [f.a for f in facts] if mode == "copy" else [f.b for f in facts]
                assert role.count(q.a) == 1  # the asked word stands once in the asked role
                other = [f.b for f in facts] if mode == "copy" else [f.a for f in facts]
                confused += q.a in other
    assert confused > 200  # with cross=1 most asked words also stand in the other role


def test_mixed_documents_restate_about_the_share_asked_and_more_only_says_more():
    same = total = 0
    for _, facts, asked in _docs("mix", 0.0, same_share=0.3, more_only=True):
        assert all(f.more for f in facts)
        words = [w for f in facts for w in (f.a, f.b)]
        assert len(set(words)) == len(words)  # no confusers in mixed documents
        same += sum(q in facts for q in asked)
        total += len(asked)
    assert abs(same / total - 0.3) < 0.06


def test_repeats_state_each_fact_between_one_and_repeats_plus_one_times():
    counts = set()
    for text, facts, _ in _docs("mix", 0.0, repeats=3):
        lines = text.split("\n")
        counts |= {lines.count(canonical(f)) for f in facts}
    assert counts == {1, 2, 3, 4}


def test_restate_reversed_writes_a_share_of_the_later_statements_reversed():
    plain = _docs("mix", 0.0, repeats=3)
    assert _docs("mix", 0.0, repeats=3, restate_reversed=0.0) == plain  # no draw at 0: the stream is kept
    reversed_lines = later = 0
    for text, facts, _ in _docs("mix", 0.0, repeats=3, restate_reversed=0.5):
        lines = text.split("\n")
        for f in facts:
            forward, backward = lines.count(canonical(f)), lines.count(canonical(reverse(f)))
            assert forward >= 1 and forward + backward <= 4  # its first statement is never reversed
            reversed_lines += backward
            later += forward + backward - 1
        stated = {canonical(f) for f in facts} | {canonical(reverse(f)) for f in facts}
        assert set(lines) <= stated
    assert abs(reversed_lines / later - 0.5) < 0.06  # only later statements are drawn reversed


def test_corpus_documents_follow_the_roles_settings():
    rng = random.Random(0)
    cfg = CorpusConfig(facts_min=2, facts_max=3, canonical_share=1.0, prefix_prob=0.0,
                       roles=RolesDocs(mode="mix", more_share=1.0, same_share=0.0, repeats_max=2))
    for _ in range(100):
        lines = icl_roles_doc(rng, WORDS, cfg).split("\n")
        facts = [line for line in lines if " more " in line]
        questions = [line for line in lines if " less " in line]  # all reversed (same_share 0)
        assert len(facts) + len(questions) == len(lines) and 2 <= len(questions) <= 3
        assert len(set(facts)) == len(questions) <= len(facts) <= 3 * len(questions)  # each fact 1-3 times
        for q in questions:  # "b are less X than a." reverses the stated "a are more X than b."
            b, rest = q.split(" are less ")
            adjective, a = rest[:-1].split(" than ")
            assert f"{a} are more {adjective} than {b}." in facts


def test_zero_weight_document_types_are_never_drawn():
    assert icl_roles_doc not in _Generator(CorpusConfig()).kinds
    assert _Generator(CorpusConfig(mixture={"roles": 1.0, "qa": 0.0})).kinds == [icl_roles_doc]


def test_flip_share_replays_flip_documents_in_a_mix_stage():
    """flip_share 1: every mix document is a flip one (every question reverses a fact, confusers reuse an
    earlier object as a subject); about 30% of them at .3; mix documents never share a word."""
    def kinds(share: float, n: int = 400) -> list[bool]:
        rng = random.Random(1)
        cfg = CorpusConfig(facts_min=3, facts_max=3, canonical_share=1.0, prefix_prob=0.0,
                           roles=RolesDocs(mode="mix", same_share=1.0, flip_share=share,
                                           replay_confusers=1.0))
        out = []
        for _ in range(n):
            lines = icl_roles_doc(rng, WORDS, cfg).split("\n")
            facts, questions = lines[:3], lines[3:]
            shared = len({w for f in facts for w in (f.split(" are ")[0], f[:-1].split(" than ")[1])}) < 6
            flipped = all(q not in facts for q in questions)  # same_share 1: a mix question restates
            assert flipped == shared or not questions
            out.append(flipped)
        return out

    assert all(kinds(1.0)) and not any(kinds(0.0))
    assert 0.25 < sum(kinds(0.3)) / 400 < 0.35


def test_replayed_flip_documents_state_each_fact_once_unless_restated():
    """replay_restated False: a replayed flip document has one line per fact (its confusers' lines are not
    restated) while the mix documents of the same stage still restate theirs; True: both restate."""
    def line_counts(restated: bool, flip_share: float) -> list[int]:
        rng = random.Random(2)
        cfg = CorpusConfig(facts_min=3, facts_max=3, canonical_share=1.0, prefix_prob=0.0,
                           roles=RolesDocs(mode="mix", repeats_max=6, flip_share=flip_share,
                                           replay_restated=restated))
        return [len(icl_roles_doc(rng, WORDS, cfg).split("\n")) for _ in range(200)]

    once = line_counts(False, 1.0)
    assert max(once) <= 6  # 3 fact lines and at most 3 questions
    assert max(line_counts(True, 1.0)) > 6 and max(line_counts(False, 0.0)) > 6
