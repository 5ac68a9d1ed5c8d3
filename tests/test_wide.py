"""Estimators at any width and size: KDE against a float64 direct computation, through the fused
sweep (narrow activity) and the blocked matrix product (wide), where a plain float32 norm
expansion would be bits wrong; and the estimate stage on a class-stratified subsample."""

import math

import numpy as np
import pandas as pd
import pytest

from ib_keras.estimate import estimate_runs, parse_estimators, stratified_subsample
from ib_keras.estimate.estimators import estimate_mi
from ib_keras.estimate.estimators._pair_sums import FUSED_MAX_WIDTH
from ib_keras.runfile import read_run

from .helpers import write_run

TOLERANCE = 1e-4  # bits


def _direct_kde(activity, labels, variance):
    """Kolchinsky-Tracey's upper bound, (I(X;T'), I(T';Y)) in bits, every distance in float64."""
    points = activity.astype(np.float64)
    n, d = points.shape
    squared = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    kernels = np.exp(-squared / (2 * variance))

    def entropy(sums, size):
        return 0.5 * d - np.mean(np.log(sums) - math.log(size) - 0.5 * d * math.log(2 * math.pi * variance))

    h_t = entropy(kernels.sum(1), n)
    h_t_given_y = sum(np.mean(labels == c) * entropy(kernels[np.ix_(labels == c, labels == c)].sum(1), np.sum(labels == c))
                      for c in np.unique(labels))
    h_t_given_x = 0.5 * d * (math.log(2 * math.pi * variance) + 1)
    return (h_t - h_t_given_x) / math.log(2), (h_t - h_t_given_y) / math.log(2)


def _activity(kind, d, rng, n=480):
    if kind == "tanh":
        return np.tanh(rng.normal(size=(n, d)))
    if kind == "relu offset":  # large norms: ||t||^2 ~ 1600 d, the distances between them ~ d
        return np.maximum(rng.normal(size=(n, d)), 0) + 40.0
    # near pairs at the noise scale, far from the origin: groups of 4 points 0.02 apart
    centres = np.repeat(rng.normal(size=(n // 4, d)) * 3 + 20.0, 4, axis=0)
    return centres + rng.normal(size=(n, d)) * 0.02 / math.sqrt(d)


@pytest.mark.parametrize("d", [2, 32, 256])
@pytest.mark.parametrize("kind", ["tanh", "relu offset", "near pairs"])
def test_kde_equals_a_float64_direct_computation_at_any_width(d, kind):
    rng = np.random.default_rng(d)
    activity = _activity(kind, d, rng).astype(np.float32)
    labels = rng.integers(0, 2, len(activity))
    for variance in (1e-4, 1e-3, 0.1):
        expected = _direct_kde(activity, labels, variance)
        estimate = estimate_mi(activity, labels, "kde", noise_variance=variance)
        assert np.abs(np.subtract(estimate, expected)).max() < TOLERANCE, (variance, estimate, expected)


def test_the_widths_tested_cross_the_rule():
    assert 2 <= FUSED_MAX_WIDTH < 32  # d = 2 takes the fused sweep, 32 and 256 the matrix product


def test_a_plain_float32_expansion_would_fail_these_cases():
    """The cases are hard: distances from ||a||^2 + ||b||^2 - 2 a.b in float32 miss by far more
    than the tolerance at d = 256 with offsets (so the test above would catch a path without the
    exact recomputation of near pairs)."""
    rng = np.random.default_rng(256)
    activity = _activity("near pairs", 256, rng).astype(np.float32)
    norms = (activity * activity).sum(1)
    squared = np.maximum(norms[:, None] + norms[None, :] - 2 * activity @ activity.T, 0).astype(np.float64)
    kernels = np.exp(-squared / 2e-3)
    naive = np.log(kernels.sum(1)).mean()
    exact_squared = ((activity[:, None, :].astype(np.float64) - activity[None].astype(np.float64)) ** 2).sum(-1)
    exact = np.log(np.exp(-exact_squared / 2e-3).sum(1)).mean()
    assert abs(naive - exact) / math.log(2) > 100 * TOLERANCE


def test_a_stratified_subsample_keeps_each_class_share_and_is_the_same_every_time():
    labels = np.r_[np.zeros(3000, np.int64), np.ones(1096, np.int64)]
    rows = stratified_subsample(labels, 1024)
    assert len(rows) == len(np.unique(rows)) == 1024 and np.all(np.diff(rows) > 0)
    assert np.bincount(labels[rows]).tolist() == [750, 274]  # 3000 / 4096 and 1096 / 4096 of 1024
    assert np.array_equal(rows, stratified_subsample(labels, 1024))
    assert not np.array_equal(rows, stratified_subsample(labels, 1024, seed=1))
    with pytest.raises(ValueError, match=r"from 2 \(one input of each of the 2 classes\) to the run's 4096"):
        stratified_subsample(labels, 4097)


@pytest.mark.parametrize("samples", [3, 4, 10])
def test_a_subsample_keeps_every_class(samples):
    """A class rarer than 1/K keeps one input (taken from the largest quota), not none."""
    labels = np.array([0] * 98 + [1, 2])
    rows = stratified_subsample(labels, samples)
    assert len(rows) == len(set(rows)) == samples
    assert set(labels[rows]) == {0, 1, 2}
    with pytest.raises(ValueError, match=r"from 3 \(one input of each of the 3 classes\)"):
        stratified_subsample(labels, 2)


def test_estimate_on_a_subsample_sits_beside_the_full_estimate(tmp_path):
    run = write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0, epochs=2)
    out = tmp_path / "mi.parquet"
    specs = parse_estimators("ebab,kde")
    estimate_runs([run.parent], specs, out, progress=False)
    table = estimate_runs([run.parent], specs, out, progress=False, samples=256)
    sub = table[table["params"].str.contains('"samples": 256')]
    assert len(sub) == len(table) - len(sub) == 2 * 2 * 2  # estimators x epochs x layers, each
    recorded = read_run(run)
    rows = stratified_subsample(recorded.y, 256)
    for item in sub[sub["estimator"] == "kde"].itertuples():  # each row is the estimate of those 256 inputs
        activity = recorded.activity[item.layer][list(recorded.epochs).index(item.epoch)]
        assert (item.i_xt, item.i_ty) == tuple(estimate_mi(activity[rows], recorded.y[rows], "kde"))
    # the layer's statistics are the whole run's on every row, whatever the subsample
    statistics = ["max_activity", "weights_norm", "grad_mean", "grad_std", "within_between"]
    full = table[~table["params"].str.contains('"samples"')].sort_values(["estimator", "epoch", "layer"])
    pd.testing.assert_frame_equal(sub.sort_values(["estimator", "epoch", "layer"])[statistics].reset_index(drop=True),
                                  full[statistics].reset_index(drop=True))
    with pytest.raises(ValueError, match=f"{run}: --samples: samples must be from 2 .* to the run's 4096"):
        estimate_runs([run.parent], specs, tmp_path / "b.parquet", progress=False, samples=5000, strict=True)
    assert not (tmp_path / "b.parquet").exists()


@pytest.fixture(scope="module")
def overlapping():
    """(activity (512, 24), labels, replica centres (512, 16, 24)): inputs and replicas within a few
    noise scales of each other, 3 from the origin, so that every kernel sum matters."""
    rng = np.random.default_rng(0)
    activity = (rng.normal(size=(512, 24)) * 0.002 + 3).astype(np.float32)
    centres = (activity[:, None, :] + rng.normal(size=(512, 16, 24)) * 0.002).astype(np.float32)
    return activity, rng.integers(0, 2, 512), centres


def test_the_noisy_draws_of_wide_layers_equal_the_fused_sweeps(overlapping, monkeypatch):
    """noisy and sp at d = 24 by the matrix-product path (their default beyond 22 units) and by the
    fused sweep forced: the same draws, the same estimates."""
    from ib_keras.estimate.estimators import _mixture

    activity, labels, centres = overlapping
    results = {}
    for name, width in (("fused", 10**6), ("matrix product", 0)):
        monkeypatch.setattr(_mixture, "FUSED_MAX_WIDTH", width)
        results[name] = (_mixture.mixture_information(activity, labels, 1e-4, 4, 0),
                         _mixture.replica_mixture_information(centres, labels, 1e-4, 4, 8, 1))
    assert 0.5 < results["fused"][0][0] < 8.5 and 0.5 < results["fused"][1][0] < 8.5  # neither 0 nor log2 N
    np.testing.assert_allclose(results["matrix product"], results["fused"], rtol=1e-5, atol=1e-6)
