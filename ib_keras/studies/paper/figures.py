"""The paper's figures, each one function, saved as PNG and PDF; `make_figures` draws them with
this project's extensions (`extension_figures`).
Each figure is closed once saved; the backend is the caller's (the command line chooses Agg, a
notebook keeps its own).

Input: a `ib_keras.analysis.summary.Summary` (the MI table reduced, or a shipped bundle), so that every
figure can be drawn again from the small tables results/ ships. Information planes average the
per-seed values at each epoch where they say "mean".
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.analysis.statistics import LEARNED, generalization_correlations
from ib_keras.analysis.summary import Summary
from ib_keras.estimate.estimators._binning import ebab_edges
from ib_keras.plots.files import Output, files_only, save_figure
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, empty_axes, plane_grid
from ib_keras.runfile import layer_name
from ib_keras.studies.paper.extension_figures import (fig_akde_sensitivity, fig_compression_by_activation,
                                                      fig_mi_epochs, fig_snr, fig_truth)
from ib_keras.studies.paper.figure_data import ESTIMATOR_NAMES, ROW_LENGTH, FigureData, band
from ib_keras.system.workers import worker_pool


def fig1_max_activity(data: FigureData, out: Output) -> list[Path]:
    """Per-layer maximum ReLU activity against epoch: one layer sets the network's maximum."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    rows = data.dynamics("relu")
    if rows.empty:
        empty_axes(ax, "no ReLU runs")
        return save_figure(fig, out, "fig1_max_activity")
    for layer in sorted(rows["layer"].unique())[:-1]:  # the hidden layers
        band(ax, rows[rows["layer"] == layer], "max_activity", label=f"layer {layer + 1}")
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
            empty_axes(ax, "no ReLU runs")
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
                empty_axes(axes[r][c], "no data")
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
            name = layer_name(layer, layers[-1])
            ax.set_title(f"{ESTIMATOR_NAMES[estimator]}, {name}\n"
                         f"r = {kept['pearson_r']:.2f}, p = {kept['pearson_p']:.2g} (n = {kept['n']:.0f})\n"
                         f"all: r = {every['pearson_r']:.2f}, p = {every['pearson_p']:.2g} (n = {every['n']:.0f})", fontsize=7)
            ax.set_xlabel("Compression (bits)")
            ax.set_ylabel("Final test accuracy")
            if ax.collections[1].get_label() == "never learned":
                ax.legend(fontsize=6, loc="lower right")
    return save_figure(fig, out, "fig9_generalization")


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
