"""Exact-retrieval (`recall`), key-value (`keyval`) and copying (`lists`) documents say what their
docstrings say."""

import random

from minigen.data.corpus import CorpusConfig
from minigen.data.doctypes import keyval, lists, recall
from minigen.data.doctypes.common import canonical
from minigen.data.lexicon import Lexicon
from minigen.data.templates import parse

WORDS = Lexicon(0).pretrain_words
CFG = CorpusConfig(canonical_share=0.5, prefix_prob=0.4)


def test_recall_documents_restate_every_fact_canonically_in_a_new_order():
    rng, reordered = random.Random(0), 0
    for _ in range(200):
        lines = recall.generate(rng, WORDS, CFG).split("\n")
        n = len(lines) // 2
        assert len(lines) == 2 * n and recall.FACTS[0] <= n <= recall.FACTS[1]
        stated = [parse(line) for line in lines[:n]]
        assert None not in stated  # every statement, templates and prefixes too, is one fact
        assert sorted(lines[n:]) == sorted(canonical(f) for f in stated)
        reordered += lines[n:] != [canonical(f) for f in stated]
    assert reordered > 150


def test_list_documents_are_one_line_of_distinct_pool_words_twice():
    rng = random.Random(0)
    for _ in range(200):
        first, second = lists.generate(rng, WORDS, CFG).split("\n")
        words = first.split(" ")
        assert first == second and len(set(words)) == len(words) and set(words) <= set(WORDS)
        assert lists.WORDS[0] <= len(words) <= lists.WORDS[1]


def test_keyval_documents_state_pairs_of_distinct_pool_words_then_each_again_in_a_new_order():
    rng, reordered = random.Random(0), 0
    for _ in range(200):
        lines = keyval.generate(rng, WORDS, CFG).split("\n")
        n = len(lines) // 2
        assert len(lines) == 2 * n and keyval.PAIRS[0] <= n <= keyval.PAIRS[1]
        words = [w for line in lines[:n] for w in line.split(" ")]
        assert len(words) == 2 * n and len(set(words)) == 2 * n and set(words) <= set(WORDS)
        assert sorted(lines[n:]) == sorted(lines[:n])
        reordered += lines[n:] != lines[:n]
    assert reordered > 150


def test_recall_reversed_share_reverses_that_share_of_restated_comparisons_only():
    from minigen.data.doctypes.recall import RecallDocs
    from minigen.data.logic import Compare, reverse

    cfg = CorpusConfig(canonical_share=1.0, prefix_prob=0.0, recall=RecallDocs(reversed_share=0.5))
    rng, flipped, compares = random.Random(0), 0, 0
    for _ in range(300):
        lines = recall.generate(rng, WORDS, cfg).split("\n")
        n = len(lines) // 2
        stated = [parse(line) for line in lines[:n]]
        for line in lines[n:]:
            f = parse(line)
            if f in stated:
                continue
            assert isinstance(f, Compare) and reverse(f) in stated  # only comparisons, and validly
            flipped += 1
        compares += sum(isinstance(f, Compare) for f in stated)
    assert 0.4 < flipped / compares < 0.6
