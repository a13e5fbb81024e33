"""`minigen data export NAME --format lm-eval`: lm-evaluation-harness, run on the exported model, scores
every item as `minigen compare` does, in the `base` condition and in the ICL variant built from the
contexts compare wrote (icl_contexts.jsonl): the same predicted option for every item and the same
summed log-probabilities (1e-4), on a tiny random run directory."""

import json

import pytest

pytest.importorskip("transformers")
lm_eval = pytest.importorskip("lm_eval")

from minigen.cli import main  # noqa: E402
from minigen.data.export import export_lm_eval  # noqa: E402
from minigen.interop.hf import export_hf  # noqa: E402
from minigen.interop.lmeval import agreement, read_scores, samples_by_id  # noqa: E402

SIZE = 6


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(key, "1")


def lm_eval_samples(hf_dir, include_path, groups: list[str]) -> dict:
    import torch
    from lm_eval.tasks import TaskManager

    torch.set_num_threads(1)
    # Only our tasks: indexing the thousands of built-in task files takes ~20 s.
    tasks = TaskManager(include_path=str(include_path), include_defaults=False)
    out = lm_eval.simple_evaluate(
        model="hf", model_args=f"pretrained={hf_dir},dtype=float32", tasks=groups, device="cpu",
        batch_size=16, log_samples=True, task_manager=tasks)
    return {task: samples_by_id(rows) for task, rows in out["samples"].items()}


def test_lm_eval_scores_base_and_icl_as_compare(run_dir, tmp_path):
    """compare's own per-dataset evaluation (`evaluate_dataset`, which writes scores.jsonl and
    icl_contexts.jsonl; no vocabulary counts, to stay fast), then lm-eval on the exported model."""
    import io

    from minigen.checkpoint import load_run
    from minigen.compare import condition_registry, evaluate_dataset
    from minigen.eval.options import CompareOptions, apply_overrides

    model, tokenizer, cfg = load_run(run_dir)
    options = apply_overrides(CompareOptions(), [f"dataset.size={SIZE}"])
    scores, contexts = io.StringIO(), io.StringIO()
    conditions = {c: condition_registry()[c] for c in ("base", "icl")}
    evaluate_dataset("reversal", model, tokenizer, cfg, conditions, 1, options, tmp_path, scores,
                     counts=None, contexts_file=contexts)
    (tmp_path / "scores.jsonl").write_text(scores.getvalue())
    (tmp_path / "icl_contexts.jsonl").write_text(contexts.getvalue())
    assert contexts.getvalue()
    export_hf(run_dir, tmp_path / "hf")
    tasks = tmp_path / "tasks"
    base, n = export_lm_eval("reversal", tasks, size=SIZE)
    icl, _ = export_lm_eval("reversal", tasks, size=SIZE, contexts=tmp_path / "icl_contexts.jsonl",
                            context_seed=0)
    assert (base, icl) == ("minigen_reversal", "minigen_reversal_icl_seed0")
    samples = lm_eval_samples(tmp_path / "hf", tasks, [base, icl])
    for group, condition in ((base, "base"), (icl, "icl")):
        theirs = {k: v for task, rows in samples.items() if task.startswith(group + "_")
                  and (group == icl or "_icl_" not in task) for k, v in rows.items()}
        report = agreement(theirs, read_scores(tmp_path / "scores.jsonl", condition, 0))
        assert sum(g["n"] for g in report["splits"].values()) == n
        assert not report["only_lm_eval"] and not report["only_compare"]
        for key, g in report["splits"].items():
            assert g["predicted_differ"] == 0 and g["correct_differ"] == 0, (condition, key, g)
            assert g["max_abs_logprob_diff"] < 1e-4, (condition, key, g)


def test_lm_eval_export_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "ctx.jsonl").write_text(json.dumps({"dataset": "reversal", "condition": "icl", "seed": 0,
                                                    "context": "x\n", "items": ["reversal-000"]}) + "\n")
    cases = [
        (["--format", "csv"], "--format 'csv' is unknown"),
        (["--icl-contexts", str(tmp_path / "ctx.jsonl")], "only for --format lm-eval"),
        (["--format", "lm-eval", "--icl-contexts", str(tmp_path / "none.jsonl")], "not found"),
        (["--format", "lm-eval", "--icl-contexts", str(tmp_path / "ctx.jsonl"), "--icl-seed", "2"],
         "no 'reversal' contexts for seed 2"),
        (["--format", "lm-eval", "--icl-contexts", str(tmp_path / "ctx.jsonl")], "has no context for"),
    ]
    for extra, message in cases:
        with pytest.raises(SystemExit) as e:
            main(["data", "export", "reversal", "--out", str(tmp_path / "out"), *extra])
        err = capsys.readouterr().err
        assert e.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err
