"""Bootstrap intervals: shape checks, and coverage of the true rate in simulation."""

import numpy as np
import pytest

from minigen.eval.stats import bootstrap_accuracy


def test_mean_per_seed_and_bounds():
    m = np.array([[1, 0, 1, 1], [1, 1, 0, 1], [0, 0, 1, 1]])
    acc = bootstrap_accuracy(m, n_boot=500)
    assert acc.mean == pytest.approx(m.mean())
    assert acc.per_seed == pytest.approx([0.75, 0.75, 0.5])
    assert 0 <= acc.lo <= acc.mean <= acc.hi <= 1
    assert (acc.n_items, acc.n_seeds) == (4, 3)


def test_constant_outcomes_give_a_zero_width_interval():
    acc = bootstrap_accuracy(np.ones((3, 20)), n_boot=200)
    assert acc.lo == acc.hi == acc.mean == 1.0


def test_identical_seeds_count_as_one():
    row = np.random.default_rng(0).random(50) < 0.6
    one = bootstrap_accuracy(row, n_boot=4000, seed=1)
    three = bootstrap_accuracy(np.stack([row] * 3), n_boot=4000, seed=1)
    assert three.hi - three.lo == pytest.approx(one.hi - one.lo, rel=0.1)


def simulate(rng, n_items, n_seeds, a, b, seed_sd):
    """Items of varying difficulty (p ~ Beta(a, b)), a per-seed shift on the logit scale."""
    logit = np.log(rng.beta(a, b, n_items))
    logit = logit - np.log1p(-np.exp(logit))
    shift = rng.normal(0, seed_sd, n_seeds)
    prob = 1 / (1 + np.exp(-(logit[None, :] + shift[:, None])))
    return rng.random(prob.shape) < prob


@pytest.mark.parametrize("n_items,n_seeds,a,b,seed_sd", [
    (60, 3, 2.0, 1.0, 0.0),  # easy-ish items, no seed effect
    (60, 3, 2.0, 1.0, 0.3),  # plus a seed effect
    (100, 3, 20.0, 10.0, 0.0),  # near-identical items: the seed x item residual dominates
])
def test_interval_covers_the_true_rate(n_items, n_seeds, a, b, seed_sd):
    rng = np.random.default_rng(123)
    # The true rate: mean success probability over the item and seed distributions.
    p = rng.beta(a, b, 400_000)
    true = np.mean(1 / (1 + np.exp(-(np.log(p / (1 - p)) + rng.normal(0, seed_sd, p.size)))))
    reps = 300
    covered = 0
    for r in range(reps):
        acc = bootstrap_accuracy(simulate(rng, n_items, n_seeds, a, b, seed_sd), n_boot=1000, seed=r)
        covered += acc.lo <= true <= acc.hi
    assert 0.90 <= covered / reps <= 0.99, covered / reps
