"""The MI table: its columns, reading and writing it (.parquet or .csv, atomically), and merging rows.

Columns: run (file path), run_hash, activation, l2, what else tells the run's configuration
apart (protocol, dataset, hidden widths, trained_epochs, split, split_seed, noise_std: s of a
noisy network, 0 for a deterministic one), seed, epoch, layer,
units, estimator, params (JSON of every parameter as requested, e.g. ``hi: "run_max"``, the same
for every model: a value each layer's activation sets is ``"activation"``), setting (the estimator
and its parameters as one readable text, ``ebab:low=activation:n_bins=30``,
`ib_keras.estimate.settings.setting_text`: select a setting with ``table[table.setting == ...]``),
resolved (JSON of the estimator's parameters for this layer, those of ``"activation"`` resolved by
`ib_keras.estimate.settings.layer_params`, e.g. ``{"low": 0.0, "n_bins": 30}`` for a ReLU layer), i_xt,
i_ty (bits), i_xt_se, i_ty_se (their Monte Carlo standard errors in bits, for ``noisy`` and
``sp``; empty for the other estimators), the run's train/test loss and accuracy at that epoch, and
the layer's statistics at that epoch: max_activity (its largest activity) and, from the run file,
weights_norm, grad_mean, grad_std; and within_between, how much same-class representations cluster
(`ib_keras.estimate.estimators.within_between` of the recorded activity; noise-free S for a noisy network).
``sp`` with ``noise_std`` null uses the run's own noise (its config's ``noise_std``).

A row is keyed by the run file's content hash, the estimator, its parameters, the epoch and the
layer (`ROW_KEY`); a table is written atomically, all of it or nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ib_keras.estimate.settings import ROW_PARAMS, canonical_params, restated_params, setting_text
from ib_keras.runfile import LAYER_STATISTICS, METRICS
from ib_keras.system.atomic import atomic_path, check_utf8

KEY = ["run_hash", "estimator", "params"]


ROW_KEY = [*KEY, "epoch", "layer"]


# What else tells runs of one activation and L2 apart (from the run's config), so that a table says
# which configuration each row is of.
RUN_SETTINGS = ["protocol", "dataset", "hidden", "trained_epochs", "split", "split_seed", "noise_std"]


IDENTITY = ["run", "run_hash", "activation", "l2", *RUN_SETTINGS, "seed"]


LAYER_COLUMNS = ["max_activity", *LAYER_STATISTICS]


CLUSTERING = ["within_between"]


STANDARD_ERRORS = ["i_xt_se", "i_ty_se"]


COLUMNS = [*IDENTITY, "epoch", "layer", "units", "estimator", "params", "setting", "resolved", "i_xt", "i_ty", *STANDARD_ERRORS, *METRICS,
           *LAYER_COLUMNS, *CLUSTERING]


# Tables written before these columns existed lack them: estimate fills them in from the run files,
# read_table the setting and resolved from each row's estimator and params.
LATER = [*RUN_SETTINGS, "setting", "resolved", *LAYER_COLUMNS, *CLUSTERING]


_TEXT = ["run", "run_hash", "activation", "protocol", "dataset", "hidden", "split", "estimator", "params", "setting",
         "resolved"]


_NUMBERS = ["l2", "seed", "epoch", "layer", "units", "i_xt", "i_ty", *STANDARD_ERRORS, *METRICS, *CLUSTERING]


TABLE_SUFFIXES = (".parquet", ".csv")


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
    _check_bits(table, path)
    if "resolved" not in table.columns:
        table = restated(table)
    elif "setting" not in table.columns:
        table = with_settings(table)
    return table.reindex(columns=[*COLUMNS, *(c for c in table.columns if c not in COLUMNS)])


_ROUNDING = 1e-6  # bits: an estimate this far below 0 is rounding (a Monte Carlo one: this plus 4 standard errors)


def _check_bits(table: pd.DataFrame, path: Path) -> None:
    """ValueError naming the first row whose i_xt or i_ty is not an amount of information: NaN,
    infinite, or below 0 by more than rounding (and, for a Monte Carlo estimate, 4 standard errors)."""
    for column in ("i_xt", "i_ty"):
        values = table[column].to_numpy(dtype=float)
        se = table[f"{column}_se"].to_numpy(dtype=float) if f"{column}_se" in table else np.zeros(len(table))
        bad = ~np.isfinite(values) | (values < -(_ROUNDING + 4 * np.nan_to_num(se)))
        if bad.any():
            row = table[bad].iloc[0]
            raise ValueError(f"{path}: {int(bad.sum())} rows hold a {column} that is no amount of information (NaN, "
                             f"infinite or below 0 bits), the first {row[column]} bits (run {row['run']}, "
                             f"{row['estimator']}, epoch {row['epoch']}, layer {row['layer']}); the table is damaged or "
                             "was edited: estimate it again (python -m ib_keras estimate)")


def restated(table: pd.DataFrame) -> pd.DataFrame:
    """A table written before the values an activation sets were resolved per layer (every layer
    given the run's activation's value) as it is written now: ``resolved`` the parameters each row
    was estimated with, and ``params`` (and ``setting``) the request in today's words
    (`today_params`). The estimate stage estimates again a layer whose own activation resolves the
    request to other values than its row's ``resolved`` (a model mixing activations)."""
    used = {params: canonical_params({name: value for name, value in json.loads(params).items()
                                      if name not in ROW_PARAMS}) for params in table["params"].unique()}
    return with_settings(table.assign(resolved=table["params"].map(used), params=today_params(table)))


def today_params(frame: pd.DataFrame) -> list[str]:
    """The ``params`` of ``frame``'s rows (columns estimator, params, activation: an MI table's or
    a summary's from before the values an activation sets were resolved per layer) in today's
    words (`ib_keras.estimate.settings.restated_params`: ``"low": -1.000001`` of a tanh run is
    ``"low": "activation"``)."""
    kinds = frame[["estimator", "params", "activation"]].drop_duplicates()
    words = {kind: restated_params(*kind) for kind in kinds.itertuples(index=False)}
    return [words[kind] for kind in zip(frame["estimator"], frame["params"], frame["activation"])]


def with_settings(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with its ``setting`` column made from each row's estimator and params."""
    names = {pair: setting_text(*pair) for pair in table[["estimator", "params"]].drop_duplicates().itertuples(index=False)}
    return table.assign(setting=[names[pair] for pair in zip(table["estimator"], table["params"])])


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write ``table`` to ``path`` (.parquet or .csv) atomically: all of it or nothing."""
    with atomic_path(path) as partial:
        if _is_csv(Path(path)):
            table.to_csv(partial, index=False)
        else:
            table.to_parquet(partial, index=False)


def merge(frames: Sequence[pd.DataFrame], hashes: dict[Path, str]) -> pd.DataFrame:
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


def canonical_runs(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every ``run`` as an absolute path with links resolved, as `run_files` names
    files: a table written before that held paths as they were given, relative ones to the
    directory the stage ran in, which is taken to be this one."""
    names = {run: str(Path(run).resolve()) for run in table["run"].unique()}
    return table.assign(run=table["run"].map(names)) if any(k != v for k, v in names.items()) else table


def deleted_runs(table: pd.DataFrame, roots: Sequence[Path], files: Sequence[Path]) -> set[str]:
    """The runs of ``table`` whose files lay under ``roots`` (directories, or files given) and are
    gone: neither found there now nor on disk."""
    found, given = set(map(str, files)), set(map(str, roots))
    prefixes = tuple(root + os.sep for root in given)
    return {run for run in table["run"].unique()
            if run not in found and (run in given or run.startswith(prefixes)) and not Path(run).exists()}
