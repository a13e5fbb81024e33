"""Exact-retrieval (`recall`), key-value (`keyval`) and copying (`lists`) documents say what their
docstrings say."""

import random
import re

from minigen.data.corpus import CorpusConfig
from minigen.data.doctypes import keyval, lists, recall
from minigen.data.doctypes.common import canonical
from minigen.data.lexicon import Lexicon
from minigen.data.templates import parse

WORDS = Lexicon(0).pretrain_words
POOL = set(WORDS)
CFG = CorpusConfig(canonical_share=0.5, prefix_prob=0.4)


def halves(doctype, sizes, cfg=CFG, n=200):
    """n documents of a stated-then-restated type, as (stated lines, restated lines), each half of a
    size in `sizes`."""
    rng = random.Random(0)
    for _ in range(n):
        lines = doctype.generate(rng, WORDS, cfg).split("\n")
        k = len(lines) // 2
        assert len(lines) == 2 * k and sizes[0] <= k <= sizes[1]
        yield lines[:k], lines[k:]


def test_recall_documents_restate_every_fact_canonically_in_a_new_order():
    reordered = 0
    for first, second in halves(recall, recall.FACTS):
        stated = [parse(line) for line in first]
        assert None not in stated  # every statement, templates and prefixes too, is one fact
        assert sorted(second) == sorted(canonical(f) for f in stated)
        reordered += second != [canonical(f) for f in stated]
    assert reordered > 150


def test_list_documents_are_one_line_of_distinct_pool_words_twice():
    rng = random.Random(0)
    for _ in range(200):
        first, second = lists.generate(rng, WORDS, CFG).split("\n")
        words = first.split(" ")
        assert first == second and len(set(words)) == len(words) and set(words) <= set(WORDS)
        assert lists.WORDS[0] <= len(words) <= lists.WORDS[1]


def test_keyval_documents_state_pairs_of_distinct_pool_words_then_each_again_in_a_new_order():
    reordered = 0
    for first, second in halves(keyval, keyval.PAIRS):
        words = [w for line in first for w in line.split(" ")]
        assert len(words) == 2 * len(first) and len(set(words)) == len(words) and set(words) <= set(WORDS)
        assert sorted(second) == sorted(first)
        reordered += second != first
    assert reordered > 150


def test_recall_reversed_share_reverses_that_share_of_restated_comparisons_only():
    from minigen.data.doctypes.recall import RecallDocs
    from minigen.data.logic import Compare, reverse

    cfg = CorpusConfig(canonical_share=1.0, prefix_prob=0.0, recall=RecallDocs(reversed_share=0.5))
    flipped = compares = 0
    for first, second in halves(recall, recall.FACTS, cfg, n=300):
        stated = [parse(line) for line in first]
        for line in second:
            f = parse(line)
            if f in stated:
                continue
            assert isinstance(f, Compare) and reverse(f) in stated  # only comparisons, and validly
            flipped += 1
        compares += sum(isinstance(f, Compare) for f in stated)
    assert 0.4 < flipped / compares < 0.6


def test_keyval_reversed_share_writes_that_share_of_restated_lines_value_first():
    from minigen.data.doctypes.keyval import KeyvalDocs

    cfg = CorpusConfig(keyval=KeyvalDocs(reversed_share=0.5))
    flipped = total = 0
    for first, second in halves(keyval, keyval.PAIRS, cfg, n=300):
        stated = set(first)
        for line in second:
            if line not in stated:
                assert " ".join(line.split(" ")[::-1]) in stated
                flipped += 1
        assert len({frozenset(line.split(" ")) for line in second}) == len(first)  # each pair once
        total += len(second)
    assert 0.4 < flipped / total < 0.6


def test_recall_compare_only_states_comparisons_over_distinct_words():
    from minigen.data.doctypes.recall import RecallDocs
    from minigen.data.logic import Compare, reverse

    cfg = CorpusConfig(canonical_share=1.0, prefix_prob=0.0,
                       recall=RecallDocs(reversed_share=1.0, compare_only=True))
    for first, second in halves(recall, recall.FACTS, cfg, n=100):
        stated = [parse(line) for line in first]
        assert all(isinstance(f, Compare) for f in stated)
        words = [w for f in stated for w in (f.a, f.b)]
        assert len(set(words)) == len(words)  # each subject once: its role names no single answer
        assert sorted(second) == sorted(canonical(reverse(f)) for f in stated)



def test_recall_people_share_makes_that_share_of_the_facts_people_in_either_order():
    import pytest

    from minigen.data.doctypes.people import PeopleDocs
    from minigen.data.doctypes.recall import RecallDocs
    from minigen.data.logic import Compare, Describe, reverse
    from minigen.errors import UserError

    cfg = CorpusConfig(canonical_share=1.0, prefix_prob=0.0, people=PeopleDocs(same_share=0.5),
                       recall=RecallDocs(reversed_share=1.0, compare_only=True, people_share=0.5))
    n_people = n_facts = kept = 0
    for first, second in halves(recall, recall.FACTS, cfg):
        stated = [parse(line) for line in first]
        people = [f for f in stated if isinstance(f, Describe)]
        assert all(isinstance(f, (Compare, Describe)) for f in stated)
        words = [w.lower() for f in stated
                 for w in ((f.a, f.b) if isinstance(f, Compare) else (*f.name.split(), *f.desc.split()[-2:]))]
        assert len(set(words)) == len(words)  # no word in two facts: a word finds one line
        assert len(second) == len(stated)
        for f, line in zip(stated, first, strict=True):
            if isinstance(f, Compare):
                assert canonical(reverse(f)) in second  # every comparison restated reversed
            else:
                again = [r for r in second if parse(r) == f]
                assert len(again) == 1 and again[0] in (f"{f.name} is {f.desc}.",
                                                        f"{f.desc[:1].upper() + f.desc[1:]} is {f.name}.")
                kept += again[0] == line
        n_people, n_facts = n_people + len(people), n_facts + len(stated)
    assert 0.4 < n_people / n_facts < 0.6 and 0.35 < kept / n_people < 0.65
    with pytest.raises(UserError, match="compare_only"):
        RecallDocs(people_share=0.5)


def test_recall_phrase_max_makes_subjects_and_objects_of_one_to_that_many_words():
    import pytest

    from minigen.data.doctypes.recall import RecallDocs
    from minigen.data.logic import Compare, reverse
    from minigen.errors import UserError

    cfg = CorpusConfig(canonical_share=1.0, prefix_prob=0.0,
                       recall=RecallDocs(reversed_share=1.0, compare_only=True, phrase_max=3))
    sizes = set()
    for first, second in halves(recall, recall.FACTS, cfg):
        stated = []
        for line in first:  # "a b are more adj than c d." (the parser reads one-word arguments only)
            subject, rest = line[:-1].split(" are ", 1)
            direction, adj, obj = rest.split(" ", 2)
            stated.append(Compare(subject, adj, direction == "more", obj.removeprefix("than ")))
        words = [w for f in stated for phrase in (f.a, f.b) for w in phrase.split()]
        assert len(set(words)) == len(words) and set(words) <= POOL  # no word in two phrases
        sizes |= {len(phrase.split()) for f in stated for phrase in (f.a, f.b)}
        assert sorted(second) == sorted(canonical(reverse(f)) for f in stated)
    assert sizes == {1, 2, 3}
    with pytest.raises(UserError, match="phrase_max"):
        RecallDocs(phrase_max=2)


def test_dense_people_min_and_max_bound_the_people_a_document_states():
    import pytest

    from minigen.data.doctypes import people
    from minigen.data.doctypes.people import PeopleDocs
    from minigen.errors import UserError

    cfg = CorpusConfig(canonical_share=1.0, people=PeopleDocs(dense=True, dense_min=3, dense_max=5))
    sizes = {len(first) for first, _ in halves(people, (3, 5), cfg)}
    assert sizes == {3, 4, 5}
    with pytest.raises(UserError, match="dense_min"):
        PeopleDocs(dense=True, dense_min=6, dense_max=5)


def _person(line: str) -> tuple[str, str]:
    """The (name, description) a people line states: two capitalised words, the first a pool word."""
    pairs = re.findall(r"(?=\b([A-Z][a-z]+ [A-Z][a-z]+)\b)", line)
    names = {m for m in pairs if m.split()[0].lower() in POOL}
    descs = set(re.findall(r"the \w+ of the \w+ \w+", line[:1].lower() + line[1:]))
    assert len(names) == 1 and len(descs) == 1, line
    return names.pop(), descs.pop()


def _name_first(line: str, person: tuple[str, str]) -> bool:
    return line.index(person[0]) < (line[:1].lower() + line[1:]).index(person[1])


def _dense_people(n: int, **knobs):
    """n dense people documents, as (stated, restated): {person: whether its line puts the name first}."""
    from minigen.data.doctypes import people
    from minigen.data.doctypes.people import PeopleDocs

    rng = random.Random(0)
    cfg = CorpusConfig(canonical_share=0.5, people=PeopleDocs(dense=True, **knobs))
    for _ in range(n):
        lines = people.generate(rng, WORDS, cfg).split("\n")
        k = len(lines) // 2
        yield ({_person(line): _name_first(line, _person(line)) for line in lines[:k]},
               {_person(line): _name_first(line, _person(line)) for line in lines[k:]})


def test_dense_people_same_share_restates_that_share_in_the_order_stated():
    docs = list(_dense_people(200, same_share=0.5))
    kept = [stated[p] == restated[p] for stated, restated in docs for p in stated]
    assert 0.4 < sum(kept) / len(kept) < 0.6
    assert all(stated == restated for stated, restated in _dense_people(20, same_share=1.0))


def test_name_first_share_sets_the_order_people_are_stated_in():
    for share in (0.0, 1.0):
        for stated, restated in _dense_people(30, name_first_share=share):
            assert set(stated.values()) == {bool(share)} and set(restated.values()) == {not share}
    docs = list(_dense_people(200, name_first_share=0.8))
    first = [o for stated, _ in docs for o in stated.values()]
    assert 0.75 < sum(first) / len(first) < 0.85


def test_lower_names_writes_the_same_documents_with_names_in_lower_case():
    from minigen.data.doctypes import people
    from minigen.data.doctypes.people import PeopleDocs

    docs = {flag: people.generate(random.Random(3), WORDS, CorpusConfig(
        canonical_share=1.0, people=PeopleDocs(dense=True, name_first_share=1.0, lower_names=flag)))
        for flag in (False, True)}
    assert docs[True] != docs[False]
    assert docs[True].lower() == docs[False].lower()  # the same draws
    assert re.sub(r"(^|\n)The ", "", docs[True]).islower()  # no capital left but the template's "The"


def test_dense_people_documents_restate_every_person_in_the_other_order():
    from minigen.data.doctypes import people
    from minigen.data.doctypes.people import PeopleDocs

    rng, canonical_lines, n_lines = random.Random(0), 0, 0
    cfg = CorpusConfig(canonical_share=0.5, people=PeopleDocs(dense=True))
    for _ in range(200):
        lines = people.generate(rng, WORDS, cfg).split("\n")
        k = len(lines) // 2
        assert len(lines) == 2 * k and people.DENSE[0] <= k <= people.DENSE[1]
        stated = {_person(line): _name_first(line, _person(line)) for line in lines[:k]}
        restated = {_person(line): _name_first(line, _person(line)) for line in lines[k:]}
        assert stated.keys() == restated.keys() and len(stated) == k
        assert all(restated[p] != stated[p] for p in stated)  # every person again, in the other order
        words = [w for name, desc in stated for w in name.lower().split()[:1] + desc.split()[-2:]]
        assert len(set(words)) == len(words)  # no word in two people: a description finds one line
        canonical_lines += sum(line in (f"{n} is {d}.", f"{d[:1].upper() + d[1:]} is {n}.")
                               for n, d in stated for line in lines)
        n_lines += 2 * k
    assert 0.45 < canonical_lines / n_lines < 0.7  # canonical_share, plus random picks of the first template
