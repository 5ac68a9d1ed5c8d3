"""What every figure of the paper study draws from: the summary, its default-estimator networks
and seed-mean planes (`FigureData`), and the small drawing pieces the figures share."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.analysis.statistics import default_estimates
from ib_keras.analysis.summary import Summary
from ib_keras.networks.activations import ACTIVATIONS
from ib_keras.plots.planes import epoch_norm

ESTIMATOR_NAMES = {"uniform": "uniform (30 bins)", "fixed": "fixed width 0.07", "kde": "KDE s2=1e-3",
                   "ebab": "EBAB", "akde": "aKDE"}


ADAPTIVE = ("ebab", "akde")  # the paper's estimators, drawn in most figures


ROW_LENGTH = 6  # planes per row in the grid of every activation


class FigureData:
    """The summary, with its default-parameter networks and seed-mean planes, made once."""

    def __init__(self, summary: Summary):
        self.summary = summary
        self.per_network = summary.default_networks
        self.planes = default_estimates(summary.planes)
        self.max_epoch = int(summary.planes["epoch"].max())
        self.norm = epoch_norm(self.max_epoch)

    def activations(self, l2: float = 0.0) -> list[str]:
        present = set(self.per_network.loc[self.per_network["l2"] == l2, "activation"])
        # the paper's in its order, then any other (a user's own model's) by name
        return [a for a in ACTIVATIONS if a in present] + sorted(present - set(ACTIVATIONS))

    def mean_plane(self, activation: str, estimator: str, l2: float = 0.0) -> pd.DataFrame:
        p = self.planes
        return p[(p["activation"] == activation) & (p["estimator"] == estimator) & (p["l2"] == l2)]

    def estimated(self, activation: str, estimators: tuple[str, ...] = ADAPTIVE, l2: float = 0.0) -> list[str]:
        """Those of ``estimators`` that have a seed-mean plane of ``activation`` at ``l2``."""
        return [e for e in estimators if not self.mean_plane(activation, e, l2).empty]

    def seeds(self, activation: str, l2: float = 0.0) -> int:
        d = self.per_network
        return d.loc[(d["activation"] == activation) & (d["l2"] == l2), "seed"].nunique()

    def dynamics(self, activation: str, l2: float = 0.0) -> pd.DataFrame:
        d = self.summary.dynamics
        return d[(d["activation"] == activation) & (d["l2"] == l2)]


def seeds_text(n: int) -> str:
    """"1 seed" or "n seeds"."""
    return f"{n} seed{'s' * (n != 1)}"


def band(ax: plt.Axes, rows: pd.DataFrame, column: str, **style) -> None:
    """The seed mean of ``column`` against epoch (epoch 0 drawn at 1), with its 10-90 % band."""
    x = np.maximum(rows["epoch"], 1)
    line, = ax.plot(x, rows[f"{column}_mean"], **style)
    ax.fill_between(x, rows[f"{column}_p10"], rows[f"{column}_p90"], color=line.get_color(), alpha=0.15, linewidth=0)
