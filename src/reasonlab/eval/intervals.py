"""95% intervals: Wilson score interval for proportions, percentile bootstrap for means."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # exact ends at 0 % and 100 % (rounding leaves e.g. 2.8e-17 there, and a negative error bar),
    # and never outside [0, 1] or on the wrong side of the estimate
    lo = 0.0 if k <= 0 else min(p, max(0.0, centre - half))
    hi = 1.0 if k >= n else max(p, min(1.0, centre + half))
    return lo, hi


def bootstrap_mean(values: Sequence[float], n_boot: int = 2000, seed: int = 0,
                   level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (deterministic for a given seed)."""
    import numpy as np

    vals = np.asarray(list(values), dtype=float)
    if vals.size == 0:
        return math.nan, math.nan
    if vals.size == 1 or np.all(vals == vals[0]):
        return float(vals[0]), float(vals[0])
    rng = np.random.default_rng(seed)
    n = vals.size
    chunk = max(1, 2_000_000 // n)  # resamples drawn per batch: bounded memory for large n
    means = np.concatenate([vals[rng.integers(0, n, size=(min(chunk, n_boot - i), n))].mean(axis=1)
                            for i in range(0, n_boot, chunk)])
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
