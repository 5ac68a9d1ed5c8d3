"""Which epochs the recorder logs. Epoch 0 is the initialisation; epoch e the state after e epochs."""

from __future__ import annotations

import numpy as np

DEFAULT_LOG_POINTS = 75


def log_spaced_epochs(total_epochs: int, n_points: int = DEFAULT_LOG_POINTS) -> np.ndarray:
    """Epoch 0, then ``n_points`` log-spaced epochs from 1 to ``total_epochs`` rounded and
    deduplicated, as the authors sampled theirs (400 points of 8000 epochs give 274 distinct).
    Returns a sorted int64 array that always ends at ``total_epochs``."""
    if total_epochs < 1 or n_points < 1:
        raise ValueError(f"need total_epochs >= 1 and n_points >= 1, got {total_epochs} and {n_points}")
    points = np.round(np.logspace(0, np.log10(total_epochs), n_points)).astype(np.int64)
    return np.unique(np.concatenate([[0], points, [total_epochs]]))


def saxe_epochs(total_epochs: int) -> np.ndarray:
    """Saxe et al.'s ``do_report`` schedule: every epoch below 20, every 5th below 100, every
    20th below 2000, then every 100th; plus the last epoch. Sorted int64 array."""
    if total_epochs < 1:
        raise ValueError(f"need total_epochs >= 1, got {total_epochs}")
    e = np.arange(total_epochs + 1)
    keep = (e < 20) | ((e < 100) & (e % 5 == 0)) | ((e < 2000) & (e % 20 == 0)) | (e % 100 == 0)
    keep[-1] = True
    return e[keep]
