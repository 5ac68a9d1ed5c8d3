"""The estimate stage: every estimator on every run file, epoch and layer, into one tidy table.

Columns: run (file path), run_hash, activation, l2, what else tells the run's configuration
apart (protocol, dataset, hidden widths, trained_epochs, split, split_seed, noise_std: s of a
noisy network, 0 for a deterministic one), seed, epoch, layer,
units, estimator, params (JSON of every parameter as requested, e.g. ``hi: "run_max"``), i_xt,
i_ty (bits), i_xt_se, i_ty_se (their Monte Carlo standard errors in bits, for ``noisy`` and
``sp``; empty for the other estimators), the run's train/test loss and accuracy at that epoch, and
the layer's statistics at that epoch: max_activity (its largest activity) and, from the run file,
weights_norm, grad_mean, grad_std; and within_between, how much same-class representations cluster
(`ib_keras.estimators.within_between` of the recorded activity; noise-free S for a noisy network).
``sp`` with ``noise_std`` null uses the run's own noise (its config's ``noise_std``).

Work already in the table is not recomputed: a row is keyed by the run file's content hash, the
estimator, its parameters, the epoch and the layer (an estimator asked at every third epoch, then
at every epoch, computes the epochs it lacks). Rows of a run file whose content changed (it was retrained) are
replaced. The table is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, replace
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ib_keras.activations import STATELESS
from ib_keras.atomic import atomic_path, check_utf8, created_directory
from ib_keras.cluster import check_visible, dask_client, finished, worker_threads
from ib_keras.estimators import (LAYER_MAX, METHODS, NETWORK_METHODS, Estimate, check_finite, estimate_mi_many,
                                 estimate_sp, method_defaults, resolve_params, within_between)
from ib_keras.locks import exclusive
from ib_keras.storage import LAYER_STATISTICS, METRICS, RunFileError, check_regular_file, read_run
from ib_keras.workers import worker_pool

RUN_MAX, RUN_MIN = "run_max", "run_min"  # the largest / smallest activity anywhere in the run
KEY = ["run_hash", "estimator", "params"]
ROW_KEY = [*KEY, "epoch", "layer"]
# What else tells runs of one activation and L2 apart (from the run's config), so that a table says
# which configuration each row is of.
RUN_SETTINGS = ["protocol", "dataset", "hidden", "trained_epochs", "split", "split_seed", "noise_std"]
IDENTITY = ["run", "run_hash", "activation", "l2", *RUN_SETTINGS, "seed"]
LAYER_COLUMNS = ["max_activity", *LAYER_STATISTICS]
CLUSTERING = ["within_between"]
STANDARD_ERRORS = ["i_xt_se", "i_ty_se"]
COLUMNS = [*IDENTITY, "epoch", "layer", "units", "estimator", "params", "i_xt", "i_ty", *STANDARD_ERRORS, *METRICS,
           *LAYER_COLUMNS, *CLUSTERING]
LATER = [*RUN_SETTINGS, *LAYER_COLUMNS, *CLUSTERING]  # tables written before these columns existed lack them
_TEXT = ["run", "run_hash", "activation", "protocol", "dataset", "hidden", "split", "estimator", "params"]
_NUMBERS = ["l2", "seed", "epoch", "layer", "units", "i_xt", "i_ty", *STANDARD_ERRORS, *METRICS, *CLUSTERING]
TABLE_SUFFIXES = (".parquet", ".csv")

# Shwartz-Ziv & Tishby's fixed range for the bounded activations; the others span the run.
_UNIFORM_RANGES = {"tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
# The authors' lowest EBAB edge (their code): 0 for ReLU and softplus, -1.000001 for tanh and
# ELU; elsewhere the layer's minimum activity.
_EBAB_LOW = {"relu": 0.0, "softplus": 0.0, "tanh": -1.000001, "elu": -1.000001}
_TASKS_PER_WORKER = 4  # fewer files than this per worker: split them by layer


@dataclass(frozen=True)
class EstimatorSpec:
    """An estimator and the parameters the user set; the rest default per activation. ``samples``
    K: estimated on a class-stratified subsample of K inputs (`stratified_subsample`), a
    parameter of the table's rows like the others."""

    method: str
    params: tuple[tuple[str, object], ...] = ()
    samples: int | None = None

    def params_for(self, activation: str) -> dict:
        """Every parameter for a run of ``activation``, with ``run_max``-style values unresolved
        (and ``samples`` when set)."""
        defaults = {}
        if self.method == "uniform":
            lo, hi = _UNIFORM_RANGES.get(activation, (RUN_MIN, RUN_MAX))
            defaults = {"lo": lo, "hi": hi}
        elif self.method == "ebab":
            defaults = {"low": _EBAB_LOW.get(activation)}
        subsample = {SAMPLES: self.samples} if self.samples is not None else {}
        return {**method_defaults(self.method, dict(self.params)), **defaults, **dict(self.params), **subsample}

    def __str__(self) -> str:
        subsample = [f"{SAMPLES}={self.samples}"] if self.samples is not None else []
        return ":".join([self.method, *(f"{name}={value}" for name, value in self.params), *subsample])


SAMPLES = "samples"
SUBSAMPLE_SEED = 0


def stratified_subsample(labels: np.ndarray, samples: int, seed: int = SUBSAMPLE_SEED) -> np.ndarray:
    """Sorted indices of ``samples`` of the N inputs, each class keeping its share (largest
    remainders) and at least one input, drawn without replacement by ``default_rng([seed,
    samples])``: the same K always picks the same inputs. ValueError unless the number of classes
    <= K <= N."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if not max(2, len(classes)) <= samples <= len(labels):
        raise ValueError(f"samples must be from {max(2, len(classes))} (one input of each of the {len(classes)} "
                         f"classes) to the run's {len(labels)} inputs, got {samples}")
    quotas = counts * samples / len(labels)
    kept = np.maximum(np.floor(quotas).astype(np.int64), 1)
    if kept.sum() > samples:  # the classes raised to one input take theirs from the largest quotas
        for _ in range(kept.sum() - samples):
            kept[np.argmax(np.where(kept > 1, kept - quotas, -np.inf))] -= 1
    kept[np.argsort(kept - quotas)[: samples - kept.sum()]] += 1  # the largest remainders first
    rng = np.random.default_rng([seed, samples])
    chosen = [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c, k in zip(classes, kept)]
    return np.sort(np.concatenate(chosen))


def parse_estimators(text: str) -> list[EstimatorSpec]:
    """Parse ``"ebab,akde:variance_scale=0.01,uniform:hi=layer_max"`` into specs.

    Values are read as JSON where they parse (numbers, null), as text otherwise. Raises
    ValueError naming an unknown estimator or parameter.
    """
    specs = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        method, *assignments = token.split(":")
        params = []
        for assignment in assignments:
            name, equals, value = assignment.partition("=")
            if not equals:
                raise ValueError(f"'{assignment}' in '{token}' is not name=value")
            if name in dict(params):
                raise ValueError(f"'{token}' sets {name} twice; give each parameter once")
            try:
                params.append((name, json.loads(value)))
            except json.JSONDecodeError:
                params.append((name, value))
        spec = EstimatorSpec(method, tuple(params))
        _check(spec)
        specs.append(spec)
    if not specs:
        raise ValueError("no estimators given")
    return specs


def _check(spec: EstimatorSpec) -> None:
    """Validate a spec as far as it can be before a run is read (run_max etc. stand in as 1)."""
    if spec.method not in METHODS:
        raise ValueError(f"unknown estimator '{spec.method}'; valid estimators: {', '.join(METHODS)}")
    stand_ins = {RUN_MIN: 0.0, RUN_MAX: 1.0}
    given = spec.params_for("relu")
    for name in ("lo", "hi"):
        if isinstance(given.get(name), str) and given[name] not in (*stand_ins, LAYER_MAX):
            raise ValueError(f"{spec.method}: {name} must be a finite number, '{RUN_MIN}' or '{RUN_MAX}' (the run's "
                             f"smallest or largest activity){' or ' + repr(LAYER_MAX) if name == 'hi' else ''}, "
                             f"got {given[name]!r}")
    params = {name: stand_ins.get(value, value) if isinstance(value, str) else value for name, value in given.items()}
    if given.get("hi") == RUN_MAX and isinstance(params["lo"], Real) and params["lo"] >= 1.0:
        params["hi"] = params["lo"] + 1.0  # only the run can tell whether run_max > lo
    resolve_params(spec.method, **params)


def run_files(paths: Iterable[str | Path], report: Callable[[str], None] | None = None) -> list[Path]:
    """Every ``*.h5`` regular file under the given directories, and the given files, as absolute
    paths with links and ``..`` resolved (so that one file has one name however it was given),
    sorted and unique. Anything else named ``*.h5`` (a FIFO, a device, a link to one) would block
    or never end when read, and a path that is not UTF-8 cannot go into a table: each is passed
    to ``report`` by name and left out."""
    candidates = []
    for path in map(Path, paths):
        if path.is_dir():
            candidates += sorted(path.rglob("*.h5"))
        elif path.exists():
            candidates.append(path)
        else:
            raise ValueError(f"{path}: no such file or directory")
    found = set()
    for path in candidates:
        try:
            check_regular_file(path)
            check_utf8(path.resolve())
            found.add(path.resolve())
        except (RunFileError, ValueError) as error:
            if report is not None:
                report(f"skipped: {error}")
    return sorted(found)


def file_hash(path: Path) -> str:
    """BLAKE2b of the file's bytes (hex, 32 characters)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical_params(params: dict) -> str:
    """The ``params`` column's text for a parameter dict: JSON with sorted keys."""
    return json.dumps(params, sort_keys=True)


def resolve_run_values(params: dict, activity: Sequence[np.ndarray]) -> dict:
    """``params`` (as a table's ``params`` column holds them) with ``run_max`` and ``run_min``
    replaced by the largest and smallest value of the run's ``activity`` (every layer's (E, N, d)
    array, as `read_run` gives them): what the estimate stage passes to `estimate_mi`."""
    extremes = {RUN_MAX: lambda: max(float(a.max()) for a in activity),
                RUN_MIN: lambda: min(float(a.min()) for a in activity)}
    return {name: extremes[value]() if isinstance(value, str) and value in extremes else value
            for name, value in params.items()}


def _activation(run) -> str:
    return run.config.get("activation", run.layers[0].activation)


def _identity(path: Path, run_hash: str, run) -> dict:
    """The IDENTITY columns of ``run``'s rows."""
    config = run.config
    return {"run": str(path), "run_hash": run_hash, "activation": _activation(run),
            "l2": float(config.get("l2", 0.0)), "protocol": config.get("protocol"),
            "dataset": config.get("dataset"), "hidden": ",".join(str(layer.units) for layer in run.layers[:-1]),
            "trained_epochs": int(config.get("epochs", run.epochs[-1] if len(run.epochs) else 0)),
            "split": config.get("split"), "split_seed": config.get("split_seed"),
            "noise_std": float(config.get("noise_std", 0.0)), "seed": int(config.get("seed", -1))}


def layer_information(
    activity: np.ndarray, labels: np.ndarray, requests: list[tuple[str, dict]]
) -> list[Estimate]:
    """`estimate_mi_many` for one layer-epoch, activity (N, d), as the estimate stage asks it:
    every estimator gives 0 bits for a constant layer."""
    if activity.min() == activity.max():
        # A constant (e.g. dead ReLU) layer carries no information under any estimator; aKDE
        # alone could not say so, its noise variance variance_scale * max|T| being 0.
        return [Estimate(0.0, 0.0, *[0.0 if method == "noisy" else np.nan] * 2) for method, _ in requests]
    return estimate_mi_many(activity, labels, requests)


def estimate_run(
    path: Path, run_hash: str, specs: Sequence[EstimatorSpec], layers: Sequence[int] | None = None,
    epochs: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The rows of one run file for ``specs``: one per (estimator, epoch, layer), for the given
    ``layers`` (default: every layer) and recorded ``epochs`` (default: every one). All specs of a
    layer-epoch go to `estimate_mi_many` together, so its KDE settings share one pass over the
    pairs.

    Raises RunFileError for an unreadable or incomplete file and ValueError for bad activity;
    the message names the file.
    """
    run = read_run(path)
    if not run.complete:
        raise RunFileError(f"{path}: incomplete run ({run.incomplete_reason()}); rerun its train command")
    if not len(run.epochs):
        raise RunFileError(f"{path}: no recorded epochs (its schedule was empty); train it again with epochs to record")
    for layer, activity in enumerate(run.activity):  # first: run_max and the constant-layer shortcut assume it
        diverged = np.flatnonzero(~np.isfinite(activity).all(axis=(1, 2)))
        if len(diverged):
            try:
                check_finite(activity[diverged[0]])
            except ValueError as error:
                raise ValueError(f"{path}: epoch {run.epochs[diverged[0]]}, layer_{layer}: {error}") from error
    samples = {spec.samples for spec in specs} - {None}
    if len(samples) > 1:
        raise ValueError(f"one estimate asks for one subsample size, got {sorted(samples)}")
    # The layer's statistics, and run_max and run_min, are the whole run's whatever the subsample:
    # every row of a (run, epoch, layer) carries the same statistics.
    whole = run
    if samples:
        try:
            run = _subsampled(run, stratified_subsample(run.y, samples.pop()))
        except ValueError as error:
            raise ValueError(f"{path}: --samples: {error}") from error
    activation = _activation(run)
    requested = [spec.params_for(activation) for spec in specs]
    requests = [(spec.method, {name: value for name, value in resolve_run_values(params, whole.activity).items()
                               if name != SAMPLES}) for spec, params in zip(specs, requested)]
    by_layer = [k for k, spec in enumerate(specs) if spec.method not in NETWORK_METHODS]
    by_network = [k for k, spec in enumerate(specs) if spec.method in NETWORK_METHODS]
    if by_network:
        _check_network_estimable(run, path)
    rows = []
    for layer in range(len(run.activity)) if layers is None else layers:
        activity = run.activity[layer]
        for e, epoch in enumerate(run.epochs):
            if epochs is not None and epoch not in epochs:
                continue
            try:
                estimates = dict(zip(by_layer, layer_information(activity[e], run.y, [requests[k] for k in by_layer])))
                estimates.update({k: _sp_information(run, e, layer, requests[k][1]) for k in by_network})
            except ValueError as error:
                raise ValueError(f"{path}: epoch {epoch}, layer_{layer}: {error}") from error
            estimates = [estimates[k] for k in range(len(specs))]
            metrics = [run.metrics[name][e] for name in METRICS]
            statistics = [float(whole.activity[layer][e].max()),
                          *(getattr(run, name)[e, layer] for name in LAYER_STATISTICS),
                          within_between(whole.activity[layer][e], whole.y)]
            for spec, params, estimate in zip(specs, requested, estimates):
                rows.append((epoch, layer, activity.shape[2], spec.method, canonical_params(params), *estimate,
                             estimate.i_xt_se, estimate.i_ty_se, *metrics, *statistics))
    table = pd.DataFrame(rows, columns=COLUMNS[len(IDENTITY):])
    for position, (name, value) in enumerate(_identity(path, run_hash, run).items()):
        table.insert(position, name, value)
    return table


def _subsampled(run, rows: np.ndarray):
    """``run`` cut to the inputs ``rows``: x, y and every layer's activity."""
    return replace(run, x=run.x[rows], y=run.y[rows], activity=[activity[:, rows] for activity in run.activity])


def _check_network_estimable(run, path: Path) -> None:
    """ValueError unless ``sp`` can propagate noise through ``run``: it needs every recorded
    epoch's kernels and biases, and stateless activations."""
    if run.kernels is None:
        raise ValueError(f"{path}: sp needs every recorded epoch's kernels and biases, which this file does not keep "
                         "(written before they were kept; or the model is not a chain of Dense layers, with a "
                         "BatchNormalization, a separate activation or another layer sp does not model, so its "
                         "parameters alone do not give its activity); estimate it with the other estimators")
    unsupported = sorted({layer.activation for layer in run.layers} - set(STATELESS))
    if unsupported:
        raise ValueError(f"{path}: sp cannot propagate through {', '.join(unsupported)} (its parameters are not "
                         "recorded); estimate it with the other estimators")


def _sp_information(run, e: int, layer: int, params: dict) -> Estimate:
    """``sp`` on ``run``'s recorded epoch index ``e``; noise_std None: the run's own noise."""
    noise_std = params["noise_std"] if params["noise_std"] is not None else run.config.get("noise_std", 0.0)
    if not noise_std:
        raise ValueError("sp: a deterministic network (its config has no noise_std); give sp:noise_std=S to "
                         "estimate it as a noisy network of noise S")
    return estimate_sp(run.x, [kernel[e] for kernel in run.kernels], [bias[e] for bias in run.biases],
                       [spec.activation for spec in run.layers], run.y, layer, noise_std, params["replicas"],
                       params["marginal_replicas"], params["mc_samples"], params["seed"])


@dataclass(frozen=True)
class _Task:
    """One unit of the stage's work: some layers of one run file under the specs it lacks."""

    path: Path
    run_hash: str
    specs: tuple[EstimatorSpec, ...]
    layers: tuple[int, ...] | None  # None: every layer
    epochs: tuple[int, ...] | None  # the recorded epochs to estimate; None: every one
    cost: float  # relative: epochs x samples^2 x (layer widths + KDE settings)


# Measured: a layer-epoch costs about (d + 4.5 k + 1.5 r (d + 4.5)) units, d its width, k its KDE
# settings and r the draws of its noisy settings (and sp's R^2 mc_samples) (the distance pass grows with d, each KDE setting
# adds one sweep of exponentials; a noisy setting of 4 draws costs 6 times one KDE setting alone).
_KDE_SETTING_COST = 4.5
_NOISY_DRAW_COST = 1.5


def strided_epochs(epochs: Sequence[int], stride: int) -> tuple[int, ...]:
    """Every ``stride``-th of the recorded ``epochs`` from the first, and the last always (the
    compression C = max - final needs it)."""
    return tuple(sorted({*epochs[::stride], *epochs[-1:]}))


def _tasks(path: Path, run_hash: str, specs: Sequence[EstimatorSpec], done: dict, split: bool,
           stride: int) -> list[_Task]:
    """The work this file still needs at every ``stride``-th epoch: one task per layer if ``split``,
    else one for the file. ``done``: the epochs in the table per KEY."""
    try:
        run = read_run(path, activity=False)
    except RunFileError:
        run = None
    if run is None or not len(run.epochs):
        return [_Task(path, run_hash, tuple(specs), None, None, 0.0)]  # the worker reports the file
    activation = _activation(run)
    wanted = set(strided_epochs([int(epoch) for epoch in run.epochs], stride))
    missing = {spec: wanted - done.get((run_hash, spec.method, canonical_params(spec.params_for(activation))), set())
               for spec in specs}
    pending = tuple(spec for spec in specs if missing[spec])
    if not pending:
        return []
    epochs = tuple(sorted(set().union(*missing.values())))  # every pending setting at each: some may have them
    kde_settings = sum(spec.method in ("kde", "akde") for spec in pending)
    draws = sum(spec.params_for(activation)["replicas"] for spec in pending if spec.method == "noisy")
    # sp: N^2 R_m mc_samples / 4 (centre, centre) pairs, four draws each: a noisy setting of R_m mc_samples draws
    draws += sum(params["marginal_replicas"] * params["mc_samples"]
                 for params in (spec.params_for(activation) for spec in pending if spec.method == "sp"))
    size = min([len(run.x), *(spec.samples for spec in pending if spec.samples is not None)])
    per_layer = [len(epochs) * size ** 2 * (layer.units + _KDE_SETTING_COST * kde_settings
                                                  + _NOISY_DRAW_COST * draws * (layer.units + _KDE_SETTING_COST))
                 for layer in run.layers]
    if split:
        return [_Task(path, run_hash, pending, (layer,), epochs, cost) for layer, cost in enumerate(per_layer)]
    return [_Task(path, run_hash, pending, None, epochs, sum(per_layer))]


def _fill_later(table: pd.DataFrame, hashes: dict[Path, str]) -> pd.DataFrame:
    """``table`` with the LATER columns that a table from before them lacks filled in from the run
    files, for rows of the files' current content (``hashes``) only; nothing is re-estimated."""
    current = table["run_hash"] == table["run"].map({str(path): digest for path, digest in hashes.items()})
    # within_between is NaN for a constant layer: only a run none of whose rows has it lacks it
    unclustered = table.groupby("run")["within_between"].transform(lambda column: column.isna().all())
    lacking = current & (table[[*LAYER_COLUMNS, "noise_std"]].isna().any(axis=1) | unclustered)
    if not lacking.any():
        return table
    found = []
    for run_path in table.loc[lacking, "run"].unique():
        try:
            run = read_run(run_path)
        except RunFileError:
            continue
        maxima = np.array([activity.max(axis=(1, 2)) for activity in run.activity]).T  # (E, L)
        clustering = np.array([[within_between(a, run.y) for a in activity] for activity in run.activity]).T
        epochs, layers = maxima.shape
        values = {"run": run_path, "epoch": np.repeat(run.epochs, layers), "layer": np.tile(np.arange(layers), epochs),
                  "max_activity": maxima.ravel(), **{name: getattr(run, name).ravel() for name in LAYER_STATISTICS},
                  "within_between": clustering.ravel()}
        identity = _identity(Path(run_path), hashes[Path(run_path)], run)
        found.append(pd.DataFrame({**values, **{column: identity[column] for column in RUN_SETTINGS}}))
    if not found:
        return table
    known = pd.concat(found, ignore_index=True).set_index(["run", "epoch", "layer"])
    wanted = pd.MultiIndex.from_frame(table.loc[lacking, ["run", "epoch", "layer"]])
    table = table.astype({column: object for column in RUN_SETTINGS})
    for column in LATER:
        table.loc[lacking, column] = known[column].reindex(wanted).to_numpy()
    return table.infer_objects()


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def check_table_path(path: Path) -> None:
    """ValueError unless ``path`` can name a table: a .parquet or .csv file, not a directory."""
    check_utf8(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give the table's file name, e.g. {path / 'mi.parquet'}")
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: a table is written as {' or '.join(TABLE_SUFFIXES)}, not '{path.suffix}'; "
                         "name it mi.parquet or mi.csv")


def check_columns(frame: pd.DataFrame, path: Path, required: Sequence[str], text: Sequence[str],
                  numbers: Sequence[str], what: str) -> None:
    """ValueError "``path``: ``what`` (...)" naming the ``required`` columns ``frame`` lacks, and
    those of ``text`` not holding text or of ``numbers`` not holding numbers."""
    missing = [c for c in required if c not in frame.columns]
    mistyped = [c for c in text if c in frame.columns
                and pd.api.types.infer_dtype(frame[c], skipna=True) not in ("string", "empty")]
    mistyped += [c for c in numbers if c in frame.columns and not pd.api.types.is_numeric_dtype(frame[c])]
    problems = [f"missing columns {', '.join(missing)}"] * bool(missing)
    problems += [f"columns of the wrong type: {', '.join(mistyped)}"] * bool(mistyped)
    if problems:
        raise ValueError(f"{path}: {what} ({'; '.join(problems)})")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read an MI table (.parquet or .csv); ValueError naming the file when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such MI table; write it with `python -m ib_keras estimate`")
    try:
        table = pd.read_csv(path, dtype=dict.fromkeys(_TEXT, str)) if _is_csv(path) else pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not an MI table written by `python -m ib_keras estimate` ({error})") from error
    required = [c for c in COLUMNS if c not in LATER]  # LATER ones are filled by estimate
    check_columns(table, path, required, _TEXT, _NUMBERS, "not an MI table written by `python -m ib_keras estimate`")
    if table.empty:
        raise ValueError(f"{path}: the MI table has no rows; run `python -m ib_keras estimate` on complete run files")
    return table.reindex(columns=[*COLUMNS, *(c for c in table.columns if c not in COLUMNS)])


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` to ``path`` (.parquet or .csv) atomically: all of it or nothing."""
    with atomic_path(path) as partial:
        if _is_csv(Path(path)):
            table.to_csv(partial, index=False)
        else:
            table.to_parquet(partial, index=False)


def _finished(tasks: Sequence[_Task], jobs: int, client=None) -> Iterator[tuple[_Task, pd.DataFrame | None, str | None]]:
    """(task, rows, error) for every task as it finishes: on a Dask ``client``'s cluster, in this
    process, or over ``jobs`` workers. (task, None, None) for a task lost with a worker process
    that died (killed, out of memory), which takes every unfinished task of the pool with it."""
    if client is not None:
        for task, result, lost in finished(client, _estimate_cluster_task, tasks):
            yield (task, None, f"{task.path}: {lost}") if lost else (task, *result)
        return
    if jobs <= 1:
        for task in tasks:
            yield task, *_estimate_task(task)
        return
    with worker_pool(jobs) as pool:
        futures = {pool.submit(_estimate_task, task): task for task in tasks}  # run in this order
        for future in as_completed(futures):
            try:
                yield futures[future], *future.result()
            except BrokenProcessPool:
                yield futures[future], None, None


def _estimate_cluster_task(task: _Task) -> tuple[pd.DataFrame | None, str | None]:
    """`_estimate_task` on a cluster's worker, which may not see the client's files."""
    try:
        check_visible(task.path)
    except ValueError as error:
        return None, str(error)
    return _estimate_task(task)


def _estimate_task(task: _Task) -> tuple[pd.DataFrame | None, str | None]:
    """(rows, None), or (None, the error naming the file)."""
    try:
        return estimate_run(task.path, task.run_hash, task.specs, task.layers, task.epochs), None
    except ValueError as error:  # RunFileError is a ValueError
        return None, str(error)


class _Parts:
    """Finished files' rows, each kept in its own file beside the table until the table is written,
    so that a killed stage loses at most the files in flight. Merged into the table when it is next
    read: a part written twice (killed after the table was written) adds no duplicate rows."""

    def __init__(self, out: Path):
        self.directory = out.with_name(f".{out.name}.parts")
        self.added: list[Path] = []

    def read(self, report: Callable[[str], None]) -> list[pd.DataFrame]:
        """The parts' rows; a part that cannot be read is reported and deleted (its file's rows are
        then estimated again), so that no bad part blocks the stage."""
        frames = []
        for path in sorted(self.directory.glob("*.parquet")):
            try:
                frames.append(read_table(path))
            except ValueError as error:
                report(f"discarded an unreadable kept part, its run file is estimated again: {error}")
                path.unlink(missing_ok=True)
        return frames

    def add(self, rows: pd.DataFrame) -> None:
        self.added.append(self.directory / f"{os.getpid()}-{len(self.added):06d}.parquet")
        write_table(rows, self.added[-1])

    def discard_added(self) -> None:
        for path in self.added:
            path.unlink(missing_ok=True)
        if self.directory.is_dir() and not any(self.directory.iterdir()):
            self.directory.rmdir()

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _merge(frames: Sequence[pd.DataFrame], hashes: dict[Path, str]) -> pd.DataFrame:
    """One table of ``frames``: the last row of each (file content, estimate, epoch, layer), and the
    rows of a file's earlier content dropped once its current content has rows."""
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(frames, ignore_index=True).drop_duplicates(ROW_KEY, keep="last")
    current = table["run"].map({str(path): digest for path, digest in hashes.items()})
    renewed = set(table.loc[current == table["run_hash"], "run"])
    table = table[~table["run"].isin(renewed) | (current == table["run_hash"])]
    return table.sort_values(["run", "estimator", "params", "epoch", "layer"], ignore_index=True)


def _canonical_runs(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every ``run`` as an absolute path with links resolved, as `run_files` names
    files: a table written before that held paths as they were given, relative ones to the
    directory the stage ran in, which is taken to be this one."""
    names = {run: str(Path(run).resolve()) for run in table["run"].unique()}
    return table.assign(run=table["run"].map(names)) if any(k != v for k, v in names.items()) else table


def _deleted(table: pd.DataFrame, roots: Sequence[Path], files: Sequence[Path]) -> set[str]:
    """The runs of ``table`` whose files lay under ``roots`` (directories, or files given) and are
    gone: neither found there now nor on disk."""
    found, given = set(map(str, files)), set(map(str, roots))
    prefixes = tuple(root + os.sep for root in given)
    return {run for run in table["run"].unique()
            if run not in found and (run in given or run.startswith(prefixes)) and not Path(run).exists()}


def estimate_runs(
    paths: Sequence[str | Path],
    specs: Sequence[EstimatorSpec],
    out: str | Path,
    jobs: int = 1,
    strict: bool = False,
    progress: bool = True,
    report: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
    scheduler: str | None = None,
    epoch_stride: int = 1,
    samples: int | None = None,
) -> pd.DataFrame:
    """Estimate every spec on every run file under ``paths``; update and write the table ``out``.

    Each file's rows are kept beside the table as soon as the file is done, and the table is
    written at the end: a killed stage, rerun, computes only the files not yet done. A second
    stage on the same table stops at once with ValueError. A file that cannot be estimated
    (corrupt, truncated, incomplete, NaN activity) is reported by name and skipped, its earlier
    rows kept; with ``strict`` ValueError is raised and the table is not written. With
    ``scheduler`` (see `ib_keras.cluster.dask_client`) the tasks run on that Dask cluster instead
    of ``jobs`` local processes; this process alone writes the table. With ``epoch_stride`` K > 1,
    every K-th recorded epoch and the last (`strided_epochs`). With ``samples`` K, every estimate
    is of a class-stratified subsample of K inputs (`stratified_subsample`; ``samples`` in the
    rows' params, so that it sits beside the estimates of all inputs).

    A run is named in the table by its file's absolute path, however ``paths`` spelled it. Rows
    of a file that was under ``paths`` and no longer exists are dropped (and reported); rows of
    files elsewhere are kept as they are. A worker process that dies (killed, out of memory)
    ends the stage with ValueError once the table holds every file finished before it.
    Returns the whole table as written.
    """
    out = Path(out)
    check_table_path(out)
    if samples is not None:
        if samples < 2:
            raise ValueError(f"--samples must be at least 2, got {samples}")
        specs = [replace(spec, samples=samples) for spec in specs]
    files = run_files(paths, report)
    if not files:
        raise ValueError(f"no run files (*.h5) under {', '.join(map(str, paths))}")
    with dask_client(scheduler) if scheduler else nullcontext() as client:  # an unreachable one: before any writing
        with created_directory(out.parent):  # where the lock, the parts and the table go; removed if left empty
            return _estimate_into(files, [Path(p).resolve() for p in paths], specs, out, jobs, strict, progress,
                                  report, client, epoch_stride)


def _estimate_into(files: list[Path], roots: list[Path], specs: Sequence[EstimatorSpec], out: Path, jobs: int,
                   strict: bool, progress: bool, report: Callable[[str], None], client, stride: int) -> pd.DataFrame:
    with exclusive(out.with_name(f".{out.name}.lock"), f"{out}: another estimate is writing this table"):
        parts = _Parts(out)
        hashes = {path: file_hash(path) for path in files}
        table = _merge([_canonical_runs(read_table(out)) if out.exists() else pd.DataFrame(columns=COLUMNS),
                        *parts.read(report)], hashes)
        deleted = _deleted(table, roots, files)
        if deleted:
            report(f"{len(deleted)} run file(s) under {', '.join(map(str, roots))} no longer exist; their rows are "
                   f"dropped from {out} (first: {min(deleted)})")
            table = table[~table["run"].isin(deleted)].reset_index(drop=True)
        done = {key: frozenset(epochs) for key, epochs in table.groupby(KEY)["epoch"]} if len(table) else {}
        # Whole files while there are enough of them to keep every worker busy to the end; else a
        # task per layer. Largest first, so that no worker is left with a long task at the end.
        workers = worker_threads(client) if client is not None else jobs
        split = len(files) < _TASKS_PER_WORKER * max(workers, 1)
        tasks = [task for path in files for task in _tasks(path, hashes[path], specs, done, split, stride)]
        tasks.sort(key=lambda task: task.cost, reverse=True)
        pending = {path: sum(task.path == path for task in tasks) for path in {task.path for task in tasks}}
        if progress:
            print(f"{len(pending)} of {len(files)} run files to estimate, the others already in {out}", file=sys.stderr)
        collected: dict[Path, list[pd.DataFrame]] = {}
        failures: dict[Path, str] = {}  # a file fails whole: none of its layers' rows are kept
        lost: set[Path] = set()  # files whose tasks died with a worker process
        with tqdm(total=len(tasks), desc="estimate", unit="task", disable=not progress or not tasks,
                  file=sys.stderr) as bar:
            for task, rows, error in _finished(tasks, min(jobs, len(tasks)), client):
                if rows is None and error is None:
                    lost.add(task.path)
                elif error is not None:
                    failures.setdefault(task.path, error)
                elif task.path not in failures and task.path not in lost:
                    collected.setdefault(task.path, []).append(rows)
                    if len(collected[task.path]) == pending[task.path]:
                        rows = pd.concat(collected.pop(task.path), ignore_index=True)
                        if len(rows):
                            parts.add(rows)
                bar.update(1)
        if failures:
            if strict:
                parts.discard_added()
                raise ValueError(f"{len(failures)} run file(s) failed, table not written; "
                                 f"first: {next(iter(failures.values()))}")
            for failure in failures.values():
                report(f"skipped: {failure}")
        table = _fill_later(_merge([table, *parts.read(report)], hashes), hashes)
        if table.empty:
            first = next(iter(failures.values()), f"{min(lost)}: lost with a worker process that died" if lost else
                         "nothing to estimate")
            raise ValueError(f"no rows to write to {out}: every run file failed; first: {first}")
        write_table(table, out)
        parts.clear()
        if lost:
            raise ValueError(f"{out}: a worker process died (killed, or out of memory) while estimating {len(lost)} "
                             f"run file(s) (first: {min(lost)}); the table holds every file finished before it: "
                             "rerun the same command to estimate the rest")
    return table
