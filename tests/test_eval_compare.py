"""`minigen compare` end to end on a tiny randomly initialized run directory, and its bad inputs."""

import json

import pytest

from minigen.cli import main
from minigen.compare import format_table, run_compare
from minigen.errors import UserError
from minigen.eval.options import CompareOptions, apply_overrides
from minigen.eval.trained_facts import same_direction_items

# eval.uncovered=score: the test run's stream (tiny's recipe) never shows syllogism's vocabulary
FAST = ["dataset.size=6", "ft.steps=4", "ft.batch_size=4", "ft.lr_sweep=", "eval.uncovered=score"]


def test_compare_writes_results_figure_and_finetuned_weights(run_dir, tmp_path, capsys):
    out = tmp_path / "out"
    results = run_compare("syllogism", run_dir, "base,icl,ft", seeds=2, out=out, overrides=FAST,
                          wandb_mode="disabled")
    saved = json.loads((out / "results.json").read_text())
    assert saved["datasets"].keys() == {"syllogism"}
    ds = saved["datasets"]["syllogism"]
    # + same-direction questions on the premises
    assert ds["test_splits"] == ["syllogism", "anti_atmosphere", "train"]
    assert ds["chance"]["syllogism"] == pytest.approx(1 / 4)  # "some"/"no" answers count both ways
    for cond in ("base", "icl", "ft"):
        for split in ds["test_splits"]:
            r = ds["conditions"][cond]["splits"][split]
            assert 0 <= r["ci"][0] <= r["acc"] <= r["ci"][1] <= 1
            assert r["n"] == {"syllogism": 6, "anti_atmosphere": 3, "train": 18}[split]
            assert r["seeds"] == (1 if cond == "base" else 2)  # base is deterministic: run once
            assert {"acc_per_token", "acc_per_char"} <= r.keys()
    icl_info = ds["conditions"]["icl"]["info"]["0"]
    assert icl_info["contexts"] >= 1 and icl_info["context_tokens_max"] <= 256
    assert (out / "compare.png").stat().st_size > 10_000
    assert (out / "syllogism" / "ft" / "seed1" / "model.safetensors").is_file()
    lines = (out / "scores.jsonl").read_text().splitlines()
    assert len(lines) == (1 + 2 + 2) * 27
    printed = capsys.readouterr().out
    assert "syllogism (chance 0.25)" in printed and "icl" in printed
    assert format_table(results) in printed


def test_finetuning_seeds_in_worker_processes_score_as_in_one(run_dir, tmp_path):
    """`ft`'s seeds run side by side in forked processes; every score is that of the sequential run."""
    scores = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        run_compare("syllogism", run_dir, "ft", seeds=2, out=out,
                    overrides=[*FAST, f"eval.workers={workers}"], wandb_mode="disabled")
        scores[workers] = (out / "scores.jsonl").read_text()
        assert (out / "syllogism" / "ft" / "seed1" / "model.safetensors").is_file()
    assert scores[1] == scores[2] and len(scores[1].splitlines()) == 2 * 27


def test_premise_questions_ask_for_the_trained_predicate():
    from minigen.data.datasets import load_dataset

    ds = load_dataset("syllogism", size=5)
    extra = same_direction_items(ds)
    assert len(extra) == 2 * len(ds.test) == 14 and {item.split for item in extra} == {"train"}  # 5 + 2 anti
    for item in extra:
        q, s, p = item.meta["fact"]
        doc = next(d.text for d in ds.train if d.id == item.meta["doc_ids"][0])
        assert item.prompt + item.options[item.answer] in doc.split("\n")  # the trained sentence itself
        assert item.options[item.answer] == f" {p}." and s in item.prompt
        assert item.meta["valid"] == [k == item.answer for k in range(4)]
        assert set(item.meta["doc_ids"]) <= {d.id for d in ds.train}
    assert same_direction_items(load_dataset("reversal", size=3)) == []  # the data layer has its own


def cli_error(capsys, *args) -> str:
    with pytest.raises(SystemExit) as e:
        main(["compare", *args, "--wandb", "disabled"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ")
    return err


def test_bad_inputs_exit_2_with_one_line(run_dir, tmp_path, capsys):
    missing = str(tmp_path / "none")
    assert "minigen pretrain --out" in cli_error(capsys, "--split", "syllogism", "--ckpt", missing)
    assert "unknown split 'nope'" in cli_error(capsys, "--split", "nope", "--ckpt", str(run_dir))
    assert "unknown condition 'fft'" in cli_error(capsys, "--split", "syllogism", "--ckpt", str(run_dir),
                                                  "--conditions", "base,fft")
    assert "ft.lrr" in cli_error(capsys, "--split", "syllogism", "--ckpt", str(run_dir), "--set", "ft.lrr=1")
    assert "icl.max_tokens=9999" in cli_error(capsys, "--split", "syllogism", "--ckpt", str(run_dir), "--set",
                                              "icl.max_tokens=9999")
    assert "--seeds 0" in cli_error(capsys, "--split", "syllogism", "--ckpt", str(run_dir), "--seeds", "0")


def test_a_tokenizer_that_does_not_match_the_checkpoint(run_dir, tmp_path, capsys):
    import shutil

    from minigen.config import get_preset
    from minigen.data.tokenizer import train_tokenizer

    other = tmp_path / "run"
    shutil.copytree(run_dir, other)
    train_tokenizer(get_preset("tiny").data, num_documents=40).save(other / "tokenizer.json")
    err = cli_error(capsys, "--split", "syllogism", "--ckpt", str(other))
    assert "tokenizer" in err and "restore the run's own tokenizer.json" in err


def test_option_overrides_are_typed():
    opts = apply_overrides(CompareOptions(), ["ft.lr=1e-4", "ft.sentences=cumulative", "dataset.size=0.5",
                                              "ft.save=false"])
    assert opts.ft.lr == 1e-4 and opts.ft.sentences == "cumulative" and not opts.ft.save
    assert opts.dataset.dataset_size() == 0.5 and CompareOptions().dataset.dataset_size() is None
    assert apply_overrides(opts, ["dataset.size=20"]).dataset.dataset_size() == 20
    assert CompareOptions().ft.resolve_steps(138) == 200  # auto: 20 epochs, within the paper's 200-1,000
    assert CompareOptions().ft.resolve_steps(500) == 625 and CompareOptions().ft.resolve_steps(1000) == 1000
    assert apply_overrides(opts, ["ft.steps=7"]).ft.resolve_steps(1000) == 7
    for bad in ("ft.steps=many", "ft.sentences=paragraph", "icl=3", "dataset.size=lots"):
        with pytest.raises(UserError):
            apply_overrides(CompareOptions(), [bad])
