"""The baselines' figures, each in its paper's layout (`ib_keras.studies.baselines.claims`): Shwartz-Ziv &
Tishby's seed-averaged tanh plane, Saxe et al.'s tanh against ReLU and their SNR figure, and the
same networks under the adaptive estimators. PNG only, as results/ ships them."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ib_keras.plots.files import Output, save_figure
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, epoch_norm, plane_grid
from ib_keras.runfile import layer_name
from ib_keras.studies.baselines.claims import (ADAPTIVE_SETTINGS, CONFIGURATIONS, SAXE, SAXE_SETTINGS, SZ, Baselines,
                                               setting_rows)
from ib_keras.studies.paper.extension_figures import fig_snr
from ib_keras.studies.paper.figure_data import FigureData


def setting_plane(b: Baselines, protocol: str, activation: str, setting: str) -> pd.DataFrame:
    """The seed-mean plane of one configuration under one setting (empty without such runs)."""
    if protocol not in b.summaries:
        return pd.DataFrame(columns=["epoch", "layer", "i_xt", "i_ty"])
    planes = b.summaries[protocol].planes
    planes = planes[(planes["activation"] == activation) & (planes["l2"] == 0)]
    return setting_rows(planes, b.settings[setting][1])


def setting_title(b: Baselines, protocol: str, activation: str, setting: str) -> str:
    """A panel's title: "protocol activation: setting, mean of n"."""
    row = b.row(protocol, activation, setting, 0)
    n = "" if row is None else f", mean of {int(row['n'])}"
    return f"{protocol} {activation}: {b.label(setting)}{n}"


def fig_sz_plane(b: Baselines, out: Output) -> list[Path]:
    plane = setting_plane(b, SZ, "tanh", "uniform")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.2), layout="constrained")
    norm = epoch_norm(int(plane["epoch"].max()) if len(plane) else 2)
    if len(plane):
        draw_plane(left, plane, norm, setting_title(b, SZ, "tanh", "uniform"))
        last = plane["layer"].max()
        for layer, rows in plane.groupby("layer"):
            rows = rows.sort_values("epoch")
            right.plot(rows["epoch"].clip(lower=1), rows["i_xt"], label=layer_name(layer, last))
        right.set_xscale("log")
        right.set_xlabel("Epoch (0 drawn at 1)")
        right.set_ylabel("I(X;T) (bits)")
        right.legend(fontsize=7)
        right.set_title("I(X;T) per layer against epoch (seed means)", fontsize=9)
    add_epoch_colorbar(fig, [left], norm)
    return save_figure(fig, out, "fig_sz_plane")


def _norm(b: Baselines):
    return epoch_norm(max(int(s.planes["epoch"].max()) for s in b.summaries.values()))


def fig_saxe_planes(b: Baselines, out: Output) -> list[Path]:
    cells = [[(setting_plane(b, SAXE, activation, s), setting_title(b, SAXE, activation, s)) for s in SAXE_SETTINGS]
             for activation in ("tanh", "relu")]
    return plane_grid(_norm(b), cells, out, "fig_saxe_planes", (14, 7.5))


def fig_saxe_snr(b: Baselines, out: Output) -> list[Path]:
    if SAXE not in b.summaries:
        fig, ax = plt.subplots(figsize=(4, 2))
        ax.text(0.5, 0.5, "no saxe runs", ha="center", va="center")
        ax.set_axis_off()
        return save_figure(fig, out, "fig_saxe_snr")
    return fig_snr(FigureData(b.summaries[SAXE]), out, "fig_saxe_snr")


def fig_baselines_adaptive(b: Baselines, out: Output) -> list[Path]:
    cells = [[(setting_plane(b, p, a, s), setting_title(b, p, a, s)) for s in ADAPTIVE_SETTINGS] for p, a in CONFIGURATIONS]
    return plane_grid(_norm(b), cells, out, "fig_baselines_adaptive", (10, 11))


def make_baseline_figures(b: Baselines, out: str | Path) -> list[Path]:
    """Draw every baseline figure into ``out`` (PNG); return the files."""
    Path(out).mkdir(parents=True, exist_ok=True)
    output = Output(Path(out), (".png",))
    figures = (fig_sz_plane, fig_saxe_planes, fig_saxe_snr, fig_baselines_adaptive)
    return [path for figure in figures for path in figure(b, output)]
