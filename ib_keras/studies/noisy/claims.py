"""Noisy networks (Goldfeld et al., ICML 2019): the study's rows of an MI table (sp at the runs' own
noise, the other estimators beside it) and the numbers behind each claim (`analyse`)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ib_keras.analysis.statistics import check_one_setting
from ib_keras.estimate import SAMPLES, EstimatorSpec, read_table
from ib_keras.estimate.estimators import METHODS
from ib_keras.estimate.table import today_params

MIN_BITS = 0.1  # a compression, or a range of I(X;T), smaller than this is not counted


WITHIN_SE = 3.0  # standard errors: a compression must exceed this many of its own


HOLDS_SHARE = 0.5  # a claim about networks holds when at least this share of them show it


RHO = 0.5  # a claim of tracking holds when the median Spearman correlation is at least this


MIN_EPOCHS = 5  # epochs from a peak to the end needed to correlate over them


# What tells the networks' configuration (one per table) and each row's estimator setting.
CONFIG = ["activation", "l2", "protocol", "dataset", "hidden", "trained_epochs", "split", "split_seed", "noise_std"]


COMPACT = [*CONFIG, "run", "seed", "epoch", "layer", "estimator", "params", "replicas", "i_xt", "i_ty", "i_xt_se",
           "i_ty_se", "within_between", "train_accuracy", "test_accuracy"]


MAIN_REPLICAS = METHODS["sp"]["replicas"]


SENSITIVITY_REPLICAS = 256


SENSITIVITY_MARGINAL = 16


REPRESENTATIONS = "fig_noisy_representations"  # the one figure drawn from the run files, not the table


def study_settings(noise_std: float) -> dict[str, list[dict]]:
    """The estimator settings the study reads at noise s, by estimator (parameters as requested;
    ebab's ``low`` stands for its per-activation default): sp at its defaults and at
    SENSITIVITY_REPLICAS replicas, noisy and kde at s^2, fixed bins of width s, ebab's defaults."""
    variance = {"noise_variance": noise_std ** 2}
    return {"sp": [{}, {"replicas": SENSITIVITY_REPLICAS, "marginal_replicas": SENSITIVITY_MARGINAL}],
            "noisy": [variance], "kde": [variance], "fixed": [{"bin_size": noise_std}], "ebab": [{}]}


@dataclass
class NoisyResult:
    """What the report says: per activation, the compact rows and every claim's numbers."""

    rows: pd.DataFrame  # COMPACT columns
    left_out: list[str]  # the estimator settings of the table that the study does not read
    compression: pd.DataFrame  # per network and layer: peak, final, c, se, compresses
    claims: pd.DataFrame  # one row per claim and activation
    sensitivity: pd.DataFrame  # sp at SENSITIVITY_REPLICAS replicas against the default, per activation and layer
    kde_gap: pd.DataFrame  # KDE upper bound at s^2 on the noise-free S minus sp, per activation and layer


def _same(given: dict, wanted: dict) -> bool:
    """Whether two parameter dicts are equal, numbers up to float rounding (s^2 written by hand)."""
    return given.keys() == wanted.keys() and all(
        math.isclose(a, b, rel_tol=1e-9) if isinstance(a, float) and isinstance(b, float) else a == b
        for a, b in ((given[k], wanted[k]) for k in given))


def compact_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The rows of the noisy study in COMPACT columns (float32 values; ``replicas`` is sp's, NaN
    for the others), and a line per estimator setting left out. Only the settings of
    `study_settings` at the runs' own s are kept, so that no other setting (another bin size, a
    subsample, other replicas) mixes in. ValueError when the table mixes configurations (widths,
    data set, noise, ...: `check_one_setting`), holds no noisy runs, or has no ``sp`` rows."""
    check_one_setting(table)
    noise = sorted(table["noise_std"].dropna().unique())
    if not noise:
        raise ValueError("the table does not say the runs' noise (estimated before it was recorded): estimate the "
                         "runs again into it, which fills it in without recomputing")
    if len(noise) != 1 or not noise[0] > 0:
        raise ValueError(f"noisy-report takes the runs of noisy networks of one noise s > 0 (train --noise-std); "
                         f"this table's runs have noise_std {', '.join(f'{s:g}' for s in noise)}")
    settings = study_settings(float(noise[0]))
    kinds = table[["estimator", "activation", "params"]].drop_duplicates()
    samples = _subsample(kinds)
    kept, left_out = [], []
    for estimator, activation, params in kinds.itertuples(index=False):
        wanted = [EstimatorSpec(estimator, tuple(p.items()), samples).params_for()
                  for p in settings.get(estimator, [])]
        if any(_same(json.loads(params), w) for w in wanted):
            kept.append((estimator, activation, params))
        else:
            left_out.append(f"{estimator} {params}")
    rows = table.merge(pd.DataFrame(kept, columns=["estimator", "activation", "params"]))
    if not (rows["estimator"] == "sp").any():
        raise ValueError(f"the table has no sp rows at sp's default settings: estimate the noisy runs with --estimators "
                         f"sp,... first (./run_all.sh --noisy does){'; left out: ' + '; '.join(left_out) if left_out else ''}")
    rows["replicas"] = [json.loads(p).get("replicas", np.nan) if e == "sp" else np.nan
                        for e, p in zip(rows["estimator"], rows["params"])]
    rows = rows[COMPACT].reset_index(drop=True)
    floats = ["i_xt", "i_ty", "i_xt_se", "i_ty_se", "within_between", "train_accuracy", "test_accuracy"]
    return rows.astype({column: np.float32 for column in floats}), sorted(set(left_out))


def _subsample(kinds: pd.DataFrame) -> int | None:
    """The one subsample size K (``estimate --samples``; None: every input) of the table's sp rows
    at sp's defaults, which every setting the study reads must share. ValueError for several."""
    default = dict(METHODS["sp"])
    sizes = {json.loads(params).get(SAMPLES) for estimator, _, params in kinds.itertuples(index=False)
             if estimator == "sp" and {k: v for k, v in json.loads(params).items() if k != SAMPLES} == default}
    if len(sizes) > 1:
        shown = ", ".join("every input" if size is None else f"samples={size}" for size in sorted(sizes, key=str))
        raise ValueError(f"the table has sp rows at its default settings on {len(sizes)} subsamples ({shown}); the study "
                         "reads one: estimate each into its own table")
    return sizes.pop() if sizes else None


def read_rows(path: str | Path) -> pd.DataFrame:
    """An MI table, or the compact table (noisy.parquet) a noisy report wrote: either can be
    reported again. ValueError naming the file when it is neither."""
    path = Path(path)
    try:
        return read_table(path)
    except ValueError as error:
        try:
            compact = pd.read_parquet(path)
        except (OSError, ValueError):
            raise error from None
        if set(COMPACT) - set(compact.columns) or compact.empty:
            raise error from None
        return compact.assign(params=today_params(compact))  # one of before the per-layer defaults: today's words


def sp_rows(rows: pd.DataFrame, replicas: int = MAIN_REPLICAS) -> pd.DataFrame:
    """The sp rows of ``rows`` (COMPACT columns) at ``replicas`` replicas."""
    return rows[(rows["estimator"] == "sp") & (rows["replicas"] == replicas)]


def compression(rows: pd.DataFrame) -> pd.DataFrame:
    """Per network (activation, seed) and layer, from sp: the epoch of the largest I(X;T), C =
    that maximum - the final I(X;T) (bits), its standard error, and whether it compresses:
    C > max(WITHIN_SE se, MIN_BITS)."""
    out = []
    for (activation, seed, layer), series in sp_rows(rows).groupby(["activation", "seed", "layer"]):
        series = series.sort_values("epoch")
        peak, final = series.loc[series["i_xt"].idxmax()], series.iloc[-1]
        c = float(peak["i_xt"] - final["i_xt"])
        se = float(np.hypot(peak["i_xt_se"], final["i_xt_se"]))
        out.append((activation, seed, layer, int(peak["epoch"]), float(peak["i_xt"]), float(final["i_xt"]), c, se,
                    c > max(WITHIN_SE * se, MIN_BITS)))
    return pd.DataFrame(out, columns=["activation", "seed", "layer", "peak_epoch", "peak", "final", "c", "se",
                                      "compresses"])


def _rho(a: pd.Series, b: pd.Series) -> float:
    if len(a) < 3 or a.nunique() < 2 or b.nunique() < 2:
        return np.nan
    return float(spearmanr(a, b).statistic)


def _clustering_rhos(rows: pd.DataFrame, compressed: pd.DataFrame) -> pd.Series:
    """Per compressing network-layer: Spearman rho of sp I(X;T) and within_between from the peak on."""
    sp = sp_rows(rows).set_index(["activation", "seed", "layer"])
    rhos = {}
    for item in compressed.itertuples():
        series = sp.loc[(item.activation, item.seed, item.layer)].sort_values("epoch")
        after = series[series["epoch"] >= item.peak_epoch]
        if len(after) >= MIN_EPOCHS:
            rhos[(item.activation, item.seed, item.layer)] = _rho(after["i_xt"], after["within_between"])
    return pd.Series(rhos, dtype=float)


def _binned_rhos(rows: pd.DataFrame, hidden: int) -> pd.Series:
    """Per hidden network-layer whose sp I(X;T) spans MIN_BITS or more: Spearman rho of the binned
    entropy at bin size s (``fixed``) and sp's I(X;T) over all recorded epochs."""
    sp = sp_rows(rows).set_index(["activation", "seed", "layer", "epoch"])["i_xt"]
    binned = rows[rows["estimator"] == "fixed"].set_index(["activation", "seed", "layer", "epoch"])["i_xt"]
    both = pd.concat({"sp": sp, "binned": binned}, axis=1).dropna().reset_index()
    rhos = {}
    for key, series in both[both["layer"] < hidden].groupby(["activation", "seed", "layer"]):
        if series["sp"].max() - series["sp"].min() >= MIN_BITS:
            rhos[key] = _rho(series["sp"], series["binned"])
    return pd.Series(rhos, dtype=float)


def _first_layer_agreement(rows: pd.DataFrame) -> pd.Series:
    """Per activation: the share of first-layer epochs where sp and noisy (s^2) agree within
    WITHIN_SE combined standard errors (1e-9 bits when both are exact)."""
    keys = ["activation", "seed", "epoch"]
    sp = sp_rows(rows)
    sp = sp[sp["layer"] == 0].set_index(keys)
    noisy = rows[(rows["estimator"] == "noisy") & (rows["layer"] == 0)].set_index(keys)
    both = sp[["i_xt", "i_xt_se"]].join(noisy[["i_xt", "i_xt_se"]], suffixes=("", "_noisy"), how="inner")
    within = (both["i_xt"] - both["i_xt_noisy"]).abs() <= WITHIN_SE * np.hypot(both["i_xt_se"],
                                                                                both["i_xt_se_noisy"]) + 1e-9
    return within.groupby(level="activation").agg(["mean", "size"])


def _paired(rows: pd.DataFrame, other: pd.DataFrame, name: str) -> pd.DataFrame:
    keys = ["activation", "seed", "layer", "epoch"]
    sp = sp_rows(rows).set_index(keys)[["i_xt", "i_xt_se"]]
    return sp.join(other.set_index(keys)[["i_xt", "i_xt_se"]], suffixes=("", f"_{name}"), how="inner").reset_index()


def _sensitivity(rows: pd.DataFrame) -> pd.DataFrame:
    """sp at SENSITIVITY_REPLICAS replicas minus sp at MAIN_REPLICAS, per activation and layer: n,
    median and 10th percentile of the difference (bits; negative: the default overestimates), the
    share within WITHIN_SE combined standard errors, and the mean compression C = max - final over
    the networks under each, on the same epochs."""
    columns = ["activation", "layer", "n", "median", "p10", "within", "C default", "C more"]
    pairs = _paired(rows, sp_rows(rows, SENSITIVITY_REPLICAS), "more")
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    pairs["gap"] = pairs["i_xt_more"] - pairs["i_xt"]
    pairs["within"] = pairs["gap"].abs() <= WITHIN_SE * np.hypot(pairs["i_xt_se"], pairs["i_xt_se_more"]) + 1e-9
    per_network = pairs.sort_values("epoch").groupby(["activation", "layer", "seed"])
    compression = pd.DataFrame({name: per_network[column].max() - per_network[column].last()
                                for name, column in (("C default", "i_xt"), ("C more", "i_xt_more"))})
    grouped = pairs.groupby(["activation", "layer"])
    return pd.DataFrame({"n": grouped.size(), "median": grouped["gap"].median(), "p10": grouped["gap"].quantile(0.1),
                         "within": grouped["within"].mean(),
                         **compression.groupby(["activation", "layer"]).mean()}).reset_index()[columns]


def _kde_gap(rows: pd.DataFrame) -> pd.DataFrame:
    """Saxe's KDE upper bound at s^2 on the noise-free S minus sp (bits): median and p90 per layer."""
    pairs = _paired(rows, rows[rows["estimator"] == "kde"], "kde")
    pairs["gap"] = pairs["i_xt_kde"] - pairs["i_xt"]
    grouped = pairs.groupby(["activation", "layer"])["gap"]
    return pd.DataFrame({"n": grouped.size(), "median": grouped.median(), "p90": grouped.quantile(0.9)}).reset_index()


def analyse(table: pd.DataFrame) -> NoisyResult:
    """Every claim's numbers from an MI table of noisy runs (see the module docstring)."""
    rows, left_out = compact_rows(table)
    hidden = int(rows["layer"].max())  # the last layer is the output layer
    per_layer = compression(rows)
    hidden_rows = per_layer[per_layer["layer"] < hidden]
    rhos = _clustering_rhos(rows, hidden_rows[hidden_rows["compresses"]])
    binned = _binned_rhos(rows, hidden)
    first = _first_layer_agreement(rows)
    claims = []
    for activation, networks in hidden_rows.groupby("activation"):
        share = networks.groupby("seed")["compresses"].any()
        claims.append((activation, 1, share.mean(), len(share), share.mean() >= HOLDS_SHARE))
        r = rhos[rhos.index.get_level_values(0) == activation] if len(rhos) else rhos
        claims.append((activation, 2, r.median(), len(r), bool(len(r)) and r.median() >= RHO))
        b = binned[binned.index.get_level_values(0) == activation] if len(binned) else binned
        claims.append((activation, 3, b.median(), len(b), bool(len(b)) and b.median() >= RHO))
        agreed = first.loc[activation] if activation in first.index else pd.Series({"mean": np.nan, "size": 0})
        claims.append((activation, 4, agreed["mean"], int(agreed["size"]), agreed["mean"] >= 0.95))
    return NoisyResult(rows, left_out, per_layer, pd.DataFrame(claims, columns=["activation", "claim", "value", "n", "holds"]),
                       _sensitivity(rows), _kde_gap(rows))
