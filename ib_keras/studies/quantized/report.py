"""figures/quantized/REPORT.md: Lorenzen et al.'s claims on quantized networks, each verdict with its
rule and numbers, every estimator's error against the exact value, the figures and a manifest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ib_keras.runfile import layer_name
from ib_keras.studies.markdown import ALPHA, escape, finish_report, manifest_section, number, report_file, table
from ib_keras.studies.quantized.claims import (BINNINGS, EVERY_SHARE, FLOAT, HOLDS_SHARE, MIN_BITS, NAMES, PRECISIONS,
                                               RESTART_ACCURACY, QuantizedResult)
from ib_keras.studies.quantized.configurations import EPOCHS, ESTIMATORS, RECORD_POINTS
from ib_keras.studies.quantized.figures import FIGURES

RULES = {
    "fitting": f"A fitting phase in every layer: a network's layer fits when its exact I(T;Y) rises by at least "
               f"{MIN_BITS} bit above its first recorded value; counted over the networks whose first I(T;Y) is at "
               f"least {MIN_BITS} bit below H(Y) (the others have no room: listed so); reproduced when in every layer "
               f"with room at least {HOLDS_SHARE:.0%} of those networks fit.",
    "output": f"The output layer compresses in every network: C = peak - final exact I(X;T) >= {MIN_BITS} bit; "
              f"reproduced when at least {EVERY_SHARE:.0%} of the networks' output layers compress.",
    "hidden": f"Hidden-layer compression depends on the activation: per hidden layer, the networks whose layer "
              f"compresses (C >= {MIN_BITS} bit), tanh against ReLU, by Fisher's exact test (two-sided); reproduced "
              f"when some hidden layer differs at p < {ALPHA} / 5 (Bonferroni over the five hidden layers; starred).",
    "binning": f"The binning resolution changes the verdict: uniform bins over each layer's range at 30, 100 and 256 "
               f"bins, a layer's verdict being that at least {HOLDS_SHARE:.0%} of the networks compress (C >= "
               f"{MIN_BITS} bit); reproduced when some layer's verdict differs between the resolutions.",
}


def _training(r: QuantizedResult) -> str:
    """Train and test accuracy at the last recorded epoch, mean over the networks, per precision and activation."""
    final = r.rows.sort_values("epoch").groupby("run").last().reset_index()
    final["precision"] = pd.Categorical(final["precision"], PRECISIONS)
    rows = [{"precision": precision, "activation": activation, "networks": len(group),
             "train accuracy": number(group["train_accuracy"].mean(), 3),
             "test accuracy": number(group["test_accuracy"].mean(), 3)}
            for (precision, activation), group in final.groupby(["precision", "activation"], observed=True)]
    return table(pd.DataFrame(rows)) if rows else "No networks."


def _error_table(r: QuantizedResult, precision: str, by_layer: bool) -> str:
    """Each estimator's |error| against exact (bits), pooled over layers or per layer."""
    errors = r.errors[r.errors["precision"] == precision]
    if errors.empty:
        return "No estimates beside exact."
    if not by_layer:  # pooled: recomputed from the rows would need them all; the medians of the layers' are shown
        errors = errors.groupby("name", sort=False).agg(
            n=("n", "sum"), xt_median=("xt_median", "median"), xt_p90=("xt_p90", "max"), ty_median=("ty_median",
            "median"), ty_p90=("ty_p90", "max"), agree=("agree", "mean")).reset_index().assign(layer=-1)
    last = int(r.rows["layer"].max())
    rows = [{"estimator": NAMES[e.name], **({"layer": layer_name(e.layer, last)} if by_layer else {}),
             "n": e.n, "I(X;T) median": number(e.xt_median), "I(X;T) 90th pct": number(e.xt_p90),
             "I(T;Y) median": number(e.ty_median, 3), "I(T;Y) 90th pct": number(e.ty_p90, 3),
             "verdict agrees": f"{e.agree:.0%}"} for e in errors.itertuples()]
    return table(pd.DataFrame(rows))


def _float_table(r: QuantizedResult) -> str:
    """Share of networks compressing per layer under the binnings and EBAB, float32 beside 8-bit."""
    verdicts = r.verdicts[r.verdicts["name"].isin([*BINNINGS, "ebab"]) & r.verdicts["precision"].isin(["8-bit", FLOAT])]
    if verdicts.empty:
        return "No float32 networks."
    shares = verdicts.groupby(["activation", "layer", "precision", "name"])["compresses"].mean().unstack(["precision",
                                                                                                          "name"])
    rows, last = [], int(r.rows["layer"].max())
    for (activation, layer), values in shares.iterrows():
        rows.append({"activation": activation, "layer": layer_name(layer, last),
                     **{f"{precision} {NAMES[name]}": f"{value:.0%}" for (precision, name), value in values.items()
                        if pd.notna(value)}})
    return table(pd.DataFrame(rows))


def write_quantized_tables(r: QuantizedResult, out: str | Path) -> list[Path]:
    """The compact tables beside the report (CSV): claims, the estimators' errors against exact, and
    every network's verdicts per layer and setting (its seed for its run file)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables = {"claims.csv": r.claims, "errors.csv": r.errors, "verdicts.csv": r.verdicts.drop(columns="run")}
    for name, frame in tables.items():
        frame.to_csv(out / name, index=False, float_format="%.6g")
    return [out / name for name in tables]


def write_quantized_report(r: QuantizedResult, out: str | Path, timings: dict | None = None) -> Path:
    """REPORT.md of the quantized study at ``out``, the figures beside it; returns its path."""
    out = report_file(out)
    claims = r.claims.assign(numbers=r.claims["numbers"].map(escape))
    counts = r.excluded.groupby(["precision", "activation"]).size()
    excluded = (f"{len(r.excluded)} networks ended below their rule's training accuracy of {RESTART_ACCURACY} and "
                "are left out of everything below (" + ", ".join(f"{p} {a}: {n}" for (p, a), n in counts.items())
                + ")." if len(r.excluded) else
                f"no network ended below their rule's training accuracy of {RESTART_ACCURACY}: none is left out.")
    precisions = [p for p in ("8-bit", "4-bit") if (r.errors["precision"] == p).any()] if len(r.errors) else []
    parts = ["# Quantized networks: the exact information plane", "",
             "Generated by `python -m ib_keras quantized`. Lorenzen, Igel & Nielsen (ICLR 2022) trained networks "
             "whose every layer's output is quantized, so that T takes finitely many values and I(X;T) = H(T), "
             "I(T;Y) = H(T) - H(T|Y) are counted, with nothing to tune (`exact`, X uniform over the 4,096 inputs). "
             f"Their set-up (`--protocol lorenzen`, docs/protocols.md): 12-10-7-5-4-3-2, tanh and ReLU, Adam 1e-4, "
             f"batch 256, {EPOCHS} epochs, Keras' default initialisers, a random 80/20 split; quantization-aware "
             "training (`--quantize-bits`) by their code's rules (docs/estimators.md, `exact`): tanh layers on the "
             "batch's range, ReLU and softmax layers on a moving average of it with their kernels quantized. "
             f"Recorded at {RECORD_POINTS} log-spaced epochs.", "",
             f"**What differs from their set-up.** They record every 5th epoch (1,600 per network); here "
             f"{RECORD_POINTS} log-spaced ones. Their restart rule is not run: {excluded} TFMO also quantizes the "
             "inputs (binary here, so two levels either way) and passes the gradient of clamped values to a tanh "
             "layer's range; neither is done here. Their output layer's information is their binning of the softmax "
             "probabilities at 2^bits + 1 levels (`IB/util/binning.py`, `quantized`); here the softmax's own distinct "
             "values, counted on its logits' codes up to a common shift (exact).", "",
             "## Training", "", _training(r), "",
             "## Claims", "", table(claims.rename(columns=str.capitalize)), "",
             *[line for claim, rule in RULES.items() for line in (f"- **{claim}**: {rule}",)], "",
             "## Estimators against the exact value", "",
             f"Per estimator, |estimate - exact| in bits over every (network, recorded epoch) of a layer (n), its "
             f"median and 90th percentile; 'verdict agrees': the share of (network, layer) pairs whose compression "
             f"verdict (C >= {MIN_BITS} bit) is exact's. KDE and aKDE bound the information of T plus Gaussian noise, "
             "not of T: their error is how far that quantity is from the exact one. Estimators: "
             + "; ".join(f"{label} (`{setting}`)" for label, setting in ESTIMATORS.values()) + ".", ""]
    for precision in precisions:
        parts += [f"### {precision}: all layers", "", "Median of the layers' medians, largest of their 90th "
                  "percentiles, mean agreement.", "", _error_table(r, precision, False), "",
                  f"### {precision}: per layer", "", _error_table(r, precision, True), ""]
    parts += ["## Float32 beside 8-bit", "", "Share of networks whose layer compresses (C >= "
              f"{MIN_BITS} bit) under the binning estimators, float32 networks (no exact value) beside the 8-bit ones.",
              "", _float_table(r), "",
              "## Other precisions' manifests", "",
              *[manifest_section(manifest, {}, f"### {precision}") + "\n" for precision, manifest in r.manifests.items()
                if precision != "8-bit"]]
    manifest = r.manifests.get("8-bit") or next(iter(r.manifests.values()))
    return finish_report(out, parts, [(figure.__name__, caption) for figure, caption in FIGURES], manifest, timings)

