"""The benchmark's figures: each setting's median |error| (bits) against the number of inputs N (per
network) and against the layer's width (per truth family), one line and marker per setting."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ib_keras.plots.files import Output, save_figure
from ib_keras.studies.estimators.claims import SETTINGS, errors

FIGURES = {
    "fig_error_n": "Median |estimate - truth| against the number of inputs N: I(X;T) against the quantized "
                       "networks' exact information and against the noisy truth, a panel per network estimated at "
                       "three N or more; I(T;Y) on benchmark-mi's tasks",
    "fig_error_width": "Median |estimate - truth| of I(X;T) against the layer's width, against the quantized "
                           "networks' exact information and against the noisy truth",
}
_FAMILIES = (("exact", "xt", "I(X;T) vs exact"), ("noisy", "xt", "I(X;T') vs noisy truth"),
             ("mixture", "ty", "I(T;Y) vs closed form (benchmark-mi)"))
TICK_DECADES = 0.05  # per character: the least distance of two labelled ticks of a log axis (16 and 20 overlap)
MIN_SIZES = 3  # against N, a panel per network (source) recorded at this many N or more: one architecture a panel
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
    labels, last = [], None
    for tick in ticks:  # a tick too near the last labelled one for both labels keeps its line, not its label
        text = f"{tick:,}"
        near = last is not None and math.log10(tick / last) < TICK_DECADES * (len(text) + len(f"{last:,}")) / 2
        labels.append("" if near else text)
        last = last if near else tick
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.minorticks_off()
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(0, None)
    ax.grid(True, which="major", alpha=0.3)


def _panels(rows: pd.DataFrame, by: str) -> list[tuple[pd.DataFrame, str, str]]:
    """(rows, quantity, title) of each panel: against N, one per network (source) of the exact
    and noisy families recorded at MIN_SIZES N or more (another network's N would mix
    architectures), and the mixture tasks pooled; against width, one per family of networks."""
    panels = []
    for family, quantity, title in _FAMILIES:
        chosen = rows[rows["family"] == family]
        if chosen.empty or (by == "units" and family == "mixture"):
            continue
        if by == "n" and family != "mixture":
            panels += [(chosen[chosen["source"] == source], quantity, f"{title}, {source}")
                       for source, sizes in chosen.groupby("source")["n"].nunique().items() if sizes >= MIN_SIZES]
        else:
            panels.append((chosen, quantity, title))
    return panels


def make_figures(rows: pd.DataFrame, out: Path) -> list[Path]:
    """`FIGURES` drawn from the scored rows into ``out``; the files written. Panels in rows of at
    most three; the settings' legend in the cell after the last panel, or at the right."""
    rows = errors(rows)
    styles = _styles()
    written = []
    for name, by, label in (("fig_error_n", "n", "inputs N"), ("fig_error_width", "units", "layer width (units)")):
        panels = _panels(rows, by)
        if not panels:
            continue
        columns = min(3, len(panels))
        lines = -(-len(panels) // columns)
        spare = lines * columns > len(panels)
        fig, axes = plt.subplots(lines, columns, figsize=(4.4 * columns + (0 if spare else 2.6), 3.6 * lines),
                                 squeeze=False)
        cells = list(axes.flat)
        for ax, (chosen, quantity, title) in zip(cells, panels):
            _draw(ax, chosen, by, quantity, styles)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel(label)
        for ax in axes[:, 0]:
            ax.set_ylabel("median |estimate - truth| (bits)")
        handles = {h.get_label(): h for ax in cells for h in ax.get_legend_handles_labels()[0]}
        legend = dict(fontsize=8, title="setting", title_fontsize=8)
        if spare:  # the first free cell holds the legend, the others are removed: no empty panel
            for ax in cells[len(panels) + 1:]:
                ax.remove()
            cells[len(panels)].axis("off")
            cells[len(panels)].legend(handles.values(), handles.keys(), loc="center", **legend)
            fig.tight_layout()
        else:
            width = fig.get_size_inches()[0]
            fig.tight_layout(rect=(0, 0, 1 - 2.4 / width, 1))  # room on the right for the settings' legend
            fig.legend(handles.values(), handles.keys(), loc="center left", bbox_to_anchor=(1 - 2.35 / width, 0.5),
                       **legend)
        written += save_figure(fig, Output(out, (".png",)), name)
    return written
