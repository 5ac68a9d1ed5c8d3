"""The KDE bounds against the truth: each ``kde``/``akde`` estimate beside the ``noisy`` estimate of
the same T' = T + N(0, s2 I) (same run, epoch, layer and s2), and what the bounds' error does to
the paper's claims.

A ``noisy`` setting pairs with the KDE setting of the same s2 rule and the same subsample
(``samples``): ``noise_variance`` with ``kde``, ``variance_scale`` with ``akde`` (both bounds); a
table with two ``noisy`` settings of one rule (other replicas or seed) is refused. Errors are in bits: for I(X;T'),
upper - truth and truth - lower (each >= 0 up to Monte Carlo error, the bounds being bounds);
for I(T';Y), a difference of two bounds that brackets nothing, the signed error bound - truth.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd

from ib_keras.analysis.statistics import CONFIGURATION, spread
from ib_keras.estimate import RUN_SETTINGS, SAMPLES, STANDARD_ERRORS, EstimatorSpec, canonical_params

# The rule that sets s2 in each KDE estimator, and so the noisy parameter it is paired by.
SETTING_OF = {"kde": "noise_variance", "akde": "variance_scale"}
# The columns of the rows kept for the comparison (the bundle's ``truth`` table).
COLUMNS = ["run", *CONFIGURATION, *RUN_SETTINGS, "seed", "epoch", "layer", "units", "estimator", "params", "i_xt",
           "i_ty", *STANDARD_ERRORS, "train_accuracy", "test_accuracy"]
_TEXT = {"run", "activation", "protocol", "dataset", "hidden", "split", "estimator", "params"}
WITHIN_SE = 3.0  # a bound "holds" when the truth lies inside it up to this many standard errors
ROUNDING = 1e-6  # bits: and up to the float32 rounding of the kernel sums (the truth's se can be 0)


@functools.cache  # a table holds few settings and many rows
def _s2_rule(estimator: str, params: str) -> str | None:
    """The s2 rule of a row and its subsample, by which truth and bounds are paired, e.g.
    "variance_scale=0.1" or "noise_variance=0.001, samples=512"; None for estimators outside
    the KDE family."""
    values = json.loads(params)
    if estimator == "noisy":
        name = "noise_variance" if values.get("variance_scale") is None else "variance_scale"
    elif estimator in SETTING_OF:
        name = SETTING_OF[estimator]
    else:
        return None
    subsample = f", {SAMPLES}={values[SAMPLES]}" if values.get(SAMPLES) is not None else ""
    return f"{name}={values[name]:g}{subsample}"


def _s2_rules(rows: pd.DataFrame) -> list[str | None]:
    """`_s2_rule` of every row (the columns taken as lists first: iterating pandas' Arrow-backed
    strings took about a second of each paper report)."""
    return [_s2_rule(e, p) for e, p in zip(rows["estimator"].tolist(), rows["params"].tolist())]


@functools.cache
def _bound(params: str) -> str:
    """A KDE row's "bound" parameter, "upper" or "lower"."""
    return json.loads(params)["bound"]


def _check_one_truth_per_s2_rule(noisy: pd.DataFrame) -> None:
    """ValueError when two ``noisy`` settings (other replicas, seed, ...) share an s2 rule and
    subsample: each KDE bound would be paired with both, every cell counted twice."""
    settings = noisy[["params"]].drop_duplicates().assign(
        s2_rule=lambda frame: [_s2_rule("noisy", p) for p in frame["params"]])
    doubled = settings[settings.duplicated("s2_rule", keep=False)]
    if len(doubled):
        rule, group = next(iter(doubled.groupby("s2_rule")))
        raise ValueError(f"the table has {len(group)} noisy settings of {rule}: {' and '.join(group['params'])}; "
                         "the KDE bounds of that s2 pair with one truth: estimate the others into their own table")


def no_truth() -> pd.DataFrame:
    """The comparison rows of a table without noisy estimates: none, with the columns' types."""
    return pd.DataFrame({column: pd.Series(dtype=object if column in _TEXT else np.float32) for column in COLUMNS})


def truth_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an MI table that compare bounds with the truth: every ``noisy`` row, and at the
    same (run, epoch, layer) the ``kde``/``akde`` rows of a matching s2 and the default ``ebab``
    rows (so that claims can be recomputed on exactly these cells), information and standard
    errors in float32. Empty without noisy rows."""
    noisy = table[table["estimator"] == "noisy"]
    if noisy.empty:
        return no_truth()
    _check_one_truth_per_s2_rule(noisy)
    settings = {_s2_rule("noisy", p) for p in noisy["params"].unique()}
    cells = noisy[["run", "epoch", "layer"]].drop_duplicates()
    candidates = table.merge(cells, on=["run", "epoch", "layer"])
    kde = candidates[candidates["estimator"].isin(list(SETTING_OF))]
    kde = kde[[rule in settings for rule in _s2_rules(kde)]]
    ebab = candidates[candidates["estimator"] == "ebab"]
    ebab = ebab[ebab["params"] == canonical_params(EstimatorSpec("ebab").params_for())]
    rows = pd.concat([noisy, kde, ebab], ignore_index=True).reindex(columns=COLUMNS)
    # float32 (7 significant digits, far below any standard error) halves the bundle's table
    rows = rows.astype(dict.fromkeys(["i_xt", "i_ty", *STANDARD_ERRORS], np.float32))
    return rows.sort_values(["run", "estimator", "params", "epoch", "layer"], ignore_index=True)


def paired(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, epoch, layer, KDE estimator, s2_rule: `_s2_rule`) of `truth_rows`: the truth
    (``truth_i_xt``, ``truth_i_ty`` and their ``_se``) beside the ``upper_`` and ``lower_`` bounds
    that exist (NaN where a bound was not estimated), all bits."""
    keys = ["run", *CONFIGURATION, "seed", "epoch", "layer"]
    rows = rows.assign(s2_rule=_s2_rules(rows))
    truth = rows[rows["estimator"] == "noisy"].rename(
        columns={"i_xt": "truth_i_xt", "i_ty": "truth_i_ty", "i_xt_se": "truth_i_xt_se", "i_ty_se": "truth_i_ty_se"})
    truth = truth[[*keys, "s2_rule", "truth_i_xt", "truth_i_ty", "truth_i_xt_se", "truth_i_ty_se"]]
    bounds = rows[rows["estimator"].isin(list(SETTING_OF))]
    bounds = bounds.assign(bound=[_bound(p) for p in bounds["params"].tolist()])
    wide = bounds.pivot_table(index=[*keys, "estimator", "s2_rule"], columns="bound", values=["i_xt", "i_ty"])
    wide.columns = [f"{bound}_{quantity}" for quantity, bound in wide.columns]
    wide = wide.reindex(columns=[f"{b}_{q}" for b in ("upper", "lower") for q in ("i_xt", "i_ty")]).reset_index()
    return wide.merge(truth, on=[*keys, "s2_rule"])


def with_errors(pairs: pd.DataFrame) -> pd.DataFrame:
    """`paired` with the errors, bits: ``upper_excess`` = upper - truth and ``lower_shortfall`` =
    truth - lower of I(X;T'); ``upper_ty_error`` and ``lower_ty_error`` = bound - truth of
    I(T';Y); and ``bracketed``: lower - 3 se <= truth <= upper + 3 se for I(X;T') (and ROUNDING)."""
    slack = WITHIN_SE * pairs["truth_i_xt_se"] + ROUNDING
    return pairs.assign(
        upper_excess=pairs["upper_i_xt"] - pairs["truth_i_xt"],
        lower_shortfall=pairs["truth_i_xt"] - pairs["lower_i_xt"],
        upper_ty_error=pairs["upper_i_ty"] - pairs["truth_i_ty"],
        lower_ty_error=pairs["lower_i_ty"] - pairs["truth_i_ty"],
        bracketed=(pairs["truth_i_xt"] <= pairs["upper_i_xt"] + slack)
        & (pairs["truth_i_xt"] >= pairs["lower_i_xt"] - slack),
    )


ERRORS = ["upper_excess", "lower_shortfall", "upper_ty_error", "lower_ty_error"]


def error_summary(errors: pd.DataFrame) -> pd.DataFrame:
    """Per KDE estimator, s2 rule and layer over every run and epoch of `with_errors`: n cells,
    the median and 90th percentile of each error (bits; for the signed I(T';Y) errors, of their
    size, with the median signed error beside), and the share of cells ``bracketed``."""
    parts = []
    for key, group in errors.groupby(["estimator", "s2_rule", "layer"]):
        row = dict(zip(["estimator", "s2_rule", "layer"], key), n=len(group),
                   bracketed=float(group["bracketed"].mean()))
        for column in ERRORS:
            values = group[column].dropna()
            shown = values.abs() if column.endswith("ty_error") else values
            row[f"{column}_median"] = float(values.median()) if len(values) else np.nan
            row[f"{column}_p90"] = float(shown.quantile(0.9)) if len(values) else np.nan
        parts.append(row)
    return pd.DataFrame(parts)


def over_training(errors: pd.DataFrame) -> pd.DataFrame:
    """Per KDE estimator, s2 rule, layer and epoch: the median, 10th and 90th percentile over
    runs of each error (bits), for the figure."""
    return spread(errors, ["estimator", "s2_rule", "layer", "epoch"], ERRORS, centre="median")


def compression_against_truth(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per KDE estimator, s2 rule and layer of `paired`: ``n`` networks and their mean compression
    C (bits, max - final I(X;T') over the epochs where bound and truth were both estimated) under
    the ``upper`` bound, the ``truth`` and the ``lower`` bound."""
    keys = ["run", "estimator", "s2_rule", "layer"]
    columns = {"upper_i_xt": "upper", "truth_i_xt": "truth", "lower_i_xt": "lower"}
    final = pairs.loc[pairs.groupby(keys)["epoch"].idxmax()].set_index(keys)[list(columns)]
    per = (pairs.groupby(keys)[list(columns)].max() - final).rename(columns=columns).reset_index()
    groups = per.groupby(["estimator", "s2_rule", "layer"])
    return groups[list(columns.values())].mean().join(groups["run"].nunique().rename("n")).reset_index()


def truth_in_place(rows: pd.DataFrame, estimator: str, s2_rule: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two MI tables on the same cells, for the claims: ``ebab`` with ``estimator`` (upper bound)
    at ``s2_rule``, and ``ebab`` with the truth at that rule relabelled as ``estimator`` (at
    the upper bound's params, so it stands where the bound stood). Each holds only the runs and
    epochs that have all three."""
    at_rule = np.asarray(_s2_rules(rows), dtype=object) == s2_rule
    upper = rows[(rows["estimator"] == estimator) & at_rule & rows["params"].str.contains('"bound": "upper"')]
    truth = rows[(rows["estimator"] == "noisy") & at_rule]
    cells = upper[["run", "epoch", "layer"]].merge(truth[["run", "epoch", "layer"]])
    upper, truth = upper.merge(cells), truth.merge(cells)
    truth = truth.assign(estimator=estimator, params=upper["params"].iloc[0] if len(upper) else "")
    ebab = rows[rows["estimator"] == "ebab"].merge(cells)
    return pd.concat([ebab, upper], ignore_index=True), pd.concat([ebab, truth], ignore_index=True)
