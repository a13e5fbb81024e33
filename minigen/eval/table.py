"""The comparison table `minigen compare` prints: condition x test split, then the heuristic rows, chance,
coverage and the notes a reader needs to trust (or distrust) each number."""

from __future__ import annotations

from minigen.eval.trained_facts import TRAINED_SPLITS

FORMAT_CONTROL = "ft-format"
FORMAT_TARGET = 0.95  # the format control must reach this before FT failures read as failures to generalize


def _cell(r: dict) -> str:
    if not r.get("interpretable", True):
        return f"n/i ({r['acc']:.2f})"
    mark = "" if r.get("above_heuristic", True) else " ~h"
    return f"{r['acc']:.3f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}] n={r['n']}x{r['seeds']}{mark}"


def format_table(results: dict) -> str:
    """condition x test split: accuracy [95% CI] (n items x seeds); "n/i (acc)": not interpretable
    (see the notes); "~h": the interval does not lie above the strongest heuristic that reads what the
    condition reads (for ICL its contexts, for the others the training documents)."""
    lines = []
    for name, ds in results["datasets"].items():
        splits = ds["test_splits"]
        cells = [[f"{name} ({ds.get('words', 'test')} words)"]
                 + [f"{s} (chance {ds['chance'][s]:.2f})" for s in splits]]
        for cond, res in ds["conditions"].items():
            cells.append([cond] + [_cell(res["splits"][s]) for s in splits])
        for h, res in ds.get("heuristics", {}).items():
            cells.append([f"heuristic: {h}"] + [
                f"{res['splits'][s]['acc']:.3f}" if s in res["splits"] else "-" for s in splits])
        widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
        for k, r in enumerate(cells):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.extend(protocol_notes(ds))
        lines.extend(condition_notes(ds))
        lines.append("")
    return "\n".join(lines)


def protocol_notes(ds: dict) -> list[str]:
    """Coverage, the strongest heuristic, the format control and the FT learning rate, as sentences."""
    notes = []
    cov = ds.get("coverage")
    if cov is not None:
        shown = ", ".join(repr(t) for t in cov["unseen"][:8]) + (" ..." if len(cov["unseen"]) > 8 else "")
        notes.append(f"  coverage: {cov['share']:.3f} of {cov['tokens']} prompt and option tokens occur in "
                     f"pretraining ({cov['rows_sampled']} rows sampled)" +
                     (f"; never seen: {shown}" + ("" if ds.get("not_scored") else ": every row is n/i")
                      if cov["unseen"] else ""))
    if ds.get("not_scored"):
        notes.append(f"  no condition scored: {ds['not_scored']}; `--set eval.uncovered=score` scores them")
    for cond, why in ds.get("not_run", {}).items():
        notes.append(f"  {cond} not run: {why}")
    strongest = ds.get("strongest_heuristic", {})
    if strongest:
        notes.append("  strongest heuristic: " + ", ".join(
            f"{s} {v['heuristic']} {v['acc']:.2f}" for s, v in strongest.items()))
    icl = ds["conditions"].get("icl")
    if icl is not None:
        matched = [s for s, r in icl["splits"].items() if r.get("interpretable", True)
                   and not r.get("above_heuristic", True)]
        if matched:
            notes.append(f"  icl does not beat the strongest heuristic on: {', '.join(matched)}")
        for s, r in icl["splits"].items():
            if r.get("reason") and (cov is None or cov["share"] == 1.0):
                notes.append(f"  icl on {s} is n/a: {r['reason']}")
    control = ds["conditions"].get(FORMAT_CONTROL)
    if control is not None:
        low = [f"{s} {r['acc']:.2f}" for s, r in control["splits"].items() if r["acc"] < FORMAT_TARGET]
        notes.append(f"  format control ({FORMAT_CONTROL}: finetuned on the test strings themselves): " + (
            f"below {FORMAT_TARGET} on {', '.join(low)}: FT cannot answer this test format from trained "
            f"sentences there, so an ft failure on those splits is not evidence that FT does not generalize"
            if low else f"every split >= {FORMAT_TARGET}: FT can answer the test format"))
    sweep = ds.get("ft_lr_sweep")
    if sweep is not None:
        notes.append(f"  ft lr {sweep['lr']:g}, chosen on trained facts ({sweep['split']}, seed 0): " +
                     ", ".join(f"{lr} -> {a:.2f}" for lr, a in sweep["acc"].items()))
    return notes


def condition_notes(ds: dict) -> list[str]:
    """One line per condition with what a reader needs to trust the numbers (means over seeds)."""
    notes = []
    for cond, res in ds["conditions"].items():
        infos = list(res["info"].values())

        def mean(key, infos=infos):
            return sum(i[key] for i in infos) / len(infos)

        if "contexts" in infos[0]:
            kind = "all training documents" if infos[0]["all_documents"] else "a sample (all do not fit)"
            notes.append(f"  {cond}: {kind}; {mean('contexts'):.0f} contexts per seed, "
                         f"{mean('context_tokens_mean'):.0f} tokens and {mean('docs_per_context_mean'):.1f} "
                         f"documents per context; {mean('items_truncated'):.0f} items lacked room for all "
                         f"their documents" + (f"; {mean('items_unbalanced'):.0f} had their answer in more "
                                               f"context documents than a distractor"
                                               if "items_unbalanced" in infos[0] else ""))
        if "balanced_items_acc" in infos[0]:
            splits = infos[0]["balanced_items_acc"]
            parts = [f"{k} {sum(i['balanced_items_acc'].get(k, 0) for i in infos) / len(infos):.3f} "
                     f"(n={sum(i['balanced_items_n'].get(k, 0) for i in infos) / len(infos):.0f})"
                     for k in splits]
            notes.append(f"  {cond} on the items whose context does not favour the answer: "
                         + ", ".join(parts))
        if "final_loss" in infos[0]:
            notes.append(f"  {cond}: {infos[0]['steps']} steps at lr {infos[0]['lr']:g} on "
                         f"{infos[0]['sequences']} sequences; loss {mean('first_loss'):.2f} -> "
                         f"{mean('final_loss'):.2f}; {mean('train_s'):.0f} s per seed")
        notes += augmentation_notes(cond, infos)
    return notes


def augmentation_notes(cond: str, infos: list[dict]) -> list[str]:
    """An aug-ft condition's augmentations, per strategy (means over seeds): generated, and the shares
    that parse, are valid, are new, are new and valid, state a test answer; test items answered."""
    notes = []
    for key in [k for k in infos[0] if k.startswith("augment_")]:
        runs = [i[key] for i in infos if key in i]

        def share(name, runs=runs):
            return f"{100 * sum(r[name] for r in runs) / len(runs):.0f}%"

        answered = []
        for split, c in runs[0]["test_items_answered"].items():
            mean_answered = sum(r["test_items_answered"][split]["answered"] for r in runs) / len(runs)
            answered.append(f"{split} {mean_answered:.0f}/{c['items']}")
        notes.append(f"  {cond} / {key.removeprefix('augment_')}: "
                     f"{sum(r['generated'] for r in runs) / len(runs):.0f} statements per seed; parse "
                     f"{share('share_parsed')}, valid {share('share_valid')}, new {share('share_new')}, "
                     f"new and valid {share('share_new_valid')}, "
                     f"state a test answer {share('share_states_answer')}"
                     + (f" (test items answered: {', '.join(answered)})" if answered else ""))
    return notes


def flat_metrics(results: dict) -> dict[str, float]:
    """`DATASET/CONDITION/SPLIT/acc` (and ci_lo, ci_hi), and `CONDITION/generalization_acc` (mean over
    the test splits other than the trained facts' (TRAINED_SPLITS)): the names a sweep's `metric` can use."""
    flat, generalization = {}, {}
    for name, ds in results.get("datasets", {}).items():
        for cond, res in ds.get("conditions", {}).items():
            for split, r in res.get("splits", {}).items():
                key = f"{name}/{cond}/{split}"
                flat[f"{key}/acc"] = r["acc"]
                if "ci" in r:
                    flat[f"{key}/ci_lo"], flat[f"{key}/ci_hi"] = r["ci"]
                if split not in TRAINED_SPLITS:
                    generalization.setdefault(cond, []).append(r["acc"])
    for cond, accs in generalization.items():  # one number per condition, for a sweep's `metric`
        flat[f"{cond}/generalization_acc"] = sum(accs) / len(accs)
    return flat
