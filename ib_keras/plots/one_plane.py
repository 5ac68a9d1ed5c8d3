"""The information plane of one run, or the seed mean of a directory of runs: one panel per
estimator setting, layers labelled, colour = epoch (``python -m ib_keras plane``, `plot_plane`).

Example:

```python
fig = plot_plane("runs/quick/tanh/seed-000.h5", estimators="ebab,akde", out="plane.png")
```
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.estimate import canonical_params, file_hash, parse_estimators, read_table, run_files, setting_text
from ib_keras.estimate.run_rows import estimate_run
from ib_keras.estimate.table import TABLE_SUFFIXES
from ib_keras.plots.planes import add_epoch_colorbar, draw_plane, epoch_norm
from ib_keras.runfile import RunFileError, layer_name, read_run
from ib_keras.system.atomic import atomic_path

APART = 1e-3  # bits: I(X;T) this close to log2 N in every layer means every layer keeps the inputs apart


def plane_rows(source: str | Path, estimators: str = "ebab") -> pd.DataFrame:
    """Rows of ``source`` (an MI table, a run file, or a directory of run files, estimated here)
    under ``estimators``, as the MI table has them: run, setting, epoch, layer, i_xt, i_ty (bits), ...
    ValueError naming the source when it holds none of them."""
    path = Path(source)
    specs = parse_estimators(estimators)
    if path.suffix.lower() in TABLE_SUFFIXES:
        table = read_table(path)
        wanted = {setting_text(spec.method, canonical_params(spec.params_for(activation)))
                  for spec in specs for activation in table["activation"].unique()}
        table = table[table["setting"].isin(wanted)]
    else:
        files = run_files([path])
        if not files:
            raise ValueError(f"{path}: no run files (*.h5) there")
        table = pd.concat([estimate_run(file, file_hash(file), specs) for file in files], ignore_index=True)
    if table.empty:
        raise ValueError(f"{path}: no rows of {estimators}; estimate them first (python -m ib_keras estimate)")
    return table


def check_one_architecture(rows: pd.DataFrame) -> None:
    """ValueError naming two runs when runs drawn in one panel (one directory's, as `plot_plane`
    draws them) differ in their layers' number or widths: layer i would be another layer in each,
    and their seed mean a mean of unrelated layers."""
    widths = rows.drop_duplicates(["run", "layer"]).sort_values("layer").groupby("run")["units"].agg(tuple)
    for directory, architectures in widths.groupby(lambda run: Path(run).parent.name):
        if architectures.nunique() > 1:
            first = architectures.index[0]
            other = next(run for run in architectures.index if architectures[run] != architectures[first])
            raise ValueError(
                f"{directory}: runs of different architectures, {Path(first).name} with layers of "
                f"{', '.join(map(str, architectures[first]))} units and {Path(other).name} of "
                f"{', '.join(map(str, architectures[other]))}; a plane's seed mean is over runs of one architecture: "
                "put each architecture's runs in a directory of their own")


def _inputs(runs: Sequence[str]) -> int | None:
    """N, the inputs of the runs (None when a run file cannot be read or they differ)."""
    sizes = set()
    for run in runs:
        try:
            sizes.add(len(read_run(run, activity=False).x))
        except RunFileError:
            return None
    return sizes.pop() if len(sizes) == 1 else None


def plot_plane(source: str | Path, estimators: str = "ebab", out: str | Path | None = None,
               axis_range: tuple[float, float] | None = None) -> plt.Figure:
    """Draw the plane of ``source`` (see `plane_rows`): one panel per configuration (the run files'
    directory, such as ``tanh``) and estimator setting, the seed mean over its runs at each epoch
    and layer, x = I(X;T), y = I(T;Y) in bits, colour = epoch, the
    layers labelled at the last epoch, and a note when every layer keeps the N inputs apart (its
    I(X;T) is log2 N at every epoch: "compression" is then nowhere to be seen). ``axis_range``
    (x max, y max) shares axes with other planes. Saved to ``out`` (PNG or PDF) if given."""
    if out is not None and Path(out).is_dir():
        raise ValueError(f"{out} is a directory; give the figure's file name, e.g. {Path(out) / 'plane.png'}")
    rows = plane_rows(source, estimators)
    check_one_architecture(rows)
    rows = rows.assign(panel=[f"{Path(run).parent.name}: {setting}" for run, setting in zip(rows["run"], rows["setting"])])
    settings = list(dict.fromkeys(rows["panel"]))
    columns = min(3, len(settings))
    lines = math.ceil(len(settings) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns + 1, 3.6 * lines), layout="constrained", squeeze=False)
    norm = epoch_norm(int(rows["epoch"].max()))
    n_inputs = _inputs(rows["run"].unique())
    for ax, setting in zip(axes.ravel(), settings):
        chosen = rows[rows["panel"] == setting]
        plane = chosen.groupby(["epoch", "layer"], as_index=False)[["i_xt", "i_ty"]].mean()
        runs = chosen["run"].nunique()
        draw_plane(ax, plane, norm, f"{setting}\n{'1 network' if runs == 1 else f'mean of {runs} networks'}")
        last_layer, final = int(plane["layer"].max()), plane[plane["epoch"] == plane["epoch"].max()]
        # layers within 2 % of the axes of each other share one label
        span = np.array([np.ptp(plane["i_xt"]), np.ptp(plane["i_ty"])]) + 1e-9
        labels: list[tuple[np.ndarray, list[str]]] = []
        for layer, i_xt, i_ty in zip(final["layer"], final["i_xt"], final["i_ty"]):
            point = np.array([i_xt, i_ty])
            name = layer_name(int(layer), last_layer)
            near = [names for at, names in labels if np.all(np.abs(at - point) < 0.02 * span)]
            if near:
                near[0].append(name)
            else:
                labels.append((point, [name]))
        for (i_xt, i_ty), names in labels:
            ax.annotate(", ".join(names), (i_xt, i_ty), fontsize=7, xytext=(3, 3), textcoords="offset points")
        if n_inputs and np.all(np.abs(plane["i_xt"] - np.log2(n_inputs)) < APART):
            ax.text(0.02, 0.02, f"every layer keeps the {n_inputs} inputs apart:\nI(X;T) = log2 N = "
                    f"{np.log2(n_inputs):.2f} bits throughout", transform=ax.transAxes, fontsize=7, va="bottom")
        if axis_range is not None:
            ax.set_xlim(0, axis_range[0])
            ax.set_ylim(0, axis_range[1])
    for ax in axes.ravel()[len(settings):]:
        ax.set_axis_off()
    add_epoch_colorbar(fig, axes, norm)
    if out is not None:
        with atomic_path(out) as partial:  # the figure whole, or the file as it was
            fig.savefig(partial, dpi=150, format=Path(out).suffix.lstrip(".") or "png")
    return fig
