"""The paper's figures (and this project's extensions), each one function, saved as PNG and PDF.
Each figure is closed once saved; the backend is the caller's (the command line chooses Agg, a
notebook keeps its own).

Input: a `ib_keras.summary.Summary` (the MI table reduced, or a shipped bundle), so that every
figure can be drawn again from the small tables results/ ships. Information planes average the
per-seed values at each epoch where they say "mean".
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from ib_keras.activations import ACTIVATIONS
from ib_keras.analysis import LEARNED, default_estimates, generalization_correlations, with_param
from ib_keras.estimators._binning import ebab_edges
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, epoch_norm
from ib_keras.summary import Summary
from ib_keras.truth import over_training, paired, with_errors
from ib_keras.workers import worker_pool

ESTIMATOR_NAMES = {"uniform": "uniform (30 bins)", "fixed": "fixed width 0.07", "kde": "KDE s2=1e-3",
                   "ebab": "EBAB", "akde": "aKDE"}
SENSITIVITY_SCALES = (0.01, 0.1, 1.0)
PNG_PIXELS = 2400  # the long side of a PNG at most: the big grids stay under 1 MB
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

    def seeds(self, activation: str, l2: float = 0.0) -> int:
        d = self.per_network
        return d.loc[(d["activation"] == activation) & (d["l2"] == l2), "seed"].nunique()

    def dynamics(self, activation: str, l2: float = 0.0) -> pd.DataFrame:
        d = self.summary.dynamics
        return d[(d["activation"] == activation) & (d["l2"] == l2)]


@dataclass(frozen=True)
class Output:
    """Where figures go and in which formats."""

    directory: Path
    suffixes: tuple[str, ...] = (".png", ".pdf")


def save_figure(fig: plt.Figure, out: Output, name: str) -> list[Path]:
    paths = [out.directory / f"{name}{suffix}" for suffix in out.suffixes]
    for path in paths:
        if path.suffix == ".png":
            _save_png(fig, path)
        else:
            fig.savefig(path)
    plt.close(fig)
    return paths


def _save_png(fig: plt.Figure, path: Path) -> None:
    """150 dpi, or less so that the long side stays within PNG_PIXELS, in a 256-colour palette:
    a plane grid of thousands of translucent markers is then a few hundred kB, not a few MB."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=min(150, PNG_PIXELS / max(fig.get_size_inches())))
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def _empty(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_axis_off()


def _band(ax: plt.Axes, rows: pd.DataFrame, column: str, **style) -> None:
    """The seed mean of ``column`` against epoch (epoch 0 drawn at 1), with its 10-90 % band."""
    x = np.maximum(rows["epoch"], 1)
    line, = ax.plot(x, rows[f"{column}_mean"], **style)
    ax.fill_between(x, rows[f"{column}_p10"], rows[f"{column}_p90"], color=line.get_color(), alpha=0.15, linewidth=0)


def fig1_max_activity(data: FigureData, out: Output) -> list[Path]:
    """Per-layer maximum ReLU activity against epoch: one layer sets the network's maximum."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    rows = data.dynamics("relu")
    if rows.empty:
        _empty(ax, "no ReLU runs")
        return save_figure(fig, out, "fig1_max_activity")
    for layer in sorted(rows["layer"].unique())[:-1]:  # the hidden layers
        _band(ax, rows[rows["layer"] == layer], "max_activity", label=f"layer {layer + 1}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Epoch (epoch 0 drawn at 1)")
    ax.set_ylabel("Maximum activity (activation units)")
    ax.set_title(f"ReLU: largest activity per hidden layer, mean (band: 10-90 %) over {int(rows['n'].max())} seeds",
                 fontsize=9)
    ax.legend(fontsize=8)
    return save_figure(fig, out, "fig1_max_activity")


def _binned_entropy(values: np.ndarray, edges: np.ndarray) -> float:
    counts = np.bincount(np.digitize(values, edges))
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def fig2_ebab_bins(data: FigureData, out: Output) -> list[Path]:
    """One ReLU layer's activity histogram with uniform and EBAB bin edges, and the entropy of the
    binned values under each."""
    fig, axes = plt.subplots(2, 1, figsize=(7, 5), layout="constrained", sharex=True)
    values, sample = data.summary.sample["activity"].to_numpy(), data.summary.manifest.get("sample", {})
    if not len(values):
        for ax in axes:
            _empty(ax, "no ReLU runs")
        return save_figure(fig, out, "fig2_ebab_bins")
    uniform_edges = np.linspace(0.0, sample["run_max"], 30).astype(np.float32)
    adaptive_edges = ebab_edges(values, 30, 0.0)
    for ax, edges, name in ((axes[0], uniform_edges, "uniform, 30 bins over [0, run max]"),
                            (axes[1], adaptive_edges, "EBAB, 30 bins of equally many unique levels")):
        ax.hist(values, bins=200, color="0.6")
        ax.set_yscale("log")
        for edge in edges:
            ax.axvline(edge, color="tab:red", linewidth=0.5, alpha=0.7)
        ax.set_title(f"{name}: H = {_binned_entropy(values, edges):.2f} bits", fontsize=9)
        ax.set_ylabel("Count (values)")
    axes[1].set_xlabel(f"Activity of layer {sample['layer'] + 1}, seed {sample['seed']}, epoch {sample['epoch']}")
    return save_figure(fig, out, "fig2_ebab_bins")


def plane_grid(norm: mcolors.Normalize, cells: list[list[tuple[pd.DataFrame, str]]], out: Output, name: str,
               size: tuple[float, float]) -> list[Path]:
    """A grid of planes (rows of (plane, title) cells) sharing one epoch colour bar."""
    rows, columns = len(cells), max(1, *(len(row) for row in cells))
    fig, axes = plt.subplots(rows, columns, figsize=size, layout="constrained", squeeze=False)
    for r, row in enumerate(cells):
        for c in range(columns):
            if c >= len(row) or row[c][0].empty:
                _empty(axes[r][c], "no data" if c < len(row) else "")
            else:
                draw_plane(axes[r][c], row[c][0], norm, row[c][1])
    add_epoch_colorbar(fig, axes, norm)
    return save_figure(fig, out, name)


def fig3_estimators(data: FigureData, out: Output) -> list[Path]:
    """The same tanh and ReLU networks (mean over seeds) under every estimator: the baselines."""
    estimators = ["uniform", "fixed", "kde", "ebab", "akde"]
    cells = [[(data.mean_plane(activation, e), f"{activation}: {ESTIMATOR_NAMES[e]}") for e in estimators]
             for activation in ("tanh", "relu")]
    return plane_grid(data.norm, cells, out, "fig3_estimators", (17, 6.5))


def fig5_relu_single_seeds(data: FigureData, out: Output) -> list[Path]:
    """Single-seed ReLU planes (EBAB): how much initialisations differ."""
    rows = data.summary.seeds
    seeds = sorted(rows["seed"].unique())
    cells = [(rows[rows["seed"] == seed], f"ReLU, EBAB, seed {seed}") for seed in seeds] or [(rows, "ReLU")]
    grid = [cells[:3], cells[3:6]] if len(cells) > 3 else [cells]
    return plane_grid(data.norm, grid, out, "fig5_relu_single_seeds", (12, 3.4 * len(grid)))


def fig6_relu_mean(data: FigureData, out: Output) -> list[Path]:
    """ReLU averaged over all seeds under EBAB and aKDE."""
    n = data.seeds("relu")
    cells = [[(data.mean_plane("relu", e), f"ReLU, {ESTIMATOR_NAMES[e]}, mean of {n} seeds") for e in ("ebab", "akde")]]
    return plane_grid(data.norm, cells, out, "fig6_relu_mean", (9, 3.8))


def fig7_activations(data: FigureData, out: Output) -> list[Path]:
    """Seed-averaged planes for every activation: an EBAB row and an aKDE row."""
    activations = data.activations()
    rows = [activations[i:i + ROW_LENGTH] for i in range(0, len(activations), ROW_LENGTH)] or [[]]
    cells = [[(data.mean_plane(a, e), f"{a}, {ESTIMATOR_NAMES[e]}") for a in row] for e in ("ebab", "akde") for row in rows]
    return plane_grid(data.norm, cells, out, "fig7_activations", (3.3 * max(len(rows[0]), 2), 3.2 * len(cells)))


def fig8_l2(data: FigureData, out: Output) -> list[Path]:
    """Without and with L2 for tanh and ReLU (EBAB planes, seed means), and accuracy curves."""
    l2_values = sorted(v for v in data.per_network["l2"].unique() if v > 0)
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
            rows = data.mean_plane(activation, "ebab", value) if value is not None else pd.DataFrame()
            if rows.empty:
                continue
            curves = rows[rows["layer"] == 0].set_index("epoch")
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
    return save_figure(fig, out, "fig8_l2")


def fig9_generalization(data: FigureData, out: Output) -> list[Path]:
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
            # No learned network of this estimator and layer: no row, drawn as r = nan (n = 0).
            kept, every = (correlations[learned_only].reindex([(estimator, layer)]).iloc[0].fillna({"n": 0})
                           for learned_only in (True, False))
            name = "softmax" if layer == layers[-1] else f"layer {layer + 1}"
            ax.set_title(f"{ESTIMATOR_NAMES[estimator]}, {name}\n"
                         f"r = {kept['pearson_r']:.2f}, p = {kept['pearson_p']:.2g} (n = {kept['n']:.0f})\n"
                         f"all: r = {every['pearson_r']:.2f}, p = {every['pearson_p']:.2g} (n = {every['n']:.0f})", fontsize=7)
            ax.set_xlabel("Compression (bits)")
            ax.set_ylabel("Final test accuracy")
            if ax.collections[1].get_label() == "never learned":
                ax.legend(fontsize=6, loc="lower right")
    return save_figure(fig, out, "fig9_generalization")


def fig_compression_by_activation(data: FigureData, out: Output) -> list[Path]:
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
    return save_figure(fig, out, "fig_compression_by_activation")


def fig_akde_sensitivity(data: FigureData, out: Output) -> list[Path]:
    """Extension: how aKDE's compression ranking of activations moves with variance_scale."""
    networks = data.summary.networks
    rows = with_param(networks[networks["l2"] == 0], "akde", "variance_scale")
    rows = rows[rows["variance_scale"].isin(SENSITIVITY_SCALES)]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    if rows.empty:
        for ax in axes:
            _empty(ax, "no aKDE rows at variance_scale 0.01, 0.1, 1")
        return save_figure(fig, out, "fig_akde_sensitivity")
    mean = {}
    for scale, group in rows.groupby("variance_scale"):
        mean[scale] = group.groupby("activation")["compression"].mean()  # over layers and seeds
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
    return save_figure(fig, out, "fig_akde_sensitivity")


def fig_mi_epochs(data: FigureData, out: Output) -> list[Path]:
    """I(X;T) and I(T;Y) against epoch, one line per layer, under EBAB and aKDE (seed means), a
    row per configuration: when each layer compresses is easier to read here than in the plane."""
    configurations = [(a, l2) for l2 in sorted(data.per_network["l2"].unique()) for a in data.activations(l2)]
    columns = [(e, quantity) for e in ("ebab", "akde") for quantity in ("i_xt", "i_ty")]
    fig, axes = plt.subplots(max(len(configurations), 1), len(columns), figsize=(13, 2.3 * max(len(configurations), 1) + 0.6),
                             layout="constrained", squeeze=False, sharex=True)
    layers = sorted(data.planes["layer"].unique())
    cmap = plt.get_cmap("viridis")
    for r, (activation, l2) in enumerate(configurations):
        for c, (estimator, quantity) in enumerate(columns):
            ax = axes[r][c]
            plane = data.mean_plane(activation, estimator, l2)
            for layer in layers:
                rows = plane[plane["layer"] == layer]
                ax.plot(np.maximum(rows["epoch"], 1), rows[quantity], color=cmap(layer / max(len(layers) - 1, 1)),
                        label="softmax" if layer == layers[-1] else f"layer {layer + 1}")
            ax.set_xscale("log")
            name = activation if l2 == 0 else f"{activation}, L2 {l2:g}"
            ax.set_title(f"{name}: {ESTIMATOR_NAMES[estimator]}", fontsize=8)
            ax.set_ylabel(("I(X;T)" if quantity == "i_xt" else "I(T;Y)") + " (bits)", fontsize=8)
            ax.tick_params(labelsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("Epoch (0 drawn at 1)", fontsize=8)
    handles, labels = next((ax.get_legend_handles_labels() for ax in axes.flat if ax.lines), ([], []))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8)
    return save_figure(fig, out, "fig_mi_epochs")


_SNR_LINES = (("grad_mean", "||mean gradient||"), ("grad_std", "||std of gradient||"),
              ("snr", "SNR = mean / std"), ("weights_norm", "||weights||"))


def fig_snr(data: FigureData, out: Output, name: str = "fig_snr") -> list[Path]:
    """Gradient signal-to-noise per layer against epoch, tanh and ReLU (Shwartz-Ziv & Tishby's
    drift and diffusion phases, Saxe et al.'s SNR plots): seed means with 10-90 % bands."""
    activations = [a for a in ("tanh", "relu") if not data.dynamics(a).empty] or ["tanh", "relu"]
    layers = sorted(data.summary.dynamics["layer"].unique()) or [0]
    fig, axes = plt.subplots(len(activations), len(layers), figsize=(2.7 * len(layers) + 0.5, 2.9 * len(activations) + 0.6),
                             layout="constrained", squeeze=False, sharex=True)
    last = layers[-1]
    for r, activation in enumerate(activations):
        rows = data.dynamics(activation)
        for c, layer in enumerate(layers):
            ax = axes[r][c]
            layer_rows = rows[rows["layer"] == layer]
            if layer_rows.empty:
                _empty(ax, f"no {activation} runs")
                continue
            for column, label in _SNR_LINES:
                _band(ax, layer_rows, column, label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{activation}, {'softmax' if layer == last else f'layer {layer + 1}'} "
                         f"(n = {int(layer_rows['n'].max())})", fontsize=8)
            if r == len(activations) - 1:
                ax.set_xlabel("Epoch (0 drawn at 1)", fontsize=8)
            if c == 0:
                ax.set_ylabel("Frobenius norm; SNR (ratio)", fontsize=8)
            ax.tick_params(labelsize=7)
    handles, labels = next((ax.get_legend_handles_labels() for ax in axes.flat if ax.lines), ([], []))
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle("Kernel gradients over one pass of minibatches and weight norms, seed means (bands: 10-90 %)",
                 fontsize=9)
    return save_figure(fig, out, name)


# The KDE settings fig_truth draws: the report's defaults (Saxe et al.'s s2 and aKDE's 0.1).
TRUTH_SETTINGS = (("kde", "noise_variance=0.001", "KDE s2=1e-3"), ("akde", "variance_scale=0.1", "aKDE scale 0.1"))


def fig_truth(data: FigureData, out: Output) -> list[Path]:
    """Each KDE bound minus the truth (the noisy estimate of the same T'), bits, against epoch,
    per layer: I(X;T') above, I(T';Y) below; median over every network with its 10-90 % band.
    Drawn only when the summary has noisy estimates."""
    if data.summary.truth.empty:
        return []
    errors = over_training(with_errors(paired(data.summary.truth)))
    layers = sorted(errors["layer"].unique())
    fig, axes = plt.subplots(2, len(layers), figsize=(2.7 * len(layers) + 0.5, 5.6), layout="constrained",
                             squeeze=False, sharex=True)
    colours = plt.get_cmap("tab10")
    quantities = (("I(X;T')", "upper_excess", "lower_shortfall"), ("I(T';Y)", "upper_ty_error", "lower_ty_error"))
    for r, (quantity, upper, lower) in enumerate(quantities):
        for c, layer in enumerate(layers):
            ax = axes[r][c]
            for k, (estimator, setting, label) in enumerate(TRUTH_SETTINGS):
                rows = errors[(errors["estimator"] == estimator) & (errors["setting"] == setting) & (errors["layer"] == layer)]
                x = np.maximum(rows["epoch"], 1)
                # I(X;T')'s lower column is truth - lower: drawn as lower - truth, below zero
                for column, sign, style, bound in ((upper, 1.0, "-", "upper"), (lower, -1.0 if r == 0 else 1.0, "--", "lower")):
                    ax.plot(x, sign * rows[f"{column}_median"], style, color=colours(k), label=f"{label}, {bound} bound")
                    ax.fill_between(x, sign * rows[f"{column}_p10"], sign * rows[f"{column}_p90"], color=colours(k),
                                    alpha=0.12, linewidth=0)
            ax.axhline(0.0, color="black", linewidth=0.6)
            ax.set_xscale("log")
            n = int(errors.loc[errors["layer"] == layer, "n"].max())
            ax.set_title(f"{'softmax' if layer == layers[-1] else f'layer {layer + 1}'}: {quantity} (n = {n})", fontsize=8)
            if c == 0:
                ax.set_ylabel("bound - truth (bits)", fontsize=8)
            if r == 1:
                ax.set_xlabel("Epoch (0 drawn at 1)", fontsize=8)
            ax.tick_params(labelsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=8)
    fig.suptitle("KDE bounds against the true information of T' = T + N(0, s2 I), every network pooled: median "
                 "(bands: 10-90 %)", fontsize=9)
    return save_figure(fig, out, "fig_truth")


FIGURES: list[Callable[[FigureData, Output], list[Path]]] = [
    fig1_max_activity, fig2_ebab_bins, fig3_estimators, fig5_relu_single_seeds, fig6_relu_mean, fig7_activations,
    fig8_l2, fig9_generalization, fig_compression_by_activation, fig_akde_sensitivity, fig_snr, fig_mi_epochs,
    fig_truth,
]


def make_figures(summary: Summary, out: str | Path, pdf: bool = True, workers: int = 1) -> list[Path]:
    """Draw every figure from ``summary`` into ``out`` (PNG, and PDF if ``pdf``); return the files.
    With ``workers`` > 1 the figures are shared among that many worker processes (drawing is
    matplotlib's layout and rendering, one core each), with the Agg backend. ValueError, before
    anything is drawn, when it lacks the adaptive estimators."""
    estimators = set(summary.networks["estimator"])
    missing = [name for name in ("ebab", "akde") if name not in estimators]
    if missing:
        raise ValueError(f"the figures need rows of the adaptive estimators; the table has none of {', '.join(missing)} "
                         f"(it has {', '.join(sorted(estimators))}); add them with estimate --estimators")
    Path(out).mkdir(parents=True, exist_ok=True)
    suffixes = (".png", ".pdf") if pdf else (".png",)
    if workers <= 1:
        return _draw(summary, Path(out), suffixes, range(len(FIGURES)))
    shares = [range(first, len(FIGURES), workers) for first in range(workers)]  # the costly ones spread
    with worker_pool(workers, files_only) as pool:
        futures = [pool.submit(_draw, summary, Path(out), suffixes, share) for share in shares]
        return [path for future in futures for path in future.result()]


def _draw(summary: Summary, out: Path, suffixes: tuple[str, ...], figures: range) -> list[Path]:
    """The figures at positions ``figures`` of FIGURES, drawn into ``out``."""
    data, output = FigureData(summary), Output(out, suffixes)
    return [path for k in figures for path in FIGURES[k](data, output)]


def files_only() -> None:
    """Draw with the Agg backend: figures go to files, no display is needed or opened (the command
    line's choice, and every drawing worker's set-up)."""
    import matplotlib

    matplotlib.use("Agg")
