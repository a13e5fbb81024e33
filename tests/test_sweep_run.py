"""`minigen run` (one sweep run): parameter parsing and routing, the pretraining cache key, the corpus share,
the torchrun hand-off. Nothing trains here; the end-to-end sweep is the slow test at the bottom."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from minigen.errors import UserError
from minigen.eval.table import flat_metrics
from minigen.experiment import (
    check,
    parse_flags,
    pretrain_key,
    to_experiment,
    torchrun_command,
)
from minigen.sweep import plan_runs, run_sweep
from minigen.sweep_config import load_sweep

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"


def test_flags_as_wandb_agent_passes_them():
    params = parse_flags(["--preset=tiny", "--split", "reversal", "--ft={'lr': 0.001, 'steps': 50}",
                          "--conditions=base,icl"])
    assert params == {"preset": "tiny", "split": "reversal", "ft.lr": 0.001, "ft.steps": 50,
                      "conditions": "base,icl"}
    with pytest.raises(UserError, match="unexpected argument"):
        parse_flags(["tiny"])
    with pytest.raises(UserError, match="--seeds needs a value"):
        parse_flags(["--seeds"])


def test_parameters_are_routed_to_pretraining_or_compare():
    exp = to_experiment({"preset": "small", "steps": "20", "train.lr": 0.01, "data.seed": 3,
                         "ft.lr": 1e-4, "dataset.size": "20", "icl.max_tokens": 128, "seeds": 2})
    assert (exp.preset, exp.steps, exp.seeds) == ("small", 20, 2)
    assert exp.pretrain_overrides == ["train.lr=0.01", "data.seed=3"]
    assert exp.compare_overrides == ["ft.lr=0.0001", "dataset.size=20", "icl.max_tokens=128"]
    with pytest.raises(UserError, match="unknown parameter 'lr'"):
        to_experiment({"lr": 0.1})
    with pytest.raises(UserError, match="steps=many"):
        to_experiment({"steps": "many"})


def test_check_validates_names_and_values_with_the_real_configs():
    check({"preset": "tiny", "split": "syllogism", "ft.sentences": "cumulative", "train.lr": 0.01})
    for bad, word in [({"preset": "huge"}, "huge"), ({"train.lrr": 1}, "train.lrr"),
                      ({"ft.sentences": "some"}, "some"), ({"split": "nope"}, "nope"),
                      ({"conditions": "base,magic"}, "magic"), ({"seeds": 0}, "seeds")]:
        with pytest.raises(UserError, match=word):
            check(bad)


def test_runs_differing_only_in_evaluation_share_one_pretraining():
    a = check({"preset": "tiny", "steps": 5, "split": "reversal", "ft.lr": 1e-3})
    b = check({"preset": "tiny", "steps": 5, "split": "syllogism", "ft.lr": 1e-4, "seeds": 1})
    c = check({"preset": "tiny", "steps": 6})
    assert pretrain_key(a) == pretrain_key(b) != pretrain_key(c)


def test_facts_share_replaces_that_share_of_every_stage_by_plain_facts():
    from minigen.config import apply_overrides, get_preset, stage_configs

    cfg = get_preset("tiny")  # its role stage sets its own mixture: the share reaches it all the same
    for share in (0.0, 0.25, 0.6, 1.0):
        staged = [c.data for _, c in stage_configs(apply_overrides(cfg, [f"data.facts_share={share}"]))]
        assert len(staged) == 2
        for data, original in zip(staged, (c.data for _, c in stage_configs(cfg)), strict=True):
            weights, before = data.weights(), original.weights()
            assert weights["facts"] / sum(weights.values()) == pytest.approx(share)
            for kind, w in before.items():  # the recipe's own types keep their proportions
                assert weights[kind] == pytest.approx((1 - share) * w / sum(before.values()) + share * (
                    kind == "facts"))
    with pytest.raises(UserError, match="facts_share"):
        apply_overrides(cfg, ["data.facts_share=1.5"])
    with pytest.raises(UserError, match="data.facts_share"):
        check({"icl_share": 0.5})


def test_torchrun_command_hands_pretraining_to_torchrun(monkeypatch):
    exp = check({"preset": "small", "steps": 100, "nproc_per_node": 8, "train.lr": 0.001})
    cmd = torchrun_command(exp, ckpt="ck", resume=True, wandb_mode="offline")
    assert cmd[:4] == [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    assert "--nproc_per_node=8" in cmd and cmd[cmd.index("-m", 3):][:3] == ["-m", "minigen", "pretrain"]
    assert cmd[-3:] == ["--resume", "--set", "train.lr=0.001"]
    monkeypatch.setenv("MINIGEN_TORCHRUN_ARGS", "--nnodes=2 --node_rank=0 --rdzv_endpoint=h:29500")
    assert torchrun_command(exp, "ck", False, "offline")[3:6] == ["--nnodes=2", "--node_rank=0",
                                                                 "--rdzv_endpoint=h:29500"]


def test_flat_metrics_names_and_generalization_mean():
    split = lambda a: {"acc": a, "ci": [a - 0.1, a + 0.1]}
    results = {"datasets": {"reversal": {"conditions": {"icl": {"splits": {
        "reversal": split(0.8), "train": split(1.0)}}}}, "syllogism": {"conditions": {"icl": {"splits": {
            "syllogism": split(0.6)}}}}}}
    flat = flat_metrics(results)
    assert flat["reversal/icl/reversal/acc"] == 0.8 and flat["reversal/icl/train/ci_hi"] == 1.1
    assert flat["icl/generalization_acc"] == pytest.approx(0.7)  # trained-facts split left out


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_experiment_file_is_valid(path):
    """Each sweep file in experiments/ parses and every run's parameters pass `minigen run`'s checks."""
    assert plan_runs(load_sweep(path))


@pytest.mark.slow
def test_two_run_sweep_end_to_end_on_tiny_settings(tmp_path, monkeypatch):
    """experiments/smoke.yaml for real: one 4-step tiny pretraining shared by two runs (reversal,
    syllogism), each comparing base / ICL / FT with W&B offline; then the report."""
    from minigen.report import run_report

    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    out = tmp_path / "sweep"
    summary = run_sweep(EXPERIMENTS / "smoke.yaml", out=out, workers=1, wandb_mode="offline")
    if summary["failed"]:
        tails = [json.loads((out / "runs" / r / "status.json").read_text())["stderr_tail"]
                 for r in summary["failed"]]
        pytest.fail("\n\n".join(tails))
    assert summary["done"] == 2 and summary["best"]["metric"] is not None
    assert len([p for p in (out / "checkpoints").iterdir() if p.is_dir()]) == 1  # one pretraining, shared
    assert len(list(out.glob("runs/*/wandb/offline-run-*"))) == 2  # each run logged to W&B, offline
    report = run_report(out, wandb_mode="disabled").read_text()
    assert "reversal / reversal" in report and "syllogism / syllogism" in report


def test_a_recipe_parameter_trains_the_presets_shape_on_it():
    plain = check({"preset": "tiny", "steps": 5})
    mixed = check({"preset": "tiny", "recipe": "mixed", "steps": 5})
    assert mixed.recipe == "mixed" and pretrain_key(mixed) != pretrain_key(plain)
    command = torchrun_command(mixed, ckpt="ck", resume=False, wandb_mode="offline")
    assert command[-2:] == ["--recipe", "mixed"]
    with pytest.raises(UserError, match="unknown recipe"):
        check({"preset": "tiny", "recipe": "poems"})
