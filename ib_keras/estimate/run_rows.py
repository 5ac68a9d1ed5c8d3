"""The rows of one run file: every requested estimate of its layers and epochs, with the run's
identity, metrics and layer statistics beside them (the table's columns, `ib_keras.estimate.table`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ib_keras.estimate.estimators import (CODE_METHODS, INPUT_METHODS, NETWORK_METHODS, Estimate, check_finite,
                                          estimate_mi_many, estimate_sp, within_between)
from ib_keras.estimate.settings import (ROW_PARAMS, EstimatorSpec, canonical_params, layer_params, resolve_run_values,
                                        setting_text, stratified_subsample)
from ib_keras.estimate.table import COLUMNS, IDENTITY, LAYER_COLUMNS, RUN_SETTINGS
from ib_keras.networks.activations import STATELESS
from ib_keras.runfile import LAYER_STATISTICS, METRICS, RunFileError, read_run


def run_activation(run) -> str:
    return run.config.get("activation", run.layers[0].activation)


def resolved_params(method: str, params: dict, run, layer: int) -> dict:
    """The ``resolved`` column's parameters of ``layer``: ``params`` (a request's, `EstimatorSpec.params_for`)
    without those choosing the inputs, the values an activation sets resolved for the layer
    (`layer_params`); ``run_max``-style values as requested."""
    activations = [spec.activation for spec in run.layers]
    return layer_params(method, {name: value for name, value in params.items() if name not in ROW_PARAMS},
                        activations, layer)


def resolved_texts(spec: EstimatorSpec, run) -> list[str]:
    """The ``resolved`` column's text of ``spec`` in each layer of ``run``, as `estimate_run` writes it:
    what a table's rows must hold to be this request's rows now."""
    return [canonical_params(resolved_params(spec.method, spec.params_for(), run, layer))
            for layer in range(len(run.layers))]


def run_identity(path: Path, run_hash: str, run) -> dict:
    """The IDENTITY columns of ``run``'s rows."""
    config = run.config
    return {"run": str(path), "run_hash": run_hash, "activation": run_activation(run),
            "l2": float(config.get("l2", 0.0)), "protocol": config.get("protocol"),
            "dataset": config.get("dataset"),
            "hidden": config.get("architecture") or ",".join(str(layer.units) for layer in run.layers[:-1]),
            "trained_epochs": int(config.get("epochs", run.epochs[-1] if len(run.epochs) else 0)),
            "split": config.get("split"), "split_seed": config.get("split_seed"),
            "noise_std": float(config.get("noise_std", 0.0)), "seed": int(config.get("seed", -1))}


def layer_information(
    activity: np.ndarray, labels: np.ndarray, requests: list[tuple[str, dict]], inputs: np.ndarray | None = None,
) -> list[Estimate]:
    """`estimate_mi_many` for one layer-epoch, activity (N, d) (and the inputs (N, ...) for
    renyi), as the estimate stage asks it: every estimator gives 0 bits for a constant layer."""
    if activity.min() == activity.max():
        # A constant (e.g. dead ReLU) layer carries no information under any estimator; aKDE
        # alone could not say so, its noise variance variance_scale * max|T| being 0.
        return [Estimate(0.0, 0.0, *[0.0 if method == "noisy" else np.nan] * 2) for method, _ in requests]
    return estimate_mi_many(activity, labels, requests, inputs)


def check_estimable(run: Run, specs: Sequence[EstimatorSpec]) -> None:
    """RunFileError naming the file when the run is incomplete (why, and what to do); ValueError
    when ``specs`` count codes (``exact``) and the run has none, or read the inputs X (``renyi``,
    ``infonce``, ``mine``, ``sp``) and the file was written without them."""
    if not run.complete:
        raise RunFileError(f"{run.path}: incomplete run ({run.incomplete_reason()})")
    if any(spec.method in CODE_METHODS for spec in specs) and not run.quantized:
        raise ValueError(f"{run.path}: exact counts a quantized network's codes and this run is not quantized (train "
                         "it with --quantize-bits 8 or 4); estimate it with the other estimators")
    reading = sorted({spec.method for spec in specs if spec.method in (*INPUT_METHODS, *NETWORK_METHODS)})
    if reading and not run.has_inputs:
        raise ValueError(f"{run.path}: {' and '.join(reading)} read the inputs X, and this file was written without "
                         "them (write_run_arrays without x: row numbers in their place); write it again with x=...")


def estimate_run(
    path: Path, run_hash: str, specs: Sequence[EstimatorSpec], layers: Sequence[int] | None = None,
    epochs: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The rows of one run file for ``specs``: one per (estimator, epoch, layer), for the given
    ``layers`` (default: every layer) and recorded ``epochs`` (default: every one). Specs are
    estimated on the inputs they choose (``inputs``, ``samples``); all specs of a layer-epoch that
    share them go to `estimate_mi_many` together, so their KDE settings share one pass over the
    pairs.

    Raises RunFileError for an unreadable or incomplete file and ValueError for bad activity;
    the message names the file.
    """
    run = read_run(path)
    check_estimable(run, specs)
    if not len(run.epochs):
        raise RunFileError(f"{path}: no recorded epochs (its schedule was empty); train it again with epochs to record")
    for layer, activity in enumerate(run.activity):  # first: run_max and the constant-layer shortcut assume it
        diverged = np.flatnonzero(~np.isfinite(activity).all(axis=(1, 2)))
        if len(diverged):
            try:
                check_finite(activity[diverged[0]])
            except ValueError as error:
                raise ValueError(f"{path}: epoch {run.epochs[diverged[0]]}, layer_{layer}: {error}") from error
    groups: dict[tuple, list[EstimatorSpec]] = {}  # the specs of each choice of inputs, in order
    for spec in specs:
        groups.setdefault((spec.inputs, spec.samples), []).append(spec)
    tables = [_inputs_rows(path, run, group, inputs, samples, layers, epochs)
              for (inputs, samples), group in groups.items()]
    table = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
    for position, (name, value) in enumerate(run_identity(path, run_hash, run).items()):
        table.insert(position, name, value)
    return table


def _inputs_rows(path: Path, run, specs: Sequence[EstimatorSpec], inputs: str | None, samples: int | None,
                 layers: Sequence[int] | None, epochs: Sequence[int] | None) -> pd.DataFrame:
    """The rows (without the run's identity) of ``specs``, which share their ``inputs`` and ``samples``."""
    # The layer's statistics, and run_max and run_min, are the whole run's whatever the subsample:
    # every row of a (run, epoch, layer) carries the same statistics.
    whole = run
    if inputs:
        run = _subsampled(run, _input_rows(run, inputs, path))
    if samples:
        try:
            run = _subsampled(run, stratified_subsample(run.y, samples))
        except ValueError as error:
            raise ValueError(f"{path}: --samples: {error}") from error
    given = [spec.params_for() for spec in specs]
    requested = [canonical_params(params) for params in given]
    settings = [setting_text(spec.method, params) for spec, params in zip(specs, requested)]
    resolved = [[resolved_params(spec.method, params, run, layer) for spec, params in zip(specs, given)]
                for layer in range(len(run.layers))]  # per layer, per spec
    # run_max and run_min, the whole run's extremes, found once
    extremes = resolve_run_values({value: value for layer in resolved for params in layer for value in params.values()
                                   if isinstance(value, str)}, whole.activity)
    requests = [[(spec.method, {name: extremes.get(value, value) if isinstance(value, str) else value
                                for name, value in params.items()}) for spec, params in zip(specs, layer)]
                for layer in resolved]
    by_layer = [k for k, spec in enumerate(specs) if spec.method not in (*NETWORK_METHODS, *CODE_METHODS)]
    by_codes = [k for k, spec in enumerate(specs) if spec.method in CODE_METHODS]
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
                asked = requests[layer]
                estimates = dict(zip(by_layer, layer_information(activity[e], run.y, [asked[k] for k in by_layer],
                                                                         run.x)))
                estimates.update({k: _sp_information(run, e, layer, asked[k][1]) for k in by_network})
                if by_codes:
                    exact = estimate_mi_many(_counted_codes(run, layer, e), run.y, [asked[k] for k in by_codes])
                    estimates.update(zip(by_codes, exact))
            except ValueError as error:
                raise ValueError(f"{path}: epoch {epoch}, layer_{layer}: {error}") from error
            estimates = [estimates[k] for k in range(len(specs))]
            metrics = [run.metrics[name][e] for name in METRICS]
            statistics = [float(whole.activity[layer][e].max()),
                          *(getattr(run, name)[e, layer] for name in LAYER_STATISTICS),
                          within_between(whole.activity[layer][e], whole.y)]
            for spec, params, setting, values, estimate in zip(specs, requested, settings, resolved[layer], estimates):
                rows.append((epoch, layer, activity.shape[2], spec.method, params, setting, canonical_params(values),
                             *estimate, estimate.i_xt_se, estimate.i_ty_se, *metrics, *statistics))
    return pd.DataFrame(rows, columns=COLUMNS[len(IDENTITY):])


def _input_rows(run, inputs: str, path: Path) -> np.ndarray:
    """The recorded inputs that are the run's training (``inputs`` "train") or test rows; ValueError
    when it recorded fewer than two of them."""
    rows = run.train_idx if inputs == "train" else run.test_idx
    if len(rows) < 2:
        raise ValueError(f"{path}: --inputs {inputs}: the run recorded {len(rows)} of its {inputs} rows (for MNIST, "
                         "train it with --record-train-inputs M to record training images beside its test images)")
    return rows


def _subsampled(run, rows: np.ndarray):
    """``run`` cut to the inputs ``rows``: x, y and every layer's activity (and codes)."""
    codes = None if run.codes is None else [None if c is None else c[:, rows] for c in run.codes]
    return replace(run, x=run.x[rows], y=run.y[rows], activity=[activity[:, rows] for activity in run.activity],
                   codes=codes)


def _counted_codes(run, layer: int, e: int) -> np.ndarray:
    """The codes ``exact`` counts of a quantized layer at recorded epoch index ``e``: its levels, or
    for the softmax output (a "logits" grid) their differences from the first unit, as softmax
    gives equal outputs for logits shifted alike (and different ones otherwise)."""
    codes = run.codes[layer][e].astype(np.int16)
    return codes - codes[:, :1] if run.layers[layer].grid == "logits" else codes


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


def fill_later(table: pd.DataFrame, hashes: dict[Path, str]) -> pd.DataFrame:
    """``table`` with the LATER columns that a table from before them lacks (all but ``setting``,
    which `read_table` makes) filled in from the run files, for rows of the files' current content
    (``hashes``) only; nothing is re-estimated."""
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
        identity = run_identity(Path(run_path), hashes[Path(run_path)], run)
        found.append(pd.DataFrame({**values, **{column: identity[column] for column in RUN_SETTINGS}}))
    if not found:
        return table
    known = pd.concat(found, ignore_index=True).set_index(["run", "epoch", "layer"])
    wanted = pd.MultiIndex.from_frame(table.loc[lacking, ["run", "epoch", "layer"]])
    table = table.astype({column: object for column in RUN_SETTINGS})
    for column in known.columns:
        table.loc[lacking, column] = known[column].reindex(wanted).to_numpy()
    return table.infer_objects()
