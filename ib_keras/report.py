"""figures/REPORT.md: the numbers behind each of the paper's claims, a verdict worded from them,
the figures, and a manifest of what produced them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ib_keras.analysis import (
    CONFIGURATION,
    LEARNED,
    STAR_MIN_N,
    benjamini_hochberg,
    compression,
    compression_summary,
    default_estimates,
    final_accuracies,
    generalization_correlations,
    l2_effect,
    within_configuration_correlations,
)
from ib_keras.atomic import atomic_path
from ib_keras.estimators import METHODS
from ib_keras.markdown import (ALPHA, configuration_name, escaped, link, manifest_section, number, p_value, report_file,
                               table)
from ib_keras.summary import Summary
from ib_keras.truth import (
    WITHIN_SE,
    compression_against_truth,
    error_summary,
    paired,
    truth_in_place,
    with_errors,
)

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
    ("fig_snr", "Gradient mean, spread, their ratio (SNR) and the weight norm per layer, tanh and ReLU."),
    ("fig_mi_epochs", "I(X;T) and I(T;Y) against epoch per layer, EBAB and aKDE, every configuration (seed means)."),
    ("fig_truth", "Extension: each KDE bound's error against the true I(X;T') and I(T';Y) over training, per layer."),
]
SENSITIVITY_SCALES = (0.01, 0.1, 1.0)






def _layer_name(layer: int, last: int) -> str:
    return "softmax" if layer == last else f"L{layer + 1}"


@dataclass(frozen=True)
class _Tests:
    """Every test the report runs on per-network compression, each frame with q-values: the
    Benjamini-Hochberg adjustment over all of them as one family."""

    summary: pd.DataFrame  # compression_summary: p_positive, q_positive
    kruskal: pd.DataFrame  # estimator, p, q: compression differs between activations
    effect: pd.DataFrame  # l2_effect: p_mann_whitney, q_mann_whitney
    learned: pd.DataFrame  # generalization_correlations of learned networks: pearson_q, spearman_q
    every: pd.DataFrame  # the same over every network
    within: pd.DataFrame  # within_configuration_correlations of learned networks: p, q
    per_configuration: pd.DataFrame  # learned networks, per configuration: pearson_p, pearson_q

    @property
    def count(self) -> int:
        """The tests in the correction's family: finite p-values from at least STAR_MIN_N networks."""
        return int(sum(np.isfinite(p).sum() for p in self._family()))

    def _columns(self) -> list[tuple[pd.DataFrame, str, str]]:
        return [(self.summary, "p_positive", "q_positive"), (self.kruskal, "p", "q"),
                (self.effect, "p_mann_whitney", "q_mann_whitney"), (self.learned, "pearson_p", "pearson_q"),
                (self.learned, "spearman_p", "spearman_q"), (self.every, "pearson_p", "pearson_q"),
                (self.every, "spearman_p", "spearman_q"), (self.within, "p", "q"),
                (self.per_configuration, "pearson_p", "pearson_q")]

    def _family(self) -> list[np.ndarray]:
        """Each column's p-values, NaN where the test rests on fewer than STAR_MIN_N networks (in
        its smaller group): shown, never starred."""
        family = []
        for frame, column, _ in self._columns():
            if column not in frame:  # no such tests (e.g. no L2 runs)
                family.append(np.zeros(0))
                continue
            n = frame[["n_without", "n_with"]].min(axis=1) if "n_with" in frame else frame["n"]
            family.append(np.where(n.to_numpy(dtype=float) >= STAR_MIN_N, frame[column].to_numpy(dtype=float), np.nan))
        return family


def _tests(per: pd.DataFrame) -> _Tests:
    network_means = per[(per["l2"] == 0) & per["estimator"].isin(ADAPTIVE)]
    kruskal = []
    for estimator, group in network_means.groupby("estimator"):
        samples = [g.groupby("run")["compression"].mean().to_numpy() for _, g in group.groupby("activation")]
        if len(samples) >= 2 and all(len(sample) >= 2 for sample in samples):
            kruskal.append({"estimator": estimator, "n": min(map(len, samples)), "p": stats.kruskal(*samples).pvalue})
    tests = _Tests(compression_summary(per), pd.DataFrame(kruskal, columns=["estimator", "n", "p"]), l2_effect(per),
                   generalization_correlations(per, learned_only=True), generalization_correlations(per),
                   within_configuration_correlations(per, learned_only=True),
                   generalization_correlations(per, learned_only=True, by=CONFIGURATION))
    columns = tests._columns()
    p_values = tests._family()
    q = benjamini_hochberg(np.concatenate(p_values))
    start = 0
    for (frame, column, q_column), values in zip(columns, p_values):
        frame[q_column] = q[start:start + len(values)]
        start += len(values)
    return tests


@dataclass(frozen=True)
class _Claim:
    body: str
    verdict: str  # reproduced, partly reproduced, not reproduced, not testable
    reason: str


def _claim_compression(tests: _Tests, per: pd.DataFrame, last: int) -> _Claim:
    rows = tests.summary[tests.summary["l2"] == 0]
    cells = rows.assign(cell=[f"{number(m)} ± {number(s)} (p {p_value(p, q)})" for m, s, p, q in
                              zip(rows["mean"], rows["sd"], rows["p_positive"], rows["q_positive"])])
    pivot = cells.pivot_table(index=["estimator", "activation"], columns="layer", values="cell", aggfunc="first")
    pivot.columns = [_layer_name(c, last) for c in pivot.columns]
    text = ["Compression C = max over epochs of I(X;T) minus final I(X;T), bits, mean ± sd over seeds, "
            f"with the one-sided t-test p of C > 0; n = {int(rows['n'].max())} seeds per cell at most. C is never "
            "negative by construction, so a significant p says only that C is not always 0 (any fluctuation of "
            "I(X;T) after its peak counts): read it with the size of the mean.", "",
            table(pivot.reset_index())]
    adaptive = per[(per["l2"] == 0) & per["estimator"].isin(ADAPTIVE)]
    ranking = adaptive.groupby(["estimator", "activation"])["compression"].mean()
    text += ["", "Mean compression over layers and seeds, most first: " + "; ".join(
        f"{estimator}: " + ", ".join(f"{a} {number(v)}" for a, v in ranking[estimator].sort_values(ascending=False).items())
        for estimator in ranking.index.get_level_values(0).unique()) + "."]
    text += ["", "Kruskal-Wallis test that the per-network mean compression differs between activations: "
             + ", ".join(f"{e}: p = {p_value(p, q)}" for e, _, p, q in tests.kruskal.itertuples(index=False)) + "."]
    compressing = rows[(rows["estimator"].isin(ADAPTIVE)) & (rows["q_positive"] < ALPHA) & (rows["mean"] > 0)]
    unsaturated = sorted(set(compressing["activation"]) - SATURATING)
    differing = [e for e, _, _, q in tests.kruskal.itertuples(index=False) if q < ALPHA]
    verdict = ("reproduced" if unsaturated and differing else
               "partly reproduced" if unsaturated or differing else "not reproduced")
    reason = (f"Non-saturating activations with significant compression (starred) in at least one layer under "
              f"an adaptive estimator: {', '.join(unsaturated) or 'none'}. Compression differs between "
              f"activations (Kruskal-Wallis, starred) under: {', '.join(differing) or 'none'}.")
    adaptive_cells = rows[rows["estimator"].isin(ADAPTIVE)]
    if not (adaptive_cells["n"] >= STAR_MIN_N).any() and not (tests.kruskal["n"] >= STAR_MIN_N).any():
        verdict = "not testable"
        reason = (f"Every test of this claim rests on fewer than {STAR_MIN_N} networks (at most "
                  f"{int(adaptive_cells['n'].max())} seeds per configuration), so none can be starred: train at "
                  f"least {STAR_MIN_N} seeds. " + reason)
    return _Claim("\n".join(text), verdict, reason)


def _claim_variation(tests: _Tests) -> _Claim:
    summary = tests.summary
    rows = summary[(summary["l2"] == 0) & summary["estimator"].isin(ADAPTIVE) & (summary["n"] >= 2)]
    cv = (rows["sd"] / rows["mean"].abs()).replace([np.inf, -np.inf], np.nan)
    median_cv = float(np.nanmedian(cv)) if len(cv.dropna()) else np.nan
    text = (f"Across every activation and layer under EBAB and aKDE, the median coefficient of variation "
            f"(sd / |mean|) of compression over seeds is {number(median_cv)} ({len(cv.dropna())} cells; "
            f"per-cell sd in the table above).")
    if rows.empty:
        most = int(summary["n"].max()) if len(summary) else 0
        return _Claim(text, "not testable", f"Fewer than two seeds per configuration (at most {most}).")
    if not np.isfinite(median_cv):
        return _Claim(text, "not testable", f"No cell of {len(rows)} with two or more seeds has a mean compression "
                                            "above 0, so its variation relative to the mean is undefined.")
    verdict = "reproduced" if median_cv >= 0.5 else "partly reproduced" if median_cv >= 0.25 else "not reproduced"
    return _Claim(text, verdict, f"The typical seed-to-seed sd is {number(median_cv)} times the mean compression.")


def _claim_l2(tests: _Tests, accuracies: pd.DataFrame, last: int) -> _Claim:
    effect = tests.effect
    if effect.empty:
        return _Claim("No configuration was trained both with and without L2.", "not testable", "")
    shown = effect.assign(layer=[_layer_name(layer, last) for layer in effect["layer"]],
                          without=[number(v) for v in effect["mean_without"]], with_l2=[number(v) for v in effect["mean_with"]],
                          p=[p_value(p, q) for p, q in zip(effect["p_mann_whitney"], effect["q_mann_whitney"])])
    rows = shown[["activation", "l2", "estimator", "layer", "without", "with_l2", "n_without", "n_with", "p"]]
    adaptive = effect[effect["estimator"].isin(ADAPTIVE)]
    higher = float((adaptive["mean_with"] > adaptive["mean_without"]).mean())
    significant = float((adaptive["q_mann_whitney"] < ALPHA).mean())
    gaps = accuracies.pivot_table(index="activation", columns="l2", values="gap_mean")
    less_overfitting = [a for a in gaps.index if gaps.shape[1] > 1 and gaps.loc[a].iloc[-1] < gaps.loc[a].iloc[0]]
    smallest = min(1.0 / math.comb(int(a + b), int(a)) for a, b in zip(effect["n_without"], effect["n_with"]))
    text = ("Compression without and with L2 (bits, mean over seeds), one-sided Mann-Whitney U p of "
            f"'L2 compresses more'. With these group sizes the smallest p the test can give is {p_value(smallest)}"
            f"{' (so none can fall below ' + str(ALPHA) + ': train more seeds)' if smallest >= ALPHA else ''}.\n\n"
            + table(rows) +
            f"\n\nTrain-test accuracy gap smaller with L2 for: {', '.join(less_overfitting) or 'none'}.")
    reason = (f"L2 gives more compression in {higher:.0%} of the adaptive-estimator layer comparisons, "
              f"significantly (starred) in {significant:.0%}; the rule counts the starred ones: reproduced at 50 % "
              "or more, partly reproduced with at least one.")
    testable = adaptive[["n_without", "n_with"]].min(axis=1) >= STAR_MIN_N
    if not testable.any() or smallest >= ALPHA:
        return _Claim(text, "not testable", f"No comparison can be starred (fewer than {STAR_MIN_N} networks per "
                                            f"group, or a smallest possible p of {p_value(smallest)}). " + reason)
    verdict = "reproduced" if significant >= 0.5 else "partly reproduced" if significant > 0 else "not reproduced"
    return _Claim(text, verdict, reason)


def _claim_generalization(tests: _Tests, per: pd.DataFrame, last: int) -> _Claim:
    learned, every, within = tests.learned, tests.every, tests.within
    never = per.loc[per["train_accuracy"] < LEARNED, "run"].nunique()

    def cells(frame: pd.DataFrame, r: str, p: str, q: str) -> list[str]:
        return [f"{number(a)} (p {p_value(b, c)})" for a, b, c in zip(frame[r], frame[p], frame[q])]

    shown = learned.assign(layer=[_layer_name(layer, last) for layer in learned["layer"]],
                           within=cells(within, "r", "p", "q"), pooled=cells(learned, "pearson_r", "pearson_p", "pearson_q"),
                           spearman=cells(learned, "spearman_r", "spearman_p", "spearman_q"),
                           pooled_all=cells(every, "pearson_r", "pearson_p", "pearson_q"), n_all=every["n"])
    per_configuration = tests.per_configuration.assign(
        configuration=[configuration_name(a, l2) for a, l2 in
                       zip(tests.per_configuration["activation"], tests.per_configuration["l2"])],
        cell=[f"{number(r)}{'*' if q < ALPHA else ''}" for r, q in
              zip(tests.per_configuration["pearson_r"], tests.per_configuration["pearson_q"])])
    pivot = per_configuration[per_configuration["estimator"].isin(ADAPTIVE)].pivot_table(
        index=["estimator", "configuration"], columns="layer", values="cell", aggfunc="first")
    pivot.columns = [_layer_name(c, last) for c in pivot.columns]
    text = (f"Correlation of compression with final test accuracy across networks that learned (final train "
            f"accuracy >= {LEARNED}; {never} network(s) never left chance and are left out, as their accuracy "
            f"says nothing about compression; the last columns keep them). The activation sets both compression "
            f"and accuracy, so pooling networks of different configurations mixes that with what the claim is "
            f"about: the verdict rests on the **within** column, the partial correlation given the configuration "
            f"(each configuration's mean taken out of both; t-test on n - k - 1 degrees of freedom, k "
            f"configurations). Pooled: Pearson and Spearman over all learned networks as they are.\n\n"
            + table(shown[["estimator", "layer", "n", "within", "pooled", "spearman", "n_all", "pooled_all"]])
            + "\n\nPearson r within each configuration (learned networks; starred: survives the correction):\n\n"
            + table(pivot.reset_index()))
    adaptive = within[within["estimator"].isin(ADAPTIVE)]
    positive = adaptive[(adaptive["r"] > 0) & (adaptive["q"] < ALPHA)]
    last_layer = set(positive.loc[positive["layer"] == last, "estimator"])
    hidden = set(positive.loc[positive["layer"] != last, "estimator"])
    verdict = "reproduced" if last_layer and not hidden else "partly reproduced" if last_layer else "not reproduced"
    reason = (f"Within configurations, significant positive correlation (starred) in the softmax layer for: "
              f"{', '.join(sorted(last_layer)) or 'none'}; in a hidden layer for: {', '.join(sorted(hidden)) or 'none'}.")
    return _Claim(text, verdict, reason)


CLAIMS = [
    "(1) Compression without saturation, and it depends on the activation",
    "(2) Compression varies a lot between initialisations",
    "(3) L2 regularisation increases compression and reduces overfitting",
    "(4) Only the softmax layer's compression correlates with generalisation",
]


def _claims(per: pd.DataFrame) -> tuple[list[_Claim], _Tests]:
    """The four claims' numbers and verdicts from per-network compression (one setting per estimator).
    The truth (noisy rows) has its own section, and stays out of these tests and their correction."""
    per = per[per["estimator"] != "noisy"]
    last = int(per["layer"].max())
    tests = _tests(per)
    if not per["estimator"].isin(ADAPTIVE).any():
        reason = "No EBAB/aKDE rows: the claims are about the adaptive estimators; estimate with ebab and akde."
        return [_Claim(f"The table holds only {', '.join(sorted(per['estimator'].unique()))} estimates.",
                       "not testable", reason)] * len(CLAIMS), tests
    accuracies = final_accuracies(per)
    return [_claim_compression(tests, per, last), _claim_variation(tests), _claim_l2(tests, accuracies, last),
            _claim_generalization(tests, per, last)], tests


def _at_akde_scale(networks: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Default-setting networks with aKDE's rows taken at ``variance_scale`` = ``scale``."""
    default = default_estimates(networks)
    wanted = {**METHODS["akde"], "variance_scale": scale}
    akde = networks[(networks["estimator"] == "akde") & networks["params"].map(lambda p: json.loads(p) == wanted)]
    return pd.concat([default[default["estimator"] != "akde"], akde], ignore_index=True)


def _sensitivity(networks: pd.DataFrame) -> str:
    """Each claim's verdict with aKDE at every variance scale the table has."""
    columns = {}
    for scale in SENSITIVITY_SCALES:
        per = _at_akde_scale(networks, scale)
        if (per["estimator"] == "akde").any():
            columns[f"aKDE scale {scale:g}"] = [claim.verdict for claim in _claims(per)[0]]
    if not columns:
        return "The table has no aKDE rows at variance_scale 0.01, 0.1 or 1."
    frame = pd.DataFrame({"claim": [title.split(")")[0] + ")" for title in CLAIMS], **columns})
    return ("The paper does not give aKDE's constant (noise variance = scale x the layer's largest activity); we "
            "use 0.1. Each claim's verdict, everything else unchanged, with aKDE at other scales (EBAB does not "
            "depend on it):\n\n" + table(frame))


def _span(counts: pd.Series) -> str:
    """"12", or "11 to 12" when the counts differ."""
    low, high = int(counts.min()), int(counts.max())
    return str(low) if low == high else f"{low} to {high}"


def _other_runs(truth: pd.DataFrame, networks: pd.DataFrame) -> str:
    """A sentence when the truth's networks are not the runs the rest of the report is about."""
    others = set(truth["run"]) - set(networks["run"])
    if not others:
        return ""
    return (f" {len(others)} of these {truth['run'].nunique()} networks are not among the runs the sections above "
            "are computed from: they were trained again for this section, with the same configurations, seeds and "
            "protocol (the bundle's README says how).")


def _against_truth(summary: Summary, reported: list[_Claim]) -> str:
    """The section comparing every KDE/aKDE bound with the truth, and the claims recomputed with it."""
    rows = summary.truth
    if rows.empty:
        return ("This table has no `noisy` estimates, the true I(X;T') and I(T';Y) that the KDE bounds bracket: "
                "estimate with e.g. `noisy,noisy:variance_scale=0.1` beside `kde` and `akde` to compare them.")
    errors = with_errors(paired(rows))
    truth = rows[rows["estimator"] == "noisy"]
    networks = truth.groupby(CONFIGURATION)["run"].nunique()
    epochs = truth.groupby("run")["epoch"].nunique()
    replicas = sorted({json.loads(p)["replicas"] for p in truth["params"]})
    summary_rows = error_summary(errors)

    def cell(median: float, p90: float) -> str:
        return f"{number(median)} ({number(p90)})"

    shown = summary_rows.assign(
        layer=[_layer_name(layer, int(rows["layer"].max())) for layer in summary_rows["layer"]],
        upper_minus_truth=[cell(m, p) for m, p in zip(summary_rows["upper_excess_median"], summary_rows["upper_excess_p90"])],
        truth_minus_lower=[cell(m, p) for m, p in zip(summary_rows["lower_shortfall_median"], summary_rows["lower_shortfall_p90"])],
        upper_ty=[cell(m, p) for m, p in zip(summary_rows["upper_ty_error_median"], summary_rows["upper_ty_error_p90"])],
        lower_ty=[cell(m, p) for m, p in zip(summary_rows["lower_ty_error_median"], summary_rows["lower_ty_error_p90"])],
        bracketed=[f"{share:.1%}" for share in summary_rows["bracketed"]])
    columns = {"upper_minus_truth": "I(X;T'): upper - truth", "truth_minus_lower": "I(X;T'): truth - lower",
               "upper_ty": "I(T';Y): upper - truth", "lower_ty": "I(T';Y): lower - truth"}
    text = ["The KDE estimators bound I(X;T') and I(T';Y) of T' = T + N(0, s2 I); the `noisy` estimator computes "
            "those quantities themselves (stratified Monte Carlo, the Gaussian-mixture entropy, "
            f"{' or '.join(map(str, replicas))} antithetic draws per input, with standard errors). Cells compared: "
            f"{len(truth[['run', 'epoch']].drop_duplicates())} network-epochs of {truth['run'].nunique()} networks "
            f"({', '.join(f'{configuration_name(a, l2)} {n}' for (a, l2), n in networks.items())}; the table has "
            f"{summary.networks['run'].nunique()}), "
            f"{_span(epochs)} recorded epochs each, every layer.{_other_runs(truth, summary.networks)}", "",
            "Error per estimator, s2 rule and layer over every network and epoch, bits: median (90th percentile). "
            "For I(X;T') the bounds' errors, upper - truth and truth - lower, are >= 0 up to Monte Carlo error; "
            "I(T';Y) is a difference of two bounds, so its error has either sign: median of the signed error (90th "
            f"percentile of its size). Bracketed: the share of cells with lower - {WITHIN_SE:g} se <= truth <= upper + "
            f"{WITHIN_SE:g} se.", "",
            table(shown[["estimator", "setting", "layer", "n", *columns, "bracketed"]].rename(columns=columns))]
    compressions = compression_against_truth(errors)
    compressions = compressions.assign(
        layer=[_layer_name(layer, int(rows["layer"].max())) for layer in compressions["layer"]],
        **{kind: [number(v) for v in compressions[kind]] for kind in ("upper", "truth", "lower")})
    text += ["", "Mean compression C (bits, max - final over these epochs) of the same networks under each bound and "
             "the truth, every configuration pooled:", "",
             table(compressions[["estimator", "setting", "layer", "n", "upper", "truth", "lower"]])]
    verdicts = {"as reported (every network and epoch, aKDE upper bound)": [claim.verdict for claim in reported]}
    changes = []
    for setting in sorted(set(errors.loc[errors["estimator"] == "akde", "setting"])):
        upper, with_truth = truth_in_place(rows, "akde", setting)
        scale = setting.split("=")[1]
        by_bound, by_truth = _claims(compression(upper))[0], _claims(compression(with_truth))[0]
        verdicts[f"these cells, aKDE upper, scale {scale}"] = [claim.verdict for claim in by_bound]
        verdicts[f"these cells, truth, scale {scale}"] = [claim.verdict for claim in by_truth]
        changes += [f"- {title.split(')')[0]}), scale {scale}: upper bound *{bound.verdict}*: {bound.reason} "
                    f"Truth *{exact.verdict}*: {exact.reason}"
                    for title, bound, exact in zip(CLAIMS, by_bound, by_truth) if bound.verdict != exact.verdict]
    frame = pd.DataFrame({"claim": [title.split(")")[0] + ")" for title in CLAIMS], **verdicts})
    text += ["", "Each claim's verdict by the same rules, with the truth in place of the aKDE upper bound (EBAB "
             "unchanged; the claims use no other KDE estimator). To separate the bound from the subset, the "
             "middle columns apply the rules to the upper bound on exactly the cells the truth was computed on, "
             "and the last column is the truth at that variance scale; compression C = max - final over these "
             "epochs.", "", table(frame), "",
             "Where the truth changes a verdict, the rules' reasons:" if changes else
             "The truth changes no verdict on these cells.", *changes]
    return "\n".join(text)


def write_report(summary: Summary, out: str | Path, figures_dir: str | Path | None = None,
                 timings: dict | None = None) -> Path:
    """Write the report of ``summary`` to ``out`` (Markdown), linking the figures in
    ``figures_dir`` (default: beside the report); returns its path."""
    out = report_file(out)
    figures_dir = Path(figures_dir) if figures_dir else out.parent
    # names from the runs' configs go into the Markdown as text, never as markup
    summary = replace(summary, networks=escaped(summary.networks, ["activation"]),
                      truth=escaped(summary.truth, ["activation"]))
    per = summary.default_networks
    claims, tests = _claims(per)
    accuracies = final_accuracies(per)
    accuracy_table = accuracies.assign(
        train=[f"{number(m, 3)} ± {number(s, 3)}" for m, s in zip(accuracies["train_mean"], accuracies["train_sd"])],
        test=[f"{number(m, 3)} ± {number(s, 3)}" for m, s in zip(accuracies["test_mean"], accuracies["test_sd"])],
        gap=[f"{number(m, 3)} ± {number(s, 3)}" for m, s in zip(accuracies["gap_mean"], accuracies["gap_sd"])],
    )[["activation", "l2", "n", "train", "test", "gap"]]
    parts = ["# Reproduction report: Chelombiev, Houghton & O'Donnell (ICLR 2019)", "",
             "Generated by `python -m ib_keras report`; every number below is computed from the MI table (or its "
             "summary). Verdicts are rules applied to those numbers (stated with each), not judgements; with few "
             "seeds (the quick run) they are weak evidence either way.", "",
             f"**Multiple tests.** The report runs {tests.count} tests. A star (*) marks a p-value that survives the "
             f"Benjamini-Hochberg correction over all {tests.count} at a false discovery rate of {ALPHA}; the "
             f"verdicts count only starred results. A p-value from fewer than {STAR_MIN_N} networks is shown but "
             "never starred nor counted; correlations of up to 8 networks have exact p-values (every pairing "
             "enumerated).", ""]
    for title, claim in zip(CLAIMS, claims):
        reason = f" {claim.reason}" if claim.reason else ""
        parts += [f"## {title}", "", f"**Verdict: {claim.verdict}.**{reason}", "", claim.body, ""]
    parts += ["## Sensitivity to aKDE's constant", "", _sensitivity(summary.networks), "",
              "## Against the truth", "", _against_truth(summary, claims), "",
              "## Final accuracies", "", "Mean ± sd over seeds of the last recorded epoch; gap = train - test.", "",
              table(accuracy_table), "", "## Figures", ""]
    for name, caption in FIGURES:
        if name == "fig_truth" and summary.truth.empty:
            continue
        parts += [f"### {name}", "", caption, "", f"![{name}]({link(Path(figures_dir, f'{name}.png'), out)})", ""]
    parts.append(manifest_section(summary.manifest, timings or {}))
    with atomic_path(out) as partial:
        partial.write_text("\n".join(parts) + "\n")
    return out
