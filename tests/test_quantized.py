"""Quantized networks (train --quantize-bits): the fake quantization against TensorFlow's, members
alone and among others, the codes on disk, the exact estimator and the study's report."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from ib_keras.estimate import read_table
from ib_keras.estimate.estimators import estimate_mi
from ib_keras.estimate.run_rows import estimate_run
from ib_keras.estimate.settings import parse_estimators
from ib_keras.networks.quantization import fake_quantize, nudged_grid
from ib_keras.runfile import read_run
from ib_keras.train.spec import TrainSpec
from tests.helpers import cli_here, cli_ok, write_run

COMMON = ("--protocol", "lorenzen", "--quantize-bits", "8", "--activation", "relu", "--epochs", "40",
          "--record-points", "4")


@pytest.fixture(scope="module")
def among(tmp_path_factory):
    out = tmp_path_factory.mktemp("among")
    cli_ok("train", *COMMON, "--seeds", "3", "--out", str(out))
    return out


@pytest.mark.parametrize("bits", [4, 8])
def test_fake_quantization_is_tensorflows_in_values_and_gradients(bits):
    rng = np.random.default_rng(bits)
    x = tf.constant(rng.normal(scale=2.0, size=(64, 5)).astype(np.float32))
    low, high = -1.3, 2.1
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = fake_quantize(x, *nudged_grid(tf.constant(low), tf.constant(high), bits), bits)
        theirs = tf.quantization.fake_quant_with_min_max_vars(x, low, high, num_bits=bits)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    assert len(np.unique(ours.numpy())) <= 2**bits
    np.testing.assert_array_equal(tape.gradient(ours, x).numpy(), tape.gradient(theirs, x).numpy())


def test_a_quantized_member_records_the_same_codes_alone_and_among_others(tmp_path, among):
    cli_ok("train", *COMMON, "--seeds", "1", "--first-seed", "2", "--out", str(tmp_path))
    alone, together = (read_run(root / "relu" / "seed-002.h5") for root in (tmp_path, among))
    assert alone.complete and alone.config == together.config and alone.config["quantize_bits"] == 8
    assert [layer.grid for layer in alone.layers] == ["activity"] * 5 + ["logits"]
    for a, b, grid_a, grid_b in zip(alone.codes, together.codes, alone.grids, together.grids):
        assert a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(grid_a, grid_b)
    other = read_run(among / "relu" / "seed-000.h5")
    assert not np.array_equal(other.codes[0], together.codes[0])  # the members differ


def test_exact_equals_fixed_bins_on_the_grid_and_counts_the_distinct_outputs(among):
    run = read_run(among / "relu" / "seed-001.h5")
    table = estimate_run(among / "relu" / "seed-001.h5", "hash", parse_estimators("exact"))
    exact = table.set_index(["epoch", "layer"])[["i_xt", "i_ty"]]
    last = len(run.layers) - 1
    for e, epoch in enumerate(run.epochs):
        for layer in range(last):  # a hidden layer: bins of the grid's step, centred on its levels
            low, scale = run.grids[layer][e]
            fixed = estimate_mi(run.activity[layer][e] - low + scale / 2, run.y, "fixed", bin_size=float(scale))
            np.testing.assert_allclose(exact.loc[(epoch, layer)], fixed, atol=1e-12)
        # the softmax output: its distinct probability vectors, computed in float64 from the logits' grid (in
        # float32 logits shifted alike can differ in their last bit) and counted by NumPy
        low, scale = run.grids[last][e].astype(np.float64)
        logits = run.codes[last][e] * scale + low
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        _, counts = np.unique(np.round(probabilities, 12), axis=0, return_counts=True)
        p = counts / counts.sum()
        assert exact.loc[(epoch, last), "i_xt"] == pytest.approx(-np.sum(p * np.log2(p)), abs=1e-12)
    assert exact["i_xt"].max() > 1.0  # not trivially constant


def test_exact_on_hand_built_codes():
    codes = np.array([[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5], [6, 7], [6, 7]], dtype=np.uint8)
    labels = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    i_xt, i_ty = estimate_mi(codes, labels, "exact")
    assert i_xt == pytest.approx(2.0)  # four states, equally likely
    assert i_ty == pytest.approx(0.5)  # H(Y) = 1; two states are pure, two are half and half: H(Y|T) = 0.5
    assert estimate_mi(codes[:, :1] * 0, labels, "exact") == pytest.approx((0.0, 0.0))


def test_exact_is_refused_for_activity_and_for_a_run_that_is_not_quantized(tmp_path):
    with pytest.raises(ValueError, match="integer codes"):
        estimate_mi(np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1]), "exact")
    write_run(tmp_path / "seed-000.h5", 0)
    with pytest.raises(ValueError, match="not quantized .*--quantize-bits"):
        estimate_run(tmp_path / "seed-000.h5", "hash", parse_estimators("exact,ebab"))
    result = cli_here("estimate", str(tmp_path / "seed-000.h5"), "--estimators", "exact", "--out",
                      str(tmp_path / "mi.parquet"))
    assert result.returncode == 2 and "not quantized" in result.stderr


@pytest.mark.parametrize("options, message", [
    (dict(quantize_bits=6), "must be one of 4, 8"),
    (dict(quantize_bits=8, noise_std=0.01), "deterministic Dense"),
    (dict(quantize_bits=8, record_inputs=100), "records a subset"),
])
def test_a_quantized_network_that_cannot_be_recorded_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        TrainSpec("tanh", **options)


def test_the_study_reports_claims_and_every_estimators_error(among, tmp_path):
    from ib_keras.studies.quantized.claims import quantized_result
    from ib_keras.studies.quantized.configurations import ESTIMATORS
    from ib_keras.studies.quantized.figures import make_quantized_figures
    from ib_keras.studies.quantized.report import write_quantized_report, write_quantized_tables

    table = tmp_path / "mi.parquet"
    cli_ok("estimate", str(among), "--estimators", "exact", "--jobs", "1", "--out", str(table))
    cli_ok("estimate", str(among), "--estimators", ",".join(setting for _, setting in ESTIMATORS.values()),
           "--jobs", "1", "--out", str(table))
    result = quantized_result([table])
    kept = 3 - len(result.excluded)  # after 40 epochs some stay below their restart rule's accuracy
    assert (result.excluded["train_accuracy"] < 0.55).all() and kept >= 1
    assert set(result.errors["name"]) == set(ESTIMATORS) and (result.errors["n"] == 5 * kept).all()
    assert set(result.claims["claim"]) == {"fitting", "output", "binning"}  # ReLU alone: no tanh against ReLU
    rows = read_table(table)  # one error by hand: uniform 30 bins against exact, layer 1, over the kept layer-epochs
    rows = rows[~rows["run"].isin(result.excluded["run"])]
    pick = lambda estimator: rows[(rows["estimator"] == estimator) & (rows["layer"] == 0)].sort_values(["run", "epoch"])
    coarse = pick("uniform")[lambda frame: frame["params"].str.contains('"n_bins": 30')]
    by_hand = np.median(np.abs(coarse["i_xt"].to_numpy() - pick("exact")["i_xt"].to_numpy()))
    error = result.errors.set_index(["name", "layer"]).loc[("uniform_30", 0), "xt_median"]
    assert error == pytest.approx(by_hand) and result.errors["xt_p90"].max() > 0
    assert len(make_quantized_figures(result, tmp_path / "figures")) == 2
    written = write_quantized_tables(result, tmp_path / "tables")
    assert pd.read_csv(written[0])["verdict"].tolist() == result.claims["verdict"].tolist()
    report = write_quantized_report(result, tmp_path / "REPORT.md").read_text()
    assert "## Claims" in report and "uniform, 256 bins" in report


def test_the_estimator_benchmark_scores_quantized_and_float_runs_into_its_bundle(among, tmp_path):
    """Issue 42's harness end to end on small runs: exact and the noisy truth beside two settings,
    the leaderboard's error as computed here from the work table, and the bundle's files."""
    from ib_keras.studies.estimators.benchmark import run_benchmark
    from ib_keras.studies.estimators.figures import make_figures
    from ib_keras.studies.estimators.report import write_report, write_tables

    write_run(tmp_path / "float" / "relu" / "seed-000.h5", 0)
    work = tmp_path / "work"
    b = run_benchmark([among / "relu" / "seed-000.h5"], [tmp_path / "float"], work, ("ebab", "kde"), subsamples=(500,),
                      mixture_sizes=(1000,), mixture_seeds=2, cost_grid=((300, 5),), jobs=1)
    assert set(b.rows["family"]) == {"exact", "noisy", "mixture"} and set(b.rows["setting"]) == {"ebab", "kde"}
    assert set(b.rows.loc[b.rows["family"] == "exact", "n"]) == {500, 4096}
    table = read_table(next(work.glob("exact-*.parquet")))
    mine = table[(table["estimator"] == "ebab") & ~table["params"].str.contains("samples")].sort_values(["epoch", "layer"])
    exact = table[(table["estimator"] == "exact") & ~table["params"].str.contains("samples")].sort_values(["epoch", "layer"])
    by_hand = np.median(np.abs(mine["i_xt"].to_numpy() - exact["i_xt"].to_numpy()))
    from ib_keras.studies.estimators.claims import leaderboard

    board = leaderboard(b.rows[b.rows["n"] == 4096]).set_index(["family", "setting"])
    assert board.loc[("exact", "ebab"), "xt_median"] == pytest.approx(by_hand)
    files = make_figures(b.rows, tmp_path) + write_tables(b, tmp_path)
    assert {f.name for f in files} == {"fig_error_n.png", "fig_error_width.png", "leaderboard.csv", "errors.csv",
                                       "costs.csv", "scores.parquet"}
    report = write_report(b, tmp_path / "REPORT.md", {}).read_text()
    assert "## Leaderboard" in report and "| uniform-mixture-2 | EBAB | 0.494 |" in report
