"""`minigen report`: fake results.json files (compare's layout) -> figures + report.md."""

from __future__ import annotations

import json

import pytest

from minigen.errors import UserError
from minigen.report import load_records, run_report, swept_params


def fake_results(size: int, acc: dict[str, float]) -> dict:
    def splits(a):
        return {"reversal": {"acc": a, "ci": [a - 0.05, a + 0.05], "n": 100, "seeds": 3, "chance": 0.5},
                "train": {"acc": 0.9, "ci": [0.85, 0.95], "n": 100, "seeds": 3, "chance": 0.5}}
    return {"model": {"params": size}, "datasets": {"reversal": {
        "test_splits": ["reversal", "train"], "chance": {"reversal": 0.5, "train": 0.5},
        "conditions": {cond: {"splits": splits(a)} for cond, a in acc.items()}}}}


def make_sweep(root, runs: list[tuple[dict, dict | None]]):
    for k, (params, results) in enumerate(runs):
        run_dir = root / "runs" / f"run{k}"
        run_dir.mkdir(parents=True)
        (run_dir / "params.json").write_text(json.dumps(params))
        if results is None:
            (run_dir / "status.json").write_text(json.dumps({"status": "failed", "stderr_tail": "x\nOOM"}))
        else:
            (run_dir / "results.json").write_text(json.dumps(results))
    (root / "plan.json").write_text(json.dumps({"name": "demo"}))
    return root


def test_report_writes_the_scaling_figure_ablation_and_markdown(tmp_path):
    runs = []
    for preset, size in (("tiny", 10**6), ("small", 10**7), ("medium", 5 * 10**7)):
        for lr in (1e-4, 1e-3):
            acc = {"base": 0.5, "icl": 0.6 + 0.1 * len(runs) / 6, "ft": 0.5 + lr * 10}
            runs.append(({"preset": preset, "split": "reversal", "ft.lr": lr}, fake_results(size, acc)))
    runs.append(({"preset": "tiny", "split": "reversal", "ft.lr": 0.01}, None))  # a failed run
    sweep = make_sweep(tmp_path / "sweep", runs)
    path = run_report(sweep, wandb_mode="disabled")
    assert (sweep / "scaling.png").stat().st_size > 1000
    assert (sweep / "ablation_ft.lr.png").stat().st_size > 1000
    text = path.read_text()
    assert "# Sweep report: demo" in text and "![Scaling" in text and "ablation_ft.lr.png" in text
    assert "| run | preset | ft.lr | params | dataset / split | chance | base | icl | ft |" in text
    assert "| run0 | tiny | 0.0001 | 1.00M | reversal / reversal | 0.50 | 0.500 [0.45, 0.55]" in text
    assert "run6: failed (OOM)" in text


def test_records_and_swept_parameters(tmp_path):
    sweep = make_sweep(tmp_path, [({"preset": "tiny", "seeds": 3}, fake_results(10, {"icl": 0.7})),
                                  ({"preset": "small", "seeds": 3}, fake_results(20, {"icl": 0.8}))])
    records, missing = load_records(sweep)
    assert len(records) == 4 and not missing  # 2 runs x 2 splits x 1 condition
    assert swept_params(records) == ["preset"]
    assert {r.model_params for r in records} == {10, 20}


def test_one_model_size_gives_no_scaling_figure(tmp_path):
    sweep = make_sweep(tmp_path, [({"icl.max_tokens": 128}, fake_results(10, {"icl": 0.7})),
                                  ({"icl.max_tokens": 256}, fake_results(10, {"icl": 0.8}))])
    run_report(sweep, wandb_mode="disabled")
    assert not (sweep / "scaling.png").exists() and (sweep / "ablation_icl.max_tokens.png").exists()


def test_categorical_ablation_axis(tmp_path):
    sweep = make_sweep(tmp_path, [({"ft.sentences": s}, fake_results(10, {"ft": a}))
                                  for s, a in (("none", 0.5), ("independent", 0.6), ("cumulative", 0.7))])
    run_report(sweep, wandb_mode="disabled")
    assert (sweep / "ablation_ft.sentences.png").exists()


def test_report_without_results_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no results.json"):
        run_report(tmp_path, wandb_mode="disabled")
    with pytest.raises(UserError, match="not a directory"):
        run_report(tmp_path / "missing", wandb_mode="disabled")
