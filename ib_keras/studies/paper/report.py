"""figures/REPORT.md: the numbers behind each of the paper's claims, a verdict worded from them,
the figures, and a manifest of what produced them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ib_keras.analysis.statistics import CONFIGURATION, STAR_MIN_N, compression, default_estimates, final_accuracies
from ib_keras.analysis.summary import Summary
from ib_keras.analysis.truth import (WITHIN_SE, compression_against_truth, error_summary, paired, truth_in_place,
                                     with_errors)
from ib_keras.estimate.estimators import METHODS
from ib_keras.runfile import layer_name
from ib_keras.studies.markdown import (ALPHA, configuration_name, escaped, link, manifest_section, number, report_file,
                                       table)
from ib_keras.studies.paper.claims import CLAIMS, Claim, paper_claims
from ib_keras.studies.paper.extension_figures import SENSITIVITY_SCALES
from ib_keras.studies.paper.figures import FIGURES, not_drawn
from ib_keras.system.atomic import atomic_path



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
            columns[f"aKDE scale {scale:g}"] = [claim.verdict for claim in paper_claims(per)[0]]
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


_RULE = {"s2_rule": "s2 rule"}  # the KDE setting a bound is paired with its truth by (`ib_keras.analysis.truth`)


def _against_truth(summary: Summary, reported: list[Claim]) -> str:
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
        layer=[layer_name(layer, int(rows["layer"].max())) for layer in summary_rows["layer"]],
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
            table(shown[["estimator", "s2_rule", "layer", "n", *columns, "bracketed"]].rename(columns={**columns, **_RULE}))]
    compressions = compression_against_truth(errors)
    compressions = compressions.assign(
        layer=[layer_name(layer, int(rows["layer"].max())) for layer in compressions["layer"]],
        **{kind: [number(v) for v in compressions[kind]] for kind in ("upper", "truth", "lower")})
    text += ["", "Mean compression C (bits, max - final over these epochs) of the same networks under each bound and "
             "the truth, every configuration pooled:", "",
             table(compressions[["estimator", "s2_rule", "layer", "n", "upper", "truth", "lower"]].rename(columns=_RULE))]
    verdicts = {"as reported (every network and epoch, aKDE upper bound)": [claim.verdict for claim in reported]}
    changes = []
    for rule in sorted(set(errors.loc[errors["estimator"] == "akde", "s2_rule"])):
        upper, with_truth = truth_in_place(rows, "akde", rule)
        scale = rule.split("=")[1]
        by_bound, by_truth = paper_claims(compression(upper))[0], paper_claims(compression(with_truth))[0]
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
    missing = not_drawn(summary)  # as plot decides, on the names as the runs give them
    # names from the runs' configs go into the Markdown as text, never as markup
    summary = replace(summary, networks=escaped(summary.networks, ["activation"]),
                      truth=escaped(summary.truth, ["activation"]))
    per = summary.default_networks
    claims, tests = paper_claims(per)
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
    for figure in FIGURES:
        name = figure.name
        if name in missing:
            parts += [f"### {name}", "", f"Not drawn: {missing[name]}.", ""]
            continue
        parts += [f"### {name}", "", figure.caption, "", f"![{name}]({link(Path(figures_dir, f'{name}.png'), out)})", ""]
    parts.append(manifest_section(summary.manifest, timings or {}))
    with atomic_path(out) as partial:
        partial.write_text("\n".join(parts) + "\n")
    return out
