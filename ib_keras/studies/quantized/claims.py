"""Quantized networks (Lorenzen, Igel & Nielsen, ICLR 2022): the study's rows of its MI tables
(one per precision: 8-bit, 4-bit, float32), each network's verdicts per layer under the exact
information and under every estimator, the estimators' errors against the exact value, and their
claims by the rules stated here (`quantized_result`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from ib_keras.analysis.summary import table_manifest
from ib_keras.estimate import canonical_params, parse_estimators, read_table, setting_text
from ib_keras.runfile import RunFileError, layer_name, read_run
from ib_keras.studies.markdown import ALPHA
from ib_keras.studies.quantized.configurations import ESTIMATORS, EXACT

MIN_BITS = 0.1  # a compression, or a rise of I(T;Y), smaller than this (bits) is not counted
HOLDS_SHARE = 0.5  # a claim about a layer's networks holds when at least this share of them show it
EVERY_SHARE = 0.9  # "in every network": at least this share of the networks
RESTART_ACCURACY = 0.55  # their restart rule's threshold (IB/models/callbacks.py, THRESHOLD)
ACTIVATIONS = ("tanh", "relu")
FLOAT = "float32"
PRECISIONS = ("8-bit", "4-bit", FLOAT)  # the report's order
BINNINGS = ("uniform_30", "uniform_100", "uniform_256")  # their appendix's resolutions, coarse to fine
NAMES = {EXACT: "exact", **{name: label for name, (label, _) in ESTIMATORS.items()}}


@dataclass
class QuantizedResult:
    """What the report says. ``rows``: every table's rows of the study's settings, with columns
    precision and name; ``verdicts``: per precision, name, activation, run and layer the peak, final
    and compression C of I(X;T), the rise of I(T;Y) and whether each counts; ``errors``: each
    estimator's error against exact per precision and layer; ``claims``: one row per claim and
    activation (or precision); ``excluded``: the networks their restart rule would have rerun."""

    rows: pd.DataFrame
    verdicts: pd.DataFrame
    errors: pd.DataFrame
    claims: pd.DataFrame
    excluded: pd.DataFrame
    manifests: dict[str, dict]
    label_entropy: float


def _precision(table: pd.DataFrame, path: Path) -> str:
    """"8-bit", "4-bit" or "float32", from the first run file's config; ValueError naming it."""
    run = table["run"].iloc[0]
    try:
        bits = read_run(run, activity=False).config.get("quantize_bits")
    except (RunFileError, OSError) as error:
        raise ValueError(f"{path}: its run file {run} cannot be read ({error}); the precision of its networks is in "
                         "their configs") from error
    return f"{bits}-bit" if bits else FLOAT


def _named(table: pd.DataFrame) -> pd.DataFrame:
    """``table``'s rows of the study's settings (exact and `ESTIMATORS`), with their names."""
    wanted = {}
    for name, text in [(EXACT, EXACT), *((name, setting) for name, (_, setting) in ESTIMATORS.items())]:
        spec = parse_estimators(text)[0]
        wanted[setting_text(spec.method, canonical_params(spec.params_for()))] = name
    return table.assign(name=table["setting"].map(wanted)).dropna(subset=["name"])


def _verdicts(rows: pd.DataFrame, label_entropy: float) -> pd.DataFrame:
    """Per (precision, name, activation, run, layer): peak, final and C = peak - final of I(X;T);
    the first and largest I(T;Y); compresses (C >= MIN_BITS); room (the first I(T;Y) at least
    MIN_BITS below H(Y)) and fits (I(T;Y) rises by MIN_BITS from its first value)."""
    ordered = rows.sort_values("epoch")
    keys = ["precision", "name", "activation", "run", "seed", "layer"]
    grouped = ordered.groupby(keys, sort=True)
    found = grouped.agg(peak=("i_xt", "max"), final=("i_xt", "last"), first_ty=("i_ty", "first"),
                        top_ty=("i_ty", "max")).reset_index()
    found["c"] = found["peak"] - found["final"]
    found["compresses"] = found["c"] >= MIN_BITS
    found["room"] = found["first_ty"] <= label_entropy - MIN_BITS
    found["fits"] = found["top_ty"] - found["first_ty"] >= MIN_BITS
    return found


def _errors(rows: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per quantized precision, estimator and layer: n layer-epochs, median and 90th percentile of
    |estimate - exact| of I(X;T) and I(T;Y) (bits), and the share of networks whose compression
    verdict is exact's."""
    keys = ["precision", "activation", "run", "layer", "epoch"]
    exact = rows.loc[rows["name"] == EXACT, [*keys, "i_xt", "i_ty"]]
    exact_verdict = verdicts[verdicts["name"] == EXACT].set_index(["precision", "activation", "run", "layer"])
    found = []
    for (precision, name, layer), group in rows[rows["name"] != EXACT].groupby(["precision", "name", "layer"]):
        paired = group[[*keys, "i_xt", "i_ty"]].merge(exact, on=keys, suffixes=("", "_exact"))
        if paired.empty:
            continue
        dx, dy = (np.abs(paired[c] - paired[f"{c}_exact"]) for c in ("i_xt", "i_ty"))
        mine = verdicts[(verdicts["name"] == name) & (verdicts["precision"] == precision)
                        & (verdicts["layer"] == layer)].set_index(["precision", "activation", "run", "layer"])
        agree = (mine["compresses"] == exact_verdict["compresses"].reindex(mine.index)).mean()
        found.append({"precision": precision, "name": name, "layer": int(layer), "n": len(paired),
                      "xt_median": dx.median(), "xt_p90": dx.quantile(0.9), "ty_median": dy.median(),
                      "ty_p90": dy.quantile(0.9), "agree": float(agree), "networks": len(mine)})
    return pd.DataFrame(found)


def _share(frame: pd.DataFrame, column: str) -> tuple[int, int]:
    return int(frame[column].sum()), len(frame)


def _claims(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Each claim's numbers and verdict by its rule, per quantized precision and activation."""
    rows = []
    exact = verdicts[verdicts["name"] == EXACT]
    last = int(verdicts["layer"].max()) if len(verdicts) else 0
    for precision in [p for p in PRECISIONS if (exact["precision"] == p).any()]:
        mine = exact[exact["precision"] == precision]
        for activation in ACTIVATIONS:
            own = mine[mine["activation"] == activation]
            if own.empty:
                continue
            shares = {int(layer): _share(group[group["room"]], "fits") for layer, group in own.groupby("layer")}
            counted = {layer: s for layer, s in shares.items() if s[1]}
            holds = bool(counted) and all(k >= HOLDS_SHARE * n for k, n in counted.values())
            rows.append({"claim": "fitting", "precision": precision, "activation": activation,
                         "numbers": "; ".join(f"{layer_name(layer, last)}: {f'{k}/{n}' if n else 'no room'}"
                                              for layer, (k, n) in shares.items()),
                         "verdict": "reproduced" if holds else "not reproduced"})
            k, n = _share(own[own["layer"] == last], "compresses")
            rows.append({"claim": "output", "precision": precision, "activation": activation,
                         "numbers": f"{k}/{n} networks, mean C {own[own['layer'] == last]['c'].mean():.2f} bits",
                         "verdict": "reproduced" if n and k >= EVERY_SHARE * n else "not reproduced"})
        rows += _hidden_claim(precision, mine[mine["layer"] < last])
    rows += _binning_claim(verdicts)
    return pd.DataFrame(rows, columns=["claim", "precision", "activation", "numbers", "verdict"])


def _hidden_claim(precision: str, hidden: pd.DataFrame) -> list[dict]:
    """Whether hidden-layer compression depends on the activation: per hidden layer, the networks
    that compress under tanh against ReLU, Fisher's exact test (two-sided), Bonferroni over the
    hidden layers; none when an activation is missing."""
    if set(hidden["activation"]) != set(ACTIVATIONS):
        return []
    layers = sorted(hidden["layer"].unique())
    tests = []
    for layer in layers:
        (k1, n1), (k2, n2) = (_share(hidden[(hidden["activation"] == a) & (hidden["layer"] == layer)], "compresses")
                              for a in ACTIVATIONS)
        tests.append((layer, k1, n1, k2, n2, fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue))
    threshold = ALPHA / len(layers)
    return [{"claim": "hidden", "precision": precision, "activation": "tanh vs relu",
             "numbers": "; ".join(f"layer {layer + 1}: tanh {k1}/{n1}, relu {k2}/{n2}, p = {p:.2g}"
                                  f"{'*' if p < threshold else ''}" for layer, k1, n1, k2, n2, p in tests),
             "verdict": "reproduced" if any(test[-1] < threshold for test in tests) else "not reproduced"}]


def _binning_claim(verdicts: pd.DataFrame) -> list[dict]:
    """Whether the binning resolution changes the verdict: per quantized precision, the layers
    whose majority verdict (compresses in at least HOLDS_SHARE of the networks) differs between
    30, 100 and 256 bins, and the share of network-layer verdicts 30 and 256 bins disagree on."""
    rows = []
    binned = verdicts[verdicts["name"].isin(BINNINGS)]
    for precision in [p for p in PRECISIONS if (binned["precision"] == p).any()]:
        mine = binned[binned["precision"] == precision]
        majority = mine.groupby(["activation", "layer", "name"])["compresses"].mean().unstack("name") >= HOLDS_SHARE
        changed = majority[majority.nunique(axis=1) > 1]
        coarse, fine = (mine[mine["name"] == name].set_index(["run", "layer"])["compresses"] for name in BINNINGS[::2])
        differ = (coarse != fine.reindex(coarse.index)).mean()
        last = int(mine["layer"].max())
        listed = ", ".join(f"{activation} {layer_name(layer, last)}" for activation, layer in changed.index) or "none"
        rows.append({"claim": "binning", "precision": precision, "activation": "both",
                     "numbers": f"layers whose majority verdict changes between 30, 100 and 256 bins: {listed}; "
                                f"network-layer verdicts that differ between 30 and 256 bins: {differ:.0%}",
                     "verdict": "reproduced" if len(changed) else "not reproduced"})
    return rows


def quantized_result(tables: list[str | Path]) -> QuantizedResult:
    """The study's result from its MI tables (one per precision; ValueError naming a table that
    holds none of the study's settings, or two tables of one precision)."""
    from ib_keras.data.datasets import load_dataset

    parts, manifests = [], {}
    for path in tables:
        table = _named(read_table(path))
        if table.empty:
            raise ValueError(f"{path}: holds none of the quantized study's settings (exact, "
                             f"{', '.join(setting for _, setting in ESTIMATORS.values())})")
        precision = _precision(table, Path(path))
        if precision in manifests:
            raise ValueError(f"{path}: a second table of {precision} networks; give one table per precision")
        manifests[precision] = table_manifest(table)
        parts.append(table.assign(precision=precision))
    rows = pd.concat(parts, ignore_index=True)
    final = rows.sort_values("epoch").groupby("run").last()
    excluded = final[final["train_accuracy"] < RESTART_ACCURACY].reset_index()[["run", "precision", "activation",
                                                                              "train_accuracy"]]
    rows = rows[~rows["run"].isin(excluded["run"])]
    labels = np.bincount(load_dataset("tishby").y)
    labels = labels / labels.sum()
    label_entropy = float(-np.sum(labels * np.log2(labels)))
    verdicts = _verdicts(rows, label_entropy)
    return QuantizedResult(rows, verdicts, _errors(rows, verdicts), _claims(verdicts), excluded,
                           manifests, label_entropy)
