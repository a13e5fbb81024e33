"""Accuracy with confidence intervals over items (or clusters of items) and seeds.

Outcomes form a matrix `correct[seed, item]` (one row per finetuning seed / ICL document order,
the same items in every row). Items may come in clusters (a counterbalanced group, the questions
about one fact, the items sharing an in-context prompt): pass one label per item as `clusters` and
each cluster counts as one unit of the item sample; by default every item is its own cluster.

What `accuracy_interval` computes, with S seeds, n items in C clusters (n_c items in cluster c):

1. The variance V of the grand mean, as a random-effects (seed + item + seed x item residual)
   decomposition written over cluster totals, in two parts that count the residual once:
   - seed part: the variance (ddof 1) of the S seed means, / S. It carries the seed effect and the
     residual's share of the grand mean (R: the seed x cluster interaction mean square of the
     cluster totals, scaled to the grand mean), and is not clipped. It is floored at R itself: seed
     means that agree more than the residual alone predicts are a chance low of a 2-df estimate
     (without the floor, 3 seeds that happened to score alike gave an interval of +-0.015 on 100
     items), and there is then no evidence of a seed effect, so the part is R, with R's many df;
   - item part: the cluster (ratio) estimator on the seed-averaged outcomes, C/(C-1) *
     sum_c (T_c - mean * n_c)^2 / n^2 with T_c cluster c's total (singleton clusters: the variance of
     the item means / n), less R (already in the seed part), clipped at 0.
   With one seed the seed part is 0 and the item part keeps the residual; with one cluster the item
   part is 0 (item variation is not estimable) and V is the seed means' variance / S.
2. Degrees of freedom: C-1 for the item part, and S-1 for the seed part ((S-1)(C-1) when it is R),
   combined by Welch-Satterthwaite, df = V^2 / sum(part^2 / its df) (a part that is 0 drops out; df
   is inf when V is 0); when the 2-df seed part is combined with an item part, df is halved, but
   never below S-1. Satterthwaite treats the estimated parts as known and is liberal when one has
   2 df (3 seeds). The halving is a calibration, not a theorem: with it, in simulation (1,000
   repetitions per case, the generators of tests/test_eval_stats.py: 60-100 items, 3 seeds, item
   difficulty Beta(2, 1), Beta(20, 10) or Beta(50, 8), seed effects of sd 0, 0.3 and 1 on the logit
   scale) the interval covered 94.5-97.4% (the high end without a seed effect); without it, 92.5%
   at sd 1. `python experiments/interval_coverage.py` reruns the test's own cases: 94.4-97.1%.
3. The interval is mean +- t_{df, (1+level)/2} * sqrt(V) on the logit scale (the delta method:
   half-width t * sqrt(V) / (mean * (1 - mean)) about logit(mean)), mapped back, so it lies in
   [0, 1] and contains the mean; it has zero width when V is 0 (for instance constant outcomes).

Why not a bootstrap. The previous version rescaled a crossed (items x seeds) bootstrap to the
two-way ANOVA variance and took its percentile interval, in effect a normal quantile: with 100 items
and 3 seeds it covered 88% at a seed effect of sd 0.3 and 79-80% at sd 1. With 3 seeds a bootstrap's
seed distribution has the shape of 3 points, so no resampling scheme fixes that: the interval needs
the t quantile of the few-df seed part. Keeping the seed means' whole variance in that part, rather
than only its excess over the residual (the ANOVA split), matters: the excess, clipped at 0 and
given 2 df, covered 89% at sd 1. The price of not assuming the seed effect away: the interval is
wider than the old one. With 2 seeds (df near 1) coverage is lower: use 3 or more seeds.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Accuracy:
    mean: float
    lo: float  # lower bound of the interval (level given to accuracy_interval, 95% by default)
    hi: float  # upper bound
    n_items: int
    n_seeds: int
    per_seed: list[float]
    n_clusters: int = 0  # resampling units over items (= n_items without clusters)
    df: float = math.inf  # Welch-Satterthwaite degrees of freedom (inf: zero variance)
    se: float = 0.0  # standard error of the mean, sqrt(V) of the module docstring

    def to_dict(self) -> dict:
        return {
            "acc": self.mean, "ci": [self.lo, self.hi], "n": self.n_items, "seeds": self.n_seeds,
            "per_seed": self.per_seed, "n_clusters": self.n_clusters,
            "df": self.df if math.isfinite(self.df) else None,  # JSON has no infinity
            "se": self.se,
        }


def accuracy_interval(
    correct, *, clusters: Sequence[Hashable] | None = None, level: float = 0.95
) -> Accuracy:
    """Mean of a [seeds, items] 0/1 matrix with a t interval over clusters of items and seeds.

    `clusters`: one hashable label per item; items with the same label count as one unit (are
    resampled together). None makes every item its own cluster. The method is in the module
    docstring.
    """
    m = np.asarray(correct, dtype=np.float64)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"expected a non-empty [seeds, items] matrix, got shape {m.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    n_seeds, n_items = m.shape
    codes = _cluster_codes(clusters, n_items)
    n_clusters = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_clusters).astype(np.float64)  # items per cluster
    totals = np.stack([np.bincount(codes, weights=row, minlength=n_clusters) for row in m])  # [S, C]
    mean = float(m.mean())
    v_item, v_seed, v_resid = _variance_components(totals, sizes)
    seed_df = n_seeds - 1
    if v_seed < v_resid:  # the seed means agree more than the residual alone predicts: no seed effect
        v_seed, seed_df = v_resid, (n_seeds - 1) * (n_clusters - 1)
    se = math.sqrt(v_item + v_seed)
    df = _satterthwaite([(v_item, n_clusters - 1), (v_seed, seed_df)])
    if v_item > 0 and v_seed > 0 and seed_df == n_seeds - 1:  # see the module docstring
        df = min(df, max(n_seeds - 1, df / 2))
    lo = hi = mean
    if se > 0 and 0 < mean < 1:
        half = student_t_quantile((1 + level) / 2, df) * se / (mean * (1 - mean))
        center = math.log(mean / (1 - mean))
        lo, hi = min(_expit(center - half), mean), max(_expit(center + half), mean)
    return Accuracy(
        mean=mean, lo=lo, hi=hi, n_items=n_items, n_seeds=n_seeds,
        per_seed=[float(x) for x in m.mean(axis=1)], n_clusters=n_clusters, df=float(df), se=se,
    )


def _cluster_codes(clusters, n_items: int) -> np.ndarray:
    """Integer code per item, 0..C-1 in order of first appearance."""
    if clusters is None:
        return np.arange(n_items)
    labels = list(clusters)
    if len(labels) != n_items:
        raise ValueError(f"clusters has {len(labels)} labels for {n_items} items")
    index: dict = {}
    return np.array([index.setdefault(label, len(index)) for label in labels], dtype=np.int64)


def _variance_components(totals: np.ndarray, sizes: np.ndarray) -> tuple[float, float, float]:
    """(item part, seed-means part, residual share) of the variance of the grand mean, as in the
    module docstring. totals[s, c]: the outcomes of cluster c's items summed in seed s; sizes[c]:
    cluster c's items."""
    n_seeds, n_clusters = totals.shape
    n = sizes.sum()
    mean = totals.sum() / (n_seeds * n)
    t_c = totals.mean(axis=0)  # cluster totals of the seed-averaged outcomes
    seed_means = totals.sum(axis=1) / n
    v_seed = float(seed_means.var(ddof=1)) / n_seeds if n_seeds > 1 else 0.0
    if n_clusters == 1:
        return 0.0, v_seed, 0.0
    v_item = n_clusters / (n_clusters - 1) * float(((t_c - mean * sizes) ** 2).sum()) / n**2
    v_resid = 0.0
    if n_seeds > 1:
        # The residual's share of the grand mean: the seed x cluster interaction of the totals.
        resid = totals - t_c[None, :] - (seed_means - mean)[:, None] * sizes[None, :]
        share = float((resid**2).sum()) / ((n_seeds - 1) * n**2) * n_clusters / (n_clusters - 1)
        v_resid = share / n_seeds
        v_item = max(v_item - v_resid, 0.0)
    return v_item, v_seed, v_resid


def _satterthwaite(parts) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of variance estimates [(variance, df), ...]."""
    parts = [(v, d) for v, d in parts if v > 0 and d > 0]
    if not parts:
        return math.inf
    return sum(v for v, _ in parts) ** 2 / sum(v**2 / d for v, d in parts)


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def student_t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with df > 0 degrees of freedom (df = inf: the normal quantile).

    Bisection on `student_t_cdf`, to a relative tolerance of 1e-12.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if not df > 0:
        raise ValueError(f"df must be positive, got {df}")
    if p < 0.5:
        return -student_t_quantile(1 - p, df)
    if p == 0.5:
        return 0.0
    lo, hi = 0.0, 1.0
    while student_t_cdf(hi, df) < p:  # bracket the quantile
        lo, hi = hi, 2 * hi
    while hi - lo > 1e-12 * hi:
        mid = (lo + hi) / 2
        if student_t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def student_t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t with df > 0 degrees of freedom (df = inf: the standard normal).

    P(|T| > |x|) = I_{df / (df + x^2)}(df / 2, 1 / 2), the regularized incomplete beta.
    """
    if math.isinf(df):
        return 0.5 * math.erfc(-x / math.sqrt(2))
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + x * x))  # P(T > |x|)
    return 1 - tail if x >= 0 else tail


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b), from its continued fraction (modified Lentz).

    I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * 1 / (1 + d_1 / (1 + d_2 / (1 + ...))) with
    d_{2i} = i (b - i) x / ((a + 2i - 1)(a + 2i)) and
    d_{2i+1} = -(a + i)(a + b + i) x / ((a + 2i)(a + 2i + 1)).
    The fraction converges quickly for x < (a + 1) / (a + b + 2); above, I_x(a, b) = 1 - I_{1-x}(b, a).
    """
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1 - _betainc(b, a, 1 - x)
    log_front = a * math.log(x) + b * math.log1p(-x) - math.log(a) - _log_beta(a, b)
    tiny = 1e-300
    # Modified Lentz on 0 + a_1 / (1 + a_2 / (1 + ...)) with a_1 = 1 and a_{k+1} = d_k: the value is
    # the running product of the ratios c * d, starting from `tiny` in place of the leading 0.
    frac, c, d = tiny, tiny, 0.0
    for k in range(1, 1000):
        j = k - 1  # a_k = d_j, with d_0 = 1
        if j == 0:
            num = 1.0
        elif j % 2 == 0:
            i = j // 2
            num = i * (b - i) * x / ((a + 2 * i - 1) * (a + 2 * i))
        else:
            i = (j - 1) // 2
            num = -(a + i) * (a + b + i) * x / ((a + 2 * i) * (a + 2 * i + 1))
        d = 1.0 + num * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1.0 + num / c
        c = c if abs(c) > tiny else tiny
        frac *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return math.exp(log_front) * frac


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
