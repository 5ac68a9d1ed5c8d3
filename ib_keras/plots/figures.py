"""The paper's figures (and this project's extension), each one function, saved as PNG and PDF.

Inputs: the MI table (see `ib_keras.mi_table`) and, for figures 1 and 2, the run files it names.
Information planes average the per-seed values at each epoch where they say "mean".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ib_keras.activations import ACTIVATIONS  # noqa: E402
from ib_keras.analysis import (  # noqa: E402
    LEARNED,
    check_one_setting,
    compression,
    default_estimates,
    generalization_correlations,
    seed_mean_planes,
    with_param,
)
from ib_keras.estimators._binning import ebab_edges  # noqa: E402
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, epoch_norm  # noqa: E402
from ib_keras.storage import read_run  # noqa: E402

ESTIMATOR_NAMES = {"uniform": "uniform (30 bins)", "fixed": "fixed width 0.07", "kde": "KDE s2=1e-3",
                   "ebab": "EBAB", "akde": "aKDE"}
SENSITIVITY_SCALES = (0.01, 0.1, 1.0)


class FigureData:
    """The table, its default-parameter rows, seed means and per-network compression, made once."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        self.default = default_estimates(table)
        self.planes = seed_mean_planes(self.default)
        self.per_network = compression(self.default)
        self.max_epoch = int(table["epoch"].max())
        self.norm = epoch_norm(self.max_epoch)

    def activations(self, l2: float = 0.0) -> list[str]:
        present = set(self.default.loc[self.default["l2"] == l2, "activation"])
        return [a for a in ACTIVATIONS if a in present]  # in the paper's order

    def mean_plane(self, activation: str, estimator: str, l2: float = 0.0) -> pd.DataFrame:
        p = self.planes
        return p[(p["activation"] == activation) & (p["estimator"] == estimator) & (p["l2"] == l2)]

    def seeds(self, activation: str, l2: float = 0.0) -> int:
        d = self.default
        return d.loc[(d["activation"] == activation) & (d["l2"] == l2), "seed"].nunique()

    def run_files(self, activation: str, l2: float = 0.0) -> list[str]:
        d = self.default
        return sorted(d.loc[(d["activation"] == activation) & (d["l2"] == l2), "run"].unique())


def _save(fig: plt.Figure, out: Path, name: str) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150)
    plt.close(fig)
    return paths


def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_axis_off()


def _layer_maxima(path: str) -> tuple[np.ndarray, np.ndarray]:
    """(epochs (E,), per hidden layer maximum activity (L-1, E)) of one run file."""
    run = read_run(path)
    return run.epochs, np.array([activity.max(axis=(1, 2)) for activity in run.activity[:-1]])


def fig1_max_activity(data: FigureData, out: Path) -> list[Path]:
    """Per-layer maximum ReLU activity against epoch: one layer sets the network's maximum."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    files = data.run_files("relu")
    if not files:
        _empty(ax, "no ReLU runs")
        return _save(fig, out, "fig1_max_activity")
    epochs, _ = _layer_maxima(files[0])
    maxima = np.array([_layer_maxima(path)[1] for path in files])  # (seeds, layers, epochs)
    x = np.maximum(epochs, 1)
    for layer in range(maxima.shape[1]):
        line, = ax.plot(x, maxima[:, layer].mean(axis=0), label=f"layer {layer + 1}")
        if len(files) > 1:
            ax.fill_between(x, maxima[:, layer].min(axis=0), maxima[:, layer].max(axis=0), color=line.get_color(),
                            alpha=0.15, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Epoch (epoch 0 drawn at 1)")
    ax.set_ylabel("Maximum activity (activation units)")
    ax.set_title(f"ReLU: largest activity per hidden layer, mean (band: range) over {len(files)} seeds", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, out, "fig1_max_activity")


def _binned_entropy(values: np.ndarray, edges: np.ndarray) -> float:
    counts = np.bincount(np.digitize(values, edges))
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def fig2_ebab_bins(data: FigureData, out: Path) -> list[Path]:
    """One ReLU layer's activity histogram with uniform and EBAB bin edges, and the entropy of the
    binned values under each."""
    fig, axes = plt.subplots(2, 1, figsize=(7, 5), layout="constrained", sharex=True)
    files = data.run_files("relu")
    if not files:
        for ax in axes:
            _empty(ax, "no ReLU runs")
        return _save(fig, out, "fig2_ebab_bins")
    run = read_run(files[0])
    layer = len(run.layers) - 2  # the last hidden layer
    values = run.activity[layer][-1].ravel()
    run_max = max(float(a.max()) for a in run.activity)
    uniform_edges = np.linspace(0.0, run_max, 30).astype(np.float32)
    adaptive_edges = ebab_edges(values, 30, 0.0)
    for ax, edges, name in ((axes[0], uniform_edges, "uniform, 30 bins over [0, run max]"),
                            (axes[1], adaptive_edges, "EBAB, 30 bins of equally many unique levels")):
        ax.hist(values, bins=200, color="0.6")
        ax.set_yscale("log")
        for edge in edges:
            ax.axvline(edge, color="tab:red", linewidth=0.5, alpha=0.7)
        ax.set_title(f"{name}: H = {_binned_entropy(values, edges):.2f} bits", fontsize=9)
        ax.set_ylabel("Count (values)")
    axes[1].set_xlabel(f"Activity of layer {layer + 1}, seed {run.config.get('seed')}, epoch {run.epochs[-1]}")
    return _save(fig, out, "fig2_ebab_bins")


def _plane_grid(data: FigureData, cells: list[list[tuple[pd.DataFrame, str]]], out: Path, name: str,
                size: tuple[float, float]) -> list[Path]:
    """A grid of planes (rows of (plane, title) cells) sharing one epoch colour bar."""
    rows, columns = len(cells), max(len(row) for row in cells)
    fig, axes = plt.subplots(rows, columns, figsize=size, layout="constrained", squeeze=False)
    for r, row in enumerate(cells):
        for c in range(columns):
            if c >= len(row) or row[c][0].empty:
                _empty(axes[r][c], "no data" if c < len(row) else "")
            else:
                draw_plane(axes[r][c], row[c][0], data.norm, row[c][1])
    add_epoch_colorbar(fig, axes, data.norm)
    return _save(fig, out, name)


def fig3_estimators(data: FigureData, out: Path) -> list[Path]:
    """The same tanh and ReLU networks (mean over seeds) under every estimator: the baselines."""
    estimators = ["uniform", "fixed", "kde", "ebab", "akde"]
    cells = [[(data.mean_plane(activation, e), f"{activation}: {ESTIMATOR_NAMES[e]}") for e in estimators]
             for activation in ("tanh", "relu")]
    return _plane_grid(data, cells, out, "fig3_estimators", (17, 6.5))


def fig5_relu_single_seeds(data: FigureData, out: Path) -> list[Path]:
    """Single-seed ReLU planes (EBAB): how much initialisations differ."""
    d = data.default
    rows = d[(d["activation"] == "relu") & (d["l2"] == 0) & (d["estimator"] == "ebab")]
    seeds = sorted(rows["seed"].unique())[:6]
    cells = [(rows[rows["seed"] == seed], f"ReLU, EBAB, seed {seed}") for seed in seeds] or [(rows, "ReLU")]
    grid = [cells[:3], cells[3:6]] if len(cells) > 3 else [cells]
    return _plane_grid(data, grid, out, "fig5_relu_single_seeds", (12, 3.4 * len(grid)))


def fig6_relu_mean(data: FigureData, out: Path) -> list[Path]:
    """ReLU averaged over all seeds under EBAB and aKDE."""
    n = data.seeds("relu")
    cells = [[(data.mean_plane("relu", e), f"ReLU, {ESTIMATOR_NAMES[e]}, mean of {n} seeds") for e in ("ebab", "akde")]]
    return _plane_grid(data, cells, out, "fig6_relu_mean", (9, 3.8))


def fig7_activations(data: FigureData, out: Path) -> list[Path]:
    """Seed-averaged planes for every activation: an EBAB row and an aKDE row."""
    activations = data.activations()
    cells = [[(data.mean_plane(a, e), f"{a}, {ESTIMATOR_NAMES[e]}") for a in activations] for e in ("ebab", "akde")]
    return _plane_grid(data, cells, out, "fig7_activations", (3.3 * max(len(activations), 2), 6.5))


def fig8_l2(data: FigureData, out: Path) -> list[Path]:
    """Without and with L2 for tanh and ReLU (EBAB planes, seed means), and accuracy curves."""
    d = data.default
    l2_values = sorted(v for v in d["l2"].unique() if v > 0)
    l2 = l2_values[0] if l2_values else None
    fig, axes = plt.subplots(2, 3, figsize=(14, 7), layout="constrained")
    for r, activation in enumerate(("tanh", "relu")):
        for c, (value, label) in enumerate(((0.0, "no L2"), (l2, f"L2 {l2:g}" if l2 else "L2"))):
            plane = data.mean_plane(activation, "ebab", value) if value is not None else pd.DataFrame()
            if plane.empty:
                _empty(axes[r][c], "no data")
            else:
                draw_plane(axes[r][c], plane, data.norm, f"{activation}, {label}, EBAB, mean over seeds")
        ax = axes[r][2]
        for value, style in ((0.0, "-"), (l2, "--")):
            rows = d[(d["activation"] == activation) & (d["l2"] == value) & (d["estimator"] == "ebab") & (d["layer"] == 0)]
            if rows.empty:
                continue
            curves = rows.groupby("epoch")[["train_accuracy", "test_accuracy"]].mean()
            name = "no L2" if value == 0 else f"L2 {value:g}"
            ax.plot(np.maximum(curves.index, 1), curves["train_accuracy"], style, color="tab:blue", label=f"train, {name}")
            ax.plot(np.maximum(curves.index, 1), curves["test_accuracy"], style, color="tab:orange", label=f"test, {name}")
        ax.set_xscale("log")
        ax.set_xlabel("Epoch (epoch 0 drawn at 1)")
        ax.set_ylabel("Accuracy (fraction correct)")
        ax.set_title(f"{activation}: accuracy, mean over seeds", fontsize=9)
        if ax.lines:
            ax.legend(fontsize=7)
    add_epoch_colorbar(fig, axes[:, :2], data.norm)
    return _save(fig, out, "fig8_l2")


def fig9_generalization(data: FigureData, out: Path) -> list[Path]:
    """Per layer, compression against final test accuracy across all networks, with Pearson r and
    p over the networks that learned (grey: never left chance) and over all of them."""
    per = data.per_network
    correlations = {learned: generalization_correlations(per, learned).set_index(["estimator", "layer"])
                    for learned in (True, False)}
    layers = sorted(per["layer"].unique())
    estimators = [e for e in ("ebab", "akde") if e in set(per["estimator"])]
    fig, axes = plt.subplots(len(estimators), len(layers), figsize=(2.9 * len(layers), 3.0 * len(estimators)),
                             layout="constrained", squeeze=False)
    for r, estimator in enumerate(estimators):
        for c, layer in enumerate(layers):
            ax = axes[r][c]
            rows = per[(per["estimator"] == estimator) & (per["layer"] == layer)]
            learned = rows["train_accuracy"] >= LEARNED
            ax.scatter(rows.loc[learned, "compression"], rows.loc[learned, "test_accuracy"], s=8, alpha=0.7)
            ax.scatter(rows.loc[~learned, "compression"], rows.loc[~learned, "test_accuracy"], s=8, color="0.6",
                       label="never learned" if (~learned).any() else None)
            kept, every = correlations[True].loc[(estimator, layer)], correlations[False].loc[(estimator, layer)]
            name = "softmax" if layer == layers[-1] else f"layer {layer + 1}"
            ax.set_title(f"{ESTIMATOR_NAMES[estimator]}, {name}\n"
                         f"r = {kept['pearson_r']:.2f}, p = {kept['pearson_p']:.2g} (n = {kept['n']})\n"
                         f"all: r = {every['pearson_r']:.2f}, p = {every['pearson_p']:.2g} (n = {every['n']})", fontsize=7)
            ax.set_xlabel("Compression (bits)")
            ax.set_ylabel("Final test accuracy")
            if ax.collections[1].get_label() == "never learned":
                ax.legend(fontsize=6, loc="lower right")
    return _save(fig, out, "fig9_generalization")


def fig_compression_by_activation(data: FigureData, out: Path) -> list[Path]:
    """Compression per activation and layer, each dot one seed, bars the mean."""
    per = data.per_network[data.per_network["l2"] == 0]
    activations = data.activations()
    estimators = [e for e in ("ebab", "akde") if e in set(per["estimator"])]
    fig, axes = plt.subplots(len(estimators), 1, figsize=(max(8, 1.3 * len(activations)), 3.4 * len(estimators)),
                             layout="constrained", squeeze=False)
    layers = sorted(per["layer"].unique())
    width = 0.8 / len(layers)
    cmap = plt.get_cmap("viridis")
    for ax, estimator in zip(axes[:, 0], estimators):
        for j, layer in enumerate(layers):
            rows = per[(per["estimator"] == estimator) & (per["layer"] == layer)]
            for i, activation in enumerate(activations):
                values = rows.loc[rows["activation"] == activation, "compression"].to_numpy()
                position = i + (j - (len(layers) - 1) / 2) * width
                colour = cmap(j / max(len(layers) - 1, 1))
                ax.bar(position, values.mean() if len(values) else 0, width=width, color=colour, alpha=0.5,
                       label=("softmax" if layer == layers[-1] else f"layer {layer + 1}") if i == 0 else None)
                ax.scatter(np.full(len(values), position), values, color=colour, s=6, zorder=3)
        ax.set_xticks(range(len(activations)), activations, rotation=20)
        ax.set_ylabel("Compression (bits)")
        ax.set_title(f"{ESTIMATOR_NAMES[estimator]}: compression = max I(X;T) - final I(X;T), dots = seeds", fontsize=9)
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top + 0.2 * (top - bottom))  # room for the legend above the data
        ax.legend(fontsize=7, ncols=len(layers), loc="upper center")
    return _save(fig, out, "fig_compression_by_activation")


def fig_akde_sensitivity(data: FigureData, out: Path) -> list[Path]:
    """Extension: how aKDE's compression ranking of activations moves with variance_scale."""
    rows = with_param(data.table[data.table["l2"] == 0], "akde", "variance_scale")
    rows = rows[rows["variance_scale"].isin(SENSITIVITY_SCALES)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    if rows.empty:
        for ax in axes:
            _empty(ax, "no aKDE rows at variance_scale 0.01, 0.1, 1")
        return _save(fig, out, "fig_akde_sensitivity")
    mean = {}
    for scale, group in rows.groupby("variance_scale"):
        per = compression(group)
        mean[scale] = per.groupby("activation")["compression"].mean()  # over layers and seeds
    table = pd.DataFrame(mean)
    ranks = table.rank(ascending=False)
    for activation in table.index:
        axes[0].plot(table.columns, table.loc[activation], "o-", label=activation)
        axes[1].plot(table.columns, ranks.loc[activation], "o-", label=activation)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("aKDE variance_scale (noise variance / max|T|)")
    axes[0].set_ylabel("Mean compression over layers and seeds (bits)")
    axes[1].set_ylabel("Rank (1 = most compression)")
    axes[1].invert_yaxis()
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    axes[0].set_title("aKDE compression per activation", fontsize=9)
    axes[1].set_title("Ranking of activations by compression", fontsize=9)
    return _save(fig, out, "fig_akde_sensitivity")


FIGURES: list[Callable[[FigureData, Path], list[Path]]] = [
    fig1_max_activity, fig2_ebab_bins, fig3_estimators, fig5_relu_single_seeds, fig6_relu_mean, fig7_activations,
    fig8_l2, fig9_generalization, fig_compression_by_activation, fig_akde_sensitivity,
]


def make_figures(table: pd.DataFrame, out: str | Path) -> list[Path]:
    """Draw every figure from the MI table into ``out`` (PNG and PDF); return the files.
    ValueError, before anything is drawn, when the table lacks the adaptive estimators."""
    missing = [name for name in ("ebab", "akde") if name not in set(table["estimator"])]
    if missing:
        raise ValueError(f"the figures need rows of the adaptive estimators; the table has none of {', '.join(missing)} "
                         f"(it has {', '.join(sorted(set(table['estimator'])))}); add them with estimate --estimators")
    check_one_setting(table)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = FigureData(table)
    return [path for figure in FIGURES for path in figure(data, out)]
