"""The comparison figure: grouped bars (one group per test split, one bar per condition), 95% CI
error bars, and a dashed line at chance level, in the style of Lampinen et al. (2025)."""

from __future__ import annotations

from pathlib import Path

# Fixed colors so a condition looks the same in every figure; unknown conditions cycle the rest.
COLORS = {
    "base": "#9e9e9e",
    "icl": "#3b75af",
    "ft": "#e1812c",
    "aug-ft-local": "#3a923a",
    "aug-ft-global": "#8e6bbf",
    "aug-ft-oracle": "#c03d3e",
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
            handles[cond] = ax.bar(xs, accs, bar, yerr=err, capsize=2.5, color=condition_color(cond, j),
                                   edgecolor="white", linewidth=0.5, error_kw={"elinewidth": 1})
        for i, split in enumerate(splits):
            ax.hlines(ds["chance"][split], i - 0.45, i + 0.45, colors="black", linestyles="--", linewidth=1,
                      zorder=3)
        ax.set_xticks(range(len(splits)), [SPLIT_LABELS.get(s, s.replace("_", "\n")) for s in splits])
        ax.set_xlim(-0.6, len(splits) - 0.4)
        ax.set_ylim(0, 1.02)
        ax.set_title(name.replace("_", " "))
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("accuracy")
    fig.legend(list(handles.values()), list(handles), loc="center right", frameon=False,
               title="dashed: chance")
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
    path = Path(path)
    fig.savefig(path, dpi=150)
    return path
