"""The benchmark's figures: each setting's median |error| (bits) against the number of inputs N and
against the layer's width, per truth family, one line and marker per setting."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ib_keras.plots.files import Output, save_figure
from ib_keras.studies.estimators.claims import SETTINGS, errors

FIGURES = {
    "fig_error_n": "Median |estimate - truth| against the number of inputs N: I(X;T) against the quantized "
                       "networks' exact information and against the noisy truth, I(T;Y) on benchmark-mi's tasks",
    "fig_error_width": "Median |estimate - truth| of I(X;T) against the layer's width, against the quantized "
                           "networks' exact information and against the noisy truth",
}
_PANELS_N = (("exact", "xt", "I(X;T) vs exact (quantized, synthetic task, 8 bits)"),
             ("noisy", "xt", "I(X;T') vs noisy truth"), ("mixture", "ty", "I(T;Y) vs closed form (benchmark-mi)"))
_BY_N_SOURCE = {"exact": "tishby-8bit"}  # one network family across N: other sources' N would mix architectures
_MARKERS = "osD^v<>phX*P"


def _styles() -> dict[str, dict]:
    """One colour and marker per setting, the same in every figure."""
    colours = [*plt.get_cmap("tab10").colors, "black", "dimgray"]  # twelve settings, twelve distinct colours
    return {name: {"color": colours[k % len(colours)], "marker": _MARKERS[k % len(_MARKERS)]}
            for k, name in enumerate(SETTINGS)}


def _draw(ax: plt.Axes, rows: pd.DataFrame, by: str, quantity: str, styles: dict) -> None:
    """Each setting's median |error| of ``quantity`` against ``by``, one line per setting."""
    medians = rows.assign(error=rows[f"err_{quantity}"].abs()).groupby(["setting", by])["error"].median()
    for name in SETTINGS:
        if name in medians.index.get_level_values(0):
            line = medians.loc[name]
            ax.plot(line.index, line.to_numpy(), label=SETTINGS[name][0], linewidth=1.2, markersize=5, **styles[name])
    ax.set_xscale("log")
    ticks = sorted(medians.index.get_level_values(1).unique())
    ax.set_xticks(ticks, [f"{tick:,}" for tick in ticks], fontsize=8)
    ax.minorticks_off()
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(0, None)
    ax.grid(True, which="major", alpha=0.3)


def make_figures(rows: pd.DataFrame, out: Path) -> list[Path]:
    """`FIGURES` drawn from the scored rows into ``out``; the files written."""
    rows = errors(rows)
    styles = _styles()
    written = []
    for name, panels, by, label in (("fig_error_n", _PANELS_N, "n", "inputs N"),
                                    ("fig_error_width", _PANELS_N[:2], "units", "layer width (units)")):
        present = [panel for panel in panels if (rows["family"] == panel[0]).any()]
        if not present:
            continue
        fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present) + 2.6, 3.8), squeeze=False)
        for ax, (family, quantity, title) in zip(axes[0], present):
            chosen = rows[rows["family"] == family]
            if by == "n" and family in _BY_N_SOURCE and (chosen["source"] == _BY_N_SOURCE[family]).any():
                chosen = chosen[chosen["source"] == _BY_N_SOURCE[family]]
            else:
                title = title.replace(", synthetic task, 8 bits", "")
            _draw(ax, chosen, by, quantity, styles)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel(label)
        axes[0][0].set_ylabel("median |estimate - truth| (bits)")
        handles = {h.get_label(): h for ax in axes[0] for h in ax.get_legend_handles_labels()[0]}
        width = fig.get_size_inches()[0]
        fig.tight_layout(rect=(0, 0, 1 - 2.4 / width, 1))  # room on the right for the settings' legend
        fig.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1 - 2.35 / width, 0.5),
                   fontsize=8, title="setting", title_fontsize=8)
        written += save_figure(fig, Output(out, (".png",)), name)
    return written
