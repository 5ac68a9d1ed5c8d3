"""Every estimator setting scored against three families of known truths, as one table of errors
(bits) and a leaderboard:

- ``exact``: a quantized network's information, counted (`exact`), on its recorded layer-epochs,
  on all its inputs and on class-stratified subsamples (``estimate --samples``: the truth is then
  that subsample's); the settings of T + noise and Renyi's functional estimate other quantities
  (``same_quantity`` false), the binnings T's own;
- ``noisy``: I(X;T') and I(T';Y) of T' = T + N(0, s2 I) by ``noisy``'s Monte Carlo, for the s2
  each setting assumes (1e-3, as ``kde``, ``knn``, ``infonce`` and ``mine``; 0.1 max|T|, as
  ``akde``); a setting that estimates another quantity (binning, ``renyi``) is scored against the
  s2 = 1e-3 truth and marked so (``same_quantity`` false);
- ``mixture``: benchmark-mi's discrete-continuous tasks (`ib_keras.studies.estimators.tasks`),
  I(T;Y) only, at several N and seeds.

An error is estimate - truth (bits); the compression verdict of a (run, layer) is C = peak -
final I(X;T) >= `MIN_BITS`, the estimate's against the truth's."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ib_keras.estimate import SAMPLES, canonical_params, estimate_mi, parse_estimators
from ib_keras.runfile import read_run
from ib_keras.studies.estimators.tasks import TASKS, Task

# The settings scored, by name: (label, setting as --estimators takes it). Uniform over each
# layer-epoch's range (Lorenzen et al.'s bounds="layer"): the one uniform setting every family can use.
SETTINGS = {
    "uniform": ("uniform, 30 bins", "uniform:lo=layer_min:hi=layer_max"),
    "fixed": ("fixed 0.07", "fixed"),
    "ebab": ("EBAB", "ebab"),
    "kde": ("KDE upper, s2 1e-3", "kde"),
    "kde_lower": ("KDE lower, s2 1e-3", "kde:bound=lower"),
    "akde": ("aKDE upper", "akde"),
    "akde_lower": ("aKDE lower", "akde:bound=lower"),
    "knn": ("kNN (Ross/KSG), s2 1e-3", "knn"),
    "infonce": ("InfoNCE, s2 1e-3", "infonce"),
    "mine": ("MINE, s2 1e-3", "mine"),
    "renyi": ("Renyi (eigenvalues)", "renyi"),
    "renyi_lanczos": ("Renyi (Lanczos)", "renyi:trace=lanczos"),
}
# The truths of the noisy family, by the s2 a setting assumes
NOISY_TRUTHS = {"fixed": "noisy:noise_variance=0.001:replicas=16", "scaled": "noisy:variance_scale=0.1:replicas=16"}
SCALED = ("akde", "akde_lower")  # s2 = 0.1 max|T|
NOISE_QUANTITY = ("kde", "kde_lower", "akde", "akde_lower", "knn", "infonce", "mine")  # estimate T' = T + noise
OTHER_THAN_EXACT = (*NOISE_QUANTITY, "renyi", "renyi_lanczos")  # not the information of T itself
MIN_BITS = 0.1  # a compression C = peak - final I(X;T) of at least this many bits counts as compression
MIXTURE_SIZES = (500, 1000, 2000)
MIXTURE_SEEDS = 4
ROWS = ["family", "source", "run", "epoch", "layer", "units", "n", "setting", "same_quantity", "truth_xt", "truth_ty",
        "i_xt", "i_ty"]


def _setting_names(table: pd.DataFrame) -> pd.Series:
    """Each row's setting's name in `SETTINGS` (None for a truth or another setting), by its
    parameters (those of a subsample, ``samples``, aside)."""
    wanted = {}
    for name, (_, text) in SETTINGS.items():
        spec = parse_estimators(text)[0]
        wanted[(spec.method, canonical_params(spec.params_for()))] = name
    plain = dict(zip(table["params"], _without_samples(table["params"])))
    return pd.Series([wanted.get((estimator, plain[params])) for estimator, params in
                      zip(table["estimator"], table["params"])], index=table.index)


def _without_samples(params: pd.Series) -> pd.Series:
    """Each row's params (JSON) without the subsample's size: the setting it was estimated with."""
    texts = {text: canonical_params({k: v for k, v in json.loads(text).items() if k != SAMPLES})
             for text in params.unique()}
    return params.map(texts)


def _samples(table: pd.DataFrame) -> pd.Series:
    """Each row's number of inputs: its subsample's, else its run's."""
    recorded = {run: len(read_run(run, activity=False).y) for run in table["run"].unique()}
    size = table["params"].map(lambda params: json.loads(params).get(SAMPLES))
    return size.fillna(table["run"].map(recorded)).astype(int)


def score_exact(table: pd.DataFrame) -> pd.DataFrame:
    """`ROWS` of an MI table holding ``exact`` and `SETTINGS` rows of quantized runs."""
    table = table.assign(name=_setting_names(table), n=_samples(table))
    truth = table[table["estimator"] == "exact"][["run", "epoch", "layer", "n", "i_xt", "i_ty"]]
    truth = truth.rename(columns={"i_xt": "truth_xt", "i_ty": "truth_ty"})
    rows = table.dropna(subset=["name"]).merge(truth, on=["run", "epoch", "layer", "n"])
    return _rows(rows, "exact", same=~rows["name"].isin(OTHER_THAN_EXACT))


def score_noisy(table: pd.DataFrame) -> pd.DataFrame:
    """`ROWS` of an MI table holding the `NOISY_TRUTHS` and `SETTINGS` rows of float runs."""
    table = table.assign(name=_setting_names(table), n=_samples(table))
    kinds = []
    for kind, text in NOISY_TRUTHS.items():
        wanted = canonical_params(parse_estimators(text)[0].params_for())
        chosen = table[(table["estimator"] == "noisy") & (_without_samples(table["params"]) == wanted)]
        kinds.append(chosen[["run", "epoch", "layer", "n", "i_xt", "i_ty"]].assign(kind=kind))
    truth = pd.concat(kinds).rename(columns={"i_xt": "truth_xt", "i_ty": "truth_ty"})
    rows = table.dropna(subset=["name"])
    rows = rows.assign(kind=np.where(rows["name"].isin(SCALED), "scaled", "fixed"))
    rows = rows.merge(truth, on=["run", "epoch", "layer", "n", "kind"])
    return _rows(rows, "noisy", same=rows["name"].isin(NOISE_QUANTITY))


def _rows(rows: pd.DataFrame, family: str, same) -> pd.DataFrame:
    """`ROWS` of scored rows (with their truths) of runs under <source>/<configuration>/seed-NNN.h5,
    each run named by those three parts: the same on any machine, whatever the runs' root."""
    runs = {run: "/".join(Path(run).parts[-3:]) for run in rows["run"].unique()}
    return pd.DataFrame({"family": family, "source": [Path(run).parent.parent.name for run in rows["run"]],
                         "run": rows["run"].map(runs), "epoch": rows["epoch"], "layer": rows["layer"], "units": rows["units"],
                         "n": rows["n"], "setting": rows["name"], "same_quantity": same, "truth_xt": rows["truth_xt"],
                         "truth_ty": rows["truth_ty"], "i_xt": rows["i_xt"], "i_ty": rows["i_ty"]})


def score_mixtures(settings: Sequence[str], sizes: Sequence[int] = MIXTURE_SIZES, seeds: int = MIXTURE_SEEDS,
                   tasks: Sequence[Task] = TASKS) -> pd.DataFrame:
    """`ROWS` of every task at every size and seed under ``settings`` (names of `SETTINGS`):
    I(T;Y) against the closed form (I(X;T) not scored: NaN). The inputs a setting reads (renyi,
    infonce, mine) are T itself."""
    rows = []
    for task in tasks:
        for n in sizes:
            for seed in range(seeds):
                t, y = task.draw(n, np.random.default_rng([seed, n]))
                for name in settings:
                    spec = parse_estimators(SETTINGS[name][1])[0]
                    estimate = estimate_mi(t, y, spec.method, inputs=t, **dict(spec.params))
                    rows.append(("mixture", task.name, f"{task.name}/seed-{seed:03d}", np.nan, 0, t.shape[1], n, name,
                                 True, np.nan, task.information, np.nan, estimate.i_ty))
    return pd.DataFrame(rows, columns=ROWS)


def errors(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with err_xt and err_ty = estimate - truth (bits)."""
    return rows.assign(err_xt=rows["i_xt"] - rows["truth_xt"], err_ty=rows["i_ty"] - rows["truth_ty"])


def verdicts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (family, run, layer, n, setting) over epochs: whether the truth and the estimate compress
    (C = peak - final I(X;T) >= MIN_BITS) and whether they agree; the families with epochs only."""
    over_epochs = rows.dropna(subset=["epoch", "truth_xt"]).sort_values("epoch")
    keys = ["family", "run", "layer", "n", "setting"]

    def compresses(values: pd.Series) -> bool:
        return bool(values.max() - values.iloc[-1] >= MIN_BITS)

    grouped = over_epochs.groupby(keys)
    out = pd.DataFrame({"truth": grouped["truth_xt"].agg(compresses), "estimate": grouped["i_xt"].agg(compresses)})
    return out.assign(agree=out["truth"] == out["estimate"]).reset_index()


def leaderboard(rows: pd.DataFrame) -> pd.DataFrame:
    """Per family and setting: n scored layer-epochs, median and 90th percentile of |error| of
    I(X;T) and I(T;Y), their median signed error (the bias's sign), and the share of (run, layer)
    compression verdicts agreeing with the truth's; ordered by family, then median |error|."""
    scored = errors(rows)
    agreement = verdicts(rows).groupby(["family", "setting"])["agree"].mean()
    out = []
    for (family, setting), group in scored.groupby(["family", "setting"]):
        entry = {"family": family, "setting": setting, "same_quantity": bool(group["same_quantity"].all()),
                 "n": len(group)}
        for quantity in ("xt", "ty"):
            error = group[f"err_{quantity}"].dropna()
            entry |= {f"{quantity}_median": error.abs().median(), f"{quantity}_p90": error.abs().quantile(0.9),
                      f"{quantity}_bias": error.median()}
        entry["agree"] = agreement.get((family, setting), np.nan)
        out.append(entry)
    board = pd.DataFrame(out)
    board["rank_key"] = board["xt_median"].fillna(board["ty_median"])
    return board.sort_values(["family", "rank_key"], ignore_index=True).drop(columns="rank_key")


def costs(settings: Sequence[str], grid: Sequence[tuple[int, int]], seed: int = 0) -> pd.DataFrame:
    """Seconds per layer-epoch of each setting on a random tanh layer of each (N, width) of
    ``grid``, 10 classes, inputs of 64 features (one timing each; ``renyi`` by eigenvalues only up
    to 4,096 inputs)."""
    rows = []
    for n, width in grid:
        rng = np.random.default_rng([seed, n, width])
        x = rng.normal(size=(n, 64)).astype(np.float32)
        t = np.tanh(x @ rng.normal(size=(64, width)).astype(np.float32) / 8)
        y = rng.integers(0, 10, n)
        for name in settings:
            spec = parse_estimators(SETTINGS[name][1])[0]
            if name == "renyi" and n > 4096:
                continue
            start = time.perf_counter()
            estimate_mi(t, y, spec.method, inputs=x, **dict(spec.params))
            rows.append((name, n, width, time.perf_counter() - start))
    return pd.DataFrame(rows, columns=["setting", "n", "width", "seconds"])
