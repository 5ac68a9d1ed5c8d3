"""The noisy estimator (the true I(X;T') and I(T';Y) of T' = T + N(0, s2 I)) against closed forms,
and the KDE bounds against it on a real run: pairing, errors, the report's section."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ib_keras.analysis.summary import read_summary, summarize, write_summary
from ib_keras.analysis.truth import (compression_against_truth, error_summary, paired, truth_in_place, truth_rows,
                                     with_errors)
from ib_keras.data.tishby import tishby_dataset
from ib_keras.estimate import read_table, strided_epochs
from ib_keras.estimate.estimators import estimate_mi, estimate_mi_many
from ib_keras.runfile import read_run
from ib_keras.studies.paper.report import write_report

from .helpers import cli_here, mixture_entropy_1d

WITHIN = 3.0  # standard errors


def _h_bits(labels):
    p = np.bincount(labels) / len(labels)
    return float(-np.sum(p * np.log2(p)))


@pytest.mark.parametrize("points, labels", [([0.0, 0.05], [0, 1]), ([0.0, 0.04, 0.1], [0, 1, 1]),
                                            ([0.0, 0.0, 0.07], [0, 1, 0])])
def test_noisy_equals_numerical_integration_in_one_dimension(points, labels):
    variance = 1e-3  # s = 0.032: the components overlap
    labels = np.array(labels)
    h = mixture_entropy_1d(np.array(points), variance)
    i_xt = (h - 0.5 * math.log(2 * math.pi * math.e * variance)) / math.log(2)
    h_given_y = sum(np.mean(labels == c) * mixture_entropy_1d(np.array(points)[labels == c], variance)
                    for c in np.unique(labels))
    i_ty = (h - h_given_y) / math.log(2)
    estimate = estimate_mi(np.array(points, np.float32)[:, None], labels, "noisy", noise_variance=variance,
                           replicas=1000)
    assert 0 < estimate.i_xt_se < 0.05 and 0 < estimate.i_ty_se < 0.05
    assert abs(estimate.i_xt - i_xt) <= WITHIN * estimate.i_xt_se
    assert abs(estimate.i_ty - i_ty) <= WITHIN * estimate.i_ty_se


def test_well_separated_points_carry_log2_n_and_h_y():
    x, y = tishby_dataset()  # every pattern at least 1 from every other, s = 0.03
    estimate = estimate_mi(x, y, "noisy")
    assert estimate.i_xt == pytest.approx(12.0, abs=max(WITHIN * estimate.i_xt_se, 1e-9))
    assert estimate.i_ty == pytest.approx(_h_bits(y), abs=max(WITHIN * estimate.i_ty_se, 1e-9))


def test_equal_points_carry_nothing_exactly():
    labels = np.arange(300) % 3
    estimate = estimate_mi(np.full((300, 4), 0.25, np.float32), labels, "noisy", noise_variance=1e-4)
    assert estimate.i_xt == 0.0 and estimate.i_xt_se == 0.0
    assert estimate.i_ty == pytest.approx(0.0, abs=1e-12)


def test_huge_noise_hides_everything():
    x, y = tishby_dataset()
    estimate = estimate_mi(x, y, "noisy", noise_variance=1e6)
    assert estimate.i_xt == pytest.approx(0.0, abs=1e-4)
    assert estimate.i_ty == pytest.approx(0.0, abs=1e-4)


@pytest.fixture(scope="module")
def overlapping():
    """Activity whose noisy versions overlap a lot (s2 = 0.01, points 0.1 apart): 256 inputs, d = 3."""
    rng = np.random.default_rng(3)
    activity = rng.uniform(-0.5, 0.5, size=(256, 3)).astype(np.float32)
    return activity, (activity[:, 0] > 0).astype(int)


def test_the_standard_error_is_the_spread_of_the_estimate_over_seeds(overlapping):
    activity, labels = overlapping
    estimates = [estimate_mi(activity, labels, "noisy", noise_variance=0.01, seed=seed) for seed in range(40)]
    spread = np.std([e.i_xt for e in estimates], ddof=1), np.std([e.i_ty for e in estimates], ddof=1)
    mean_se = np.mean([e.i_xt_se for e in estimates]), np.mean([e.i_ty_se for e in estimates])
    for observed, claimed in zip(spread, mean_se):
        assert 0.6 < observed / claimed < 1.6  # 40 seeds: the sd of an sd is ~11 %


def test_one_seed_gives_one_estimate_and_the_mean_of_many_is_within_its_error(overlapping):
    activity, labels = overlapping
    first = estimate_mi(activity, labels, "noisy", noise_variance=0.01, seed=5)
    assert estimate_mi(activity, labels, "noisy", noise_variance=0.01, seed=5) == first
    assert estimate_mi(activity, labels, "noisy", noise_variance=0.01, seed=6) != first
    many = estimate_mi(activity, labels, "noisy", noise_variance=0.01, replicas=400)
    assert abs(first.i_xt - many.i_xt) <= WITHIN * math.hypot(first.i_xt_se, many.i_xt_se)
    assert abs(first.i_ty - many.i_ty) <= WITHIN * math.hypot(first.i_ty_se, many.i_ty_se)


def test_adaptive_variance_is_the_scale_times_the_largest_activity(overlapping):
    activity, labels = overlapping
    largest = float(np.abs(activity).max())
    adaptive = estimate_mi(activity, labels, "noisy", variance_scale=0.05)
    assert adaptive == estimate_mi(activity, labels, "noisy", noise_variance=0.05 * largest)


def test_estimators_without_a_standard_error_report_nan_and_still_unpack(overlapping):
    activity, labels = overlapping
    kde, noisy = estimate_mi_many(activity, labels, [("kde", {}), ("noisy", {})])
    i_xt, i_ty = kde
    assert (i_xt, i_ty) == (kde.i_xt, kde.i_ty) and math.isnan(kde.i_xt_se) and math.isnan(kde.i_ty_se)
    assert noisy.i_xt_se > 0


def test_the_truth_lies_between_the_kde_bounds_of_overlapping_activity(overlapping):
    activity, labels = overlapping
    for variance in (1e-3, 1e-2, 1e-1):
        lower, upper, truth = estimate_mi_many(activity, labels, [
            ("kde", {"noise_variance": variance, "bound": "lower"}), ("kde", {"noise_variance": variance}),
            ("noisy", {"noise_variance": variance})])
        assert lower.i_xt - WITHIN * truth.i_xt_se <= truth.i_xt <= upper.i_xt + WITHIN * truth.i_xt_se
        assert upper.i_xt - lower.i_xt > 0.1  # the bracket is not trivially tight here


def test_every_other_epoch_keeps_the_first_and_the_last():
    assert strided_epochs([0, 1, 2, 4, 8, 16], 2) == (0, 2, 8, 16)
    assert strided_epochs([0, 1, 2, 4, 8], 2) == (0, 2, 8)
    assert strided_epochs([0, 1, 2], 1) == (0, 1, 2)


TRUTH_ESTIMATORS = ("ebab,kde,kde:bound=lower,akde,akde:bound=lower,noisy,noisy:variance_scale=0.1,"
                    "akde:variance_scale=0.01")


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    """A real tanh network, 30 epochs, 10 recorded; estimated at every second epoch with the
    bounds and the truth, then at every epoch (the stage computes what it lacks)."""
    root = tmp_path_factory.mktemp("truth")
    trained = cli_here("train", "--activation", "tanh", "--seeds", "1", "--epochs", "30", "--record-points", "10",
                       "--out", str(root / "runs"))
    assert trained.returncode == 0, trained.stderr
    table = root / "mi.parquet"
    strided = cli_here("estimate", str(root / "runs"), "--estimators", TRUTH_ESTIMATORS, "--epoch-stride", "2",
                       "--jobs", "1", "--out", str(table))
    assert strided.returncode == 0, strided.stderr
    first = read_table(table)
    every = cli_here("estimate", str(root / "runs"), "--estimators", "noisy", "--jobs", "1", "--out", str(table))
    assert every.returncode == 0, every.stderr
    return root, first, read_table(table)


def test_a_strided_estimate_then_a_full_one_adds_only_the_missing_epochs(noisy_run):
    root, first, table = noisy_run
    epochs = [int(e) for e in read_run(next((root / "runs").rglob("*.h5")), activity=False).epochs]
    noisy_default = (table["estimator"] == "noisy") & ~table["params"].str.contains('"variance_scale": 0.1')
    assert sorted(first.loc[first["estimator"] == "kde", "epoch"].unique()) == list(strided_epochs(epochs, 2))
    assert sorted(table.loc[noisy_default, "epoch"].unique()) == epochs
    assert sorted(table.loc[table["estimator"] == "kde", "epoch"].unique()) == list(strided_epochs(epochs, 2))
    key = ["estimator", "params", "epoch", "layer"]
    again = first.merge(table, on=key, suffixes=("", "_now"))
    assert len(again) == len(first)  # recomputed epochs replace, never double
    assert np.array_equal(again["i_xt"], again["i_xt_now"])  # the same seed gives the same truth
    se = table[["i_xt_se", "i_ty_se"]]
    assert se[table["estimator"] == "noisy"].notna().all().all() and se[table["estimator"] != "noisy"].isna().all().all()


def test_on_a_real_run_the_truth_lies_between_the_kde_bounds_at_every_layer(noisy_run):
    _, _, table = noisy_run
    errors = with_errors(paired(truth_rows(table)))
    layers = table["layer"].nunique()
    assert set(errors["estimator"]) == {"kde", "akde"} and errors["layer"].nunique() == layers
    assert errors["bracketed"].all(), errors.loc[~errors["bracketed"], ["estimator", "s2_rule", "epoch", "layer"]]
    # each noisy setting is paired with its own s2 rule: the akde scale 0.01 bound has no truth here
    assert set(errors["s2_rule"]) == {"noise_variance=0.001", "variance_scale=0.1"}
    assert errors[["upper_i_xt", "lower_i_xt", "truth_i_xt"]].notna().all().all()


def test_errors_are_the_differences_of_the_paired_rows(noisy_run):
    _, _, table = noisy_run
    errors = with_errors(paired(truth_rows(table)))
    row = errors.iloc[len(errors) // 2]
    at = table[(table["epoch"] == row["epoch"]) & (table["layer"] == row["layer"])]
    scale = json.dumps(0.1)
    if row["estimator"] == "akde":
        chosen = at[at["params"].str.contains(f'"variance_scale": {scale}')]
    else:
        chosen = at[at["params"].str.contains('"noise_variance": 0.001')]
    truth = chosen[chosen["estimator"] == "noisy"].iloc[0]
    upper = chosen[(chosen["estimator"] == row["estimator"]) & chosen["params"].str.contains("upper")].iloc[0]
    lower = chosen[(chosen["estimator"] == row["estimator"]) & chosen["params"].str.contains("lower")].iloc[0]
    # the bundle keeps float32
    assert row["upper_excess"] == pytest.approx(upper["i_xt"] - truth["i_xt"], abs=1e-6)
    assert row["lower_shortfall"] == pytest.approx(truth["i_xt"] - lower["i_xt"], abs=1e-6)
    assert row["upper_ty_error"] == pytest.approx(upper["i_ty"] - truth["i_ty"], abs=1e-6)
    summary = error_summary(errors)
    assert summary["n"].sum() == len(errors)


def test_the_truth_stands_in_for_the_upper_bound_on_the_same_cells(noisy_run):
    _, _, table = noisy_run
    rows = truth_rows(table)
    upper, truth = truth_in_place(rows, "akde", "variance_scale=0.1")
    cells = ["run", "estimator", "params", "epoch", "layer"]
    assert upper[cells].sort_values(cells).reset_index(drop=True).equals(truth[cells].sort_values(cells).reset_index(drop=True))
    akde = truth[truth["estimator"] == "akde"].merge(rows[rows["estimator"] == "noisy"], on=["epoch", "layer", "i_xt"])
    assert len(akde) == (truth["estimator"] == "akde").sum()  # every relabelled row is a noisy one


def test_the_report_has_the_section_and_a_bundle_keeps_the_truth(noisy_run, tmp_path):
    _, _, table = noisy_run
    bundle = tmp_path / "bundle"
    write_summary(summarize(table), bundle)
    summary = read_summary(bundle)
    rows = truth_rows(table)
    pd.testing.assert_frame_equal(summary.truth.drop(columns="run"), rows.drop(columns="run"), check_dtype=False)
    assert summary.truth["run"].tolist() == [Path(run).name for run in rows["run"]]  # one run: its file's name
    report = write_report(summary, tmp_path / "REPORT.md").read_text()
    section = report.split("## Against the truth")[1].split("\n## ")[0]
    assert "network-epochs of 1 networks (tanh 1; the table has 1)" in section
    assert "| kde | noise_variance=0.001 | layer 1 | 6 |" in section  # the bounds' 6 epochs of 10 (every second)
    assert "these cells, truth, scale 0.1" in section
    assert "fig_truth.png" in report
    (bundle / "truth.parquet").unlink()  # a bundle from before the truth: read, with no section
    older = write_report(read_summary(bundle), tmp_path / "OLD.md").read_text()
    assert "has no `noisy` estimates" in older and "fig_truth.png" not in older


def test_the_shipped_paper_report_is_what_this_code_writes_from_the_shipped_bundle(tmp_path):
    shipped = Path(__file__).resolve().parents[1] / "results" / "paper"
    summary = read_summary(shipped)
    assert not summary.truth.empty
    timings = json.loads((shipped / "timings.json").read_text())
    written = write_report(summary, tmp_path / "REPORT.md", figures_dir=tmp_path, timings=timings)
    assert written.read_text() == (shipped / "REPORT.md").read_text()


def test_compression_under_bounds_and_truth_is_max_minus_final_on_the_shared_epochs(noisy_run):
    _, _, table = noisy_run
    pairs = paired(truth_rows(table))
    compressions = compression_against_truth(pairs).set_index(["estimator", "s2_rule", "layer"])
    kde = table[(table["estimator"] == "noisy") & ~table["params"].str.contains('"variance_scale": 0.1')]
    kde = kde[kde["epoch"].isin(pairs["epoch"].unique())]  # the bounds' epochs, not the truth's ten
    for layer, rows in kde.groupby("layer"):
        by_epoch = rows.set_index("epoch")["i_xt"]
        expected = by_epoch.max() - by_epoch[by_epoch.index.max()]
        truth = compressions.loc[("kde", "noise_variance=0.001", layer), "truth"]
        assert truth == pytest.approx(expected, abs=1e-6)  # the bundle keeps float32
    assert (compressions["n"] == 1).all()


def _with_params(rows, **changes):
    """``rows`` with each params JSON updated by ``changes`` and i_xt moved (another setting's values)."""
    return rows.assign(params=[json.dumps({**json.loads(p), **changes}, sort_keys=True) for p in rows["params"]],
                       i_xt=rows["i_xt"] + 0.5)


def test_the_truth_pairs_only_with_bounds_of_its_own_subsample(noisy_run):
    """Truth rows of a subsample (estimate --samples) beside the full ones neither double n nor
    move the errors of the full-data pairs: a row pairs with the bounds of the same subsample."""
    _, _, table = noisy_run
    subsample = _with_params(table[table["estimator"] == "noisy"], samples=512)
    before = with_errors(paired(truth_rows(table)))
    after = with_errors(paired(truth_rows(pd.concat([table, subsample], ignore_index=True))))
    columns = ["estimator", "s2_rule", "epoch", "layer", "upper_excess", "lower_shortfall", "bracketed"]
    pd.testing.assert_frame_equal(after[columns].reset_index(drop=True), before[columns].reset_index(drop=True))
    assert error_summary(after)["n"].sum() == len(before)


@pytest.mark.parametrize("change", [{"replicas": 8}, {"seed": 3}])
def test_two_truths_of_one_setting_are_refused_naming_both(noisy_run, change):
    _, _, table = noisy_run
    other = _with_params(table[table["estimator"] == "noisy"], **change)
    with pytest.raises(ValueError, match=r"2 noisy settings of noise_variance=0.001: .* and .*estimate the others"):
        truth_rows(pd.concat([table, other], ignore_index=True))


def test_the_report_escapes_names_from_the_runs_and_links_figures_from_where_it_is(noisy_run, tmp_path):
    _, _, table = noisy_run
    hostile = "tanh|x\n# Injected <b>bold</b>"
    summary = summarize(table.assign(activation=hostile))
    figures = tmp_path / "my figures (1)"
    report = write_report(summary, tmp_path / "elsewhere" / "REPORT.md", figures_dir=figures).read_text()
    assert "\n# Injected" not in report and "<b>" not in report
    assert r"tanh\|x # Injected \<b\>bold\</b\>" in report
    tables = [block.splitlines() for block in report.split("\n\n") if block.startswith("| ")]
    assert tables
    for rows in tables:  # every row of a table has its header's columns: no cell breaks out
        assert {row.replace("\\|", "").count("|") for row in rows} == {rows[0].count("|")}
    assert "](../my%20figures%20%281%29/fig7_activations.png)" in report
    assert "### fig1_max_activity\n\nNot drawn: no ReLU runs." in report  # this table's runs are not
