"""The comparison figure: grouped bars (one group per test split, one bar per condition), 95% CI
error bars, a dashed line at chance level and a dotted one at the strongest heuristic, in the style of
Lampinen et al. (2025). A bar whose row is not interpretable (vocabulary not covered, or an ICL context
that cannot be balanced) is drawn pale and hatched, labelled n/i, without an interval."""

from __future__ import annotations

from pathlib import Path

# Fixed colors so a condition looks the same in every figure; unknown conditions cycle the rest.
COLORS = {
    "base": "#9e9e9e",
    "icl": "#3b75af",
    "ft": "#e1812c",
    "aug-ft-local": "#3a923a",
    "aug-ft-global": "#8e6bbf",
    "aug-ft-local+global": "#17becf",
    "aug-ft-oracle": "#c03d3e",
    "aug-ft-placebo": "#999999",
}
EXTRA_COLORS = ("#84574d", "#d584bd", "#7f7f7f", "#bcbc35", "#2ebece")
SPLIT_LABELS = {"train": "trained\nfacts"}  # the same-direction questions


def condition_color(name: str, index: int) -> str:
    return COLORS.get(name, EXTRA_COLORS[index % len(EXTRA_COLORS)])


def plot_comparison(results: dict, path: Path) -> Path:
    """Draw results["datasets"] (as written to results.json) into one PNG, a panel per dataset."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe in threads and tests

    datasets = results["datasets"]
    widths = [max(2.4, 1.4 * len(ds["test_splits"])) for ds in datasets.values()]
    fig = Figure(figsize=(sum(widths) + 1.5, 3.4))
    axes = fig.subplots(1, len(datasets), squeeze=False, gridspec_kw={"width_ratios": widths})[0]
    handles = {}
    for ax, (name, ds) in zip(axes, datasets.items(), strict=True):
        splits, conds = ds["test_splits"], list(ds["conditions"])
        bar = 0.8 / max(len(conds), 1)
        for j, cond in enumerate(conds):
            rows = [ds["conditions"][cond]["splits"][s] for s in splits]
            xs = [i - 0.4 + bar * (j + 0.5) for i in range(len(splits))]
            accs = [r["acc"] for r in rows]
            err = [[a - r["ci"][0] for a, r in zip(accs, rows, strict=True)],
                   [r["ci"][1] - a for a, r in zip(accs, rows, strict=True)]]
            ok = [r.get("interpretable", True) for r in rows]
            color = condition_color(cond, j)
            bars = ax.bar(xs, accs, bar, color=color, edgecolor="white", linewidth=0.5)
            shown = [k for k, o in enumerate(ok) if o]  # no interval on a row that means nothing
            if shown:
                ax.errorbar([xs[k] for k in shown], [accs[k] for k in shown],
                            yerr=[[err[0][k] for k in shown], [err[1][k] for k in shown]], fmt="none",
                            ecolor="black", elinewidth=1, capsize=2.5)
            handles.setdefault(cond, bars)
            for b, o, x in zip(bars, ok, xs, strict=True):
                if not o:
                    b.set(alpha=0.35, hatch="///", edgecolor=color)
                    ax.text(x, 0.02, "n/i", rotation=90, ha="center", va="bottom", fontsize=6)
        strongest = ds.get("strongest_heuristic", {})
        for i, split in enumerate(splits):
            ax.hlines(ds["chance"][split], i - 0.45, i + 0.45, colors="black", linestyles="--", linewidth=1,
                      zorder=3)
            if split in strongest:
                ax.hlines(strongest[split]["acc"], i - 0.45, i + 0.45, colors="#b2182b", linestyles=":",
                          linewidth=1.5, zorder=3)
        ax.set_xticks(range(len(splits)), [SPLIT_LABELS.get(s, s.replace("_", "\n")) for s in splits])
        ax.set_xlim(-0.6, len(splits) - 0.4)
        ax.set_ylim(0, 1.02)
        ax.set_title(name.replace("_", " "))
        if ds.get("not_scored"):
            ax.text(0.5, 0.5, "not scored:\nvocabulary not in\npretraining", transform=ax.transAxes,
                    ha="center", va="center", fontsize=8, color="0.35")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("accuracy")
    fig.legend(list(handles.values()), list(handles), loc="center right", frameon=False,
               title="dashed: chance\ndotted: best heuristic\nhatched: n/i")
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
    path = Path(path)
    fig.savefig(path, dpi=150)
    return path
