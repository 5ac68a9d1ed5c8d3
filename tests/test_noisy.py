"""Noisy networks: training with --noise-std, the kernels and biases in the run file, sp in the
estimate stage against the noisy estimator, and the noisy-network report (sp's closed forms:
test_sp.py)."""

import json

import h5py
import numpy as np
import pandas as pd
import pytest

from ib_keras.estimate import estimate_runs, parse_estimators, read_table
from ib_keras.networks.activations import numpy_function
from ib_keras.runfile import read_run

from .helpers import ROOT, cli_here

WITHIN = 3.0  # standard errors
NOISE = 0.05


def _train(out, *extra):
    """`train` (tanh, in this process) into ``out``; returns its directory."""
    result = cli_here("train", "--activation", "tanh", "--workers", "1", "--out", str(out), *extra)
    assert result.returncode == 0, result.stderr
    return out / "tanh"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A deterministic pair, a noisy pair of the same seeds, and seed 1 trained
    alone with the same noise."""
    root = tmp_path_factory.mktemp("noisy")
    return {"deterministic": _train(root / "deterministic", "--seeds", "2", "--epochs", "40", "--record-points", "6"),
            "noisy": _train(root / "noisy", "--seeds", "2", "--epochs", "40", "--record-points", "6",
                            "--noise-std", str(NOISE)),
            "alone": _train(root / "alone", "--seeds", "1", "--first-seed", "1", "--epochs", "40",
                            "--record-points", "6", "--noise-std", str(NOISE))}


def test_a_deterministic_run_has_no_noise_in_its_config(runs):
    """A deterministic config is as before noise existed (its readings with and without the kept
    parameters: test_training.py)."""
    for seed in (0, 1):
        assert "noise_std" not in read_run(runs["deterministic"] / f"seed-{seed:03d}.h5").config


def _propagate(run, e):
    """Every layer's noise-free activity from the file's inputs, kernels and biases at epoch index e."""
    h, out = run.x, []
    for kernel, bias, layer in zip(run.kernels, run.biases, run.layers):
        h = numpy_function(layer.activation)(h @ kernel[e] + bias[e])
        out.append(h)
    return out


def test_the_file_keeps_each_epochs_kernels_and_biases_and_the_noise_free_activity(runs):
    for kind in ("deterministic", "noisy"):
        run = read_run(runs[kind] / "seed-000.h5")
        assert [k.shape for k in run.kernels] == [(7, 12, 10), (7, 10, 7), (7, 7, 5), (7, 5, 4), (7, 4, 3), (7, 3, 2)]
        assert [b.shape for b in run.biases] == [(7, u) for u in (10, 7, 5, 4, 3, 2)]
        norms = np.stack([np.linalg.norm(k.reshape(len(k), -1), axis=1) for k in run.kernels], axis=1)
        np.testing.assert_allclose(norms, run.weights_norm, rtol=1e-6)
        for e in range(len(run.epochs)):  # the recorded activity is the noise-free pass through these parameters
            for recorded, computed in zip(run.activity, _propagate(run, e)):
                np.testing.assert_allclose(recorded[e], computed, atol=2e-5)


def test_noise_changes_training_and_a_networks_noise_is_its_own(runs):
    noisy, deterministic = (read_run(runs[kind] / "seed-001.h5") for kind in ("noisy", "deterministic"))
    alone = read_run(runs["alone"] / "seed-001.h5")
    assert noisy.config["noise_std"] == NOISE
    assert np.abs(noisy.activity[-1][-1] - deterministic.activity[-1][-1]).max() > 1e-3
    # trained in a pair or alone, seed 1 meets the same noise (up to the ensemble's float rounding)
    for a, b in zip(noisy.activity, alone.activity):
        np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("value", ["-0.1", "nan"])
def test_a_bad_noise_std_is_refused_before_anything_is_written(tmp_path, value):
    result = cli_here("train", "--activation", "tanh", "--epochs", "2", "--noise-std", value, "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "--noise-std" in result.stderr
    assert not (tmp_path / "r").exists()


# The estimate stage and the report


SUBSAMPLE = ("--samples", "512")  # sp's pairs cost N^2: an eighth of the inputs, a sixty-fourth of the time


@pytest.fixture(scope="module")
def table(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("table") / "mi.parquet"
    result = cli_here("estimate", str(runs["noisy"]), "--estimators",
                      f"sp:mc_samples=8,noisy:noise_variance={NOISE**2},kde:noise_variance={NOISE**2},"
                      f"fixed:bin_size={NOISE},ebab", "--out", str(out), "--jobs", "1", *SUBSAMPLE)
    assert result.returncode == 0, result.stderr
    result = cli_here("estimate", str(runs["noisy"] / "seed-000.h5"), "--estimators",
                      "sp:replicas=256:marginal_replicas=16", "--epoch-stride", "3", "--out", str(out), "--jobs", "1",
                      *SUBSAMPLE)
    assert result.returncode == 0, result.stderr
    return out


def test_sp_of_the_first_layer_agrees_with_the_noisy_estimator(table):
    rows = read_table(table)
    keys = ["run", "epoch"]
    sp = rows[(rows["estimator"] == "sp") & (rows["layer"] == 0) & rows["params"].str.contains('"replicas": 64')]
    noisy = rows[(rows["estimator"] == "noisy") & (rows["layer"] == 0)]
    both = sp.set_index(keys).join(noisy.set_index(keys), suffixes=("", "_noisy"), how="inner")
    assert len(both) == 14 and (both["i_xt_se"] > 0).all()  # s = 0.05 lets the first layer's inputs overlap
    gap = (both["i_xt"] - both["i_xt_noisy"]).abs()
    assert (gap <= WITHIN * np.hypot(both["i_xt_se"], both["i_xt_se_noisy"])).all()
    assert rows["within_between"].notna().all()
    assert json.loads(sp["params"].iloc[0])["noise_std"] is None  # the run's own noise


def test_the_stage_explains_what_sp_cannot_estimate(runs, tmp_path):
    deterministic = runs["deterministic"] / "seed-000.h5"
    result = cli_here("estimate", str(deterministic), "--estimators", "sp", "--out", str(tmp_path / "a.parquet"), "--strict")
    assert result.returncode == 2 and "give sp:noise_std=S" in result.stderr and "seed-000.h5" in result.stderr
    old = tmp_path / "old.h5"
    old.write_bytes(deterministic.read_bytes())
    with h5py.File(old, "r+") as f:  # a file from before kernels were kept
        del f["kernels"], f["biases"]
    with pytest.raises(ValueError, match="old.h5: sp needs every recorded epoch's kernels and biases"):
        estimate_runs([old], parse_estimators("sp:noise_std=0.05"), tmp_path / "b.parquet", progress=False, strict=True)
    assert not (tmp_path / "a.parquet").exists() and not (tmp_path / "b.parquet").exists()


def test_sp_is_reproducible_and_a_layer_estimated_alone_is_the_same(table, runs, tmp_path):
    again = estimate_runs([runs["noisy"] / "seed-001.h5"], parse_estimators("sp:mc_samples=8"), tmp_path / "again.parquet",
                          jobs=2, progress=False, samples=int(SUBSAMPLE[1]))  # one file, two workers: a task per layer
    again = again.set_index(["epoch", "layer"])["i_xt"]
    first = read_table(table)
    first = first[(first["seed"] == 1) & (first["estimator"] == "sp")].set_index(["epoch", "layer"])["i_xt"]
    pd.testing.assert_series_equal(again.sort_index(), first.sort_index())


def test_the_noisy_report_states_each_claim_with_its_rule_and_n(table, tmp_path):
    out = tmp_path / "report"
    result = cli_here("noisy-report", str(table), "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = (out / "REPORT.md").read_text()
    for claim in ("compression", "clustering", "binned entropy", "first layer"):
        assert claim in report
    assert report.count("(n = ") == 4 and "tanh 2 networks x 7 epochs" in report
    # 2 networks: below the one minimum n of every report, claim 1 neither holds nor fails
    [claim_1] = [line for line in report.splitlines() if line.startswith("| 1 |")]
    assert claim_1.endswith("(n = 2): not testable |")
    assert f"s = {NOISE:g}" in report and "10,7,5,4,3" in report and "40 epochs" in report
    assert "sp's replica bias" in report
    for name in ("fig_noisy_planes", "fig_noisy_clustering", "fig_noisy_representations"):
        assert f"![{name}]({name}.png)" in report and 0 < (out / f"{name}.png").stat().st_size < 1_000_000
    compact = pd.read_parquet(out / "noisy.parquet")
    assert set(compact["estimator"]) == {"sp", "noisy", "kde", "fixed", "ebab"}
    assert set(compact.loc[compact["estimator"] == "sp", "replicas"]) == {64, 256}


def test_the_noisy_report_refuses_a_table_without_sp(runs, tmp_path):
    out = tmp_path / "plain.parquet"
    estimate_runs([runs["noisy"]], parse_estimators("ebab"), out, progress=False)
    result = cli_here("noisy-report", str(out), "--out", str(tmp_path / "report"))
    assert result.returncode == 2 and "no sp rows" in result.stderr
    assert not (tmp_path / "report" / "REPORT.md").exists()



def _changed(rows, **params):
    """``rows`` as if estimated at other settings: each params JSON updated by ``params``."""
    return rows.assign(params=[json.dumps({**json.loads(p), **params}, sort_keys=True) for p in rows["params"]])


def test_the_noisy_report_reads_only_its_own_settings_and_says_what_it_left_out(table, tmp_path):
    from ib_keras.studies.noisy.report import noisy_report

    rows = read_table(table)
    fixed = rows[rows["estimator"] == "fixed"]
    extra = tmp_path / "extra.parquet"
    pd.concat([rows, _changed(fixed, bin_size=0.07)], ignore_index=True).to_parquet(extra)
    report = noisy_report(extra, tmp_path / "extra", {}).read_text()
    clean = noisy_report(table, tmp_path / "clean", {}).read_text()
    left_out = 'Estimator settings of the table that this study does not read (left out): fixed {"bin_size": 0.07, ' \
               '"samples": 512}.\n\n'
    assert left_out in report and "left out" not in clean
    assert report.replace(left_out, "") == clean  # the other setting changes no number


def test_the_noisy_report_refuses_mixed_subsamples_and_mixed_networks(table, tmp_path):
    from ib_keras.studies.noisy.report import noisy_report

    rows = read_table(table)
    sp = rows[(rows["estimator"] == "sp") & rows["params"].str.contains('"replicas": 64')]
    for name, extra, message in (
            ("sub", _changed(sp, samples=256), r"sp rows at its default settings on 2 subsamples \(samples=256, "
                                               r"samples=512\)"),
            ("net", rows.assign(hidden="4,3", run=rows["run"] + "x"), r"differ in hidden")):
        path = tmp_path / f"{name}.parquet"
        pd.concat([rows, extra], ignore_index=True).to_parquet(path)
        with pytest.raises(ValueError, match=message):
            noisy_report(path, tmp_path / name, {})
        assert not (tmp_path / name / "REPORT.md").exists()


def test_the_shipped_noisy_report_is_what_this_code_writes_from_the_shipped_table(tmp_path):
    from ib_keras.studies.noisy.report import noisy_report

    shipped = ROOT / "results" / "noisy"
    timings = json.loads((shipped / "timings.json").read_text())
    written = noisy_report(shipped / "noisy.parquet", tmp_path, timings)
    assert written.read_text() == (shipped / "REPORT.md").read_text()
    from ib_keras.estimate.table import today_params

    before = pd.read_parquet(shipped / "noisy.parquet")  # written before the per-layer defaults: in today's words
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "noisy.parquet"), before.assign(params=today_params(before)))
