"""Noisy networks: training with --noise-std, the kernels and biases in the run file, the sp
estimator against closed forms and against the noisy estimator, within_between, the report."""

import hashlib
import json
import math
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

from ib_keras.activations import STATELESS, activation_function, numpy_function
from ib_keras.estimators import estimate_mi, estimate_sp, within_between
from ib_keras.estimators._propagation import replica_centres
from ib_keras.mi_table import read_table
from ib_keras.storage import read_run

from .helpers import ROOT, cli, mixture_entropy_1d

WITHIN = 3.0  # standard errors
NOISE = 0.05
# The readings of `train --activation tanh --seeds 2 --epochs 40 --record-points 6` (activity, metrics,
# weight norms, gradient statistics), recorded with the code before noise and parameters were
# added to the run file (commit 90f56b0): a deterministic run must still read exactly so.
PINNED = {0: "1d3b1dcd5bbe3c61bc9156ad3abd78f5da571391107d0123ef1c0a21394ca3f2",
          1: "80a2d76912a3c51ae2867b32121da677ba5d1058f280c2634919fe33df0e4eaf"}


def _train(out, *extra):
    """Start `train` (tanh, one worker) into ``out``; returns the process and its directory."""
    command = [sys.executable, "-m", "ib_keras", "train", "--activation", "tanh", "--workers", "1", "--out", str(out),
               *extra]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), out / "tanh"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A deterministic pair (the pinned command), a noisy pair of the same seeds, and seed 1 trained
    alone with the same noise: three trainings at once."""
    root = tmp_path_factory.mktemp("noisy")
    started = {"deterministic": _train(root / "deterministic", "--seeds", "2", "--epochs", "40", "--record-points", "6"),
               "noisy": _train(root / "noisy", "--seeds", "2", "--epochs", "40", "--record-points", "6",
                               "--noise-std", str(NOISE)),
               "alone": _train(root / "alone", "--seeds", "1", "--first-seed", "1", "--epochs", "40",
                               "--record-points", "6", "--noise-std", str(NOISE))}
    for process, _ in started.values():
        assert process.wait() == 0, process.stderr.read()
    return {name: directory for name, (_, directory) in started.items()}


def _readings(run):
    digest = hashlib.sha256()
    for activity in run.activity:
        digest.update(np.ascontiguousarray(activity).tobytes())
    for name in sorted(run.metrics):
        digest.update(run.metrics[name].tobytes())
    for values in (run.weights_norm, run.grad_mean, run.grad_std):
        digest.update(values.tobytes())
    return digest.hexdigest()


def test_a_deterministic_run_reads_exactly_as_before_the_schema_change(runs):
    for seed, pinned in PINNED.items():
        run = read_run(runs["deterministic"] / f"seed-{seed:03d}.h5")
        assert "noise_std" not in run.config
        assert _readings(run) == pinned


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
    result = cli("train", "--activation", "tanh", "--epochs", "2", "--noise-std", value, "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "--noise-std" in result.stderr
    assert not (tmp_path / "r").exists()


def test_numpy_functions_equal_the_keras_ones():
    z = np.random.default_rng(0).normal(0, 4, (200, 3)).astype(np.float32)
    for name in STATELESS:
        expected = z if name == "linear" else np.asarray(activation_function(name)(z))
        np.testing.assert_allclose(numpy_function(name)(z), expected, atol=3e-6)


# sp against closed forms


def test_sp_of_a_one_dimensional_layer_equals_numerical_integration():
    x = np.array([[0.0], [0.4], [1.0]], np.float32)
    labels = np.array([0, 1, 1])
    s = 0.03
    centres = np.tanh(x[:, 0] * 0.1)  # within a few s of each other: the components overlap
    h = mixture_entropy_1d(centres, s**2)
    i_xt = (h - 0.5 * math.log(2 * math.pi * math.e * s**2)) / math.log(2)
    i_ty = (h - mixture_entropy_1d(centres[:1], s**2) / 3 - 2 * mixture_entropy_1d(centres[1:], s**2) / 3) / math.log(2)
    estimate = estimate_sp(x, [np.array([[0.1]], np.float32)], [np.zeros(1, np.float32)], ["tanh"], labels, 0, s,
                           replicas=500, marginal_replicas=1, mc_samples=1000)
    assert 0 < estimate.i_xt_se < 0.05
    assert abs(estimate.i_xt - i_xt) <= WITHIN * estimate.i_xt_se
    assert abs(estimate.i_ty - i_ty) <= WITHIN * estimate.i_ty_se


def test_sp_with_vanishing_noise_gives_log2_n_at_every_layer_that_keeps_inputs_apart():
    rng = np.random.default_rng(1)
    x = rng.choice([0.0, 1.0], size=(64, 12)).astype(np.float32)
    x = np.unique(x, axis=0)
    labels = np.arange(len(x)) % 2
    shares = np.bincount(labels) / len(labels)
    kernels = [rng.normal(size=(12, 6)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)]
    biases = [np.zeros(6, np.float32), np.zeros(4, np.float32)]
    for layer in (0, 1):
        estimate = estimate_sp(x, kernels, biases, ["tanh", "tanh"], labels, layer, 1e-6)
        assert estimate.i_xt == pytest.approx(math.log2(len(x)), abs=1e-6)
        assert estimate.i_ty == pytest.approx(-np.sum(shares * np.log2(shares)), abs=1e-6)


def _linear_gaussian():
    """Two linear layers on Gaussian inputs: (x, kernels, labels, s, I(X;T_1)) with I(X;T_1) =
    1/2 log2 det(I + W1^T W1 / s^2) bits, the information of the Gaussian population."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2048, 2)).astype(np.float32)
    w1 = np.array([[1.0, 0.3], [-0.2, 0.8]], np.float32)
    w2 = np.array([[0.9, -0.4], [0.5, 1.1]], np.float32)
    s = 0.5
    return x, [w1, w2], (x[:, 0] > 0).astype(np.int64), s, 0.5 * math.log2(np.linalg.det(np.eye(2) + w1.T @ w1 / s**2))


def _exact_conditional_information(means, covariance, draws, seed):
    """(I(X;T), se) in bits for X uniform over the rows of ``means`` and T | x ~ N(mean_x, covariance)
    exactly: Monte Carlo over ``draws`` draws per input, every density in closed form."""
    rng = np.random.default_rng(seed)
    n, d = means.shape
    chol = np.linalg.cholesky(covariance)
    inverse = np.linalg.inv(covariance)
    per_input = np.zeros((draws, n))
    for k in range(draws):
        u = means + rng.standard_normal((n, d)) @ chol.T
        delta = u[:, None, :] - means[None, :, :]  # (draw, centre, d)
        exponents = -0.5 * np.einsum("ijk,kl,ijl->ij", delta, inverse, delta)
        own = np.diagonal(exponents)
        top = exponents.max(axis=1)
        log_marginal = top + np.log(np.exp(exponents - top[:, None]).mean(axis=1))
        per_input[k] = (own - log_marginal) / math.log(2)
    return per_input.mean(), per_input.mean(axis=0).std(ddof=1) / math.sqrt(n)


def test_sp_of_linear_layers_on_gaussian_inputs_meets_the_closed_forms():
    x, kernels, labels, s, first = _linear_gaussian()
    biases = [np.zeros(2, np.float32)] * 2
    one = estimate_sp(x, kernels, biases, ["linear"] * 2, labels, 0, s)
    # 2048 samples stand for the Gaussian: the first layer's T given x is exact, its mixture
    # marginal within the Monte Carlo error of the Gaussian one
    assert abs(one.i_xt - first) <= WITHIN * one.i_xt_se
    # The second layer's T given x is exactly N(x W1 W2, s^2 (W2^T W2 + I)): the same information
    # computed with that density in closed form. sp represents it by R replica centres, a bias that
    # shrinks as R grows (here 0.13 bits at 16 replicas, 0.05 at the default 64, 0.02 at 1000, within the standard errors).
    w1, w2 = (k.astype(np.float64) for k in kernels)
    exact, exact_se = _exact_conditional_information(x @ w1 @ w2, s**2 * (w2.T @ w2 + np.eye(2)), 16, seed=9)
    few, many = (estimate_sp(x, kernels, biases, ["linear"] * 2, labels, 1, s, replicas=r, marginal_replicas=16,
                             mc_samples=32) for r in (16, 1000))
    assert few.i_xt - exact > WITHIN * math.hypot(few.i_xt_se, exact_se)  # too few replicas: too much information
    assert abs(many.i_xt - exact) <= WITHIN * math.hypot(many.i_xt_se, exact_se)


def test_replica_centres_share_the_earlier_layers_noise_whichever_layer_is_asked():
    x, kernels, _, s, _ = _linear_gaussian()
    biases = [np.zeros(2, np.float32)] * 2
    first = replica_centres(x, kernels, biases, ["linear"] * 2, 0, s, 8, seed=5)
    second = replica_centres(x, kernels, biases, ["linear"] * 2, 1, s, 8, seed=5)
    assert np.all(first == first[:, :1])  # the first layer is deterministic: its replicas coincide
    noise = np.random.default_rng([5, 0, 0]).standard_normal((len(x), 8, 2), dtype=np.float32)
    np.testing.assert_allclose(second, (first + np.float32(s) * noise) @ kernels[1], rtol=1e-5, atol=1e-5)


def test_sp_refuses_one_layers_activity_and_bad_settings():
    with pytest.raises(ValueError, match="estimate_sp"):
        estimate_mi(np.zeros((4, 2)), np.array([0, 1, 0, 1]), "sp")
    x, kernels, labels, s, _ = _linear_gaussian()
    for bad, match in (({"mc_samples": 6}, "multiple of 4"), ({"marginal_replicas": 80}, "at most replicas"),
                       ({"replicas": 0}, "replicas")):
        with pytest.raises(ValueError, match=match):
            estimate_sp(x, kernels, [np.zeros(2)] * 2, ["linear"] * 2, labels, 1, s, **bad)


def test_within_between_equals_the_mean_over_pairs():
    rng = np.random.default_rng(0)
    activity = rng.normal(size=(300, 3)) + 100.0  # far from the origin: the sums must not cancel
    labels = rng.integers(0, 3, 300)
    squared = ((activity[:, None] - activity[None]) ** 2).sum(-1)
    same, other = labels[:, None] == labels[None], ~np.eye(300, dtype=bool)
    assert within_between(activity, labels) == pytest.approx(squared[same & other].mean() / squared[~same].mean(),
                                                             rel=1e-9)
    two_points = np.array([[0.0], [0.0], [1.0], [1.0]])
    assert within_between(two_points, np.array([0, 0, 1, 1])) == 0.0  # each class one point


# The estimate stage and the report


SUBSAMPLE = ("--samples", "1024")  # sp's pairs cost N^2: a quarter of the inputs, a sixteenth of the time


@pytest.fixture(scope="module")
def table(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("table") / "mi.parquet"
    result = cli("estimate", str(runs["noisy"]), "--estimators",
                 f"sp:mc_samples=8,noisy:noise_variance={NOISE**2},kde:noise_variance={NOISE**2},"
                 f"fixed:bin_size={NOISE},ebab", "--out", str(out), "--jobs", "2", *SUBSAMPLE)
    assert result.returncode == 0, result.stderr
    result = cli("estimate", str(runs["noisy"] / "seed-000.h5"), "--estimators",
                 "sp:replicas=256:marginal_replicas=16", "--epoch-stride", "3", "--out", str(out), "--jobs", "2",
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
    result = cli("estimate", str(deterministic), "--estimators", "sp", "--out", str(tmp_path / "a.parquet"), "--strict")
    assert result.returncode == 2 and "give sp:noise_std=S" in result.stderr and "seed-000.h5" in result.stderr
    old = tmp_path / "old.h5"
    old.write_bytes(deterministic.read_bytes())
    with h5py.File(old, "r+") as f:  # a file from before kernels were kept
        del f["kernels"], f["biases"]
    result = cli("estimate", str(old), "--estimators", "sp:noise_std=0.05", "--out", str(tmp_path / "b.parquet"),
                 "--strict")
    assert result.returncode == 2 and "kernels and biases" in result.stderr and "old.h5" in result.stderr
    assert not (tmp_path / "a.parquet").exists() and not (tmp_path / "b.parquet").exists()


def test_sp_is_reproducible_and_a_layer_estimated_alone_is_the_same(table, runs, tmp_path):
    out = tmp_path / "again.parquet"
    result = cli("estimate", str(runs["noisy"] / "seed-001.h5"), "--estimators", "sp:mc_samples=8", "--out", str(out),
                 "--jobs", "2", *SUBSAMPLE)  # one file, two workers: a task per layer
    assert result.returncode == 0, result.stderr
    again = read_table(out).set_index(["epoch", "layer"])["i_xt"]
    first = read_table(table)
    first = first[(first["seed"] == 1) & (first["estimator"] == "sp")].set_index(["epoch", "layer"])["i_xt"]
    pd.testing.assert_series_equal(again.sort_index(), first.sort_index())


def test_the_noisy_report_states_each_claim_with_its_rule_and_n(table, tmp_path):
    out = tmp_path / "report"
    result = cli("noisy-report", str(table), "--out", str(out))
    assert result.returncode == 0, result.stderr
    report = (out / "REPORT.md").read_text()
    for claim in ("compression", "clustering", "binned entropy", "first layer"):
        assert claim in report
    assert report.count("(n = ") == 4 and "tanh 2 networks x 7 epochs" in report
    assert "sp's replica bias" in report
    for name in ("fig_noisy_planes", "fig_noisy_clustering", "fig_noisy_representations"):
        assert f"![{name}]({name}.png)" in report and 0 < (out / f"{name}.png").stat().st_size < 1_000_000
    compact = pd.read_parquet(out / "noisy.parquet")
    assert set(compact["estimator"]) == {"sp", "noisy", "kde", "fixed", "ebab"}
    assert set(compact.loc[compact["estimator"] == "sp", "replicas"]) == {64, 256}


def test_the_noisy_report_refuses_a_table_without_sp(runs, tmp_path):
    out = tmp_path / "plain.parquet"
    assert cli("estimate", str(runs["noisy"]), "--estimators", "ebab", "--out", str(out)).returncode == 0
    result = cli("noisy-report", str(out), "--out", str(tmp_path / "report"))
    assert result.returncode == 2 and "no sp rows" in result.stderr
    assert not (tmp_path / "report" / "REPORT.md").exists()

