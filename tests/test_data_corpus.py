"""Tokenizer and pretraining corpus: round trip, no unknown pieces, no leaks, exact row addressing."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from minigen.data.corpus import CorpusConfig, documents, packed_rows
from minigen.data.doctypes.reversal import ReversalDocs
from minigen.data.english import NAME_SUFFIXES
from minigen.data.lexicon import Lexicon, split_word
from minigen.data.logic import Compare, reverse
from minigen.data.templates import SYLLOGISM_QUESTION, parse, render
from minigen.data.tokenizer import Tokenizer, train_tokenizer
from minigen.errors import UserError

CFG = CorpusConfig()
TRAINING_DOCS = 15000  # what train_tokenizer reads by default: pretraining text


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return train_tokenizer(CFG, num_documents=TRAINING_DOCS)


def _eval_word_forms(word: str) -> list[str]:
    """The ways a word appears in text: line start, mid-sentence, as a first name and surname."""
    cap = word.capitalize()
    return [word, " " + word, cap, " " + cap] + [" " + cap + s for s in NAME_SUFFIXES]


def test_round_trip_and_specials(tokenizer, tmp_path):
    texts = list(itertools.islice(documents(CFG, 10**6), 200)) + ["  odd  spacing\n\n+ 123 é ü\t!", ""]
    for text in texts:
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == text
        assert ids == tokenizer.encode_reference(text)  # the cache never changes an encoding
    assert len({tokenizer.bos_id, tokenizer.eos_id, tokenizer.pad_id}) == 3
    assert tokenizer.vocab_size < 4000
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    again = Tokenizer.load(path)
    assert again.encode(texts[0]) == tokenizer.encode(texts[0]) and again.vocab_size == tokenizer.vocab_size


def test_load_missing_or_corrupt_tokenizer_is_user_error(tmp_path):
    with pytest.raises(UserError):
        Tokenizer.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError):
        Tokenizer.load(bad)


def test_words_are_head_plus_coda_and_eval_pieces_seen_in_pretraining(tokenizer):
    lex = Lexicon(CFG.lexicon_seed)
    seen = set()
    for ids in tokenizer.encode_batch(list(itertools.islice(documents(CFG), TRAINING_DOCS))):
        seen.update(ids)
    for word in lex.eval_words:
        head, coda = split_word(word)
        for form in _eval_word_forms(word):
            ids = tokenizer.encode(form)
            pieces = [tokenizer.token(i) for i in ids]
            assert "".join(pieces) == form
            if form.startswith(" "):  # the space is its own token: a word is the same tokens anywhere
                assert pieces[0] == " " and ids[1:] == tokenizer.encode(form[1:]), (form, pieces)
                pieces = pieces[1:]
            assert pieces[0].lower() == head and pieces[1] == coda, (form, pieces)
            assert len(pieces) == (2 if form.strip() in (word, word.capitalize()) else 3), (form, pieces)
            assert set(ids) <= seen, (form, pieces)  # every piece occurs in pretraining text
    # English template words are single tokens.
    assert len(tokenizer.encode(" dangerous")) == 1 and len(tokenizer.encode("Question")) == 1


def test_packed_rows_are_row_addressable(tokenizer):
    tokens, segments = packed_rows(CFG, tokenizer, 64, 5, 6)
    assert tokens.shape == segments.shape == (6, 65)
    assert tokens.dtype == np.int64 and segments.dtype == np.int32
    part, part_seg = packed_rows(CFG, tokenizer, 64, 7, 3)
    assert np.array_equal(tokens[2:5], part) and np.array_equal(segments[2:5], part_seg)
    for row, seg in zip(tokens, segments, strict=True):
        assert row[0] == tokenizer.bos_id and seg[0] == 0
        assert np.all(np.diff(seg) >= 0) and np.all(np.diff(seg) <= 1)
        starts = np.flatnonzero(np.diff(seg)) + 1  # each new segment starts with BOS after an EOS
        assert np.all(row[starts] == tokenizer.bos_id) and np.all(row[starts - 1] == tokenizer.eos_id)
    other, _ = packed_rows(CorpusConfig(seed=1), tokenizer, 64, 5, 6)
    assert not np.array_equal(tokens, other)


def test_same_seed_same_corpus(tokenizer):
    first = list(itertools.islice(documents(CFG, 100), 50))
    assert first == list(itertools.islice(documents(CorpusConfig(), 100), 50))
    assert first[1:] == list(itertools.islice(documents(CFG, 101), 49))
    again = packed_rows(CorpusConfig(), tokenizer, 128, 0, 4)[0]
    assert np.array_equal(packed_rows(CFG, tokenizer, 128, 0, 4)[0], again)


def test_no_eval_word_in_a_million_tokens(tokenizer):
    eval_words = set(Lexicon(CFG.lexicon_seed).eval_words)
    words = re.compile(r"[A-Za-z]+")
    n_tokens = 0
    for text in documents(CFG):
        found = {w.lower() for w in words.findall(text)} & eval_words
        assert not found, (found, text)
        n_tokens += len(tokenizer.encode(text)) + 2
        if n_tokens >= 1_000_000:
            break
    rows, _ = packed_rows(CFG, tokenizer, 256, 0, 400)  # the training path too
    text = " ".join(tokenizer.decode(r.tolist()) for r in rows)
    assert not {w.lower() for w in words.findall(text)} & eval_words


def test_icl_documents_use_the_test_formats():
    """Reversal lines (a fact then its canonical reversal) and syllogism questions are in the corpus."""
    docs = list(itertools.islice(documents(CFG), 300))
    reversals = questions = 0
    for doc in docs:
        forms = [parse(line) for line in doc.split("\n")]
        facts = {f for f in forms if isinstance(f, Compare)}
        last = doc.split("\n")[-1]
        if isinstance(forms[-1], Compare) and reverse(forms[-1]) in facts and last == render(forms[-1]):
            reversals += 1
        questions += doc.count(SYLLOGISM_QUESTION.split("{")[0])
    assert reversals > 50 and questions > 50


@pytest.mark.parametrize("same_share", [0.0, 0.5, 1.0])
def test_same_share_sets_how_many_questions_restate_instead_of_reverse(same_share):
    """The lines after a reversal document's facts restate (same direction) a `same_share` of the facts
    they ask about and reverse the others; each is about a fact stated above it."""
    cfg = CorpusConfig(mixture={"reversal": 1.0}, canonical_share=1, prefix_prob=0,
                       reversal=ReversalDocs(restated_max=0, same_share=same_share))
    same = flipped = 0
    for doc in itertools.islice(documents(cfg), 300):
        forms = [parse(line) for line in doc.split("\n")]
        n_facts = len(forms) // 2  # asked_share=1: one question per fact, after all of them
        facts, asked = forms[:n_facts], forms[n_facts:]
        for q in asked:
            assert q in facts or reverse(q) in facts
            same += q in facts
            flipped += q not in facts
    assert abs(same / (same + flipped) - same_share) < 0.05


def test_bad_config_is_user_error():
    with pytest.raises(UserError):
        CorpusConfig(mixture={"qa": -1.0})
    with pytest.raises(UserError, match="unknown document types"):
        CorpusConfig(mixture={"poems": 1.0})
    with pytest.raises(UserError):
        CorpusConfig(facts_min=9, facts_max=3)
    with pytest.raises(UserError):
        ReversalDocs(same_share=1.5)


def test_worker_processes_pack_the_same_rows(tokenizer):
    """train.data_workers: rows packed by worker processes are byte-identical to one thread's, for any
    number of workers and any start (so resume stays exact)."""
    from minigen.data.workers import RowWorkers

    pool = RowWorkers(tokenizer, 2)
    try:
        for start, num in ((0, 5), (7, 1), (3, 0)):
            want = packed_rows(CFG, tokenizer, 48, start, num)
            got = pool.packed_rows(CFG, tokenizer, 48, start, num)
            assert all((g == w).all() and g.dtype == w.dtype for g, w in zip(got, want, strict=True))
    finally:
        pool.close()
