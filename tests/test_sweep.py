"""The sweep runner: W&B schema parsing and validation, grid / random expansion, macros, resume,
failure handling. The runs are a fake program (a tiny Python script), so nothing trains here."""

from __future__ import annotations

import json
import math
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from minigen.errors import UserError
from minigen.sweep import plan_runs, run_sweep
from minigen.sweep_config import build_command, expand, load_sweep, parse_sweep, run_id, varied

# Writes a compare-shaped results.json into $MINIGEN_RUN_DIR, logs each call, fails on --fail=True.
FAKE_PROGRAM = textwrap.dedent("""
    import json, os, sys
    params = dict(a[2:].split("=", 1) for a in sys.argv[1:])
    run_dir = os.environ["MINIGEN_RUN_DIR"]
    with open(os.path.join(os.path.dirname(__file__), "calls.log"), "a") as f:
        f.write(json.dumps(params) + "\\n")
    if params.get("fail") == "True":
        print("boom: this run was asked to fail", file=sys.stderr)
        sys.exit(3)
    acc = float(params.get("lr", 0.5))
    split = {"acc": acc, "ci": [acc - 0.1, acc + 0.1], "n": 10, "seeds": 1, "chance": 0.5}
    results = {"model": {"params": 1000}, "group": os.environ.get("WANDB_RUN_GROUP"),
               "datasets": {"reversal": {"test_splits": ["reversal"], "chance": {"reversal": 0.5},
                                         "conditions": {"icl": {"splits": {"reversal": split}}}}}}
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(results, f)
""")


def sweep_dict(**overrides) -> dict:
    raw = {"name": "demo", "program": "train.py", "method": "grid",
           "parameters": {"lr": {"values": [0.1, 0.2]}, "layers": {"values": [1, 2, 3]},
                          "tag": {"value": "x"}}}
    raw.update(overrides)
    return raw


def write_sweep(tmp_path, parameters: dict, **extra):
    program = tmp_path / "fake.py"
    program.write_text(FAKE_PROGRAM)
    raw = {"name": "fake", "program": str(program), "method": "grid", "parameters": parameters,
           "metric": {"name": "reversal/icl/reversal/acc", "goal": "maximize"}, **extra}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def calls(tmp_path) -> list[dict]:
    log = tmp_path / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_grid_expands_every_combination_in_file_order():
    runs = expand(parse_sweep(sweep_dict()))
    assert len(runs) == 6
    assert runs[0] == {"lr": 0.1, "layers": 1, "tag": "x"}
    assert runs[-1] == {"lr": 0.2, "layers": 3, "tag": "x"}
    assert len({json.dumps(r, sort_keys=True) for r in runs}) == 6


def test_grid_nested_parameters_int_uniform_and_run_cap():
    raw = sweep_dict(parameters={"ft": {"parameters": {"lr": {"values": [1, 2]}, "steps": {"value": 5}}},
                                 "n": {"distribution": "int_uniform", "min": 1, "max": 3}}, run_cap=4)
    runs = expand(parse_sweep(raw))
    assert runs[0] == {"ft": {"lr": 1, "steps": 5}, "n": 1}
    assert len(runs) == 4  # 2 x 3 capped at 4


def test_random_sampling_is_reproducible_with_a_seed_and_respects_the_distributions():
    raw = sweep_dict(method="random", run_cap=20, parameters={
        "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2},
        "drop": {"min": 0.0, "max": 0.5},
        "layers": {"min": 1, "max": 4},
        "opt": {"values": ["adam", "sgd"], "probabilities": [0.9, 0.1]},
        "q": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 2},
        "mu": {"distribution": "normal", "mu": 5, "sigma": 0.1}})
    sweep = parse_sweep(raw)
    first, again, other = expand(sweep, seed=1), expand(sweep, seed=1), expand(sweep, seed=2)
    assert first == again and first != other and len(first) == 20
    for run in first:
        assert 1e-4 <= run["lr"] <= 1e-2 and 0.0 <= run["drop"] <= 0.5
        assert run["layers"] in (1, 2, 3, 4) and run["q"] % 2 == 0 and abs(run["mu"] - 5) < 1
    assert sum(r["opt"] == "adam" for r in first) > 10
    # log-uniform: about as many draws below the geometric mean as above it
    assert 4 <= sum(r["lr"] < math.sqrt(1e-6) for r in first) <= 16


def test_macros_expand_like_wandb_agent():
    raw = sweep_dict(command=["${env}", "${interpreter}", "${program}", "--dir=${envvar:OUT_DIR}", "${args}"])
    sweep = parse_sweep(raw)
    params = {"lr": 0.1, "flag": True, "off": False, "name": "a b"}
    argv = build_command(sweep, params, "python3", env={"OUT_DIR": "/o"})
    assert argv == ["/usr/bin/env", "python3", "train.py", "--dir=/o", "--lr=0.1", "--flag=True",
                    "--off=False", "--name=a b"]
    for macro, tail in [("${args_no_hyphens}", ["lr=0.1", "flag=True", "off=False", "name=a b"]),
                        ("${args_no_boolean_flags}", ["--lr=0.1", "--flag", "--name=a b"]),
                        ("${args_json}", [json.dumps(params)])]:
        sweep = parse_sweep(sweep_dict(command=["prog", macro]))
        assert build_command(sweep, params, "py") == ["prog", *tail]


@pytest.mark.parametrize("change, field", [
    ({"learning_rate": 1}, "learning_rate"),                                   # unknown top-level field
    ({"parameters": {"lr": {"valuez": [1]}}}, "valuez"),                        # unknown parameter field
    ({"method": "bayes"}, "bayes"),
    ({"method": "hyperband"}, "method"),
    ({"parameters": {"lr": {"min": 0.1, "max": 1.0}}}, "parameters.lr"),       # continuous in a grid
    ({"parameters": {"lr": {"distribution": "gaussian", "values": [1]}}}, "parameters.lr.distribution"),
    ({"parameters": {"lr": {"values": [1, 2], "probabilities": [0.5]}}}, "parameters.lr.probabilities"),
    ({"parameters": {"lr": 0.1}}, "parameters.lr"),
    ({"method": "random", "run_cap": 2, "parameters": {"lr": {"min": 0, "max": 0.5}}}, "parameters.lr"),
    ({"parameters": {}}, "parameters"),
    ({"metric": {"name": "acc", "goal": "up"}}, "metric.goal"),
    ({"method": "random", "run_cap": None}, "run_cap"),
    ({"command": ["${program}", "${argz}"]}, "${argz}"),
])
def test_invalid_schema_names_the_field(change, field):
    raw = sweep_dict(**change)
    if raw.get("run_cap", 0) is None:
        del raw["run_cap"]
    with pytest.raises(UserError, match=field.replace("$", r"\$").replace("{", r"\{").replace(".", r"\.")):
        parse_sweep(raw)


def test_cli_reports_a_bad_file_in_one_line_with_exit_code_2(tmp_path, capsys):
    from minigen.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(sweep_dict(parameters={"lr": {"valus": [1, 2]}})))
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error:") and "valus" in err
    assert not (tmp_path / "out").exists()  # nothing ran


def test_unknown_minigen_run_parameter_is_refused_before_any_run(tmp_path):
    raw = sweep_dict(command=["minigen", "run", "${args}"],
                     parameters={"preset": {"value": "tiny"}, "lerning_rate": {"values": [1, 2]}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(UserError, match="lerning_rate"):
        run_sweep(path, out=tmp_path / "out", wandb_mode="disabled")
    assert not (tmp_path / "out").exists()


def test_load_sweep_reports_yaml_errors_and_missing_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_sweep(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("command: [minigen, run, ${args}]\n")  # a flow list cannot hold ${...}: use a block list
    with pytest.raises(UserError, match="not valid YAML"):
        load_sweep(bad)


def test_sweep_runs_resumes_and_skips_finished_runs(tmp_path):
    path = write_sweep(tmp_path, {"lr": {"values": [0.1, 0.2]}, "n": {"values": [1, 2]}})
    out = tmp_path / "out"
    summary = run_sweep(path, out=out, wandb_mode="disabled")
    assert summary["done"] == 4 and not summary["failed"] and len(calls(tmp_path)) == 4
    assert summary["best"]["params"]["lr"] == 0.2  # the metric read from each run's results.json
    first = json.loads(next((out / "runs").glob("*/results.json")).read_text())
    assert first["group"] == "fake"  # W&B group = the sweep's name
    run_sweep(path, out=out, wandb_mode="disabled")
    assert len(calls(tmp_path)) == 4  # all finished: nothing reruns
    rid = run_id({"lr": 0.1, "n": 2}, ["lr", "n"])
    assert rid.startswith("0.1-2-")
    (out / "runs" / rid / "status.json").unlink()  # as if that run had been interrupted
    run_sweep(path, out=out, wandb_mode="disabled")
    assert calls(tmp_path)[4:] == [{"lr": "0.1", "n": "2"}]


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    path = write_sweep(tmp_path, {"fail": {"values": [True, False]}, "lr": {"values": [0.3, 0.4]}})
    summary = run_sweep(path, out=tmp_path / "out", workers=2, wandb_mode="disabled")
    assert summary["done"] == 2 and len(summary["failed"]) == 2 and len(calls(tmp_path)) == 4
    status = json.loads((tmp_path / "out" / "runs" / summary["failed"][0] / "status.json").read_text())
    assert status["status"] == "failed" and status["returncode"] == 3 and "boom" in status["stderr_tail"]


def test_cli_exit_code_is_1_when_a_run_failed(tmp_path, capsys):
    from minigen.cli import main

    path = write_sweep(tmp_path, {"fail": {"values": [True]}})
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(path), "--out", str(tmp_path / "out"), "--wandb", "disabled"])
    assert exit_info.value.code == 1 and "FAILED (exit 3)" in capsys.readouterr().out


def test_duplicate_runs_are_planned_once(tmp_path):
    path = write_sweep(tmp_path, {"lr": {"values": [0.1, 0.1, 0.2]}})
    assert len(plan_runs(load_sweep(path))) == 2


def test_run_ids_are_deterministic_and_distinct():
    assert run_id({"a": 1, "b": "x"}) == run_id({"b": "x", "a": 1})
    assert run_id({"a": 1}) != run_id({"a": 2})
    assert all(c.isalnum() or c in "-+." for c in run_id({"conditions": "base,icl", "lr": 1e-4}))
    params = {"preset": "tiny", "ft": {"lr": 0.001}, "seeds": 3}
    assert run_id(params, ["preset", "ft.lr"]).startswith("tiny-0.001-")
    assert run_id(params, ["preset"])[-8:] == run_id(params)[-8:]  # the hash covers every parameter


def test_varied_lists_the_parameters_that_take_several_values():
    raw = sweep_dict(parameters={"a": {"value": 1}, "b": {"values": [1]}, "c": {"values": [1, 2]},
                                 "ft": {"parameters": {"lr": {"values": [1, 2]}, "s": {"value": 0}}}})
    assert varied(parse_sweep(raw)) == ["c", "ft.lr"]


def test_dry_run_prints_commands_and_runs_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path, {"lr": {"values": [0.1, 0.2]}})
    run_sweep(path, out=tmp_path / "out", dry_run=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(sys.executable) and lines[0].endswith("--lr=0.1")
    assert not (tmp_path / "out").exists() and not calls(tmp_path)


@pytest.mark.parametrize("path", sorted((Path(__file__).parent.parent / "experiments").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_experiment_file_is_valid(path):
    """Each sweep in experiments/ parses and every run's parameters pass the real configs' checks."""
    from minigen.experiment import check

    runs = expand(load_sweep(path))
    assert runs
    for params in runs:
        check(params)
