"""The quantized study's figures: exact information planes in the paper's style, and the same
8-bit networks under every estimator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ib_keras.plots.files import Output
from ib_keras.plots.planes import epoch_norm, plane_grid
from ib_keras.studies.quantized.claims import ACTIVATIONS, NAMES, QuantizedResult
from ib_keras.studies.quantized.configurations import EXACT

_SHOWN = (EXACT, "uniform_30", "uniform_256", "ebab", "kde", "akde")  # fig_quantized_estimators' columns


def _mean_plane(r: QuantizedResult, precision: str, name: str, activation: str) -> pd.DataFrame:
    """The networks' mean I(X;T) and I(T;Y) per recorded epoch and layer (they share the schedule)."""
    rows = r.rows[(r.rows["precision"] == precision) & (r.rows["name"] == name) & (r.rows["activation"] == activation)]
    return rows.groupby(["epoch", "layer"], as_index=False)[["i_xt", "i_ty"]].mean()


def _title(r: QuantizedResult, precision: str, name: str, activation: str) -> str:
    rows = r.rows[(r.rows["precision"] == precision) & (r.rows["name"] == name) & (r.rows["activation"] == activation)]
    return f"{activation}, {precision}, {NAMES[name]} (n = {rows['run'].nunique()})"


def _norm(r: QuantizedResult):
    return epoch_norm(int(r.rows["epoch"].max()) if len(r.rows) else 1)


def fig_quantized_exact(r: QuantizedResult, out: Output) -> list[Path]:
    precisions = [p for p in ("8-bit", "4-bit") if (r.rows["precision"] == p).any()]
    cells = [[(_mean_plane(r, p, EXACT, a), _title(r, p, EXACT, a)) for p in precisions] for a in ACTIVATIONS]
    return plane_grid(_norm(r), cells, out, "fig_quantized_exact", (4.2 * max(len(precisions), 1) + 1, 7.5))


def fig_quantized_estimators(r: QuantizedResult, out: Output) -> list[Path]:
    cells = [[(_mean_plane(r, "8-bit", name, a), _title(r, "8-bit", name, a)) for name in _SHOWN] for a in ACTIVATIONS]
    return plane_grid(_norm(r), cells, out, "fig_quantized_estimators", (4.0 * len(_SHOWN) + 1, 7.5))


FIGURES = (
    (fig_quantized_exact, "The exact information plane (counted on the codes) of the quantized networks: mean over "
                          "the networks of I(X;T) and I(T;Y) per recorded epoch (colour) and layer (the markers of "
                          "one epoch joined, the input-side layer at the right); tanh above, ReLU below; 8 bits "
                          "left, 4 bits right."),
    (fig_quantized_estimators, "The same 8-bit networks read by the estimators: exact, uniform bins over each "
                               "layer's range (30 and 256), EBAB, KDE (s2 = 1e-3, upper bound) and aKDE."),
)


def make_quantized_figures(r: QuantizedResult, out: str | Path) -> list[Path]:
    """Every figure of the study into ``out`` (PNG); the paths written."""
    Path(out).mkdir(parents=True, exist_ok=True)
    output = Output(Path(out), (".png",))
    return [path for figure, _ in FIGURES for path in figure(r, output)]
