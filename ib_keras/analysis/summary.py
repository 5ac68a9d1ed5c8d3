"""The MI table reduced to what the figures and the report are drawn from: a bundle of small
tables that `python -m ib_keras summarize` writes (results/paper/ ships one) and that `plot` and
`report` read as well as a whole table.

A bundle directory holds Parquet files:

- ``networks``: one row per run, estimator setting and layer (every setting, not only the
  defaults): the run's configuration, ``max_i_xt``, ``final_i_xt``, ``compression`` (bits) and its
  final accuracies (`ib_keras.analysis.statistics.compression`); bundles from this version on also
  ``first_i_xt``, ``first_i_ty``, ``final_i_ty`` (bits) and ``peak_epoch``.
- ``planes``: seed means per configuration, estimator setting, recorded epoch and layer:
  ``i_xt``, ``i_ty`` (bits), ``train_accuracy``, ``test_accuracy``, and ``n`` seeds.
- ``seeds``: the single-network planes of the first six ReLU seeds under EBAB (figure 5).
- ``dynamics``: per configuration, epoch and layer, over seeds: the mean, 10th and 90th
  percentile of ``max_activity``, ``weights_norm``, ``grad_mean``, ``grad_std`` and ``snr`` =
  grad_mean / grad_std, with ``n``.
- ``sample``: one ReLU network's last hidden layer at its last epoch, every value (figure 2).
- ``truth``: where the table has ``noisy`` estimates, the MI-table rows that compare the KDE
  bounds with them (`ib_keras.analysis.truth.truth_rows`); empty otherwise, and absent from bundles
  written before it (read as empty).

and ``manifest.json``: how many runs, their shared configuration's hash, library versions, the
seeds of each configuration, the estimator settings, and figure 2's sample (run, layer, epoch,
the run's largest activity).

Run paths (``run`` columns, the sample's run) are relative to the directory that holds all the
table's runs (the manifest's ``run_paths`` says so), so that a bundle names no directory of the
machine it was written on; runs of two trees stay apart (``a/runs/...`` and ``b/runs/...``).
The tables are written compact and lossless (`ib_keras.analysis.compact`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ib_keras.analysis.compact import write_compact
from ib_keras.analysis.statistics import (COMPARABLE, CONFIGURATION, ESTIMATE, check_one_setting, compression,
                                          default_estimates, seed_mean_planes, spread)
from ib_keras.analysis.truth import no_truth, truth_rows
from ib_keras.estimate import LAYER_COLUMNS, check_columns, read_table
from ib_keras.estimate.table import today_params
from ib_keras.runfile import RunFileError, read_run
from ib_keras.system.atomic import atomic_path, finish_pending

FILES = ("networks", "planes", "seeds", "dynamics", "sample", "truth")
OPTIONAL = {"truth": no_truth}  # tables that bundles written before them lack: their empty form
DYNAMICS = [*LAYER_COLUMNS, "snr"]
SINGLE_SEEDS = 6
_RUN_PATHS = "relative to the directory that holds every run"


@dataclass(frozen=True)
class Summary:
    """The bundle's tables (see the module's docstring) and its manifest."""

    networks: pd.DataFrame
    planes: pd.DataFrame
    seeds: pd.DataFrame
    dynamics: pd.DataFrame
    sample: pd.DataFrame
    truth: pd.DataFrame
    manifest: dict

    @property
    def default_networks(self) -> pd.DataFrame:
        """``networks`` at each estimator's default parameters for the run's activation."""
        return default_estimates(self.networks)


def summarize(table: pd.DataFrame) -> Summary:
    """The bundle of an MI table. Reads the run files the table names for the manifest and for
    figure 2's sample, when they can be read; the rest comes from the table."""
    check_one_setting(table)
    default = default_estimates(table)
    if default.empty:
        settings = "; ".join(f"{e} {p}" for e, p in table[ESTIMATE].drop_duplicates().itertuples(index=False))
        raise ValueError(f"the table has no rows at an estimator's default settings on all inputs (it has: {settings}); "
                         "the figures and the report's claims read those: estimate the runs without --samples, with "
                         "the defaults (other settings stay beside them)")
    relu = default[(default["activation"] == "relu") & (default["l2"] == 0) & (default["estimator"] == "ebab")]
    chosen = sorted(relu["seed"].unique())[:SINGLE_SEEDS]
    seeds = relu.loc[relu["seed"].isin(chosen), ["seed", "epoch", "layer", "i_xt", "i_ty"]].reset_index(drop=True)
    sample, sample_info = _sample(sorted(relu["run"].unique()))
    summary = Summary(compression(table), seed_mean_planes(table), seeds, _dynamics(table), sample, truth_rows(table),
                      {**table_manifest(table), "sample": sample_info})
    return _relative_runs(summary, table["run"].unique().tolist())


def _relative_runs(summary: Summary, runs: list[str]) -> Summary:
    """``summary`` with its run paths (``run`` columns, the manifest's sample) relative to the
    common directory of ``runs`` (relative paths taken from the working directory), and the
    manifest's ``run_paths`` saying so."""
    absolute = {run: os.path.abspath(run) for run in runs}
    root = os.path.commonpath([os.path.dirname(path) for path in absolute.values()])
    relative = {run: os.path.relpath(path, root) for run, path in absolute.items()}
    tables = {name: frame.assign(run=frame["run"].map(relative)) if "run" in frame else frame
              for name in FILES for frame in [getattr(summary, name)]}
    sample = summary.manifest["sample"]
    manifest = {**summary.manifest, "run_paths": _RUN_PATHS,
                "sample": {**sample, "run": relative[sample["run"]]} if sample else sample}
    return replace(summary, **tables, manifest=manifest)


def _dynamics(table: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, epoch and layer: seed mean and 10th/90th percentiles of each DYNAMICS column."""
    per_run = table.drop_duplicates(["run", "epoch", "layer"])[[*CONFIGURATION, "run", "epoch", "layer", *LAYER_COLUMNS]]
    per_run = per_run.assign(snr=per_run["grad_mean"] / per_run["grad_std"])
    return spread(per_run, [*CONFIGURATION, "epoch", "layer"], DYNAMICS)


def _sample(relu_runs: list[str]) -> tuple[pd.DataFrame, dict]:
    """Figure 2's data from the first readable ReLU run: its last ReLU hidden layer's activity at
    the last epoch (one column, ``activity``), and where it came from. A run of "relu" whose
    layers are not ReLU (a user's model with others after its convolutions) is passed over."""
    for path in relu_runs:
        try:
            run = read_run(path)
        except (RunFileError, OSError):
            continue
        relu_layers = [i for i, spec in enumerate(run.layers[:-1]) if spec.activation == "relu"]
        if not relu_layers:
            continue
        layer = relu_layers[-1]
        info = {"run": path, "seed": run.config.get("seed"), "layer": layer, "epoch": int(run.epochs[-1]),
                "run_max": max(float(a.max()) for a in run.activity)}
        return pd.DataFrame({"activity": run.activity[layer][-1].ravel()}), info
    return pd.DataFrame({"activity": np.zeros(0, np.float32)}), {}


def table_manifest(table: pd.DataFrame) -> dict:
    """What produced the table: the runs' configurations (from the files that can be read), seeds
    and estimator settings."""
    configs = []
    for path in sorted(table["run"].unique()):
        try:
            configs.append(read_run(path, activity=False).config)
        except (RunFileError, OSError):
            continue
    shared = [{k: v for k, v in c.items() if k not in ("seed", "versions")} for c in configs]
    digest = hashlib.sha256(json.dumps(sorted(shared, key=lambda c: json.dumps(c, sort_keys=True)),
                                       sort_keys=True).encode()).hexdigest()[:16]
    seeds = table.groupby(CONFIGURATION)["seed"].agg(lambda s: sorted(int(v) for v in set(s)))
    return {
        "runs": int(table["run"].nunique()),
        "config_hash": digest if configs else None,
        "epochs": sorted({c.get("epochs") for c in configs}),
        "protocols": sorted({c.get("protocol") for c in configs}),
        "versions": configs[0].get("versions", {}) if configs else {},
        "seeds": [{"activation": a, "l2": float(l2), "seeds": s} for (a, l2), s in seeds.items()],
        "estimators": [{"estimator": e, "params": p}
                       for e, p in table[ESTIMATE].drop_duplicates().itertuples(index=False)],
    }


def write_summary(summary: Summary, directory: str | Path) -> list[Path]:
    """Write the bundle into ``directory`` (each file atomically); return the files."""
    directory = Path(directory)
    written = []
    for name in FILES:
        with atomic_path(directory / f"{name}.parquet") as partial:
            write_compact(getattr(summary, name), partial)
        written.append(directory / f"{name}.parquet")
    with atomic_path(directory / "manifest.json") as partial:
        partial.write_text(json.dumps(summary.manifest, indent=1) + "\n")
    return [*written, directory / "manifest.json"]


# Each bundle table's (text, number) columns, as `summarize` writes them.
_SPREAD = [f"{column}_{statistic}" for column in DYNAMICS for statistic in ("mean", "p10", "p90")]
_SCHEMA = {
    "networks": (["run", *ESTIMATE, "activation", *COMPARABLE],
                 ["l2", "layer", "seed", "units", "epoch", "train_accuracy", "test_accuracy", "max_i_xt", "final_i_xt",
                  "compression", "gap"]),
    "planes": (["activation", *ESTIMATE], ["l2", "epoch", "layer", "i_xt", "i_ty", "train_accuracy", "test_accuracy", "n"]),
    "seeds": ([], ["seed", "epoch", "layer", "i_xt", "i_ty"]),
    "dynamics": (["activation"], ["l2", "epoch", "layer", "n", *_SPREAD]),
    "sample": ([], ["activity"]),
    "truth": (["run", "activation", "estimator", "params"],
              ["l2", "seed", "epoch", "layer", "i_xt", "i_ty", "i_xt_se", "i_ty_se", "train_accuracy", "test_accuracy"]),
}
# The manifest's fields and their JSON types.
_MANIFEST = {"runs": int, "epochs": list, "protocols": list, "versions": dict, "seeds": list, "estimators": list,
             "sample": dict}


def read_summary(directory: str | Path) -> Summary:
    """Read a bundle written by `write_summary`, every file checked before anything is drawn from
    it; ValueError naming the missing, unreadable or malformed file and what is wrong with it."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: no such summary directory; write it with `python -m ib_keras summarize`")
    finish_pending(directory)  # a bundle whose writing a kill interrupted: all new, not a mixture
    tables = {}
    for name in FILES:
        path = directory / f"{name}.parquet"
        what = "not a summary table written by `python -m ib_keras summarize`"
        if name in OPTIONAL and not path.exists():
            tables[name] = OPTIONAL[name]()
            continue
        try:
            tables[name] = pd.read_parquet(path)
        except (OSError, ValueError) as error:
            raise ValueError(f"{path}: {what} ({error})") from error
        text, numbers = _SCHEMA[name]
        check_columns(tables[name], path, [*text, *numbers], text, numbers, what)
        if "params" in tables[name] and len(tables[name]):  # a bundle of before the per-layer defaults: today's words
            tables[name] = tables[name].assign(params=today_params(tables[name]))
    path = directory / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a summary manifest ({error})") from error
    wrong = [key for key, kind in _MANIFEST.items() if not isinstance(manifest, dict)
             or not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool)]
    if wrong:
        raise ValueError(f"{path}: not a summary manifest written by `python -m ib_keras summarize` (field(s) "
                         f"{', '.join(wrong)} missing or not a JSON {', '.join(_MANIFEST[key].__name__ for key in wrong)})")
    entries = [isinstance(e, dict) and {"activation", "l2"} <= e.keys() and isinstance(e.get("seeds"), list)
               and len(e["seeds"]) > 0 for e in manifest["seeds"]]
    entries += [isinstance(e, dict) and {"estimator", "params"} <= e.keys() for e in manifest["estimators"]]
    if not all(entries):
        raise ValueError(f"{path}: not a summary manifest written by `python -m ib_keras summarize` (an entry of "
                         "'seeds' or 'estimators' lacks its fields)")
    if tables["networks"].empty:
        raise ValueError(f"{directory / 'networks.parquet'}: no rows; summarize a table of complete runs")
    check_one_setting(tables["networks"])
    return Summary(**tables, manifest=manifest)


def load(path: str | Path) -> Summary:
    """What `plot` and `report` draw from: a summary directory, or an MI table summarised here."""
    path = Path(path)
    return read_summary(path) if path.is_dir() else summarize(read_table(path))
