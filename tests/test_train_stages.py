"""Curriculum stages (`RunConfig.stages`, the `tiny-roles` preset): each stage's config, a fresh optimizer and
schedule per stage, exact resume inside a stage and at a stage boundary, and the errors a user can cause."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from minigen.config import PRESETS, apply_overrides, get_preset, scale_stages, stage_configs
from minigen.errors import UserError
from minigen.pretrain import resolve_config

MICRO = {
    "model": dict(n_layer=1, d_model=32, n_head=2, seq_len=32),
    "train": dict(batch_size=4, lr=1e-2, min_lr=1e-3, warmup=2, ckpt_every=4, eval_every=0, probe_items=2,
                  heldout_rows=2, log_every=1),
    "data": dict(mixture={"roles": 1.0}, facts_min=2, facts_max=3),
    "stages": [dict(steps=6, set={"data.roles.mode": "flip", "data.roles.confusers": 0.8}),
               dict(steps=6, set={"data.seed": 11, "train.warmup": 3, "train.lr": 5e-3})],
}
# A subprocess that adds the micro preset, optionally dies (SIGKILL) after logging step KILL_AT, then runs
# the CLI.
RUNNER = """
import json, os, signal, sys
from minigen.config import PRESETS
PRESETS["micro-staged"] = json.loads(os.environ["MICRO_PRESET"])
kill_at = int(os.environ.get("KILL_AT", "0"))
import minigen.checkpoint as ck
append = ck.append_metrics
def append_then_die(run_dir, record):
    append(run_dir, record)
    if record["step"] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
ck.append_metrics = append_then_die
from minigen.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return dict(os.environ, MINIGEN_CACHE=str(tmp_path_factory.mktemp("cache")), WANDB_MODE="disabled",
                OMP_NUM_THREADS="1", MICRO_PRESET=json.dumps(MICRO))


def pretrain(out, env, *extra, kill_at=0):
    argv = [sys.executable, "-c", RUNNER, "pretrain", "--preset", "micro-staged", "--out", str(out),
            "--wandb", "disabled", *extra]
    return subprocess.run(argv, env=dict(env, KILL_AT=str(kill_at)), capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, env):
    out = tmp_path_factory.mktemp("staged") / "reference"
    proc = pretrain(out, env)
    assert proc.returncode == 0, proc.stderr
    return out


def records(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def test_stages_run_in_order_with_their_own_schedule(reference):
    recs = records(reference)
    assert [r["step"] for r in recs] == list(range(1, 13))
    lr = [r["lr"] for r in recs]
    # stage 1: warmup 2 to 1e-2; stage 2 restarts its warmup (3 steps) towards its own peak 5e-3
    assert lr[0] == pytest.approx(5e-3) and lr[1] == pytest.approx(1e-2)
    assert lr[6] == pytest.approx(5e-3 / 3) and lr[8] == pytest.approx(5e-3)
    assert "heldout_loss" in recs[5] and "heldout_loss" in recs[11]  # each stage ends with an evaluation
    config = json.loads((reference / "config.json").read_text())
    assert config["train"]["steps"] == 12 and config["stages"] == MICRO["stages"]


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", [7, 10])  # resumed from step 6 (a stage boundary) or 8 (inside stage 2)
def test_killed_and_resumed_staged_run_is_bitwise_identical(reference, tmp_path, env, kill_at):
    out = tmp_path / "killed"
    assert pretrain(out, env, kill_at=kill_at).returncode == -9
    proc = pretrain(out, env, "--resume")
    assert proc.returncode == 0, proc.stderr
    want, got = load_file(reference / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.equal(want[name], got[name]) for name in want)
    assert [r["loss"] for r in records(out)] == [r["loss"] for r in records(reference)]


def test_stage_configs_layer_each_stage_on_the_run():
    cfg = get_preset("tiny-roles")
    plan = stage_configs(cfg)
    assert [begin for begin, _ in plan] == [0, 750, 1500, 2500, 3500] and cfg.train.steps == 4500
    first, last = plan[0][1], plan[-1][1]
    assert (first.data.roles.mode, first.data.roles.confusers, first.data.seed) == ("flip", 0.8, 0)
    assert (last.data.roles.mode, last.data.roles.repeats_max, last.data.seed) == ("mix", 6, 11)
    assert last.train.warmup == 50 and last.train.lr == first.train.lr == 1e-3
    assert all(not stage.stages for _, stage in plan)
    icl = stage_configs(get_preset("tiny-icl"))  # roles2's stages, then syllogisms, then both
    tiny = stage_configs(get_preset("tiny-roles2"))
    assert [(b, c.data, c.model) for b, c in icl[:2]] == [(b, c.data, c.model) for b, c in tiny]
    assert [c.data.mixture for _, c in icl[2:]] == [{"syllogism": 1.0}, {"syllogism": 0.5, "roles": 0.5}]
    assert [b for b, _ in icl] == [0, 500, 1500, 2500] and get_preset("tiny-icl").train.steps == 3500
    assert stage_configs(get_preset("tiny-mixed")) == [(0, get_preset("tiny-mixed"))]
    # tiny-rr's stages, rewrite documents in the second (tiny-rw), and every other dataset's (the default)
    rr = stage_configs(get_preset("tiny-rr"))
    for name, mixture in (("tiny-rw", {"roles": 0.8, "rewrite": 0.2}),
                          ("tiny", {"roles": 0.66, "rewrite": 0.2, "syllogism": 0.04, "people": 0.05,
                                    "world": 0.04, "process": 0.01})):
        plan = stage_configs(get_preset(name))
        assert [b for b, _ in plan] == [b for b, _ in rr] == [0, 500] and plan[0] == rr[0]
        role_stage = plan[1][1].data
        assert role_stage.mixture == mixture and role_stage.rewrite.compare_only
        assert role_stage.roles == rr[1][1].data.roles and plan[1][1].model == rr[1][1].model


def test_steps_scale_a_curriculum_stage_by_stage():
    """--steps N on a staged preset: each stage keeps its share of N, at least one step each."""
    stages = get_preset("tiny-roles").stages
    for n in (5, 7, 100, 451, 9000):
        scaled = resolve_config("tiny-roles", n, []).stages
        steps = [st["steps"] for st in scaled]
        assert sum(steps) == n and min(steps) >= 1
        assert [st["set"] for st in scaled] == [st["set"] for st in stages]
        total = sum(st["steps"] for st in stages)
        assert all(abs(k - n * st["steps"] / total) <= 1 for k, st in zip(steps, stages, strict=True))
    assert resolve_config("tiny-roles", 100, []).train.steps == 100
    assert [st["steps"] for st in scale_stages([dict(steps=1), dict(steps=1000)], 2)] == [1, 1]


def test_every_rung_of_the_ladder_runs_the_defaults_curriculum_in_its_own_budget():
    """The scaling ladder varies size only: every rung has the default's corpus and stages, and a GPU
    shape's train.steps is its budget, which the stages share as they share tiny's 2,500 steps."""
    from minigen.config import LADDER, LADDER_RECIPE, PRESET_RECIPES, SHAPES

    tiny = get_preset("tiny")
    tiny_shares = [st["steps"] / tiny.train.steps for st in tiny.stages]
    budgets = []
    for rung in LADDER:
        shape, recipe = PRESET_RECIPES[rung]
        cfg = get_preset(rung)
        assert recipe == LADDER_RECIPE and cfg.data == tiny.data
        assert [st["set"] for st in cfg.stages] == [st["set"] for st in tiny.stages]
        budget = SHAPES[shape]["train"].get("steps", tiny.train.steps)
        assert cfg.train.steps == budget == sum(st["steps"] for st in cfg.stages)
        assert [st["steps"] / budget for st in cfg.stages] == pytest.approx(tiny_shares, abs=1e-3)
        assert stage_configs(cfg)[-1][0] == cfg.train.steps - cfg.stages[-1]["steps"]
        budgets.append(budget)
    assert budgets[:2] == [2500, 2500] and budgets[2:] == sorted(budgets[2:]) and budgets[-1] > 10_000
    # a recipe without stages on a GPU shape keeps the shape's steps as its one stage
    assert get_preset("small", recipe="mixed").train.steps == SHAPES["small"]["train"]["steps"]

def test_staged_presets_refuse_what_would_silently_lose(monkeypatch):
    with pytest.raises(UserError, match="stages set it"):
        apply_overrides(get_preset("tiny-roles"), ["data.seed=3"])
    with pytest.raises(UserError, match="use --steps"):
        apply_overrides(get_preset("tiny-roles"), ["train.steps=100"])
    with pytest.raises(UserError, match="at least 5 steps"):
        resolve_config("tiny-roles", 4, [])
    assert apply_overrides(get_preset("tiny-roles"), ["train.num_threads=1"]).train.num_threads == 1
    monkeypatch.setitem(PRESETS, "bad", {"stages": [dict(steps=5, set={"model.n_layer": 2})]})
    with pytest.raises(UserError, match="model.n_layer"):
        get_preset("bad")


def test_a_stage_that_freezes_layers_keeps_them_and_a_wrong_name_stops_before_training(tmp_path, env):
    second = dict(steps=4, set={**MICRO["stages"][1]["set"], "train.frozen": "blocks.0.attn"})
    staged = dict(MICRO, stages=[dict(MICRO["stages"][0], steps=4), second])
    out = tmp_path / "frozen"
    first = pretrain(out, dict(env, MICRO_PRESET=json.dumps(dict(staged, stages=staged["stages"][:1]))))
    assert first.returncode == 0, first.stderr
    after_stage_1 = load_file(out / "model.safetensors")
    proc = pretrain(tmp_path / "both", dict(env, MICRO_PRESET=json.dumps(staged)))
    assert proc.returncode == 0, proc.stderr
    end = load_file(tmp_path / "both" / "model.safetensors")
    # stage 1 of both runs is the same run; stage 2 trains all but layer 0's attention
    for name, w in end.items():
        assert torch.equal(w, after_stage_1[name]) == name.startswith("blocks.0.attn"), name
    wrong = dict(staged, stages=[staged["stages"][0], dict(steps=4, set={"train.frozen": "blocks.9"})])
    proc = pretrain(tmp_path / "wrong", dict(env, MICRO_PRESET=json.dumps(wrong)))
    assert proc.returncode == 2 and "names no parameter" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "wrong" / "metrics.jsonl").exists() or not records(tmp_path / "wrong")


def test_extending_a_run_by_a_stage_is_the_longer_run_and_a_config_that_does_not_extend_it_stops(
        reference, tmp_path, env):
    """`--extend`: a run of the first stage, continued under the two-stage config, ends bitwise where the
    two-stage run from step 0 ends; its config.json is then the two-stage one, with where it came from."""
    out = tmp_path / "extended"
    first = dict(env, MICRO_PRESET=json.dumps(dict(MICRO, stages=MICRO["stages"][:1])))
    assert pretrain(out, first).returncode == 0
    fewer = dict(env, MICRO_PRESET=json.dumps(dict(MICRO, stages=[dict(MICRO["stages"][0], steps=3)])))
    proc = pretrain(out, fewer, "--extend")  # a stage fewer (and shorter) does not extend the run
    assert proc.returncode == 2 and "does not extend" in proc.stderr and "Traceback" not in proc.stderr
    other = dict(MICRO, stages=[dict(MICRO["stages"][0], steps=5), MICRO["stages"][1]])
    proc = pretrain(out, dict(env, MICRO_PRESET=json.dumps(other)), "--extend")
    assert proc.returncode == 2 and "stage 1 differs" in proc.stderr
    proc = pretrain(out, env, "--extend", "--set", "model.d_model=16", "--set", "model.n_head=2")
    assert proc.returncode == 2 and "model.d_model" in proc.stderr
    assert [r["step"] for r in records(out)] == list(range(1, 7))  # nothing written by the refusals
    proc = pretrain(out, env, "--extend")
    assert proc.returncode == 0, proc.stderr
    want, got = load_file(reference / "model.safetensors"), load_file(out / "model.safetensors")
    assert all(torch.equal(want[name], got[name]) for name in want)
    assert [r["loss"] for r in records(out)] == [r["loss"] for r in records(reference)]
    config = json.loads((out / "config.json").read_text())
    assert config["stages"] == MICRO["stages"] and config["train"]["steps"] == 12
    assert [e["from_steps"] for e in config["meta"]["extended"]] == [6]
    again = pretrain(out, env, "--extend")  # extended already: continued as --resume does (nothing left)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "config.json").read_text()) == config
    assert torch.equal(load_file(out / "model.safetensors")[name := next(iter(want))], want[name])
    proc = pretrain(tmp_path / "none", env, "--extend")
    assert proc.returncode == 2 and "--extend" in proc.stderr and "no run to continue" in proc.stderr
