"""The paper's four claims, each tested by a stated rule on per-network compression: the numbers,
the tests (one Benjamini-Hochberg correction over all of them) and the verdict worded from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ib_keras.analysis.statistics import (CONFIGURATION, LEARNED, STAR_MIN_N, benjamini_hochberg, compression_summary,
                                          final_accuracies, generalization_correlations, l2_effect,
                                          within_configuration_correlations)
from ib_keras.runfile import layer_name
from ib_keras.studies.markdown import ALPHA, configuration_name, number, p_value, table

ADAPTIVE = ("ebab", "akde")


SATURATING = {"tanh", "softsign", "sigmoid"}  # bounded on both sides; the others do not saturate above


@dataclass(frozen=True)
class Tests:
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


def _tests(per: pd.DataFrame) -> Tests:
    network_means = per[(per["l2"] == 0) & per["estimator"].isin(ADAPTIVE)]
    kruskal = []
    for estimator, group in network_means.groupby("estimator"):
        samples = [g.groupby("run")["compression"].mean().to_numpy() for _, g in group.groupby("activation")]
        if len(samples) >= 2 and all(len(sample) >= 2 for sample in samples):
            kruskal.append({"estimator": estimator, "n": min(map(len, samples)), "p": stats.kruskal(*samples).pvalue})
    tests = Tests(compression_summary(per), pd.DataFrame(kruskal, columns=["estimator", "n", "p"]), l2_effect(per),
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
class Claim:
    body: str
    verdict: str  # reproduced, partly reproduced, not reproduced, not testable
    reason: str


def _claim_compression(tests: Tests, per: pd.DataFrame, last: int) -> Claim:
    rows = tests.summary[tests.summary["l2"] == 0]
    cells = rows.assign(cell=[f"{number(m)} ± {number(s)} (p {p_value(p, q)})" for m, s, p, q in
                              zip(rows["mean"], rows["sd"], rows["p_positive"], rows["q_positive"])])
    pivot = cells.pivot_table(index=["estimator", "activation"], columns="layer", values="cell", aggfunc="first")
    pivot.columns = [layer_name(c, last) for c in pivot.columns]
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
    return Claim("\n".join(text), verdict, reason)


def _claim_variation(tests: Tests) -> Claim:
    """Claim 2 by the report's one minimum-n rule: the coefficient of variation of cells of fewer
    than STAR_MIN_N seeds is shown, but a verdict rests on cells of at least STAR_MIN_N."""
    summary = tests.summary
    shown = summary[(summary["l2"] == 0) & summary["estimator"].isin(ADAPTIVE) & (summary["n"] >= 2)]
    testable = shown[shown["n"] >= STAR_MIN_N]
    rows = testable if len(testable) else shown
    cv = (rows["sd"] / rows["mean"].abs()).replace([np.inf, -np.inf], np.nan)
    median_cv = float(np.nanmedian(cv)) if len(cv.dropna()) else np.nan
    text = (f"Across every activation and layer under EBAB and aKDE, the median coefficient of variation "
            f"(sd / |mean|) of compression over seeds is {number(median_cv)} ({len(cv.dropna())} cells; "
            f"per-cell sd in the table above).")
    if rows.empty:
        most = int(summary["n"].max()) if len(summary) else 0
        return Claim(text, "not testable", f"Fewer than two seeds per configuration (at most {most}).")
    if testable.empty:
        return Claim(text, "not testable", f"Every cell rests on fewer than {STAR_MIN_N} seeds (at most "
                                            f"{int(shown['n'].max())}), the least this report gives a verdict from.")
    if not np.isfinite(median_cv):
        return Claim(text, "not testable", f"No cell of {len(rows)} with {STAR_MIN_N} or more seeds has a mean "
                                            "compression above 0, so its variation relative to the mean is undefined.")
    verdict = "reproduced" if median_cv >= 0.5 else "partly reproduced" if median_cv >= 0.25 else "not reproduced"
    return Claim(text, verdict, f"The typical seed-to-seed sd is {number(median_cv)} times the mean compression.")


def _claim_l2(tests: Tests, accuracies: pd.DataFrame, last: int) -> Claim:
    effect = tests.effect
    if effect.empty:
        return Claim("No configuration was trained both with and without L2.", "not testable", "")
    shown = effect.assign(layer=[layer_name(layer, last) for layer in effect["layer"]],
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
        return Claim(text, "not testable", f"No comparison can be starred (fewer than {STAR_MIN_N} networks per "
                                            f"group, or a smallest possible p of {p_value(smallest)}). " + reason)
    verdict = "reproduced" if significant >= 0.5 else "partly reproduced" if significant > 0 else "not reproduced"
    return Claim(text, verdict, reason)


def _claim_generalization(tests: Tests, per: pd.DataFrame, last: int) -> Claim:
    learned, every, within = tests.learned, tests.every, tests.within
    never = per.loc[per["train_accuracy"] < LEARNED, "run"].nunique()

    def cells(frame: pd.DataFrame, r: str, p: str, q: str) -> list[str]:
        return [f"{number(a)} (p {p_value(b, c)})" for a, b, c in zip(frame[r], frame[p], frame[q])]

    shown = learned.assign(layer=[layer_name(layer, last) for layer in learned["layer"]],
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
    pivot.columns = [layer_name(c, last) for c in pivot.columns]
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
    return Claim(text, verdict, reason)


CLAIMS = [
    "(1) Compression without saturation, and it depends on the activation",
    "(2) Compression varies a lot between initialisations",
    "(3) L2 regularisation increases compression and reduces overfitting",
    "(4) Only the softmax layer's compression correlates with generalisation",
]


def paper_claims(per: pd.DataFrame) -> tuple[list[Claim], Tests]:
    """The four claims' numbers and verdicts from per-network compression (one setting per estimator).
    The truth (noisy rows) has its own section, and stays out of these tests and their correction."""
    per = per[per["estimator"] != "noisy"]
    last = int(per["layer"].max())
    tests = _tests(per)
    if not per["estimator"].isin(ADAPTIVE).any():
        reason = "No EBAB/aKDE rows: the claims are about the adaptive estimators; estimate with ebab and akde."
        return [Claim(f"The table holds only {', '.join(sorted(per['estimator'].unique()))} estimates.",
                       "not testable", reason)] * len(CLAIMS), tests
    accuracies = final_accuracies(per)
    return [_claim_compression(tests, per, last), _claim_variation(tests), _claim_l2(tests, accuracies, last),
            _claim_generalization(tests, per, last)], tests
