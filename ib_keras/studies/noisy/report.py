"""figures/noisy/REPORT.md: Goldfeld et al.'s claims on noisy networks, each verdict with its rule
and numbers, sp's replica bias, KDE against sp, the figures, and noisy.parquet (`noisy_report`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ib_keras.analysis.compact import write_compact
from ib_keras.analysis.statistics import STAR_MIN_N
from ib_keras.estimate.estimators import METHODS
from ib_keras.runfile import layer_name
from ib_keras.studies.markdown import escape, escaped, number, stage_times, table
from ib_keras.studies.noisy.claims import (HOLDS_SHARE, MAIN_REPLICAS, MIN_BITS, MIN_EPOCHS, REPRESENTATIONS, RHO,
                                           SENSITIVITY_REPLICAS, WITHIN_SE, NoisyResult, analyse, read_rows, sp_rows)
from ib_keras.system.atomic import atomic_path, output_set

CLAIMS = {
    1: ("I(X;T) of a noisy tanh network's hidden layers falls during training: compression",
        f"share of networks with C = max - final sp I(X;T) > max({WITHIN_SE:g} se, {MIN_BITS} bit) in some hidden "
        f"layer; holds at >= {HOLDS_SHARE:.0%}"),
    2: ("compression is driven by same-class representations clustering",
        f"median Spearman rho of sp I(X;T) and within_between from the peak on, over compressing hidden "
        f"network-layers ({MIN_EPOCHS}+ epochs); holds at >= {RHO}"),
    3: ("the binned entropy at bin size ~ s tracks I(X;T)",
        f"median Spearman rho of fixed (bin s) and sp I(X;T) over epochs, hidden network-layers whose sp spans "
        f">= {MIN_BITS} bit; holds at >= {RHO}"),
    4: ("(method) SP of the first layer is the Gaussian-mixture information",
        f"share of first-layer epochs where sp and noisy agree within {WITHIN_SE:g} combined se; holds at >= 95 %"),
}


def _verdict(holds: bool, value: float, n: int) -> str:
    """The rule's word: "not testable" below STAR_MIN_N, as every report says."""
    if n < STAR_MIN_N or not np.isfinite(value):
        return "not testable"
    return "holds" if holds else "does not hold"


def write_noisy_report(result: NoisyResult, out: Path, figures: list[Path], timings: dict) -> Path:
    """REPORT.md in ``out`` (with the figures beside it), written atomically."""
    # names from the runs' configs go into the Markdown as text, never as markup
    result = replace(result, **{name: escaped(getattr(result, name), ["activation"])
                                for name in ("rows", "compression", "claims", "sensitivity", "kde_gap")})
    rows, per_layer = result.rows, result.compression
    networks = sp_rows(rows).groupby("activation")["seed"].nunique()
    epochs = sp_rows(rows).groupby("activation")["epoch"].nunique()
    config = rows.iloc[0]
    noise = f"{config['noise_std']:g}"
    lines = ["# Noisy networks: Goldfeld et al. (ICML 2019) tested", "",
             f"Networks with hidden widths {escape(config['hidden'])} on {escape(config['dataset'])}, N(0, s^2) noise, "
             f"s = {noise}, after every hidden activation in training (`train --noise-std {noise}`), protocol "
             f"{escape(config['protocol'])}, {int(config['trained_epochs'])} epochs; every recorded epoch's noise-free "
             "activity S and parameters. I(X;T_l) and I(T_l;Y) by sample propagation (`sp`: "
             f"{', '.join(f'{k} {v}' for k, v in METHODS['sp'].items() if k != 'noise_std')}), in bits, with "
             "standard errors (se) that count the Monte Carlo, not the replica bias (measured below). "
             "n per activation (networks x recorded epochs with sp): " + ", ".join(f"{a} {networks[a]} networks x {epochs[a]} epochs"
                                                                 for a in networks.index) + ".", "",
             "## Claims", "",
             "Goldfeld et al. state claims 1-3 for the tanh network; ReLU is ours, under the same rules. A rule "
             f"applied to fewer than {STAR_MIN_N} cases (n: the networks, network-layers or epochs it counts) says "
             "*not testable*, as in the other reports.", ""]
    if result.left_out:
        lines += ["Estimator settings of the table that this study does not read (left out): "
                  + "; ".join(map(escape, result.left_out)) + ".", ""]
    claims = result.claims
    frame = []
    for claim, (statement, rule) in CLAIMS.items():
        cells = {a: claims[(claims["claim"] == claim) & (claims["activation"] == a)].iloc[0] for a in networks.index}
        frame.append([claim, statement, rule,
                      *(f"{number(c['value'])} (n = {c['n']}): {_verdict(c['holds'], c['value'], c['n'])}"
                        for c in cells.values())])
    lines += [table(pd.DataFrame(frame, columns=["#", "claim", "rule", *networks.index])), ""]
    per_layer = per_layer.assign(rises=per_layer["peak_epoch"] > 0)
    share = per_layer.groupby(["activation", "layer"]).agg(compressing=("compresses", "mean"), c=("c", "median"),
                                                           peak=("peak_epoch", "median"),
                                                           rises=("rises", "mean")).reset_index()
    for column in ("compressing", "rises"):
        share[column] = share[column].map(lambda v: f"{v:.0%}")
    share["c"] = share["c"].map(number)
    last = int(rows["layer"].max())
    share["layer"] = [layer_name(layer, last) for layer in share["layer"]]
    lines += ["## Compression per layer", "",
              "Share of networks compressing (rule of claim 1), median C (bits), median epoch of the peak, and the "
              "share whose I(X;T) peaks after the initialisation (a rise first, then the fall; the others fall "
              "from the start). The last layer is the softmax output, observed with noise s.", "",
              table(share.rename(columns={"c": "median C", "peak": "median peak epoch",
                                          "rises": "peak after epoch 0"})), ""]
    sensitivity = result.sensitivity.copy()
    if len(sensitivity):
        sensitivity["layer"] = [layer_name(layer, last) for layer in sensitivity["layer"]]
        for column in ("median", "p10", "C default", "C more"):
            sensitivity[column] = sensitivity[column].map(lambda v: number(v, 3))
        sensitivity["within"] = sensitivity["within"].map(lambda v: f"{v:.0%}")
        lines += ["## sp's replica bias", "",
                  "sp represents T_l given X = x by R replicas; the standard error does not count that. sp with "
                  f"{SENSITIVITY_REPLICAS} replicas (16 for the marginal) minus the default's {MAIN_REPLICAS} (bits; "
                  "negative: the default overestimates I(X;T)), median and 10th percentile, on seed 0 at every 12th "
                  f"recorded epoch, the share within {WITHIN_SE:g} combined se, and the compression C = max - final "
                  "under each on those epochs (bits):", "", table(sensitivity), ""]
    gap = result.kde_gap.copy()
    gap["layer"] = [layer_name(layer, last) for layer in gap["layer"]]
    for column in ("median", "p90"):
        gap[column] = gap[column].map(number)
    lines += ["## KDE on the noise-free activity against sp", "",
              "Saxe et al.'s KDE upper bound at s^2 on the recorded noise-free S (noise added at the layer alone, as "
              "for a deterministic network) minus sp (noise in every earlier layer too), bits:", "", table(gap), "",
              "## Figures", "", *(f"![{path.stem}]({path.name})" for path in figures), ""]
    if not any(path.stem == REPRESENTATIONS for path in figures):
        lines += [f"Not drawn: {REPRESENTATIONS} (each activation's last hidden layer at four epochs), which reads the "
                  "run files, not found at the paths the table names (a report made again from noisy.parquet alone). "
                  "A file of that name beside this report comes from an earlier report made with them.", ""]
    if timings:
        lines += ["## Stage times", "", f"Wall time per stage: {stage_times(timings)}.", ""]
    path = out / "REPORT.md"
    with atomic_path(path) as partial:
        Path(partial).write_text("\n".join(lines), encoding="utf-8")
    return path


def noisy_report(table_path: str | Path, out: str | Path, timings: dict) -> Path:
    """Read the table (an MI table, or the noisy.parquet of an earlier report), write the compact
    rows (noisy.parquet), the figures and REPORT.md into ``out`` as one set; returns the report."""
    from ib_keras.studies.noisy.figures import make_noisy_figures

    result = analyse(read_rows(table_path))
    with output_set(out) as staging:  # the table, the figures and the report: all new, or all as they were
        write_compact(result.rows, staging / "noisy.parquet")
        write_noisy_report(result, staging, make_noisy_figures(result, staging), timings)
    return Path(out) / "REPORT.md"
