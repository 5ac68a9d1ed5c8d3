"""Information planes in the paper's style: x = I(X;T), y = I(T;Y) in bits, one marker per layer
at each recorded epoch, the layers of one epoch joined by a thin line, colour = epoch."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.plots.files import Output, save_figure

COLORMAP = "gnuplot"
X_LABEL = "I(X;T) (bits)"
Y_LABEL = "I(T;Y) (bits)"


def epoch_norm(max_epoch: int) -> mcolors.Normalize:
    """Log colour scale over epochs 1..max_epoch (epoch 0 takes epoch 1's colour)."""
    return mcolors.LogNorm(vmin=1, vmax=max(int(max_epoch), 2))


def draw_plane(ax: plt.Axes, plane: pd.DataFrame, norm: mcolors.Normalize, title: str = "") -> None:
    """Draw one plane from rows with columns epoch, layer, i_xt, i_ty (one network or a mean)."""
    cmap = plt.get_cmap(COLORMAP)
    for epoch, rows in plane.sort_values("layer").groupby("epoch"):
        colour = cmap(norm(max(epoch, 1)))
        ax.plot(rows["i_xt"], rows["i_ty"], "-", color=colour, linewidth=0.4, alpha=0.6)
        ax.scatter(rows["i_xt"], rows["i_ty"], color=colour, s=9, zorder=3)
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(Y_LABEL)
    if title:
        ax.set_title(title, fontsize=9)


def add_epoch_colorbar(fig: plt.Figure, axes, norm: mcolors.Normalize) -> None:
    """One colour bar labelled "Epochs" for the given axes."""
    mappable = plt.cm.ScalarMappable(norm=norm, cmap=COLORMAP)
    fig.colorbar(mappable, ax=np.ravel(axes).tolist(), label="Epochs", shrink=0.9)


def empty_axes(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_axis_off()


def plane_grid(norm: mcolors.Normalize, cells: list[list[tuple[pd.DataFrame, str]]], out: Output, name: str,
               size: tuple[float, float]) -> list[Path]:
    """A grid of planes (rows of (plane, title) cells) sharing one epoch colour bar."""
    rows, columns = len(cells), max(1, *(len(row) for row in cells))
    fig, axes = plt.subplots(rows, columns, figsize=size, layout="constrained", squeeze=False)
    for r, row in enumerate(cells):
        for c in range(columns):
            if c >= len(row) or row[c][0].empty:
                empty_axes(axes[r][c], "no data" if c < len(row) else "")
            else:
                draw_plane(axes[r][c], row[c][0], norm, row[c][1])
    add_epoch_colorbar(fig, axes, norm)
    return save_figure(fig, out, name)
