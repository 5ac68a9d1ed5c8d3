"""From the MI table to the paper's claims: compression, seed averages and their statistics.

Definitions (Chelombiev et al. 2019): the compression of layer l in one network is
C = max over epochs of I(X;T_l) minus I(X;T_l) at the last epoch, in bits; generalisation is
the final test accuracy, and the train-test accuracy gap is reported beside it.
"""

from __future__ import annotations

import functools
import itertools
import json

import numpy as np
import pandas as pd
from scipy import stats

from ib_keras.estimate import RUN_SETTINGS, EstimatorSpec, canonical_params

CONFIGURATION = ["activation", "l2"]
# The one minimum-n rule of every report: a test or share from fewer networks is shown, but never
# starred, counted in a correction, or turned into a verdict ("not testable").
STAR_MIN_N = 4
LEARNED = 0.6  # final train accuracy at or above which a network learned the task (chance is ~0.5)
ESTIMATE = ["estimator", "params"]


# What every run of a table must share for its layers to be compared by position across
# configurations: the data set and the widths.
COMPARABLE = ["dataset", "hidden"]


def check_one_setting(table: pd.DataFrame) -> None:
    """ValueError when the table's runs differ in data set or widths (layer i would be another
    layer in each), or runs of one activation and L2 differ in another setting (protocol, epochs,
    split, ...): their seeds cannot be averaged or compared as one configuration. ``table``: an MI
    table or the per-network one of `compression`."""
    for column in COMPARABLE:
        kinds = table.groupby(column)["activation"].agg(lambda a: ", ".join(sorted(set(map(str, a)))))
        if len(kinds) > 1:
            differing = " vs ".join(f"{value} ({activations})" for value, activations in kinds.items())
            raise ValueError(f"the table mixes runs that differ in {column}: {differing}; their layers cannot be "
                             "compared by position: estimate each into its own table")
    settings = [c for c in RUN_SETTINGS if c in table]  # bundles and tables from before a setting lack it
    counts = table.groupby(CONFIGURATION)[settings].nunique()  # missing values (older tables) not counted
    mixed = counts[(counts > 1).any(axis=1)]
    if len(mixed):
        (activation, l2), count = next(mixed.iterrows())
        rows = table[(table["activation"] == activation) & (table["l2"] == l2)]
        differing = [f"{c} ({' vs '.join(sorted(map(str, rows[c].dropna().unique())))})"
                     for c in settings if count[c] > 1]
        raise ValueError(f"the table mixes runs of {activation} (l2 {l2}) that differ in {', '.join(differing)}; "
                         "estimate each configuration's directory into its own table")


def default_estimates(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of each estimator at the stage's default parameters (so that extra settings, such
    as aKDE's sensitivity runs, do not mix in)."""
    defaults = {e: canonical_params(EstimatorSpec(e).params_for()) for e in table["estimator"].unique()}
    return table[table["params"].to_numpy() == table["estimator"].map(defaults).to_numpy()]


def with_param(table: pd.DataFrame, estimator: str, name: str) -> pd.DataFrame:
    """The rows of ``estimator`` with a column ``name`` holding that parameter's value."""
    rows = table[table["estimator"] == estimator].copy()
    rows[name] = [json.loads(p).get(name) for p in rows["params"]]
    return rows


def compression(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, estimator, params, layer): ``compression`` (bits), ``max_i_xt``,
    ``final_i_xt``, and the run's final ``train_accuracy``, ``test_accuracy`` and ``gap``; for the
    phases of training also ``first_i_xt`` and ``first_i_ty`` (the first recorded epoch),
    ``peak_epoch`` (the first epoch at which I(X;T) is largest) and ``final_i_ty`` (bits)."""
    keys = ["run", *ESTIMATE, "layer"]
    groups = table.groupby(keys)
    last = table.loc[groups["epoch"].idxmax()].set_index(keys)
    first = table.loc[groups["epoch"].idxmin()].set_index(keys)
    peak = table.loc[table.sort_values("epoch", kind="stable").groupby(keys)["i_xt"].idxmax()].set_index(keys)
    settings = [c for c in RUN_SETTINGS if c in table]  # tables from before a setting lack it
    result = last[["activation", "l2", *settings, "seed", "units", "epoch", "train_accuracy", "test_accuracy"]].copy()
    result["max_i_xt"] = peak["i_xt"]
    result["final_i_xt"] = last["i_xt"]
    result["compression"] = peak["i_xt"] - last["i_xt"]
    result["gap"] = result["train_accuracy"] - result["test_accuracy"]
    result["first_i_xt"] = first["i_xt"]
    result["first_i_ty"] = first["i_ty"]
    result["final_i_ty"] = last["i_ty"]
    result["peak_epoch"] = peak["epoch"]
    return result.reset_index()


def seed_mean_planes(table: pd.DataFrame) -> pd.DataFrame:
    """Information planes averaged over seeds: the mean of the per-seed I(X;T) and I(T;Y) (bits),
    train and test accuracy at each (configuration, estimator, params, epoch, layer), with ``n`` seeds."""
    keys = [*CONFIGURATION, *ESTIMATE, "epoch", "layer"]
    return (
        table.groupby(keys)
        .agg(i_xt=("i_xt", "mean"), i_ty=("i_ty", "mean"), train_accuracy=("train_accuracy", "mean"),
             test_accuracy=("test_accuracy", "mean"), n=("seed", "nunique"))
        .reset_index()
    )


def spread(table: pd.DataFrame, keys: list[str], columns: list[str], centre: str = "mean") -> pd.DataFrame:
    """Per group of ``keys``: ``n`` runs, and each column's ``centre`` ("mean" or "median"), 10th and
    90th percentile as ``{column}_{centre}``, ``{column}_p10``, ``{column}_p90``."""
    groups = table.groupby(keys)
    parts = [groups["run"].nunique().rename("n")]
    for column in columns:
        parts += [groups[column].agg(centre).rename(f"{column}_{centre}"),
                  groups[column].quantile(0.1).rename(f"{column}_p10"),
                  groups[column].quantile(0.9).rename(f"{column}_p90")]
    return pd.concat(parts, axis=1).reset_index()


def positive_mean(values: np.ndarray) -> dict:
    """``mean``, ``sd`` (NaN for one value), ``n`` and ``p``: the one-sided one-sample t-test
    p-value of mean > 0 (NaN with fewer than 2 values or no spread; a t-test because a Wilcoxon
    test of 3 values cannot go below p = 0.125). ``values``: (n,) per-network effects, e.g. bits."""
    testable = len(values) >= 2 and np.ptp(values) > 0
    return {"mean": values.mean(), "sd": values.std(ddof=1) if len(values) > 1 else np.nan, "n": len(values),
            "p": stats.ttest_1samp(values, 0.0, alternative="greater").pvalue if testable else np.nan}


def _group_positions(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.MultiIndex, list[np.ndarray]]:
    """The groups of ``keys`` (two or more) in groupby's sorted order, and each one's row positions:
    a group's values are then taken from one array per column (a frame per group cost most of the
    time of these statistics)."""
    groups = frame.groupby(keys)
    index = groups.size().index
    return index, [groups.indices[key] for key in index]


def compression_summary(per_network: pd.DataFrame) -> pd.DataFrame:
    """Compression mean, sd and n per configuration, estimator and layer, with the one-sided
    one-sample t-test p-value of mean C > 0 over the seeds (`positive_mean`), ``p_positive``."""
    index, positions = _group_positions(per_network, [*CONFIGURATION, *ESTIMATE, "layer"])
    values = per_network["compression"].to_numpy()
    rows = pd.DataFrame([positive_mean(values[at]) for at in positions], columns=["mean", "sd", "n", "p"], dtype=float)
    return pd.concat([index.to_frame(index=False), rows.rename(columns={"p": "p_positive"})], axis=1)


def l2_effect(per_network: pd.DataFrame) -> pd.DataFrame:
    """For each activation trained both with and without L2: per estimator and layer, mean
    compression without and with L2 and the one-sided Mann-Whitney U p-value of 'L2 compresses
    more'."""
    rows = []
    keys = ["activation", *ESTIMATE, "layer"]
    strengths, compressions = per_network["l2"].to_numpy(), per_network["compression"].to_numpy()
    for (activation, estimator, params, layer), at in zip(*_group_positions(per_network, keys)):
        l2s, group = strengths[at], compressions[at]
        plain = group[l2s == 0]
        for l2 in np.unique(l2s[l2s > 0]):
            values = group[l2s == l2]
            if len(plain) and len(values):
                p = stats.mannwhitneyu(values, plain, alternative="greater").pvalue
                rows.append({"activation": activation, "l2": l2, "estimator": estimator, "params": params,
                             "layer": layer, "mean_without": plain.mean(), "mean_with": values.mean(),
                             "n_without": len(plain), "n_with": len(values), "p_mann_whitney": p})
    return pd.DataFrame(rows)


def generalization_correlations(per_network: pd.DataFrame, learned_only: bool = False,
                                by: list[str] | None = None) -> pd.DataFrame:
    """Per estimator and layer (and per ``by`` group, e.g. CONFIGURATION), across networks:
    Pearson and Spearman correlation (r, p) of compression with final test accuracy, and n.

    ``per_network`` holds one setting per estimator (as from `default_estimates`, whose EBAB and
    uniform parameters differ by activation). ``learned_only`` keeps the networks whose final
    train accuracy is at least ``LEARNED``: those that never left chance are outliers in both.
    """
    if learned_only:
        per_network = per_network[per_network["train_accuracy"] >= LEARNED]
    rows = []
    keys = ["estimator", "layer", *(by or [])]
    compressions, accuracies = per_network["compression"].to_numpy(), per_network["test_accuracy"].to_numpy()
    for key, at in zip(*_group_positions(per_network, keys)):
        c, accuracy = compressions[at], accuracies[at]
        varied = len(c) >= 3 and np.ptp(c) > 0 and np.ptp(accuracy) > 0
        pearson = correlation(c, accuracy) if varied else (np.nan, np.nan)
        spearman = correlation(stats.rankdata(c), stats.rankdata(accuracy)) if varied else (np.nan, np.nan)
        rows.append({**dict(zip(keys, key)), "n": len(c), "pearson_r": pearson[0], "pearson_p": pearson[1],
                     "spearman_r": spearman[0], "spearman_p": spearman[1]})
    return pd.DataFrame(rows, columns=[*keys, "n", "pearson_r", "pearson_p", "spearman_r", "spearman_p"])


EXACT_UP_TO = 8  # networks: up to here p-values enumerate every pairing (8! = 40320), beyond they are asymptotic


@functools.cache
def _pairings(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))))


def correlation(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Pearson's r of (n,) ``x`` and ``y`` and its two-sided p-value: exact up to EXACT_UP_TO
    points (the share of the n! pairings of x with y whose |r| reaches the observed one), the
    t-distribution's beyond. Spearman's is this on ranks. (Asymptotic p-values of a few points are
    far too small: 3 points in rank order would give p = 0.)"""
    result = stats.pearsonr(x, y)
    r = float(result.statistic)
    if len(x) > EXACT_UP_TO:
        return r, float(result.pvalue)
    xs, ys = (x - x.mean()) / x.std(), (y - y.mean()) / y.std()
    permuted = (xs[_pairings(len(x))] * ys).mean(axis=1)
    return r, float(np.mean(np.abs(permuted) >= abs(r) * (1 - 1e-9)))


def within_configuration_correlations(per_network: pd.DataFrame, learned_only: bool = False) -> pd.DataFrame:
    """Per estimator and layer: the correlation of compression with final test accuracy once each
    configuration's mean is taken out of both (the partial correlation given the configuration, so
    that an activation setting both does not count), pooled over every configuration.

    Columns: n networks, k configurations, r, and its two-sided p from t = r sqrt(df / (1 - r^2))
    on df = n - k - 1 degrees of freedom.
    """
    if learned_only:
        per_network = per_network[per_network["train_accuracy"] >= LEARNED]
    rows = []
    for (estimator, layer), group in per_network.groupby(["estimator", "layer"]):
        centred = group[["compression", "test_accuracy"]] - group.groupby(CONFIGURATION)[
            ["compression", "test_accuracy"]].transform("mean")
        n, k = len(group), group.groupby(CONFIGURATION).ngroups
        df = n - k - 1
        varied = df >= 1 and centred["compression"].std() > 0 and centred["test_accuracy"].std() > 0
        r = float(np.corrcoef(centred["compression"], centred["test_accuracy"])[0, 1]) if varied else np.nan
        p = 2 * stats.t.sf(abs(r) * np.sqrt(df / max(1 - r * r, 1e-300)), df) if varied else np.nan
        rows.append({"estimator": estimator, "layer": layer, "n": n, "k": k, "r": r, "p": p})
    return pd.DataFrame(rows, columns=["estimator", "layer", "n", "k", "r", "p"])


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q) of one family of tests; NaN (no test) stays NaN
    and is not counted in the family."""
    p_values = np.asarray(p_values, dtype=float)
    q = np.full(p_values.shape, np.nan)
    tested = np.isfinite(p_values)
    if tested.any():
        q[tested] = stats.false_discovery_control(p_values[tested], method="bh")
    return q


def final_accuracies(per_network: pd.DataFrame) -> pd.DataFrame:
    """Final train and test accuracy and their gap, mean and sd per configuration, with n."""
    networks = per_network.drop_duplicates("run")
    return (
        networks.groupby(CONFIGURATION)
        .agg(n=("run", "count"), train_mean=("train_accuracy", "mean"), train_sd=("train_accuracy", "std"),
             test_mean=("test_accuracy", "mean"), test_sd=("test_accuracy", "std"),
             gap_mean=("gap", "mean"), gap_sd=("gap", "std"))
        .reset_index()
    )
