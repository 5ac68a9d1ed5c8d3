"""An information plane a reader can follow layer by layer: each layer one colour along its whole
path through the epochs, time as the markers' size (small at the first epoch, large at the last),
the first epoch a hollow marker (the start), the last a filled one with a dark edge; the layers
named as the model names them, in a legend (names never overlap). Short panel titles, and the
notes that say when an estimator cannot show anything in a layer (saturated, or flat).

Colours: viridis (colour-blind safe, ordered as the layers are), cut before its pale yellow end.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ib_keras.estimate import BY_ACTIVATION
from ib_keras.plots.planes import X_LABEL, Y_LABEL

SATURATED = 0.01  # bits: I(X;T) this close to log2 N at every epoch: the layer keeps the inputs apart throughout
FLAT = 0.01  # bits: an I(X;T) that moves less than this over training has no path to show
_SIZES = (8.0, 42.0)  # marker area (points^2) at the first and at the last epoch


def layer_colours(count: int) -> np.ndarray:
    """``count`` RGBA colours, one per layer in order: viridis from 0 to 0.85."""
    return plt.get_cmap("viridis")(np.linspace(0.0, 0.85, max(count, 1)))[:count]


def draw_layer_paths(ax: plt.Axes, plane: pd.DataFrame, names: dict[int, str]) -> None:
    """Draw ``plane`` (rows epoch, layer, i_xt, i_ty in bits: one network or a mean) on ``ax``:
    per layer a line through its epochs in order, markers growing with the epoch, the first epoch
    hollow, the last filled and edged; each layer labelled ``names[layer]`` for the legend."""
    epochs = np.sort(plane["epoch"].unique())
    growth = np.linspace(*_SIZES, len(epochs)) if len(epochs) > 1 else np.array([_SIZES[1]])
    size = dict(zip(epochs, growth))
    layers = sorted(plane["layer"].unique())
    for colour, layer in zip(layer_colours(len(layers)), layers):
        rows = plane[plane["layer"] == layer].sort_values("epoch")
        x, y = rows["i_xt"].to_numpy(), rows["i_ty"].to_numpy()
        ax.plot(x, y, "-", color=colour, linewidth=1.0, alpha=0.75, label=names.get(layer, str(layer)), zorder=2)
        ax.scatter(x[1:-1], y[1:-1], s=[size[e] for e in rows["epoch"].to_numpy()[1:-1]], color=colour, alpha=0.6,
                   linewidths=0, zorder=3)
        ax.scatter(x[:1], y[:1], s=_SIZES[1], facecolors="white", edgecolors=[colour], linewidths=1.3, zorder=4)
        if len(x) > 1:
            ax.scatter(x[-1:], y[-1:], s=_SIZES[1], color=colour, edgecolors="black", linewidths=0.8, zorder=5)
    ax.set_xlabel(X_LABEL)
    ax.set_ylabel(Y_LABEL)


LEGEND_TITLE = "layers\n(markers grow\nwith the epoch)"


def time_legend(first: int, last: int) -> list[Line2D]:
    """Legend entries for the time channel: the first epoch's hollow marker, the last's filled one."""
    return [Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="grey",
                   label=f"epoch {first} (start)"),
            Line2D([], [], marker="o", linestyle="", markerfacecolor="grey", markeredgecolor="black",
                   label=f"epoch {last} (end)")]


def setting_label(method: str, params: dict) -> str:
    """A human title for an estimator setting: "aKDE, upper bound, scale 0.1", "EBAB, 30 bins"."""
    bound = f", {params.get('bound')} bound" if params.get("bound") else ""
    labels = {
        "ebab": lambda: f"EBAB, {params['n_bins']} bins",
        "uniform": lambda: f"binning, {params['n_bins']} bins on " + (
            "each activation's range" if params["lo"] == params["hi"] == BY_ACTIVATION else f"[{params['lo']}, {params['hi']}]"),
        "fixed": lambda: f"binning, bins of {params['bin_size']:g}",
        "kde": lambda: f"KDE{bound}, s2 = {params['noise_variance']:g}",
        "akde": lambda: f"aKDE{bound}, scale {params['variance_scale']:g}",
        "noisy": lambda: ("T + noise, s2 = " + (f"{params['noise_variance']:g}" if params.get("variance_scale") is None
                                                else f"{params['variance_scale']:g} max|T|")),
        "sp": lambda: "sample propagation, s = " + ("the run's" if params.get("noise_std") is None
                                                     else f"{params['noise_std']:g}"),
        "renyi": lambda: f"Renyi, alpha {params['alpha']:g}, {params['width']} widths",
        "exact": lambda: "exact (quantized codes)",
    }
    return labels[method]() if method in labels else method


def saturation_notes(plane: pd.DataFrame, names: dict[int, str], n_inputs: int | None) -> list[str]:
    """What cannot be seen in ``plane`` (rows epoch, layer, i_xt in bits), in words: the layers
    whose I(X;T) stays within SATURATED bits of log2 N at every epoch (they keep the N inputs
    apart: the estimator has no compression to show there), and those whose I(X;T) moves by less
    than FLAT bits (a path too short to read as a trend)."""
    notes = []
    per_layer = plane.groupby("layer")["i_xt"]
    saturated = [layer for layer, values in per_layer
                 if n_inputs and np.all(np.abs(values - np.log2(n_inputs)) < SATURATED)]
    if saturated:
        notes.append(f"saturated: {', '.join(names.get(layer, str(layer)) for layer in saturated)} at "
                     f"log2 N = {np.log2(n_inputs):.2f} bits throughout (every input kept apart)")
    flat = [layer for layer, values in per_layer if np.ptp(values) < FLAT and layer not in saturated]
    if flat:
        notes.append(f"flat: I(X;T) of {', '.join(names.get(layer, str(layer)) for layer in flat)} moves by less "
                     f"than {FLAT} bits")
    return notes
