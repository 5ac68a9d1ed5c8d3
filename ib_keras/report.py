"""figures/REPORT.md: the numbers behind each of the paper's claims, a verdict worded from them,
the figures, and a manifest of what produced them."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ib_keras.analysis import (
    LEARNED,
    check_one_setting,
    compression,
    compression_summary,
    default_estimates,
    final_accuracies,
    generalization_correlations,
    l2_effect,
)
from ib_keras.storage import read_run

ALPHA = 0.05
ADAPTIVE = ("ebab", "akde")
SATURATING = {"tanh", "softsign", "sigmoid"}  # bounded on both sides; the others do not saturate above
FIGURES = [
    ("fig1_max_activity", "Maximum activity per ReLU layer: one layer sets the network's range."),
    ("fig2_ebab_bins", "Uniform against EBAB bins on one ReLU layer, with the binned entropy."),
    ("fig3_estimators", "tanh and ReLU under the baselines and the adaptive estimators (seed means)."),
    ("fig5_relu_single_seeds", "Single ReLU networks under EBAB: variation between initialisations."),
    ("fig6_relu_mean", "ReLU averaged over seeds, EBAB and aKDE."),
    ("fig7_activations", "Every activation, EBAB (top) and aKDE (bottom), seed means."),
    ("fig8_l2", "Without and with L2, tanh and ReLU, and accuracy curves."),
    ("fig9_generalization", "Compression against final test accuracy per layer."),
    ("fig_compression_by_activation", "Compression per activation and layer, every seed."),
    ("fig_akde_sensitivity", "Extension: the aKDE ranking of activations against its variance scale."),
]


def _fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.2g}"


def _markdown(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def _layer_name(layer: int, last: int) -> str:
    return "softmax" if layer == last else f"L{layer + 1}"


def _claim_compression(summary: pd.DataFrame, per: pd.DataFrame, last: int) -> tuple[str, str]:
    rows = summary[summary["l2"] == 0]
    table = rows.assign(cell=[f"{_fmt(m)} ± {_fmt(s)} (p {_p(p)})" for m, s, p in
                              zip(rows["mean"], rows["sd"], rows["p_positive"])])
    pivot = table.pivot_table(index=["estimator", "activation"], columns="layer", values="cell", aggfunc="first")
    pivot.columns = [_layer_name(c, last) for c in pivot.columns]
    text = ["Compression C = max over epochs of I(X;T) minus final I(X;T), bits, mean ± sd over seeds, "
            f"with the one-sided t-test p of C > 0; n = {int(rows['n'].max())} seeds per cell at most.", "",
            _markdown(pivot.reset_index())]
    compressing = rows[(rows["estimator"].isin(ADAPTIVE)) & (rows["p_positive"] < ALPHA) & (rows["mean"] > 0)]
    unsaturated = sorted(set(compressing["activation"]) - SATURATING)
    network_means = per[(per["l2"] == 0) & per["estimator"].isin(ADAPTIVE)]
    differs = []
    for estimator, group in network_means.groupby("estimator"):
        samples = [g.groupby("run")["compression"].mean().to_numpy() for _, g in group.groupby("activation")]
        if len(samples) >= 2 and all(len(s) >= 2 for s in samples):
            differs.append((estimator, stats.kruskal(*samples).pvalue))
    text += ["", "Kruskal-Wallis test that the per-network mean compression differs between activations: "
             + ", ".join(f"{e}: p = {_p(p)}" for e, p in differs) + "."]
    different = any(p < ALPHA for _, p in differs)
    if unsaturated and different:
        verdict = "reproduced"
    elif unsaturated or different:
        verdict = "partly reproduced"
    else:
        verdict = "not reproduced"
    reason = (f"Non-saturating activations with significant compression (p < {ALPHA}) in at least one layer under "
              f"an adaptive estimator: {', '.join(unsaturated) or 'none'}. Compression differs between "
              f"activations (Kruskal-Wallis p < {ALPHA}) under: {', '.join(e for e, p in differs if p < ALPHA) or 'none'}.")
    return "\n".join(text), f"**Verdict: {verdict}.** {reason}"


def _claim_variation(summary: pd.DataFrame) -> tuple[str, str]:
    rows = summary[(summary["l2"] == 0) & summary["estimator"].isin(ADAPTIVE) & (summary["n"] >= 2)]
    cv = (rows["sd"] / rows["mean"].abs()).replace([np.inf, -np.inf], np.nan)
    median_cv = float(np.nanmedian(cv)) if len(cv.dropna()) else np.nan
    text = (f"Across every activation and layer under EBAB and aKDE, the median coefficient of variation "
            f"(sd / |mean|) of compression over seeds is {_fmt(median_cv)} ({len(cv.dropna())} cells; "
            f"per-cell sd in the table above).")
    if not np.isfinite(median_cv):
        return text, "**Verdict: not testable** (fewer than two seeds per configuration)."
    verdict = "reproduced" if median_cv >= 0.5 else "partly reproduced" if median_cv >= 0.25 else "not reproduced"
    return text, f"**Verdict: {verdict}.** The typical seed-to-seed sd is {_fmt(median_cv)} times the mean compression."


def _claim_l2(effect: pd.DataFrame, accuracies: pd.DataFrame, last: int) -> tuple[str, str]:
    if effect.empty:
        return "No configuration was trained both with and without L2.", "**Verdict: not testable.**"
    shown = effect.assign(layer=[_layer_name(layer, last) for layer in effect["layer"]],
                          without=[_fmt(v) for v in effect["mean_without"]], with_l2=[_fmt(v) for v in effect["mean_with"]],
                          p=[_p(v) for v in effect["p_mann_whitney"]])
    table = shown[["activation", "l2", "estimator", "layer", "without", "with_l2", "n_without", "n_with", "p"]]
    adaptive = effect[effect["estimator"].isin(ADAPTIVE)]
    higher = float((adaptive["mean_with"] > adaptive["mean_without"]).mean())
    significant = float((adaptive["p_mann_whitney"] < ALPHA).mean())
    gaps = accuracies.pivot_table(index="activation", columns="l2", values="gap_mean")
    less_overfitting = [a for a in gaps.index if gaps.shape[1] > 1 and gaps.loc[a].iloc[-1] < gaps.loc[a].iloc[0]]
    smallest = min(1.0 / math.comb(int(a + b), int(a)) for a, b in zip(effect["n_without"], effect["n_with"]))
    text = ("Compression without and with L2 (bits, mean over seeds), one-sided Mann-Whitney U p of "
            f"'L2 compresses more'. With these group sizes the smallest p the test can give is {_p(smallest)}"
            f"{' (so none can fall below ' + str(ALPHA) + ': train more seeds)' if smallest >= ALPHA else ''}.\n\n"
            + _markdown(table) +
            f"\n\nTrain-test accuracy gap smaller with L2 for: {', '.join(less_overfitting) or 'none'}.")
    verdict = ("reproduced" if higher >= 0.75 and significant >= 0.5 else
               "partly reproduced" if higher >= 0.5 else "not reproduced")
    return text, (f"**Verdict: {verdict}.** L2 gives more compression in {higher:.0%} of the adaptive-estimator "
                  f"layer comparisons, significantly (p < {ALPHA}) in {significant:.0%}.")


def _claim_generalization(per: pd.DataFrame, last: int) -> tuple[str, str]:
    learned = generalization_correlations(per, learned_only=True)
    every = generalization_correlations(per)
    never = per.loc[per["train_accuracy"] < LEARNED, "run"].nunique()

    def cells(correlations: pd.DataFrame, kind: str) -> list[str]:
        return [f"{_fmt(r)} (p {_p(p)})" for r, p in zip(correlations[f"{kind}_r"], correlations[f"{kind}_p"])]

    shown = learned.assign(layer=[_layer_name(layer, last) for layer in learned["layer"]],
                           pearson=cells(learned, "pearson"), spearman=cells(learned, "spearman"),
                           pearson_all=cells(every, "pearson"), n_all=every["n"])
    text = (f"Correlation of compression with final test accuracy across networks. Main columns: the networks "
            f"that learned (final train accuracy >= {LEARNED}); {never} network(s) never left chance and are "
            f"excluded there, as their accuracy says nothing about compression; the last columns keep them.\n\n"
            + _markdown(shown[["estimator", "layer", "n", "pearson", "spearman", "n_all", "pearson_all"]]))
    adaptive = learned[learned["estimator"].isin(ADAPTIVE)]
    positive = adaptive[(adaptive["pearson_r"] > 0) & (adaptive["pearson_p"] < ALPHA)]
    last_layer = set(positive.loc[positive["layer"] == last, "estimator"])
    hidden = set(positive.loc[positive["layer"] != last, "estimator"])
    if last_layer and not hidden:
        verdict = "reproduced"
    elif last_layer:
        verdict = "partly reproduced"
    else:
        verdict = "not reproduced"
    reason = (f"Among networks that learned, significant positive Pearson correlation (p < {ALPHA}) in the softmax "
              f"layer for: {', '.join(sorted(last_layer)) or 'none'}; in a hidden layer for: "
              f"{', '.join(sorted(hidden)) or 'none'}.")
    return text, f"**Verdict: {verdict}.** {reason}"


def _manifest(table: pd.DataFrame, timings: dict) -> str:
    configs = []
    for path in sorted(table["run"].unique()):
        try:
            configs.append(read_run(path, activity=False).config)
        except ValueError:
            continue
    shared = [{k: v for k, v in c.items() if k not in ("seed", "versions")} for c in configs]
    digest = hashlib.sha256(json.dumps(sorted(shared, key=lambda c: json.dumps(c, sort_keys=True)),
                                       sort_keys=True).encode()).hexdigest()[:16]
    versions = configs[0].get("versions", {}) if configs else {}
    by_configuration = table.groupby(["activation", "l2"])["seed"].agg(lambda s: sorted(set(int(v) for v in s)))
    lines = ["## Manifest", "",
             f"- Runs: {table['run'].nunique()} networks; epochs {sorted({c.get('epochs') for c in configs})}; "
             f"protocol {sorted({c.get('protocol') for c in configs})}.",
             f"- Configuration hash (every run's config without seed and versions): `{digest}`.",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
             "- Seeds: " + "; ".join(f"{a}{'' if l2 == 0 else f' L2 {l2:g}'}: {s[0]}-{s[-1]} ({len(s)})"
                                     for (a, l2), s in by_configuration.items()) + ".",
             "- Estimators: " + "; ".join(f"{e} {p}" for e, p in table[["estimator", "params"]].drop_duplicates()
                                         .itertuples(index=False)) + "."]
    if timings:
        lines.append("- Wall time per stage: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ".")
    return "\n".join(lines)


def write_report(table: pd.DataFrame, out: str | Path, figures_dir: str | Path | None = None,
                 timings: dict | None = None) -> Path:
    """Write the report for the MI table to ``out`` (Markdown), linking the figures in
    ``figures_dir`` (default: beside the report); returns its path."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"{out} is a directory; give the report's file name, e.g. {out / 'REPORT.md'}")
    check_one_setting(table)
    figures_dir = Path(figures_dir) if figures_dir else out.parent
    default = default_estimates(table)
    per = compression(default)
    last = int(default["layer"].max())
    summary = compression_summary(per)
    accuracies = final_accuracies(per)
    sections = [
        ("(1) Compression without saturation, and it depends on the activation",
         _claim_compression(summary, per, last)),
        ("(2) Compression varies a lot between initialisations", _claim_variation(summary)),
        ("(3) L2 regularisation increases compression and reduces overfitting", _claim_l2(l2_effect(per), accuracies, last)),
        ("(4) Only the softmax layer's compression correlates with generalisation",
         _claim_generalization(per, last)),
    ]
    accuracy_table = accuracies.assign(
        train=[f"{_fmt(m, 3)} ± {_fmt(s, 3)}" for m, s in zip(accuracies["train_mean"], accuracies["train_sd"])],
        test=[f"{_fmt(m, 3)} ± {_fmt(s, 3)}" for m, s in zip(accuracies["test_mean"], accuracies["test_sd"])],
        gap=[f"{_fmt(m, 3)} ± {_fmt(s, 3)}" for m, s in zip(accuracies["gap_mean"], accuracies["gap_sd"])],
    )[["activation", "l2", "n", "train", "test", "gap"]]
    parts = ["# Reproduction report: Chelombiev, Houghton & O'Donnell (ICLR 2019)", "",
             "Generated by `python -m ib_keras report` from the MI table; every number below is computed from it. "
             "Verdicts are rules applied to those numbers (stated with each), not judgements; with few seeds "
             "(the quick run) they are weak evidence either way.", ""]
    for title, (body, verdict) in sections:
        parts += [f"## {title}", "", verdict, "", body, ""]
    parts += ["## Final accuracies", "", "Mean ± sd over seeds of the last recorded epoch; gap = train - test.", "",
              _markdown(accuracy_table), "", "## Figures", ""]
    for name, caption in FIGURES:
        link = Path(figures_dir, f"{name}.png")
        relative = link.relative_to(out.parent) if link.is_relative_to(out.parent) else link
        parts += [f"### {name}", "", caption, "", f"![{name}]({relative.as_posix()})", ""]
    parts.append(_manifest(table, timings or {}))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text("\n".join(parts) + "\n")
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return out
