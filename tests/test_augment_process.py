"""Augmentation on the process dataset: the engine's records are valid and reach the held-out
combinations, the model's lines are read and judged by the process engine (wrong answers, lines that
do not parse, test answers), the same seed gives the same file, and aug-ft-oracle runs through compare."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pytest
import torch

from minigen.augment import sampling
from minigen.augment.generate import AugmentConfig
from minigen.augment.process import COMBINATIONS, ProcessFacts, annotate, answers_of, read_line
from minigen.augment.report import Tally, read_records
from minigen.augment.run import write_augmentations
from minigen.data.datasets import load_dataset
from minigen.data.datasets.process import HELD_OUT
from minigen.data.process_logic import combinations, parse, show, to_term, transform

SIZE = 4  # items per split: one group of four functions, a rule sheet and 8 worked examples


@pytest.fixture(scope="module")
def ds():
    return load_dataset("process", size=SIZE)


@pytest.fixture(scope="module")
def facts(ds):
    return ProcessFacts.from_documents(ds.train)


@pytest.fixture(scope="module")
def tokenizer():
    from minigen.data.corpus import CorpusConfig
    from minigen.data.tokenizer import train_tokenizer

    return train_tokenizer(CorpusConfig(), num_documents=300)


def test_the_rule_sheets_are_read_back(ds, facts):
    (group,) = facts.groups
    item = ds.test[0]
    assert group.rules.to_dict() == item.meta["rules"]
    assert [d.id for d, _, _ in group.examples] == [d.id for d in ds.train[1:]]
    for doc, e, _ in group.examples:  # every line of a worked example states D(e) = that step
        steps = [parse(line.split("=", 1)[-1]) for line in doc.text.split("\n")]
        assert all((e, s) in facts.stated for s in steps)


@pytest.mark.parametrize("strategy", ["oracle-local", "oracle-global"])
def test_oracle_records_are_parsed_valid_and_reach_the_held_out_combinations(strategy, ds, facts, tmp_path):
    summary = write_augmentations(strategy, ds.train, ds.test, AugmentConfig(n=2), tmp_path / "a.jsonl")
    records = read_records(tmp_path / "a.jsonl")
    assert records and summary["generated"] == len(records)
    assert summary["parsed"] == summary["valid"] == len(records)
    (group,) = facts.groups
    for r in records:
        e, t = read_line(r["text"])
        assert t == transform(e, group.rules) and r["verdict"] == "follows", r
    if strategy == "oracle-local":  # the worked examples' own conclusions, derived again
        assert [r["text"] for r in records] == [d.text.split("\n")[-1] for d in ds.train[1:]]
        assert summary["new"] == 0
        return
    assert len(records) == 2 * len(COMBINATIONS) and summary["new"] == len(records)
    combos = set().union(*(combinations(read_line(r["text"])[0], group.rules) for r in records))
    assert combos == set(COMBINATIONS) and set(HELD_OUT) <= combos
    trained = {show(e) for _, e, _ in group.examples}
    assert not any(show(read_line(r["text"])[0]) in trained for r in records)


def test_records_are_judged_by_the_process_engine(ds, facts):
    item = next(i for i in ds.test if i.split == "compositional")
    e = to_term(item.meta["expression"])
    answer = show(item.meta["option_terms"][item.answer])
    wrong = next(o.strip() for k, o in enumerate(item.options) if k != item.answer)
    answers = answers_of(ds.test, facts)
    texts = [f"D({show(e)}) = {answer}",  # a test item's answer
             f"D({show(e)}) = {wrong}",  # a distractor: parses, contradicts
             f"D({show(e)}) = {answer} blorp",  # not an expression
             "D(glon(x)) femp(x)",  # no "="
             f"D(zzz({show(e)})) = {answer}"]  # a name of no group: parses, unrelated
    tally = Tally(answers)
    annotated = [annotate({"text": t}, facts, answers) for t in texts]
    for rec in annotated:
        tally.add(rec)
    assert [r["verdict"] for r in annotated] == ["follows", "contradicts", None, None, "unrelated"]
    assert annotated[0]["answers"] == [item.id, item.id + "-gen"]
    s = tally.summary()
    assert (s["generated"], s["parsed"], s["valid"], s["contradicts"], s["new"]) == (5, 3, 1, 1, 3)
    assert s["states_answer"] == 1
    assert s["test_items_answered"]["compositional"] == {"answered": 1, "items": SIZE}
    assert s["test_items_answered"]["compositional-gen"] == {"answered": 1, "items": SIZE}


class ScriptedModel:
    """Answers the prompt's last line "D(e) =" in turn with the transform, the expression itself
    (a wrong answer), and a line cut by the token limit; text after a line break must be cut off."""

    def __init__(self, tokenizer, rules, seq_len=512):
        self.tokenizer, self.rules = tokenizer, rules
        self.cfg = SimpleNamespace(seq_len=seq_len)
        self.prompts: list[str] = []

    def generate(self, prompts, max_new_tokens, temperature=0.0, top_k=None, stop_id=None, seed=None):
        outs = []
        for p in prompts:
            assert len(p) + max_new_tokens <= self.cfg.seq_len
            text = self.tokenizer.decode(p[1:])
            self.prompts.append(text)
            e = parse(text.split("\n")[-1].removesuffix("="))[1]
            turn = len(self.prompts) % 3
            line = [f" {show(transform(e, self.rules))}\nD(", f" {show(e)}\nD(", " glon(" * 40][turn]
            ids = self.tokenizer.encode(line)[:max_new_tokens]
            outs.append(ids[: ids.index(stop_id) + 1] if stop_id in ids else ids)
        return outs


@pytest.mark.parametrize("strategy", ["local", "global"])
def test_the_models_lines_are_read_in_the_process_format(strategy, ds, facts, tokenizer, tmp_path,
                                                         monkeypatch):
    monkeypatch.setattr(sampling, "generate", lambda model, *args, **kwargs: model.generate(*args, **kwargs))
    (group,) = facts.groups
    model = ScriptedModel(tokenizer, group.rules)
    summary = write_augmentations(strategy, ds.train, ds.test, AugmentConfig(n=2, batch_size=8),
                                  tmp_path / "a.jsonl", model, tokenizer)
    records = read_records(tmp_path / "a.jsonl")
    prompts = 2 * (len(group.examples) if strategy == "local" else len(COMBINATIONS))
    assert summary["samples"] == len(model.prompts) == prompts
    assert all(group.sheet.text + "\n" in p for p in model.prompts)
    if strategy == "global":  # worked examples fill the rest of the context
        assert any(doc.text in p for p in model.prompts for doc, _, _ in group.examples)
    assert summary["empty_samples"] == prompts - len(records) > 0  # the cut lines
    assert summary["parsed"] == len(records)
    for r in records:
        e, t = read_line(r["text"])
        assert r["text"] == f"D({show(e)}) = {show(t)}" and "\n" not in r["text"]
        assert r["verdict"] == ("follows" if t == transform(e, group.rules) else "contradicts")
    assert 0 < summary["valid"] < len(records)
    if strategy == "local":  # re-derivations of the documents' own conclusions
        sources = {d.id: d.text.split("\n")[-1] for d, _, _ in group.examples}
        valid = [r for r in records if r["verdict"] == "follows"]
        assert all(r["text"] == r["input"] == sources[r["source"]] and not r["new"] for r in valid)


def small_model(tokenizer, seed=0, newline_bias=6.0):
    """A random 1-layer model that writes short lines (a raised line-break logit)."""
    from minigen.config import ModelConfig
    from minigen.model import Transformer

    class Biased(Transformer):
        def forward(self, *args, **kwargs):
            logits, loss = super().forward(*args, **kwargs)
            logits[..., newline] += newline_bias
            return logits, loss

    (newline,) = tokenizer.encode("\n")
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_size=tokenizer.vocab_size, n_layer=1, n_head=2, d_model=32, seq_len=256)
    return Biased(cfg).eval()


@pytest.mark.parametrize("strategy", ["local", "global", "oracle-global"])
def test_the_same_seed_gives_the_same_records(strategy, ds, tokenizer, tmp_path):
    model = small_model(tokenizer)

    def run(seed, name):
        cfg = AugmentConfig(n=1, seed=seed, temperature=1.0)
        write_augmentations(strategy, ds.train, ds.test, cfg, tmp_path / name, model, tokenizer,
                            stop_on_failure=False)
        return (tmp_path / name).read_bytes()

    first, again, other = run(0, "a"), run(0, "b"), run(1, "c")
    assert first and first == again and first != other


def test_cli_report_on_process(capsys, tmp_path):
    from minigen.cli import main

    out = tmp_path / "oracle.jsonl"
    with pytest.raises(SystemExit) as exc:
        main(["augment", "--split", "process", "--strategy", "oracle-global", "--ckpt",
              str(tmp_path / "none"), "--out", str(out), "--set", f"dataset.size={SIZE}"])
    stdout = capsys.readouterr().out
    assert exc.value.code == 0
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    records = out.read_text().splitlines()
    assert report["generated"] == report["valid"] == len(records) == 2 * len(COMBINATIONS)
    assert "from 24 prompts" in stdout and "process_logic.parse" in stdout
    assert "test split compositional-gen:" in stdout


def test_aug_ft_oracle_runs_through_compare(run_dir, tmp_path):
    from minigen.augment.conditions import AUG_CONDITIONS
    from minigen.checkpoint import load_run
    from minigen.compare import evaluate_dataset
    from minigen.eval.options import CompareOptions, apply_overrides

    model, tokenizer, cfg = load_run(run_dir)
    options = apply_overrides(CompareOptions(), [f"dataset.size={SIZE}", "ft.steps=3", "ft.batch_size=4",
                                                 "ft.save=false", "ft.lr_sweep="])
    scores = io.StringIO()
    conditions = {"aug-ft-oracle": AUG_CONDITIONS["aug-ft-oracle"]}
    result = evaluate_dataset("process", model, tokenizer, cfg, conditions, 1, options, tmp_path, scores)
    rows = [json.loads(line) for line in scores.getvalue().splitlines()]
    assert len(rows) == result["n_items"] == 6 * SIZE and len({r["id"] for r in rows}) == len(rows)
    info = result["conditions"]["aug-ft-oracle"]["info"][0]
    examples = result["n_train_docs"] - 1  # all but the rule sheet
    assert info["augmented_statements"] == examples + 2 * len(COMBINATIONS)
    # oracle-local: one document per worked example; oracle-global: one per round (aug.n=2)
    assert info["finetuning_documents"] == result["n_train_docs"] + examples + 2
    assert info["augment_oracle-global"]["share_valid"] == 1.0
    assert sorted(p.name for p in (tmp_path / "process" / "augment").glob("*.jsonl")) == [
        "oracle-global-seed0.jsonl", "oracle-local-seed0.jsonl"]


def test_compare_skips_the_placebo_on_process_and_says_why(run_dir, tmp_path):
    from minigen.augment.conditions import AUG_CONDITIONS
    from minigen.checkpoint import load_run
    from minigen.compare import evaluate_dataset
    from minigen.eval.options import CompareOptions, apply_overrides
    from minigen.eval.table import format_table

    model, tokenizer, cfg = load_run(run_dir)
    options = apply_overrides(CompareOptions(), [f"dataset.size={SIZE}", "ft.steps=3", "ft.batch_size=4",
                                                 "ft.save=false", "ft.lr_sweep="])
    conditions = {c: AUG_CONDITIONS[c] for c in ("aug-ft-oracle", "aug-ft-placebo")}
    result = evaluate_dataset("process", model, tokenizer, cfg, conditions, 1, options, tmp_path,
                              io.StringIO())
    assert list(result["conditions"]) == ["aug-ft-oracle"]
    assert "no words to rename" in result["not_run"]["aug-ft-placebo"]
    table = format_table({"datasets": {"process": result}})
    assert "aug-ft-oracle" in table and "aug-ft-placebo not run: the process dataset has no words" in table
