"""A tiny sweep through every stage of the command line: train -> estimate -> plot -> report."""

import shutil

import pandas as pd
import pytest

from ib_keras.estimate import COLUMNS
from ib_keras.studies.paper.extension_figures import fig_truth
from ib_keras.studies.paper.figures import FIGURES
from tests.helpers import cli_here, cli_ok

ESTIMATORS = "ebab,akde,uniform,fixed,kde,akde:variance_scale=0.01,akde:variance_scale=1"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    runs, figures = root / "runs", root / "figures"
    # the three configurations on two local worker processes, TensorFlow started once in each (one
    # process: test_cluster.py)
    cli_ok("sweep", "--activations", "tanh,relu", "--l2-activations", "relu", "--l2", "0.015", "--seeds", "2",
         "--epochs", "30", "--record-points", "10", "--workers", "2", "--out", str(runs))
    # in this process: its compiled kernels serve the module (a pool's table: tests/test_mi_table.py)
    cli_ok("estimate", str(runs), "--estimators", ESTIMATORS, "--jobs", "1", "--out", str(runs / "mi.parquet"))
    cli_ok("report", str(runs / "mi.parquet"), "--out", str(root / "from-the-table.md"))
    # figures and report from the summary alone, as run_all.sh and a shipped results/ bundle draw them
    cli_ok("summarize", str(runs / "mi.parquet"), "--out", str(root / "summary"))
    shutil.move(runs, root / "moved")  # no table, no run files
    try:
        cli_ok("plot", str(root / "summary"), "--out", str(figures), "--workers", "1")
        cli_ok("report", str(root / "summary"), "--out", str(figures / "REPORT.md"))
    finally:
        shutil.move(root / "moved", runs)
    return runs, figures


def test_the_table_has_every_column_run_and_estimator(sweep):
    runs, _ = sweep
    table = pd.read_parquet(runs / "mi.parquet")
    assert list(table.columns) == COLUMNS
    assert table["run"].nunique() == 6
    assert set(table["estimator"]) == {"ebab", "akde", "uniform", "fixed", "kde"}
    assert table["params"].nunique() >= 7
    assert table[["i_xt", "i_ty"]].notna().all().all()


def test_a_local_sweep_writes_the_files_train_writes(sweep, tmp_path):
    from ib_keras.runfile import read_run

    runs, _ = sweep
    cli_ok("train", "--activation", "relu", "--l2", "0.015", "--seeds", "1", "--first-seed", "1", "--epochs", "30",
         "--record-points", "10", "--out", str(tmp_path))
    trained, swept = (read_run(root / "relu_l2-0.015" / "seed-001.h5") for root in (tmp_path, runs))
    assert trained.config == swept.config and trained.complete and swept.complete
    for a, b in zip(trained.activity, swept.activity):  # one network alone or two in one model: float32 rounding
        assert abs(a - b).max() <= 1e-5


def test_every_figure_is_drawn_as_png_and_pdf(sweep):
    _, figures = sweep
    names = [figure.name for figure in FIGURES if figure.draw is not fig_truth]
    assert len(names) == 12
    assert not (figures / "fig_truth.png").exists()  # drawn only from a table with noisy estimates
    for name in names:
        for suffix in (".png", ".pdf"):
            path = figures / f"{name}{suffix}"
            assert path.is_file() and path.stat().st_size > 1000, path


def test_the_report_has_a_section_and_a_verdict_per_claim(sweep):
    _, figures = sweep
    report = (figures / "REPORT.md").read_text()
    for heading in ("## (1)", "## (2)", "## (3)", "## (4)", "## Final accuracies", "## Figures", "## Manifest"):
        assert heading in report
    assert report.count("**Verdict:") == 4
    assert "![fig9_generalization](fig9_generalization.png)" in report
    assert "## Sensitivity to aKDE's constant" in report and "aKDE scale 0.01" in report
    assert "Benjamini-Hochberg" in report


def test_figures_and_report_are_drawn_from_the_summary_alone_as_from_the_table(sweep):
    runs, figures = sweep
    summary = runs.parent / "summary"
    assert (figures / "REPORT.md").read_text() == (runs.parent / "from-the-table.md").read_text()
    assert sum(p.stat().st_size for p in summary.glob("*.parquet")) < 5e6


def _fails_one_line(*args):
    result = cli_here(*args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_plot_of_a_table_without_the_adaptive_estimators_draws_what_applies_and_names_the_rest(sweep, tmp_path):
    runs, _ = sweep
    table = pd.read_parquet(runs / "mi.parquet")
    table[table["estimator"].isin(["uniform", "fixed"])].to_parquet(tmp_path / "baselines.parquet")
    result = cli_ok("plot", str(tmp_path / "baselines.parquet"), "--out", str(tmp_path / "f"), "--png-only",
                    "--workers", "1")
    drawn = sorted(path.stem for path in (tmp_path / "f").glob("*.png"))
    assert drawn == ["fig1_max_activity", "fig3_estimators", "fig_snr"]  # the dynamics, and the baselines' planes
    assert "not drawn: fig7_activations (no EBAB or aKDE rows)" in result.stdout
    assert result.stdout.count("not drawn: ") == len(FIGURES) - 3


def test_a_table_with_no_rows_is_one_line(sweep, tmp_path):
    runs, _ = sweep
    pd.read_parquet(runs / "mi.parquet").iloc[:0].to_parquet(tmp_path / "empty.parquet")
    for command in ("plot", "report"):
        assert "has no rows" in _fails_one_line(command, str(tmp_path / "empty.parquet"), "--out", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_report_into_a_directory_is_refused_and_leaves_nothing(sweep, tmp_path):
    runs, _ = sweep
    assert "is a directory" in _fails_one_line("report", str(runs / "mi.parquet"), "--out", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_a_table_without_l2_runs_reports_claim_3_as_not_testable(sweep, tmp_path):
    from ib_keras.analysis.summary import summarize
    from ib_keras.studies.paper.report import write_report

    runs, _ = sweep
    table = pd.read_parquet(runs / "mi.parquet")
    report = write_report(summarize(table[table["l2"] == 0]), tmp_path / "REPORT.md").read_text()
    assert "No configuration was trained both with and without L2." in report
    assert "**Verdict: not testable.**" in _section(report, "## (3)")
    full = (sweep[1] / "REPORT.md").read_text()  # 2 seeds: claim 3 was not testable there either, for another reason
    assert "No comparison can be starred (fewer than 4 networks per group" in _section(full, "## (3)")
    verdicts = [line.split("**")[1] for line in report.splitlines() if line.startswith("**Verdict")]
    assert verdicts == [line.split("**")[1] for line in full.splitlines() if line.startswith("**Verdict")]


def _section(report: str, heading: str) -> str:
    return report.split(heading, 1)[1].split("\n## ", 1)[0]


def test_claim_1_with_two_seeds_is_not_testable_rather_than_not_reproduced(sweep):
    section = _section((sweep[1] / "REPORT.md").read_text(), "## (1)")
    assert "**Verdict: not testable.** Every test of this claim rests on fewer than 4 networks (at most 2 seeds" \
        in section


def test_a_table_of_baseline_estimators_only_reports_every_claim_as_not_testable(sweep, tmp_path):
    from ib_keras.analysis.summary import summarize
    from ib_keras.studies.paper.report import write_report

    runs, _ = sweep
    table = pd.read_parquet(runs / "mi.parquet")
    report = write_report(summarize(table[table["estimator"].isin(["uniform", "fixed"])]),
                          tmp_path / "REPORT.md").read_text()
    assert report.count("**Verdict: not testable.** No EBAB/aKDE rows") == 4
    assert "not reproduced" not in report and "Fewer than two seeds" not in report


def test_two_seeds_are_counted_as_two(sweep, tmp_path):
    from ib_keras.analysis.summary import summarize
    from ib_keras.studies.paper.claims import _claim_variation, _tests

    runs, _ = sweep
    table = pd.read_parquet(runs / "mi.parquet")
    per = summarize(table).default_networks
    claim = _claim_variation(_tests(per))  # two seeds: shown, but no verdict under the report's four
    assert claim.verdict == "not testable" and "Fewer than two seeds" not in claim.reason
    assert "Every cell rests on fewer than 4 seeds (at most 2)" in claim.reason and "cells;" in claim.body
    four = pd.concat([per.assign(seed=per["seed"] + 10 * k) for k in range(2)], ignore_index=True)
    assert _claim_variation(_tests(four)).verdict != "not testable"  # the same cells from four seeds: a verdict
    claim = _claim_variation(_tests(four.assign(compression=0.0)))  # no compression anywhere
    assert claim.verdict == "not testable" and "has a mean compression above 0" in claim.reason


def _refused(capsys, *args):
    """The command line run in this process: exit code 2 and one line on stderr, returned."""
    from ib_keras.cli import main

    capsys.readouterr()
    code = main(list(args))
    stderr = capsys.readouterr().err
    assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    return stderr


def test_a_table_mixing_data_sets_or_widths_is_refused_by_plot_and_report(sweep, tmp_path, capsys):
    runs, _ = sweep
    table = pd.read_parquet(runs / "mi.parquet")
    tanh = table["activation"] == "tanh"
    table.loc[tanh, "hidden"] = "32,16,8"
    table.loc[tanh, "dataset"] = "digits"
    table.to_parquet(tmp_path / "mixed.parquet")
    for command in ("plot", "report"):
        message = _refused(capsys, command, str(tmp_path / "mixed.parquet"), "--out", str(tmp_path / "o" / "R.md"))
        assert "the table mixes runs that differ in dataset: digits (tanh) vs tishby_var_u (relu)" in message
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def bundle(sweep, tmp_path_factory):
    from ib_keras.analysis.summary import summarize, write_summary

    runs, _ = sweep
    directory = tmp_path_factory.mktemp("bundle")
    write_summary(summarize(pd.read_parquet(runs / "mi.parquet")), directory)
    return directory


@pytest.mark.parametrize("damage, message", [
    (lambda b: (b / "manifest.json").write_text("[1, 2]"), "manifest.json: not a summary manifest written by"),
    (lambda b: (b / "manifest.json").write_text("{}"), "field(s) runs, epochs, protocols, versions, seeds"),
    (lambda b: pd.read_parquet(b / "networks.parquet").drop(columns="compression").to_parquet(b / "networks.parquet"),
     "networks.parquet: not a summary table written by `python -m ib_keras summarize` (missing columns compression)"),
    (lambda b: pd.read_parquet(b / "planes.parquet").assign(i_xt="x").to_parquet(b / "planes.parquet"),
     "planes.parquet: not a summary table written by `python -m ib_keras summarize` (columns of the wrong type: i_xt)"),
])
def test_a_damaged_summary_is_refused_whole_before_anything_is_drawn(bundle, tmp_path, capsys, damage, message):
    damaged = shutil.copytree(bundle, tmp_path / "bundle")
    damage(damaged)
    for command, out in (("plot", tmp_path / "figures"), ("report", tmp_path / "r" / "REPORT.md")):
        assert message in _refused(capsys, command, str(damaged), "--out", str(out))
    assert not (tmp_path / "figures").exists() and not (tmp_path / "r").exists()


def test_report_into_a_new_directory_named_with_a_slash_is_refused(bundle, tmp_path, capsys):
    assert "is a directory; give the report's file name" in _refused(
        capsys, "report", str(bundle), "--out", f"{tmp_path / 'newdir'}/")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", ["[1, 2]", '"abc"', '{"train": "long"}'])
def test_timings_that_are_not_an_object_of_seconds_are_one_line_naming_the_file(bundle, tmp_path, capsys, content):
    (tmp_path / "t.json").write_text(content)
    message = _refused(capsys, "report", str(bundle), "--out", str(tmp_path / "R.md"), "--timings",
                       str(tmp_path / "t.json"))
    assert f"{tmp_path / 't.json'}: not a JSON object of wall times per stage" in message
    assert not (tmp_path / "R.md").exists()
