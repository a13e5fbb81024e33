"""Coverage of compare's 95% interval (`minigen.eval.stats.accuracy_interval`) on the simulated cases of
tests/test_eval_stats.py, with the test's own generators and random seeds: one line per case.

    python experiments/interval_coverage.py            # 1,000 repetitions per case (~20 s on one core)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_eval_stats as cases  # noqa: E402  (the generators and the repetition count the test uses)

from minigen.eval.stats import accuracy_interval  # noqa: E402

CASES = [(60, 3, 2.0, 1.0, 0.0), (60, 3, 2.0, 1.0, 0.3), (100, 3, 2.0, 1.0, 0.0), (100, 3, 2.0, 1.0, 0.3),
         (100, 3, 2.0, 1.0, 1.0), (100, 3, 20.0, 10.0, 0.0), (100, 3, 20.0, 10.0, 1.0)]


def main() -> None:
    for n_items, n_seeds, a, b, sd in CASES:
        rng = np.random.default_rng(123)
        true = cases.true_rate(rng, a, b, sd)
        hits = 0
        for _ in range(cases.REPS):
            acc = accuracy_interval(cases.simulate(rng, n_items, n_seeds, a, b, sd))
            hits += acc.lo <= true <= acc.hi
        print(f"{n_items} items, {n_seeds} seeds, Beta({a:g}, {b:g}), seed sd {sd:g}: "
              f"{hits / cases.REPS:.3f}")
    for sd in (0.0, 0.3):
        rng = np.random.default_rng(321)
        true = cases.true_rate(rng, 2.0, 1.0, sd, 1.5)
        groups = np.arange(100) // 4
        with_clusters = without = 0
        for _ in range(cases.REPS):
            m = cases.simulate_groups(rng, 100, 3, 2.0, 1.0, sd, 1.5)
            acc = accuracy_interval(m, clusters=groups)
            with_clusters += acc.lo <= true <= acc.hi
            acc = accuracy_interval(m)
            without += acc.lo <= true <= acc.hi
        print(f"groups of 4, seed sd {sd:g}: {with_clusters / cases.REPS:.3f} with the clusters, "
              f"{without / cases.REPS:.3f} without")


if __name__ == "__main__":
    main()
