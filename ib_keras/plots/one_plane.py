"""The information plane of one run, or the seed mean of a directory of runs: one panel per
configuration (the run files' directory) and estimator setting, in the order the settings were
asked for, every layer one colour along its path through the epochs (``python -m ib_keras
plane``, `plot_plane`).

Example:

```python
fig = plot_plane("runs/quick/tanh/seed-000.h5", estimators="ebab,akde", out="plane.png")
```
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ib_keras.estimate import (canonical_params, default_estimator, file_hash, parse_estimators, read_table, run_files,
                               setting_text)
from ib_keras.estimate.run_rows import estimate_run, resolved_texts
from ib_keras.estimate.table import TABLE_SUFFIXES, canonical_runs
from ib_keras.plots.layer_paths import LEGEND_TITLE, draw_layer_paths, saturation_notes, setting_label, time_legend
from ib_keras.runfile import RunFileError, layer_name, model_layer_name, read_run
from ib_keras.system.atomic import atomic_path

FORMATS = {".png": "Description", ".pdf": "Subject", ".svg": "Description"}  # each format's key for the settings
_TABLE = "mi.parquet"  # where `estimate` writes a directory's table: read there before estimating again


def _wanted(specs) -> dict[str, int]:
    """The setting texts of ``specs``, each with its position in the request."""
    return {setting_text(spec.method, canonical_params(spec.params_for())): k for k, spec in enumerate(specs)}


def _table_rows(files: Sequence[Path], specs) -> tuple[pd.DataFrame, list[Path]]:
    """The rows of ``files`` that a table beside them (`estimate`'s ``mi.parquet`` in their
    directory or its parent) already holds for the current contents and every setting, epoch and
    layer (each layer's rows resolved as its activation resolves the setting now); and the files it
    does not hold so."""
    tables = {}
    for directory in {parent for path in files for parent in (path.parent, path.parent.parent)}:
        if (directory / _TABLE).is_file():
            try:
                tables[directory] = canonical_runs(read_table(directory / _TABLE))
            except ValueError:  # not a usable table: the files are estimated
                continue
    kept, missing = [], []
    for path in files:
        try:
            run = read_run(path, activity=False)
        except RunFileError:
            missing.append(path)  # estimate_run names it
            continue
        digest, found = file_hash(path), None
        resolved = {(setting_text(spec.method, canonical_params(spec.params_for())), layer): text
                    for spec in specs for layer, text in enumerate(resolved_texts(spec, run))}
        for table in tables.values():
            rows = table[(table["run"] == str(path)) & (table["run_hash"] == digest)]
            rows = rows[[resolved.get(key) == value for key, value in zip(zip(rows["setting"], rows["layer"]),
                                                                         rows["resolved"])]]
            if len(rows) == len(_wanted(specs)) * len(run.epochs) * len(run.layers):
                found = rows
        kept.append(found) if found is not None else missing.append(path)
    return (pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()), missing


def plane_rows(source: str | Path, estimators: str = "ebab") -> pd.DataFrame:
    """Rows of ``source`` (an MI table, a run file, or a directory of run files: read from the
    table `estimate` wrote beside them when it holds them, else estimated here) under
    ``estimators``, as the MI table has them: run, setting, epoch, layer, i_xt, i_ty (bits), ...,
    and ``request``, each row's setting's position in ``estimators``. ValueError naming the source
    when it holds none of them."""
    path = Path(source)
    specs = parse_estimators(estimators)
    if path.suffix.lower() in TABLE_SUFFIXES:
        table = read_table(path)
    else:
        files = run_files([path])
        if not files:
            raise ValueError(f"{path}: no run files (*.h5) there")
        table, missing = _table_rows(files, specs)
        table = pd.concat([table, *(estimate_run(file, file_hash(file), specs) for file in missing)], ignore_index=True)
    if len(table):
        table = table.assign(request=table["setting"].map(_wanted(specs))).dropna(subset=["request"])
    if table.empty:
        raise ValueError(f"{path}: no rows of {estimators}; estimate them first (python -m ib_keras estimate)")
    return table.astype({"request": int})


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


def layer_names(rows: pd.DataFrame) -> tuple[dict[int, str], int | None]:
    """The names of the layers of ``rows`` (one directory's runs) as the model names them, read
    from the first readable run file, and N, its inputs; without a readable file the table's layer
    numbers ("layer 1" ..., "softmax" for the output) and None (`model_layer_name`)."""
    last = int(rows["layer"].max())
    for run in rows["run"].unique():
        try:
            read = read_run(run, activity=False)
        except RunFileError:
            continue
        return {i: model_layer_name(spec.name, i, last) for i, spec in enumerate(read.layers)}, len(read.x)
    return {i: layer_name(i, last) for i in range(last + 1)}, None


def table_notes(table: pd.DataFrame) -> list[str]:
    """What the settings of an MI table cannot show, per configuration (the runs' directory): the
    `saturation_notes` of each setting's seed-mean plane, one line per configuration and note with
    the settings it holds for ("tanh: saturated: layer 1 ... under ebab:..., kde:...")."""
    table = table.assign(directory=[Path(run).parent.name for run in table["run"]])
    notes: dict[tuple[str, str], list[str]] = {}
    for directory, runs in table.groupby("directory"):
        names, n_inputs = layer_names(runs)
        for setting, part in runs.groupby("setting"):
            plane = part.groupby(["epoch", "layer"], as_index=False)[["i_xt", "i_ty"]].mean()
            for note in saturation_notes(plane, names, n_inputs):
                notes.setdefault((directory, note), []).append(setting)
    return [f"{directory}: {note}, under {', '.join(settings)}" for (directory, note), settings in notes.items()]


def _chosen(rows: pd.DataFrame, layers: Sequence[str] | None, epochs: tuple[int, int] | None,
            names: dict[int, str]) -> pd.DataFrame:
    """``rows`` of the layers named (by name or by number from 1) and the epochs first..last."""
    if epochs is not None:
        rows = rows[(rows["epoch"] >= epochs[0]) & (rows["epoch"] <= epochs[1])]
    if layers is not None:
        index = {name: i for i, name in names.items()} | {str(i + 1): i for i in names}
        unknown = [layer for layer in layers if layer not in index]
        if unknown:
            raise ValueError(f"--layers: no layer {', '.join(unknown)}; the layers: {', '.join(names.values())} "
                             f"(or their numbers 1..{len(names)})")
        rows = rows[rows["layer"].isin([index[layer] for layer in layers])]
    if rows.empty:
        raise ValueError("no rows left to draw: the epochs or layers chosen hold none")
    return rows


def default_for(source: str | Path) -> str:
    """`default_estimator` of ``source``'s first run (an MI table's first row)."""
    path = Path(source)
    if path.suffix.lower() in TABLE_SUFFIXES:
        first = read_table(path).iloc[0]
        return default_estimator(first["protocol"], first["dataset"], first["estimator"] == "exact")
    files = run_files([path])
    if not files:
        raise ValueError(f"{path}: no run files (*.h5) there")
    run = read_run(files[0], activity=False)
    return default_estimator(run.config.get("protocol"), run.config.get("dataset"), run.quantized)


def _panel(ax: plt.Axes, chosen: pd.DataFrame, spec, directory: str, names: tuple[dict[int, str], int | None],
           report: Callable[[str], None], legend: bool) -> None:
    """One panel: the seed mean of ``chosen`` (one directory's rows of one setting), titled, with
    its own legend if ``legend``, and what the estimator cannot show said in it and to ``report``."""
    plane = chosen.groupby(["epoch", "layer"], as_index=False)[["i_xt", "i_ty"]].mean()
    layer_labels, n_inputs = names
    label = setting_label(spec.method, spec.params_for())
    runs = chosen["run"].nunique()
    draw_layer_paths(ax, plane, layer_labels)
    ax.set_title(f"{directory}: {label}\n{'1 network' if runs == 1 else f'mean of {runs} networks'}", fontsize=9)
    if legend:
        ax.legend(handles=[*ax.get_legend_handles_labels()[0], *time_legend(int(plane["epoch"].min()),
                                                                            int(plane["epoch"].max()))],
                  fontsize=6.5, loc="best", framealpha=0.85)
    notes = saturation_notes(plane, layer_labels, n_inputs)
    for note in notes:
        report(f"{directory}, {label}: {note}; this estimator shows nothing there: see docs/estimators.md, "
               "\"Which estimator\"")
    if notes:
        ax.text(0.02, 0.02, "\n".join(textwrap.fill(note, 52) for note in notes), transform=ax.transAxes,
                fontsize=6.5, va="bottom", bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})


def plot_plane(source: str | Path, estimators: str | None = None, out: str | Path | None = None,
               axis_range: tuple[float, float] | None = None, layers: Sequence[str] | None = None,
               epochs: tuple[int, int] | None = None, report: Callable[[str], None] | None = None) -> plt.Figure:
    """Draw the plane of ``source`` (see `plane_rows`): one panel per configuration (the run files'
    directory, such as ``tanh``) and estimator setting, in the order of ``estimators`` (None: the
    one `default_estimator` chooses for the first run: aKDE for a user's model); the seed
    mean over its runs at each epoch and layer, x = I(X;T), y = I(T;Y) in bits; each layer one
    colour along its path, named as the model names it, the markers growing with the epoch, the
    first epoch hollow. Every panel shares one axis range (``axis_range`` (x max, y max) sets it, to
    share it with other planes). ``layers`` (names, or numbers from 1) and ``epochs`` (first, last)
    choose what is drawn. A layer the estimator cannot show (saturated at log2 N, or flat) is said
    in its panel and to ``report`` (default: a warning). Saved to ``out`` (.png, .pdf or .svg) if
    given, the full settings in the file's metadata."""
    if out is not None and Path(out).is_dir():
        raise ValueError(f"{out} is a directory; give the figure's file name, e.g. {Path(out) / 'plane.png'}")
    if out is not None and Path(out).suffix.lower() not in FORMATS:
        raise ValueError(f"{out}: the plane is written as {', '.join(FORMATS)}")
    report = report or (lambda note: warnings.warn(note, stacklevel=3))
    estimators = estimators or default_for(source)
    specs = parse_estimators(estimators)
    rows = plane_rows(source, estimators)
    check_one_architecture(rows)
    rows = rows.assign(directory=[Path(run).parent.name for run in rows["run"]])
    panels = list(rows[["request", "directory"]].drop_duplicates().sort_values(["request", "directory"], kind="stable")
                  .itertuples(index=False, name=None))
    names = {directory: layer_names(part) for directory, part in rows.groupby("directory")}
    rows = pd.concat([_chosen(part, layers, epochs, names[directory][0]) for directory, part in rows.groupby("directory")])
    columns = min(3, len(panels))
    fig, axes = plt.subplots(math.ceil(len(panels) / columns), columns, figsize=(4.2 * columns + 2.0,
                             3.8 * math.ceil(len(panels) / columns)), layout="constrained", squeeze=False)
    x_max, y_max = axis_range or (1.05 * max(rows["i_xt"].max(), 0.1), 1.05 * max(rows["i_ty"].max(), 0.1))
    shared = len({tuple(sorted(labels.items())) for labels, _ in names.values()}) == 1  # one legend serves all
    for ax, (request, directory) in zip(axes.ravel(), panels):
        chosen = rows[(rows["request"] == request) & (rows["directory"] == directory)]
        _panel(ax, chosen, specs[request], directory, names[directory], report, legend=not shared)
        ax.set_xlim(0, x_max)
        ax.set_ylim(0, y_max)
    for ax in axes.ravel()[len(panels):]:
        fig.delaxes(ax)
    if shared:
        fig.legend(handles=[*axes[0][0].get_legend_handles_labels()[0],
                            *time_legend(int(rows["epoch"].min()), int(rows["epoch"].max()))],
                   loc="outside right upper", fontsize=7.5, title=LEGEND_TITLE, title_fontsize=8)
    if out is not None:
        settings = "; ".join(dict.fromkeys(rows["setting"]))
        with atomic_path(out) as partial:  # the figure whole, or the file as it was
            suffix = Path(out).suffix.lower()
            fig.savefig(partial, dpi=150, format=suffix.lstrip("."), metadata={FORMATS[suffix]: settings})
    return fig
