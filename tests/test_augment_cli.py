"""`minigen augment` end to end (bad input, a checkpoint that cannot write the format, the report
against the file) and the aug-ft conditions (same scoring as ft, augmentations cached per seed)."""

from __future__ import annotations

import json
import re

import pytest
import torch

from minigen.cli import main


def cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_unknown_strategy_exits_2_with_one_line(capsys, tmp_path):
    code, _, err = cli(capsys, "augment", "--split", "reversal", "--strategy", "magic", "--out",
                       str(tmp_path / "a.jsonl"))
    assert code == 2 and err.count("\n") == 1 and "unknown strategy 'magic'" in err and "oracle-local" in err
    assert not (tmp_path / "a.jsonl").exists()
    code, _, err = cli(capsys, "augment", "--split", "nope", "--strategy", "oracle-local", "--out",
                       str(tmp_path / "a.jsonl"))
    assert code == 2 and err.count("\n") == 1 and "unknown dataset" in err


def test_a_checkpoint_that_cannot_write_the_format_is_reported_in_one_line(run_dir, capsys, tmp_path):
    out = tmp_path / "local.jsonl"
    code, stdout, err = cli(capsys, "augment", "--split", "syllogism", "--strategy", "local", "--ckpt",
                            str(run_dir), "--out", str(out), "--set", "aug.n=2")
    assert code == 2 and err.count("\n") == 1 and "cannot generate the rewrite format" in err
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert report["format_failure"] and report["samples"] >= 64 and report["parsed"] == 0
    assert len(out.read_text().splitlines()) == report["generated"]  # what was generated is kept
    assert "generated statements" in stdout
    from minigen.augment.generate import AugmentConfig  # the speed: every sample's new tokens, counted
    assert 0 < report["new_tokens"] <= report["samples"] * AugmentConfig().local_tokens
    assert report["tokens_per_s"] == pytest.approx(report["new_tokens"] / report["seconds"], rel=0.05)
    assert re.search(rf"generation: {report['new_tokens']:,} new tokens in ", stdout)


def test_the_report_names_its_sampling_and_a_negative_top_k_is_one_line(run_dir, capsys, tmp_path):
    out = tmp_path / "local.jsonl"
    cli(capsys, "augment", "--split", "syllogism", "--strategy", "local", "--ckpt", str(run_dir), "--out",
        str(out), "--set", "aug.temperature=0.5", "--set", "aug.top_k=3", "--set", "aug.n=2")
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert report["sampling"] == dict(n=2, temperature=0.5, top_k=3, examples=1, global_prompt="header",
                                      seed=0)
    code, _, err = cli(capsys, "augment", "--split", "syllogism", "--strategy", "local", "--ckpt",
                       str(run_dir), "--out", str(tmp_path / "bad.jsonl"), "--set", "aug.top_k=-1")
    assert code == 2 and err.count("\n") == 1 and "aug.top_k >= 0" in err
    assert not (tmp_path / "bad.jsonl").exists()


def test_cli_report_matches_the_file(capsys, tmp_path):
    out = tmp_path / "oracle.jsonl"
    code, stdout, _ = cli(capsys, "augment", "--split", "syllogism", "--strategy", "oracle-global", "--ckpt",
                          str(tmp_path / "none"), "--out", str(out), "--set", "aug.n=3")
    assert code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    report = json.loads(out.with_name(out.name + ".report.json").read_text())
    assert report["generated"] == len(records) > 0
    assert report["valid"] == sum(r["verdict"] == "follows" for r in records) == len(records)
    assert report["states_answer"] == sum(bool(r["answers"]) for r in records)
    assert report["new"] == sum(bool(r["new"]) for r in records)
    assert re.search(rf"generated statements +{len(records)} ", stdout)
    assert re.search(rf"\n +valid +{report['valid']} +100.0%", stdout)
    assert re.search(rf"state a test answer +{report['states_answer']} ", stdout)
    assert all(r["strategy"] == "oracle-global" and r["source"].startswith("syllogism-") for r in records)
    assert "seconds" not in report and "generation:" not in stdout  # the engine generates no tokens


@pytest.mark.parametrize("name", ["aug-ft-oracle", "aug-ft-local-fixed", "aug-ft-local+global",
                                  "ft-cumulative"])
def test_aug_conditions_score_like_ft_and_cache_their_augmentations(name, run_dir, tmp_path):
    from minigen.augment.conditions import AUG_CONDITIONS
    from minigen.checkpoint import load_run
    from minigen.data.datasets import load_dataset
    from minigen.eval.conditions import EvalSetup
    from minigen.eval.options import CompareOptions, apply_overrides

    model, tokenizer, cfg = load_run(run_dir)
    ds = load_dataset("syllogism", size=3)
    options = apply_overrides(CompareOptions(), ["ft.steps=3", "ft.batch_size=4", "ft.save=false"])
    setup = EvalSetup(model=model, tokenizer=tokenizer, documents=list(ds.train), items=list(ds.test),
                      seq_len=cfg.model.seq_len, options=options, out_dir=tmp_path)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = AUG_CONDITIONS[name](setup, 0)
    assert len(result.scores) == len(ds.test) and result.info["steps"] >= 1
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # a copy was finetuned
    cached = sorted((tmp_path / "augment").glob("*.jsonl")) if name.startswith("aug") else []
    if name == "aug-ft-oracle":
        assert [p.name for p in cached] == ["oracle-global-seed0.jsonl", "oracle-local-seed0.jsonl"]
        assert result.info["finetuning_documents"] > len(ds.train)
    if name == "aug-ft-local+global":  # both strategies, each generated once and reported
        assert [p.name for p in cached] == ["global-seed0.jsonl", "local-seed0.jsonl"]
        assert {"augment_local", "augment_global"} <= set(result.info)
        assert result.info["augmented_statements"] == sum(
            result.info[f"augment_{s}"]["generated"] for s in ("local", "global"))
    if name.startswith("aug"):  # the table's report of them: one line per strategy, with the file's shares
        from minigen.eval.table import augmentation_notes

        notes = augmentation_notes(name, [result.info])
        strategies = [k.removeprefix("augment_") for k in result.info if k.startswith("augment_")]
        assert len(notes) == len(strategies) >= 1
        for line, strategy in zip(notes, strategies, strict=True):
            summary = result.info[f"augment_{strategy}"]
            assert line.startswith(f"  {name} / {strategy}: {summary['generated']} statements per seed")
            assert f"valid {100 * summary['share_valid']:.0f}%" in line
    if cached:
        stamps = [p.stat().st_mtime_ns for p in cached]
        AUG_CONDITIONS[name](setup, 0)
        assert [p.stat().st_mtime_ns for p in cached] == stamps  # reused, not regenerated
    if name.endswith("-fixed"):
        assert "token_budget" in result.info
