"""The sp estimator (sample propagation in a noisy network) against closed forms, its replica
centres, and the clustering measure within_between."""

import math

import numpy as np
import pytest

from ib_keras.estimate.estimators import estimate_mi, estimate_sp, within_between
from ib_keras.estimate.estimators._propagation import replica_centres

from .helpers import mixture_entropy_1d

WITHIN = 3.0  # standard errors


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
    """Two linear layers on 2048 Gaussian inputs: (x, kernels, labels, s, I(X;T_1)) with I(X;T_1) =
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


def test_replicas_beyond_the_memory_are_refused_before_anything_is_allocated(monkeypatch):
    import ib_keras.estimate.estimators.mi as estimators

    monkeypatch.setattr(estimators, "available_memory", lambda: 2**30)
    x = np.zeros((4096, 12), np.float32)
    kernels, biases = [np.zeros((12, 300), np.float32), np.zeros((300, 2), np.float32)], [np.zeros(300), np.zeros(2)]
    with pytest.raises(ValueError, match=r"sp: 1000 replicas of 4096 inputs through a layer of 300 units need about "
                                         r"18\.3 GiB of memory and 1\.0 GiB are available; use fewer replicas"):
        estimators.estimate_sp(x, kernels, biases, ["tanh", "softmax"], np.arange(4096) % 2, 1, 0.1, replicas=1000)
