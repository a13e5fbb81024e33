"""lm-evaluation-harness against `minigen compare`, item by item.

`minigen data export NAME --format lm-eval` writes the tasks; `lm_eval ... --log_samples` writes one
samples_TASK_*.jsonl per task, each line an item's `doc` (with minigen's item id) and the summed
log-probability of each option. `agreement` reads those beside compare's scores.jsonl and counts the
items whose predicted option (or whose correctness) differs, and the largest log-probability gap:

    python -m minigen.interop.lmeval LM_EVAL_OUTPUT_DIR runs/tiny/compare/all/scores.jsonl --condition base
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from minigen.errors import UserError


def read_samples(path) -> dict[str, dict]:
    """{item id: {"dataset", "split", "logprob", "gold", "acc"}} from every lm-eval samples file of a
    minigen task under `path` (a directory, searched recursively, or one file)."""
    from minigen.data.export import LM_EVAL_PREFIX

    path = Path(path)
    files = [path] if path.is_file() else sorted(path.rglob(f"samples_{LM_EVAL_PREFIX}*.jsonl"))
    if not files:
        raise UserError(f"no lm-eval samples_{LM_EVAL_PREFIX}*.jsonl under {path}; run lm_eval with "
                        f"--log_samples --output_path {path}")
    return samples_by_id(json.loads(line) for file in files for line in file.read_text().splitlines())


def samples_by_id(rows) -> dict[str, dict]:
    """lm-eval sample records (as logged, or `simple_evaluate(...)["samples"][task]`) by item id."""
    out = {}
    for row in rows:
        doc = row["doc"]
        out[doc["id"]] = {"split": doc["split"], "gold": doc["gold"], "acc": row["acc"],
                          "logprob": [float(r[0]) for r in row["filtered_resps"]]}
    return out


def read_scores(path, condition: str = "base", seed: int = 0) -> dict[str, dict]:
    """{item id: row} of one condition and seed from compare's scores.jsonl."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path} not found; give the scores.jsonl that `minigen compare` wrote")
    out = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        if row["condition"] == condition and row["seed"] == seed:
            out[row["id"]] = row
    if not out:
        raise UserError(f"{path} has no rows of condition {condition!r} at seed {seed}")
    return out


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)  # first maximum, as compare and np.argmax


def agreement(samples: dict[str, dict], scores: dict[str, dict]) -> dict:
    """Per (dataset, split) of the items in both: n, accuracies, items whose prediction differs, whose
    correctness differs, and the largest |log-probability| difference; items only in one of them."""
    groups: dict[tuple[str, str], dict] = {}
    for item_id, theirs in samples.items():
        ours = scores.get(item_id)
        if ours is None:
            continue
        g = groups.setdefault((ours["dataset"], ours["split"]), {
            "n": 0, "acc_lm_eval": 0.0, "acc_compare": 0.0, "predicted_differ": 0, "correct_differ": 0,
            "max_abs_logprob_diff": 0.0, "differing_ids": []})
        g["n"] += 1
        g["acc_lm_eval"] += theirs["acc"]
        g["acc_compare"] += float(ours["correct"])
        if _argmax(theirs["logprob"]) != _argmax(ours["logprob"]):
            g["predicted_differ"] += 1
            g["differing_ids"].append(item_id)
        g["correct_differ"] += bool(theirs["acc"]) != bool(ours["correct"])
        gap = max(abs(a - b) for a, b in zip(theirs["logprob"], ours["logprob"], strict=True))
        g["max_abs_logprob_diff"] = max(g["max_abs_logprob_diff"], gap)
    for g in groups.values():
        g["acc_lm_eval"] /= g["n"]
        g["acc_compare"] /= g["n"]
    datasets = {ds for ds, _ in groups}
    return {"splits": {f"{ds}/{split}": g for (ds, split), g in sorted(groups.items())},
            "only_lm_eval": sorted(set(samples) - set(scores)),
            "only_compare": sorted(i for i, r in scores.items()
                                   if i not in samples and r["dataset"] in datasets)}


def format_agreement(report: dict) -> str:
    lines = ["| dataset/split | items | acc lm-eval | acc compare | prediction differs | correct differs | "
             "max abs logprob diff |", "|---|---|---|---|---|---|---|"]
    for key, g in report["splits"].items():
        lines.append(f"| {key} | {g['n']} | {g['acc_lm_eval']:.3f} | {g['acc_compare']:.3f} | "
                     f"{g['predicted_differ']} | {g['correct_differ']} | {g['max_abs_logprob_diff']:.2e} |")
    lines.append(f"items only in lm-eval: {len(report['only_lm_eval'])}; only in compare (same datasets): "
                 f"{len(report['only_compare'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", type=Path, help="lm_eval --output_path directory (or one samples file)")
    parser.add_argument("scores", type=Path, help="compare's scores.jsonl")
    parser.add_argument("--condition", default="base")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        report = agreement(read_samples(args.samples), read_scores(args.scores, args.condition, args.seed))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    print(format_agreement(report))


if __name__ == "__main__":
    main()
