"""The generalization datasets: sizes, engine-checked answers, no leaks, byte-stable export, CLI errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zlib
from functools import cache

import pytest

from minigen.cli import main
from minigen.data.datasets import DATASETS, load_dataset
from minigen.data.export import export_dataset
from minigen.data.lexicon import Lexicon
from minigen.data.logic import Knowledge, Quant, from_list
from minigen.data.templates import parse
from minigen.errors import UserError


@cache
def dataset(name: str):
    return load_dataset(name)


def _forms(texts) -> list:
    return [f for t in texts for line in t.split("\n") if (f := parse(line)) is not None]


def test_default_sizes_match_the_paper():
    rev = dataset("reversal")
    assert len(rev.train) == 1000 and len([t for t in rev.test if t.split == "reversal"]) == 100
    syl = dataset("syllogism")
    assert len([t for t in syl.test if t.split == "syllogism"]) == 69
    assert all(len(t.options) == 6 for t in syl.test)
    assert len([t for t in syl.test if t.split == "anti_atmosphere"]) == 30
    sem = dataset("semantic")
    assert len(sem.train) == 2200
    assert set(sem.splits()) == {"train", "reversal", "syllogism", "category_holdout", "train_verbatim"}
    assert all(4 <= d.text.count("\n") + 1 <= 40 for d in sem.train)
    rc = dataset("reversal_curse")
    for subset in ("name_to_desc", "desc_to_name", "both"):
        assert sum(d.id.startswith(f"rc-{subset}-") for d in rc.train) == 900
    assert all(len(t.options) == 4 for t in rc.test)


@pytest.mark.parametrize("name", DATASETS)
def test_items_are_well_formed_and_use_eval_words_only(name):
    ds = dataset(name)
    ids = {d.id for d in ds.train}
    assert len(ids) == len(ds.train)
    pretrain = set(Lexicon(0).pretrain_words)
    for item in ds.test:
        assert 0 <= item.answer < len(item.options) and item.meta["valid"][item.answer]
        assert len(item.meta["valid"]) == len(item.options) == len(set(item.options))
        assert set(item.meta["doc_ids"]) <= ids and item.split in ds.chance
        assert all(o.startswith(" ") for o in item.options)
    words = {w.lower() for d in ds.train for w in d.text.replace(".", " ").split()}
    assert not words & pretrain


# process has no logical forms: tests/test_data_process.py checks its answers against its own engine.
@pytest.mark.parametrize("name", [n for n in DATASETS if n != "process"])
def test_answers_follow_and_distractors_do_not(name):
    """The engine, reading only the training documents' text, agrees with every item's labels."""
    ds = dataset(name)
    docs = {d.id: d.text for d in ds.train}
    everything = Knowledge(_forms(docs.values()))
    for item in ds.test:
        forms = [from_list(f) for f in item.meta["option_forms"]]
        needed = Knowledge(_forms(docs[i] for i in item.meta["doc_ids"]))
        assert needed.follows(forms[item.answer]), item.id  # the item's own documents suffice
        for form, valid in zip(forms, item.meta["valid"], strict=True):
            assert everything.follows(form) == valid, (item.id, form)


@pytest.mark.parametrize("name,splits", [
    ("reversal", {"reversal"}), ("syllogism", {"syllogism"}), ("semantic", {"reversal", "syllogism"}),
    ("reversal_curse", {"reversed"}),
])
def test_no_test_statement_verbatim_in_training(name, splits):
    ds = dataset(name)
    corpus = "\n".join(d.text for d in ds.train)
    for item in ds.test:
        if item.split in splits:
            statement = (item.prompt + item.options[item.answer]).split("\n")[-1]
            if name == "syllogism":
                statement = item.options[item.answer].strip()
            if name == "reversal_curse":  # the held-out template's core, in the untrained order
                statement = item.prompt.split(", ")[-1] + item.options[item.answer]
            # As a whole sentence (also after a context prefix, or as a question).
            pattern = r"(?<![A-Za-z])" + re.escape(statement.rstrip(".")) + r"[.?]"
            assert not re.search(pattern, corpus, flags=re.IGNORECASE), (item.id, statement)


def test_answer_positions_are_balanced():
    rev = [t.answer for t in dataset("reversal").test]
    assert 0.35 < sum(rev) / len(rev) < 0.65
    syl = [t.answer for t in dataset("syllogism").test]
    assert len(set(syl)) >= 4


def test_syllogism_question_order_gives_nothing_away():
    """The question names the terms in a random order, so the answer's subject is not the first-named
    term by rule; a symmetric answer ("No a are b") is accepted in both directions and chance counts it."""
    ds = dataset("syllogism")
    first_is_subject, n_accepted = [], []
    for item in [t for t in ds.test if t.split == "syllogism"]:
        forms = [from_list(f) for f in item.meta["option_forms"]]
        named_first = item.prompt.split("about ", 1)[1].split(" and ")[0]
        answer = forms[item.answer]
        accepted = {forms[k] for k in item.accepted()}
        assert item.answer in item.accepted() and all(item.meta["valid"][k] for k in item.accepted())
        converse = Quant(answer.q, answer.p, answer.s)
        assert accepted == ({answer} if answer.q == "all" else {answer, converse})
        if answer.q == "all":
            first_is_subject.append(answer.s == named_first)
        n_accepted.append(len(accepted))
    assert 0.3 < sum(first_is_subject) / len(first_is_subject) < 0.7
    assert ds.chance["syllogism"] == pytest.approx(sum(n_accepted) / 6 / len(n_accepted))


def test_syllogism_guesses_that_ignore_the_premises_score_chance():
    """A model without the premises can only prefer a form: a quantifier, maybe with the first-named
    term as subject. Every such preference (and a uniform guess) must score the stated chance."""
    ds = dataset("syllogism")
    chance = ds.chance["syllogism"]
    assert chance == pytest.approx(0.25, abs=0.005)
    items = [t for t in ds.test if t.split == "syllogism"]  # anti_atmosphere: every answer is "Some"
    for quantifier in ("all", "some", "no", None):
        for subject in ("first", "second", None):
            score = 0.0
            for item in items:
                named_first = item.prompt.split("about ", 1)[1].split(" and ")[0]
                forms = [from_list(f) for f in item.meta["option_forms"]]
                picks = [k for k, f in enumerate(forms)
                         if quantifier in (None, f.q) and subject in (None, "first" if f.s == named_first
                                                                     else "second")]
                score += sum(k in item.accepted() for k in picks) / len(picks)
            assert score / len(items) == pytest.approx(chance, abs=0.02), (quantifier, subject)


def test_semantic_answers_are_also_distractors():
    """A word that is only ever an answer would let a preference for the word (no context needed) pass
    for knowledge; every answer word of a split is a distractor elsewhere in that split, and no word
    answers most of a split (the skew of "the root category is the ancestor of everything")."""
    ds = dataset("semantic")
    for split in ds.splits():
        items = [t for t in ds.test if t.split == split]
        answers = [t.options[t.answer] for t in items]
        distractors = {o for t in items for k, o in enumerate(t.options) if k != t.answer}
        assert set(answers) <= distractors, split
        assert max(answers.count(a) for a in set(answers)) < 0.2 * len(items), split


def test_sizes_scale_and_bad_sizes_are_user_errors():
    small = load_dataset("reversal", size=40)
    assert len(small.train) == 400 and len([t for t in small.test if t.split == "reversal"]) == 40
    assert len([t for t in load_dataset("syllogism", size=0.5).test if t.split == "syllogism"]) == 34
    assert len(load_dataset("semantic", size=20).train) == 400
    for name in DATASETS:
        with pytest.raises(UserError):
            load_dataset(name, size=10**6)
        with pytest.raises(UserError):
            load_dataset(name, size=0)
    with pytest.raises(UserError):
        load_dataset("nonsense")


def test_same_seed_byte_identical_export(tmp_path):
    for name in ("reversal", "syllogism"):
        export_dataset(name, tmp_path / "a", seed=3)
        export_dataset(name, tmp_path / "b", seed=3)
        export_dataset(name, tmp_path / "c", seed=4)
        for f in ("train.jsonl", "test.jsonl"):
            assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
        assert (tmp_path / "a" / "test.jsonl").read_bytes() != (tmp_path / "c" / "test.jsonl").read_bytes()


@pytest.mark.parametrize("argv", [
    ["data", "show", "nonsense"],
    ["data", "export", "reversal", "--out", "OUT", "--size", "100000"],
    ["data", "export", "reversal", "--out", "OUT", "--size", "many"],
    ["data", "export", "corpus", "--out", "OUT/c.txt"],
])
def test_cli_bad_input_exits_2_with_one_line(argv, tmp_path, capsys):
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err


def test_cli_show_and_export(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["data", "show", "syllogism", "--n", "1"])
    assert e.value.code == 0
    assert "Question: what follows about" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["data", "export", "syllogism", "--out", str(tmp_path / "syl")])
    assert e.value.code == 0
    assert len((tmp_path / "syl" / "test.jsonl").read_text().splitlines()) == 69 + 30


def test_export_is_identical_across_processes(tmp_path):
    """No dependence on Python's per-process hash seed (set iteration order)."""
    code = (
        "import sys; from minigen.data.export import export_dataset; "
        "export_dataset('semantic', sys.argv[1], size=30); export_dataset('syllogism', sys.argv[1] + 's')"
    )
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(tmp_path / hash_seed)], check=True, env=env)
    for sub in ("", "s"):
        for f in ("train.jsonl", "test.jsonl"):
            assert (tmp_path / f"1{sub}" / f).read_bytes() == (tmp_path / f"2{sub}" / f).read_bytes()


def test_reversal_curse_options_are_counterbalanced():
    """A scorer that ignores the prompt (any fixed preference over option strings) is at chance on
    every split, up to the 2 people per subset outside the groups of 4."""
    ds = dataset("reversal_curse")
    # Total orders over option strings (ties broken by the string): a preference with ties would pick
    # by option position instead, which is not a preference over strings (and `hash` varies by process).
    for preference in (lambda o: o, lambda o: o[::-1], lambda o: (len(o), o),
                       lambda o: (zlib.crc32(o.encode()) % 97, o)):
        for split in ("reversed", "same", "both"):
            items = [t for t in ds.test if t.split == split]
            right = sum(max(t.options, key=preference) == t.options[t.answer] for t in items)
            assert abs(right - len(items) / 4) <= 4, (split, right, len(items))
