"""`minigen pretrain` end to end on a micro config: the run directory, exact resume after SIGKILL,
data parallelism under torchrun, load_run, and bad input (exit code 2, one line, nothing overwritten)."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from minigen.checkpoint import load_run
from minigen.cli import main
from minigen.errors import UserError
from minigen.inference import score

MICRO = ["model.n_layer=1", "model.d_model=32", "model.n_head=2", "model.seq_len=32", "train.batch_size=4",
         "train.ckpt_every=4", "train.eval_every=0", "train.probe_items=2",
         "train.heldout_rows=2", "train.log_every=1"]
STEPS = 12


def args(out, *extra, steps=STEPS):
    sets = [a for kv in MICRO for a in ("--set", kv)]
    return ["pretrain", "--out", str(out), "--steps", str(steps), "--wandb", "disabled", *sets, *extra]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = dict(os.environ, MINIGEN_CACHE=str(tmp_path_factory.mktemp("cache")), WANDB_MODE="disabled",
             OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return e


def run_cli(argv, env, prefix=("-m", "minigen")):
    cmd = [sys.executable, *prefix, *argv]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, env):
    """An uninterrupted micro run."""
    out = tmp_path_factory.mktemp("runs") / "reference"
    proc = run_cli(args(out), env)
    assert proc.returncode == 0, proc.stderr
    return out


def losses(run_dir):
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]


def test_run_directory_contract(reference):
    for name in ("config.json", "tokenizer.json", "model.safetensors", "trainer_state.pt", "metrics.jsonl",
                 "probe_baselines.json"):
        assert (reference / name).exists(), name
    config = json.loads((reference / "config.json").read_text())
    assert {"model", "train", "data", "meta"} <= set(config) and "git_commit" in config["meta"]
    assert "torch" in config["meta"]["versions"]
    records = [json.loads(line) for line in (reference / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, STEPS + 1))
    assert {"loss", "lr", "tokens_per_s"} <= set(records[0])
    assert "heldout_loss" in records[-1]
    # No probe item's documents fit in 32 tokens: the probe leaves them out instead of cutting them.
    assert not any(k.startswith("probe_") for k in records[-1])
    model, tokenizer, cfg = load_run(reference)
    assert cfg.train.steps == STEPS and model.cfg.vocab_size == tokenizer.vocab_size
    assert len(score(model, [[tokenizer.bos_id]], [tokenizer.encode("All glon are")])) == 1


KILLER = """
import os, signal, sys
import minigen.checkpoint as ck
append = ck.append_metrics
def append_then_die(run_dir, record):
    append(run_dir, record)
    if record["step"] == 10:  # two steps after the checkpoint at step 8
        os.kill(os.getpid(), signal.SIGKILL)
ck.append_metrics = append_then_die
from minigen.cli import main
main(sys.argv[1:])
"""


@pytest.mark.slow
def test_sigkill_then_resume_is_bitwise_identical(reference, tmp_path, env):
    out = tmp_path / "killed"
    proc = run_cli(args(out), env, prefix=("-c", KILLER))
    assert proc.returncode == -9, proc.stderr
    assert torch.load(out / "trainer_state.pt", weights_only=False)["step"] == 8
    proc = run_cli(args(out, "--resume"), env)
    assert proc.returncode == 0, proc.stderr
    want, got = load_file(reference / "model.safetensors"), load_file(out / "model.safetensors")
    assert want.keys() == got.keys()
    for name in want:
        assert torch.equal(want[name], got[name]), name
    assert losses(out) == losses(reference)


# Compiled, on a shape and thread count where inductor's parallel kernels do race: with
# train.deterministic=false, two such runs differed in 5 of 8 tensors
# (docs/log/2026-12-01-compiled-determinism.md).
COMPILED = ("--set", "train.compile=true", "--set", "train.compile_min_steps=1", "--set", "model.d_model=64",
            "--set", "model.seq_len=128", "--set", "train.batch_size=8")


def same_weights(a, b) -> bool:
    want, got = load_file(a / "model.safetensors"), load_file(b / "model.safetensors")
    return want.keys() == got.keys() and all(torch.equal(want[k], got[k]) for k in want)


@pytest.mark.slow
def test_compiled_runs_are_bitwise_identical_and_resume_exactly(tmp_path, env):
    """torch.compile on (train.deterministic, the default): two runs of one command give the same
    weights and losses, and a run killed after its step-8 checkpoint and resumed (compiled again) ends
    as the uninterrupted one."""
    first, second, killed = tmp_path / "first", tmp_path / "second", tmp_path / "killed"
    env = dict(env, OMP_NUM_THREADS="2")
    for out in (first, second):
        proc = run_cli(args(out, *COMPILED), env)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert same_weights(first, second) and losses(first) == losses(second)
    proc = run_cli(args(killed, *COMPILED), env, prefix=("-c", KILLER))
    assert proc.returncode == -9, proc.stderr[-3000:]
    proc = run_cli(args(killed, *COMPILED, "--resume"), env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert same_weights(first, killed) and losses(killed) == losses(first)


# --standalone: torchrun picks a free rendezvous port itself (a port chosen here could be taken
# before torchrun binds it).
TORCHRUN = ("-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2")


@pytest.mark.slow
def test_two_processes_under_torchrun_match_one(reference, tmp_path, env):
    out = tmp_path / "ddp"
    proc = run_cli(args(out), env, prefix=(*TORCHRUN, "-m", "minigen"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert losses(out) == pytest.approx(losses(reference), abs=1e-5)


def test_fsdp_killed_and_resumed_matches_one_process(reference, tmp_path, env):
    """FSDP2 (sharded state): same losses and weights as one process, through a SIGKILL and --resume
    (the checkpoint is gathered from the shards, and loaded back into them)."""
    killer = tmp_path / "killer.py"
    killer.write_text(KILLER)
    out, fsdp = tmp_path / "fsdp", ("--set", "train.parallel=fsdp")
    proc = run_cli(args(out, *fsdp), env, prefix=(*TORCHRUN, str(killer)))
    assert proc.returncode != 0
    assert torch.load(out / "trainer_state.pt", weights_only=False)["step"] == 8
    proc = run_cli(args(out, *fsdp, "--resume"), env, prefix=(*TORCHRUN, "-m", "minigen"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert losses(out) == pytest.approx(losses(reference), abs=1e-5)
    want, got = load_file(reference / "model.safetensors"), load_file(out / "model.safetensors")
    assert want.keys() == got.keys()
    for name in want:
        torch.testing.assert_close(got[name], want[name], atol=1e-5, rtol=0)
    model, _, cfg = load_run(out)  # a sharded run's weights load like any other
    assert cfg.train.parallel == "fsdp" and model.num_params() > 0


def fingerprint(run_dir):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(run_dir).iterdir())}


def exit_code_and_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err.strip()
    return e.value.code, err


@pytest.mark.parametrize("bad", [
    ["--preset", "huge"], ["--set", "train.nope=1"], ["--set", "train.lr=fast"], ["--set", "steps=3"],
    ["--wandb", "loud"],
])
def test_bad_input_exits_2_with_one_line(bad, tmp_path, capsys):
    code, err = exit_code_and_line(["pretrain", "--out", str(tmp_path / "x"), *bad], capsys)
    assert code == 2 and err.startswith("error:") and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_resume_with_a_different_config_changes_nothing(reference, capsys):
    before = fingerprint(reference)
    code, err = exit_code_and_line(args(reference, "--resume", "--set", "train.lr=0.5"), capsys)
    assert code == 2 and "train.lr" in err and len(err.splitlines()) == 1
    code, err = exit_code_and_line(args(reference), capsys)  # a new run into a non-empty dir
    assert code == 2 and "--resume" in err
    assert fingerprint(reference) == before


def test_resume_without_a_run_and_load_run_errors(tmp_path, reference, capsys):
    code, err = exit_code_and_line(args(tmp_path / "none", "--resume"), capsys)
    assert code == 2 and "minigen pretrain --out" in err
    with pytest.raises(UserError, match="minigen pretrain --out"):
        load_run(tmp_path / "missing")
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (broken / name).write_bytes((reference / name).read_bytes())
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(UserError, match="corrupt"):
        load_run(broken)
