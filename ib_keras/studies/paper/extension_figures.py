"""This project's figures beyond the paper's: compression by activation, aKDE's sensitivity to its
scale, I(X;T) against epochs, the gradients' signal-to-noise, and the KDE bounds against the truth."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.analysis.statistics import with_param
from ib_keras.analysis.truth import over_training, paired, with_errors
from ib_keras.plots.files import Output, save_figure
from ib_keras.plots.planes import empty_axes
from ib_keras.runfile import layer_name
from ib_keras.studies.paper.figure_data import ADAPTIVE, ESTIMATOR_NAMES, FigureData, band

SENSITIVITY_SCALES = (0.01, 0.1, 1.0)


def fig_compression_by_activation(data: FigureData, out: Output) -> list[Path]:
    """Compression per activation and layer, each dot one seed, bars the mean."""
    per = data.per_network[data.per_network["l2"] == 0]
    activations = data.activations()
    estimators = [e for e in ADAPTIVE if e in set(per["estimator"])]
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
                       label=layer_name(layer, layers[-1]) if i == 0 else None)
                ax.scatter(np.full(len(values), position), values, color=colour, s=6, zorder=3)
        ax.set_xticks(range(len(activations)), activations, rotation=20)
        ax.set_ylabel("Compression (bits)")
        ax.set_title(f"{ESTIMATOR_NAMES[estimator]}: compression = max I(X;T) - final I(X;T), dots = seeds", fontsize=9)
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top + 0.2 * (top - bottom))  # room for the legend above the data
        ax.legend(fontsize=7, ncols=len(layers), loc="upper center")
    return save_figure(fig, out, "fig_compression_by_activation")


def _sensitivity_rows(data: FigureData) -> pd.DataFrame:
    """The networks without L2 under aKDE at SENSITIVITY_SCALES, with a variance_scale column."""
    networks = data.summary.networks
    rows = with_param(networks[networks["l2"] == 0], "akde", "variance_scale")
    return rows[rows["variance_scale"].isin(SENSITIVITY_SCALES)]


def akde_scales(data: FigureData) -> int:
    """How many of SENSITIVITY_SCALES the summary has aKDE estimates at."""
    return _sensitivity_rows(data)["variance_scale"].nunique()


def fig_akde_sensitivity(data: FigureData, out: Output) -> list[Path]:
    """Extension: how aKDE's compression ranking of activations moves with variance_scale."""
    rows = _sensitivity_rows(data)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
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
    estimators = [e for e in ADAPTIVE if any(data.estimated(a, (e,), l2) for a, l2 in configurations)]
    columns = [(e, quantity) for e in estimators for quantity in ("i_xt", "i_ty")]
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
                        label=layer_name(layer, layers[-1]))
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
    activations = [a for a in ("tanh", "relu") if not data.dynamics(a).empty]
    layers = sorted(data.summary.dynamics["layer"].unique())
    fig, axes = plt.subplots(len(activations), len(layers), figsize=(2.7 * len(layers) + 0.5, 2.9 * len(activations) + 0.6),
                             layout="constrained", squeeze=False, sharex=True)
    last = layers[-1]
    for r, activation in enumerate(activations):
        rows = data.dynamics(activation)
        for c, layer in enumerate(layers):
            ax = axes[r][c]
            layer_rows = rows[rows["layer"] == layer]
            if layer_rows.empty:
                empty_axes(ax, f"no {activation} runs")
                continue
            for column, label in _SNR_LINES:
                band(ax, layer_rows, column, label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{activation}, {layer_name(layer, last)} "
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
    per layer: I(X;T') above, I(T';Y) below; median over every network with its 10-90 % band."""
    errors = over_training(with_errors(paired(data.summary.truth)))
    layers = sorted(errors["layer"].unique())
    fig, axes = plt.subplots(2, len(layers), figsize=(2.7 * len(layers) + 0.5, 5.6), layout="constrained",
                             squeeze=False, sharex=True)
    colours = plt.get_cmap("tab10")
    quantities = (("I(X;T')", "upper_excess", "lower_shortfall"), ("I(T';Y)", "upper_ty_error", "lower_ty_error"))
    for r, (quantity, upper, lower) in enumerate(quantities):
        for c, layer in enumerate(layers):
            ax = axes[r][c]
            for k, (estimator, rule, label) in enumerate(TRUTH_SETTINGS):
                rows = errors[(errors["estimator"] == estimator) & (errors["s2_rule"] == rule) & (errors["layer"] == layer)]
                x = np.maximum(rows["epoch"], 1)
                # I(X;T')'s lower column is truth - lower: drawn as lower - truth, below zero
                for column, sign, style, bound in ((upper, 1.0, "-", "upper"), (lower, -1.0 if r == 0 else 1.0, "--", "lower")):
                    ax.plot(x, sign * rows[f"{column}_median"], style, color=colours(k), label=f"{label}, {bound} bound")
                    ax.fill_between(x, sign * rows[f"{column}_p10"], sign * rows[f"{column}_p90"], color=colours(k),
                                    alpha=0.12, linewidth=0)
            ax.axhline(0.0, color="black", linewidth=0.6)
            ax.set_xscale("log")
            n = int(errors.loc[errors["layer"] == layer, "n"].max())
            ax.set_title(f"{layer_name(layer, layers[-1])}: {quantity} (n = {n})", fontsize=8)
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
