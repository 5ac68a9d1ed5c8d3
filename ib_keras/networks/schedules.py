"""Which epochs the recorder logs. Epoch 0 is the initialisation; epoch e the state after e epochs.

The published schedules are written in their own codes' epoch numbering; `ib_keras.networks.protocols`
turns them into states (`Protocol.record_epochs`).
"""

from __future__ import annotations

import numpy as np

DEFAULT_LOG_POINTS = 75
IDNNS_LOG_POINTS = 400


def log_spaced_epochs(total_epochs: int, n_points: int = DEFAULT_LOG_POINTS) -> np.ndarray:
    """Epoch 0, then ``n_points`` log-spaced epochs from 1 to ``total_epochs`` rounded and
    deduplicated, as the authors sampled theirs (400 points of 8000 epochs give 274 distinct).
    Returns a sorted int64 array that always ends at ``total_epochs``."""
    _check_total(total_epochs)
    if n_points < 1:
        raise ValueError(f"need n_points >= 1, got {n_points}")
    points = np.round(np.logspace(0, np.log10(total_epochs), n_points)).astype(np.int64)
    return np.unique(np.concatenate([[0], points, [total_epochs]]))


def idnns_epochs(total_epochs: int, n_points: int = IDNNS_LOG_POINTS) -> np.ndarray:
    """Shwartz-Ziv & Tishby's ``epochs_indexes`` (``ravidziv/IDNNs``,
    ``idnns/networks/information_network.py``, ``informationNetwork.__init__``): ``n_points``
    points log-spaced in base 2 from 1 to ``total_epochs``, truncated to integers, deduplicated,
    minus one. Indices of epochs 0 .. total_epochs - 1, whose start IDNNs records: 274 for 8000."""
    _check_total(total_epochs)
    points = np.logspace(0.0, np.log2(total_epochs), n_points, base=2.0)
    return np.unique(points.astype(np.int64)) - 1


def saxe_epochs(total_epochs: int) -> np.ndarray:
    """Saxe et al.'s ``do_report`` (``artemyk/ibsgd``, ``IBnet_SaveActivations.ipynb``, third
    cell): Keras epoch indices k < ``total_epochs`` kept when k < 20, k < 100 and k % 5 == 0,
    k < 2000 and k % 20 == 0, or k % 100 == 0; their ``LoggingReporter`` records the end of epoch
    k. 211 for 10000. Sorted int64 array."""
    _check_total(total_epochs)
    k = np.arange(total_epochs)
    return k[(k < 20) | ((k < 100) & (k % 5 == 0)) | ((k < 2000) & (k % 20 == 0)) | (k % 100 == 0)]


def saxe_mnist_epochs(total_epochs: int) -> np.ndarray:
    """Saxe et al.'s MNIST ``do_report`` (``artemyk/ibsgd``, ``MNIST_SaveActivations.ipynb``, third
    cell, lines 1-10): Keras epoch indices k < ``total_epochs`` kept when k < 20, k < 100 and
    k % 5 == 0, k < 200 and k % 10 == 0, or k % 100 == 0; recorded at the end of epoch k. 144 for
    10000. Sorted int64 array."""
    _check_total(total_epochs)
    k = np.arange(total_epochs)
    return k[(k < 20) | ((k < 100) & (k % 5 == 0)) | ((k < 200) & (k % 10 == 0)) | (k % 100 == 0)]


def _check_total(total_epochs: int) -> None:
    if total_epochs < 1:
        raise ValueError(f"need total_epochs >= 1, got {total_epochs}")
