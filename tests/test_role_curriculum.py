"""The role-curriculum experiment's documents say what its README section claims they say."""

import importlib.util
import random
from pathlib import Path

from minigen.data.docs import canonical, reverse
from minigen.data.lexicon import Lexicon

_PATH = Path(__file__).resolve().parents[1] / "experiments" / "role_curriculum.py"
_spec = importlib.util.spec_from_file_location("role_curriculum", _PATH)
rc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rc)
WORDS = Lexicon(0).pretrain_words


def _docs(mode, cross, **kw):
    rng = random.Random(mode + str(cross))
    return [rc.role_doc(rng, WORDS, 3, mode, cross, **kw) for _ in range(200)]


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
