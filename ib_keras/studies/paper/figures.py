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
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ib_keras.analysis.statistics import LEARNED, generalization_correlations
from ib_keras.analysis.summary import Summary
from ib_keras.estimate.estimators._binning import ebab_edges
from ib_keras.plots.files import Output, files_only, save_figure
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, plane_grid
from ib_keras.runfile import layer_name
from ib_keras.studies.paper.extension_figures import (SENSITIVITY_SCALES, akde_scales, fig_akde_sensitivity,
                                                      fig_compression_by_activation, fig_mi_epochs, fig_snr, fig_truth)
from ib_keras.studies.paper.figure_data import ADAPTIVE, ESTIMATOR_NAMES, ROW_LENGTH, FigureData, band, seeds_text
from ib_keras.system.workers import worker_pool


def fig1_max_activity(data: FigureData, out: Output) -> list[Path]:
    """Per-layer maximum ReLU activity against epoch: one layer sets the network's maximum."""
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    rows = data.dynamics("relu")
    for layer in sorted(rows["layer"].unique())[:-1]:  # the hidden layers
        band(ax, rows[rows["layer"] == layer], "max_activity", label=f"layer {layer + 1}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Epoch (epoch 0 drawn at 1)")
    ax.set_ylabel("Maximum activity (activation units)")
    ax.set_title(f"ReLU: largest activity per hidden layer, mean (band: 10-90 %) over {seeds_text(int(rows['n'].max()))}",
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
    values, sample = data.summary.sample["activity"].to_numpy(), data.summary.manifest["sample"]
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
    cells = [[(data.mean_plane(activation, e), f"{activation}: {ESTIMATOR_NAMES[e]}")
              for e in data.estimated(activation, BASELINES)] for activation in ("tanh", "relu")]
    cells = [row for row in cells if row]  # an activation not in the table: no row
    return plane_grid(data.norm, cells, out, "fig3_estimators", (17, 6.5))


def fig5_relu_single_seeds(data: FigureData, out: Output) -> list[Path]:
    """Single-seed ReLU planes (EBAB): how much initialisations differ."""
    rows = data.summary.seeds
    seeds = sorted(rows["seed"].unique())
    cells = [(rows[rows["seed"] == seed], f"ReLU, EBAB, seed {seed}") for seed in seeds]
    grid = [cells[:3], cells[3:6]] if len(cells) > 3 else [cells]
    return plane_grid(data.norm, grid, out, "fig5_relu_single_seeds", (12, 3.4 * len(grid)))


def fig6_relu_mean(data: FigureData, out: Output) -> list[Path]:
    """ReLU averaged over all seeds under EBAB and aKDE."""
    n = data.seeds("relu")
    cells = [[(data.mean_plane("relu", e), f"ReLU, {ESTIMATOR_NAMES[e]}, mean of {seeds_text(n)}")
              for e in data.estimated("relu")]]
    return plane_grid(data.norm, cells, out, "fig6_relu_mean", (9, 3.8))


def fig7_activations(data: FigureData, out: Output) -> list[Path]:
    """Seed-averaged planes for every activation: an EBAB row and an aKDE row."""
    activations = data.activations()
    rows = [activations[i:i + ROW_LENGTH] for i in range(0, len(activations), ROW_LENGTH)]
    cells = [[(data.mean_plane(a, e), f"{a}, {ESTIMATOR_NAMES[e]}") for a in row]
             for e in ADAPTIVE if any(data.estimated(a, (e,)) for a in activations) for row in rows]
    return plane_grid(data.norm, cells, out, "fig7_activations", (3.3 * max(len(rows[0]), 2), 3.2 * len(cells)))


def fig8_l2(data: FigureData, out: Output) -> list[Path]:
    """Without and with L2 for tanh and ReLU (EBAB planes, seed means), and accuracy curves: a row
    per activation estimated both ways (`_l2_pairs`)."""
    l2, activations = _l2_pairs(data)
    fig, axes = plt.subplots(len(activations), 3, figsize=(14, 3.5 * len(activations)), layout="constrained",
                             squeeze=False)
    for r, activation in enumerate(activations):
        for c, (value, label) in enumerate(((0.0, "no L2"), (l2, f"L2 {l2:g}"))):
            draw_plane(axes[r][c], data.mean_plane(activation, "ebab", value), data.norm,
                       f"{activation}, {label}, EBAB, mean over {seeds_text(data.seeds(activation, value))}")
        ax = axes[r][2]
        for value, style in ((0.0, "-"), (l2, "--")):
            rows = data.mean_plane(activation, "ebab", value)
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


def _l2_pairs(data: FigureData) -> tuple[float, list[str]]:
    """The smallest L2 > 0 and the activations (of tanh and ReLU) with EBAB planes both without and
    with it (no L2: nan and none)."""
    l2 = min((v for v in data.per_network["l2"].unique() if v > 0), default=np.nan)
    return l2, [a for a in ("tanh", "relu") if data.estimated(a, ("ebab",)) and data.estimated(a, ("ebab",), l2)]


def fig9_generalization(data: FigureData, out: Output) -> list[Path]:
    """Per layer, compression against final test accuracy across all networks, with Pearson r and
    p over the networks that learned (grey: never left chance) and over all of them."""
    per = data.per_network
    correlations = {learned: generalization_correlations(per, learned).set_index(["estimator", "layer"])
                    for learned in (True, False)}
    layers = sorted(per["layer"].unique())
    estimators = [e for e in ADAPTIVE if e in set(per["estimator"])]
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


BASELINES = ("uniform", "fixed", "kde", *ADAPTIVE)  # figure 3's estimators


@dataclass(frozen=True)
class Figure:
    """A figure and what it is drawn from: ``missing(data)`` says what the summary lacks for it,
    "" when it has all it needs (`make_figures` draws it only then)."""

    draw: Callable[[FigureData, Output], list[Path]]
    caption: str  # as the report shows it
    missing: Callable[[FigureData], str]

    @property
    def name(self) -> str:
        return self.draw.__name__


def _lacking(has: bool, what: str) -> str:
    return "" if has else what


def _adaptive(data: FigureData) -> str:
    return _lacking(any(data.estimated(a) for a in data.activations()), "no EBAB or aKDE rows")


def _relu(data: FigureData) -> str:
    return _lacking(not data.dynamics("relu").empty, "no ReLU runs")


def _tanh_or_relu(data: FigureData) -> str:
    return _lacking(any(not data.dynamics(a).empty for a in ("tanh", "relu")), "no tanh or ReLU runs")


def _correlatable(data: FigureData) -> str:
    networks = data.per_network.loc[data.per_network["estimator"].isin(ADAPTIVE), "run"].nunique()
    return _lacking(networks >= 3, f"{networks} network(s) under EBAB or aKDE; a correlation needs at least 3")


FIGURES = [
    Figure(fig1_max_activity, "Maximum activity per ReLU layer: one layer sets the network's range.", _relu),
    Figure(fig2_ebab_bins, "Uniform against EBAB bins on one ReLU layer, with the binned entropy.",
           lambda d: _lacking(len(d.summary.sample) > 0, "no ReLU run file under EBAB to read")),
    Figure(fig3_estimators, "tanh and ReLU under the baselines and the adaptive estimators (seed means).",
           lambda d: _lacking(any(d.estimated(a, BASELINES) for a in ("tanh", "relu")), "no tanh or ReLU runs")),
    Figure(fig5_relu_single_seeds, "Single ReLU networks under EBAB: variation between initialisations.",
           lambda d: _lacking(not d.summary.seeds.empty, "no ReLU runs under EBAB")),
    Figure(fig6_relu_mean, "ReLU averaged over seeds, EBAB and aKDE.",
           lambda d: _lacking(bool(d.estimated("relu")), "no ReLU runs under EBAB or aKDE")),
    Figure(fig7_activations, "Every activation, EBAB (top) and aKDE (bottom), seed means.", _adaptive),
    Figure(fig8_l2, "Without and with L2, tanh and ReLU, and accuracy curves.",
           lambda d: _lacking(bool(_l2_pairs(d)[1]), "no tanh or ReLU runs under EBAB both without and with L2")),
    Figure(fig9_generalization, "Compression against final test accuracy per layer.", _correlatable),
    Figure(fig_compression_by_activation, "Compression per activation and layer, every seed.", _adaptive),
    Figure(fig_akde_sensitivity, "Extension: the aKDE ranking of activations against its variance scale.",
           lambda d: _lacking(akde_scales(d) >= 2, "aKDE at fewer than two of variance_scale "
                              f"{', '.join(f'{v:g}' for v in SENSITIVITY_SCALES)}")),
    Figure(fig_snr, "Gradient mean, spread, their ratio (SNR) and the weight norm per layer, tanh and ReLU.",
           _tanh_or_relu),
    Figure(fig_mi_epochs, "I(X;T) and I(T;Y) against epoch per layer, EBAB and aKDE, every configuration (seed means).",
           _adaptive),
    Figure(fig_truth, "Extension: each KDE bound's error against the true I(X;T') and I(T';Y) over training, per layer.",
           lambda d: _lacking(not d.summary.truth.empty, "no noisy estimates (the truth)")),
]


def not_drawn(summary: Summary) -> dict[str, str]:
    """The figures ``summary`` lacks what they need for, by name: what it lacks."""
    data = FigureData(summary)
    return {figure.name: figure.missing(data) for figure in FIGURES if figure.missing(data)}


def make_figures(summary: Summary, out: str | Path, pdf: bool = True, workers: int = 1) -> list[Path]:
    """Draw every figure ``summary`` has the data for (`not_drawn` names the others) into ``out``
    (PNG, and PDF if ``pdf``); return the files. With ``workers`` > 1 the figures are shared among
    that many worker processes (drawing is matplotlib's layout and rendering, one core each),
    with the Agg backend. ValueError, before anything is drawn, when no figure applies."""
    missing = not_drawn(summary)
    drawn = [k for k, figure in enumerate(FIGURES) if figure.name not in missing]
    if not drawn:
        raise ValueError("none of the paper's figures applies to this table ("
                         f"{'; '.join(sorted(set(missing.values())))}); draw its planes with `python -m ib_keras plane`")
    Path(out).mkdir(parents=True, exist_ok=True)
    suffixes = (".png", ".pdf") if pdf else (".png",)
    if workers <= 1:
        return _draw(summary, Path(out), suffixes, drawn)
    shares = [drawn[first::workers] for first in range(workers)]  # the costly ones spread
    with worker_pool(workers, files_only) as pool:
        futures = [pool.submit(_draw, summary, Path(out), suffixes, share) for share in shares if share]
        return [path for future in futures for path in future.result()]


def _draw(summary: Summary, out: Path, suffixes: tuple[str, ...], figures: list[int]) -> list[Path]:
    """The figures at positions ``figures`` of FIGURES, drawn into ``out``."""
    data, output = FigureData(summary), Output(out, suffixes)
    return [path for k in figures for path in FIGURES[k].draw(data, output)]
