"""Rank correlations in NumPy (no SciPy): Spearman's rho and Kendall's tau-b, both with ties."""
from __future__ import annotations

import numpy as np


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    mean_rank = (starts + ends + 1) / 2.0  # ranks starts+1 .. ends averaged
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of the average ranks (NaN when either side is constant)."""
    rx, ry = average_ranks(x), average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else float("nan")


def kendall(x: np.ndarray, y: np.ndarray, chunk: int = 512) -> float:
    """Kendall's tau-b: (concordant - discordant) / sqrt((n0 - ties_x)(n0 - ties_y)) over all pairs
    (compared in row chunks, so memory stays O(chunk * n))."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    count = len(x)
    concordance = ties_x = ties_y = 0
    for start in range(0, count, chunk):
        rows = slice(start, min(start + chunk, count))
        dx = np.sign(x[rows, None] - x[None, :])
        dy = np.sign(y[rows, None] - y[None, :])
        upper = np.arange(rows.start, rows.stop)[:, None] < np.arange(count)[None, :]
        concordance += int((dx * dy)[upper].sum())
        ties_x += int((dx == 0)[upper].sum())
        ties_y += int((dy == 0)[upper].sum())
    pairs = count * (count - 1) // 2
    denominator = np.sqrt(float(pairs - ties_x) * float(pairs - ties_y))
    return concordance / denominator if denominator > 0 else float("nan")
