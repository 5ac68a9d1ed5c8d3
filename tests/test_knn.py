"""``knn``: Ross's kNN estimator against closed forms and exact cases (independent variables: 0
bits; a binary Gaussian channel, by quadrature; class-separated T: H(Y); inputs far apart:
log2 N), against the ``noisy`` Monte Carlo truth of the same T', and its refusals."""

import numpy as np
import pytest
from scipy import integrate, stats

from ib_keras.estimate.estimators import estimate_mi

N = 2000


def _entropy(labels):
    p = np.bincount(labels) / len(labels)
    return float(-np.sum(p[p > 0] * np.log2(p[p > 0])))


def test_independent_gaussians_give_zero_bits():
    rng = np.random.default_rng(0)
    t, y = rng.normal(size=(N, 2)).astype(np.float32), rng.integers(0, 2, N)
    assert estimate_mi(t, y, "knn", noise_variance=0).i_ty < 0.01


def test_a_binary_gaussian_channel_gives_its_information_by_quadrature():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, N)
    t = (rng.normal(size=(N, 1)) + np.where(y == 1, 1.0, -1.0)[:, None]).astype(np.float32)
    mixture = lambda u: 0.5 * (stats.norm.pdf(u, 1.0) + stats.norm.pdf(u, -1.0))  # noqa: E731
    h_t = integrate.quad(lambda u: -mixture(u) * np.log2(mixture(u)), -12, 12)[0]
    truth = h_t - 0.5 * np.log2(2 * np.pi * np.e)  # H(T) - H(T|Y), bits
    assert estimate_mi(t, y, "knn", noise_variance=0).i_ty == pytest.approx(truth, abs=0.03)


@pytest.mark.parametrize("spread", [0.1, 0.0])  # 0: a discrete T, every point tied with its class
def test_class_separated_t_gives_the_label_entropy(spread):
    rng = np.random.default_rng(2)
    y = rng.choice(3, N, p=[0.5, 0.3, 0.2])
    t = (10 * np.eye(3)[y] + spread * rng.normal(size=(N, 3))).astype(np.float32)
    i_xt, i_ty = estimate_mi(t, y, "knn", noise_variance=0)
    assert i_ty == pytest.approx(_entropy(y), abs=1e-3)
    # noise_variance 0: I(X;T) = H(T) of the distinct rows, counted
    assert i_xt == pytest.approx(np.log2(N) if spread else _entropy(y), abs=1e-9)


def test_inputs_far_apart_give_log2_n_and_closer_ones_the_side_of_the_noisy_truth():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    apart = 10 * rng.normal(size=(300, 5)).astype(np.float32)
    assert estimate_mi(apart, y, "knn").i_xt == pytest.approx(np.log2(300), abs=1e-9)  # at most H(X), reached
    close = 0.05 * rng.normal(size=(400, 3)).astype(np.float32)
    labels = (close[:, 0] > 0).astype(np.int64)
    knn = estimate_mi(close, labels, "knn", replicas=8)
    truth = estimate_mi(close, labels, "noisy", noise_variance=1e-3, replicas=64)
    # the same T' = T + N(0, 1e-3 I): kNN's known bias at high information is downward (Kraskov et al.)
    assert truth.i_xt - 1.0 < knn.i_xt < truth.i_xt + 0.05
    assert knn.i_ty == pytest.approx(truth.i_ty, abs=0.05)


@pytest.mark.parametrize("params, message", [
    ({"k": 0}, "k must be a whole number from 1 to 100"),
    ({"k": 4}, r"k \(4\) must be below replicas \(4\)"),
    ({"replicas": 1}, "replicas must be a whole number from 2"),
    ({"noise_variance": -1.0}, "noise_variance must be a number from"),
    ({"k": True}, "k must be a number, not True"),
])
def test_bad_parameters_are_refused_in_one_line(params, message):
    with pytest.raises(ValueError, match=message) as refused:
        estimate_mi(np.zeros((10, 2), np.float32), np.arange(10) % 2, "knn", **params)
    assert "\n" not in str(refused.value)


def test_the_tree_and_the_pair_counts_give_the_same_estimate(monkeypatch):
    """The two ways of counting neighbours (k-d trees up to 16 dimensions, blocks of all distances
    above) are the same estimator: forced onto one data set, with ties, they agree."""
    from ib_keras.estimate.estimators import _knn

    rng = np.random.default_rng(4)
    y = rng.integers(0, 3, 500)
    t = np.round(rng.normal(size=(500, 3)) + y[:, None], 1).astype(np.float32)  # rounded: some rows tied
    by_trees = [estimate_mi(t, y, "knn", replicas=6), estimate_mi(t, y, "knn", noise_variance=0)]
    monkeypatch.setattr(_knn, "_TREE_DIMENSIONS", 0)
    by_pairs = [estimate_mi(t, y, "knn", replicas=6), estimate_mi(t, y, "knn", noise_variance=0)]
    np.testing.assert_allclose(by_pairs, by_trees, atol=1e-9)
