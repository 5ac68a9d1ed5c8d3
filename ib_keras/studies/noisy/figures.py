"""Figures of the noisy-network study (`ib_keras.studies.noisy.claims`): sp information planes, I(X;T)
against epoch with the clustering measure over it, and one layer's representations."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.plots.files import Output, save_figure
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, epoch_norm
from ib_keras.runfile import RunFileError, layer_name, read_run
from ib_keras.studies.noisy.claims import REPRESENTATIONS, NoisyResult, sp_rows

SNAPSHOT_EPOCHS = (0, 100, 1000, 10_000)  # the representations figure's epochs (the nearest recorded)


def fig_planes(result: NoisyResult, out: Output) -> list[Path]:
    """sp information planes, the seed mean per activation, colour = epoch."""
    sp = sp_rows(result.rows)
    activations = sorted(sp["activation"].unique())
    fig, axes = plt.subplots(1, len(activations), figsize=(5 * len(activations), 4), layout="constrained", squeeze=False)
    norm = epoch_norm(int(sp["epoch"].max()))
    for ax, activation in zip(axes[0], activations):
        rows = sp[sp["activation"] == activation]
        plane = rows.groupby(["epoch", "layer"])[["i_xt", "i_ty"]].mean().reset_index()
        draw_plane(ax, plane, norm, f"{activation}, s = {rows['noise_std'].iloc[0]:g}: sp, mean of "
                                    f"{rows['seed'].nunique()} networks")
    add_epoch_colorbar(fig, axes, norm)
    return save_figure(fig, out, "fig_noisy_planes")


def fig_clustering(result: NoisyResult, out: Output) -> list[Path]:
    """Per activation (rows) and layer (columns): sp I(X;T) and the binned entropy at bin size s
    against epoch (median, 10-90 % band; one bits scale for every panel), with within_between on
    the right axis."""
    rows = result.rows
    activations = sorted(rows["activation"].unique())
    layers = sorted(rows["layer"].unique())
    fig, axes = plt.subplots(len(activations), len(layers), figsize=(2.6 * len(layers), 2.6 * len(activations)),
                             layout="constrained", squeeze=False)
    binned_label = f"binned, bin {rows['noise_std'].iloc[0]:g}"
    series = {"sp I(X;T)": sp_rows(rows), binned_label: rows[rows["estimator"] == "fixed"]}
    top = 1.05 * float(max(chosen["i_xt"].max() for chosen in series.values()))
    for i, activation in enumerate(activations):
        for j, layer in enumerate(layers):
            ax = axes[i, j]
            for (label, chosen), colour in zip(series.items(), ("tab:blue", "tab:green")):
                _median_band(ax, chosen[(chosen["activation"] == activation) & (chosen["layer"] == layer)], "i_xt",
                             colour, label)
            right = ax.twinx()
            binned = series[binned_label]  # every recorded epoch; within_between is the layer's, any row has it
            _median_band(right, binned[(binned["activation"] == activation) & (binned["layer"] == layer)],
                         "within_between", "tab:red", "within/between")
            right.set_ylim(0, 1.05)
            ax.set_ylim(0, top)  # one scale for every panel: the bits each layer loses, as large as they are
            ax.set_xscale("log")
            ax.set_title(f"{activation}, {layer_name(layer, layers[-1])}", fontsize=8)
            ax.tick_params(labelsize=7)
            right.tick_params(labelsize=7, colors="tab:red")
            if j == 0:
                ax.set_ylabel("bits", fontsize=8)
            if i == len(activations) - 1:
                ax.set_xlabel("epoch", fontsize=8)
    handles = [plt.Line2D([], [], color=c) for c in ("tab:blue", "tab:green", "tab:red")]
    fig.legend(handles, ["sp I(X;T)", "binned entropy, bin s", "within/between class distance (right)"],
               loc="outside lower center", ncol=3, fontsize=8)
    return save_figure(fig, out, "fig_noisy_clustering")


def _median_band(ax: plt.Axes, rows: pd.DataFrame, column: str, colour: str, label: str) -> None:
    by_epoch = rows.groupby("epoch")[column]
    x = np.maximum(np.asarray(by_epoch.median().index), 1)
    ax.plot(x, by_epoch.median(), color=colour, linewidth=1, label=label)
    ax.fill_between(x, by_epoch.quantile(0.1), by_epoch.quantile(0.9), color=colour, alpha=0.15, linewidth=0)


def fig_representations(rows: pd.DataFrame, out: Output) -> list[Path]:
    """The last hidden layer's noise-free activity of each activation's first network at
    SNAPSHOT_EPOCHS (the nearest recorded), its first two principal components, coloured by class;
    none when a run file cannot be read (a report made again from the compact table alone)."""
    try:
        runs = {activation: read_run(path) for activation, path in
                rows.sort_values("seed").groupby("activation")["run"].first().items()}
    except (RunFileError, OSError):
        return []
    chosen = {activation: sorted({int(np.argmin(np.abs(run.epochs - wanted))) for wanted in SNAPSHOT_EPOCHS})
              for activation, run in runs.items()}
    columns = max(map(len, chosen.values()))
    fig, axes = plt.subplots(len(runs), columns, figsize=(2.6 * columns, 2.6 * len(runs)), layout="constrained",
                             squeeze=False)
    for i, (activation, run) in enumerate(runs.items()):
        layer = len(run.activity) - 2
        for j, e in enumerate(chosen[activation]):
            activity = run.activity[layer][e].astype(np.float64)
            centred = activity - activity.mean(axis=0)
            _, _, components = np.linalg.svd(centred, full_matrices=False)
            projected = centred @ components[:2].T if activity.shape[1] > 1 else np.c_[centred, np.zeros(len(centred))]
            ax = axes[i, j]
            for c, colour in zip(np.unique(run.y), ("tab:blue", "tab:orange")):
                points = projected[run.y == c]
                ax.scatter(points[:, 0], points[:, 1], s=2, color=colour, alpha=0.4, label=f"y = {c}")
            ax.set_title(f"{activation} seed {run.config.get('seed')}, {layer_name(layer, len(run.layers) - 1)}, epoch {run.epochs[e]}",
                         fontsize=8)
            ax.tick_params(labelsize=6)
    axes[0, 0].legend(fontsize=7, markerscale=4)
    return save_figure(fig, out, REPRESENTATIONS)


def make_noisy_figures(result: NoisyResult, out: str | Path) -> list[Path]:
    """Every figure of the study as PNG into ``out``; returns the files."""
    output = Output(Path(out), (".png",))
    return [*fig_planes(result, output), *fig_clustering(result, output), *fig_representations(result.rows, output)]
