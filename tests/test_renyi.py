"""The matrix-based Renyi estimator on closed forms."""

import math

import numpy as np
import pytest

from ib_keras.estimate.estimators import estimate_mi
from ib_keras.estimate.estimators._renyi import entropy, knn_width, squared_distances

N = 48


def _far_apart(n=N, d=3):
    return np.random.default_rng(1).normal(size=(n, d)) * 1e3


def _blocks(sizes):
    """A Gram matrix of ones within each block: eigenvalues n_c / N after normalising."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    return (labels[:, None] == labels[None, :]).astype(float)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.01, 2.0])
def test_far_apart_points_give_log2_n_and_equal_points_zero(alpha):
    x = _far_apart()
    y = np.arange(N) % 4
    far = estimate_mi(x, y, "renyi", inputs=x, alpha=alpha, width="fixed", sigma=1.0)
    assert far == pytest.approx((math.log2(N), 2.0), abs=1e-9)  # I(T;Y) = H(Y) of four equal classes
    same = estimate_mi(np.ones((N, 5)), y, "renyi", inputs=x, alpha=alpha, width="fixed", sigma=1.0)
    assert same == pytest.approx((0.0, 0.0), abs=1e-9)
    assert entropy(np.ones((N, N)), alpha) == pytest.approx(0.0, abs=1e-9)
    assert entropy(np.eye(N), alpha) == pytest.approx(math.log2(N), abs=1e-9)


@pytest.mark.parametrize("alpha", [0.5, 1.01, 2.0, 3.0])
def test_a_gram_matrix_of_known_eigenvalues_has_their_renyi_entropy(alpha):
    sizes = [3, 5, 8, 16]
    p = np.array(sizes) / sum(sizes)
    assert entropy(_blocks(sizes), alpha) == pytest.approx(math.log2(np.sum(p**alpha)) / (1 - alpha), abs=1e-9)


def test_alpha_to_one_is_the_shannon_limit():
    sizes = [3, 5, 8, 16]
    p = np.array(sizes) / sum(sizes)
    shannon = float(-np.sum(p * np.log2(p)))
    assert entropy(_blocks(sizes), 1.0) == pytest.approx(shannon, abs=1e-12)
    assert entropy(_blocks(sizes), 1 + 1e-7) == pytest.approx(shannon, abs=1e-5)
    assert abs(entropy(_blocks(sizes), 1.01) - shannon) > 1e-3  # 1.01 is near it, not at it


def test_the_knn_width_of_a_regular_simplex_is_its_side():
    simplex = np.eye(N) / math.sqrt(2)  # every pair at distance 1
    assert knn_width(squared_distances(simplex), 5) == pytest.approx(1.0, abs=1e-12)


def test_the_alignment_width_finds_the_classes_in_well_separated_clusters():
    rng = np.random.default_rng(2)
    y = np.arange(N) % 2
    t = y[:, None] * 50.0 + rng.normal(size=(N, 2))  # two tight clusters, one per class
    _, i_ty = estimate_mi(t, y, "renyi", inputs=t, width="alignment")
    assert i_ty == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("params, message", [
    ({"width": "fixed"}, "sigma is the width of width='fixed'"),
    ({"sigma": 1.0}, "sigma is the width of width='fixed'"),
    ({"width": "median"}, "width must be one of knn, silverman, alignment, fixed"),
    ({"alpha": 0}, "alpha must be a number"),
])
def test_bad_parameters_are_named(params, message):
    x = _far_apart()
    with pytest.raises(ValueError, match=message):
        estimate_mi(x, np.arange(N) % 2, "renyi", inputs=x, **params)


def test_renyi_without_the_inputs_or_on_too_many_is_refused_with_the_fix():
    x = _far_apart()
    with pytest.raises(ValueError, match="renyi needs the inputs X"):
        estimate_mi(x, np.arange(N) % 2, "renyi")
    many = np.zeros((5000, 1), np.float32)
    with pytest.raises(ValueError, match="estimate --samples"):
        estimate_mi(many + np.arange(5000)[:, None], np.arange(5000) % 2, "renyi", inputs=many)


def test_an_information_below_zero_above_alpha_one_is_reported_as_zero_and_said():
    """Six points on which the functional at alpha 2 gives I(T;Y) = -0.113 bits (it bounds I above
    by min(S(A), S(B)), not below by 0): reported as 0 with a warning; at alpha 1.01 it is positive."""
    x = np.array([-3.0, 2, -2, -3, 0, -3])[:, None]
    t = np.array([2.0, -2, -3, 2, 3, 2])[:, None]
    y = np.array([1, 1, 1, 1, 1, 0])
    with pytest.warns(UserWarning, match=r"renyi \(alpha 2\): I\(T;Y\) = -0.1133 bits, below 0, reported as 0"):
        assert estimate_mi(t, y, "renyi", inputs=x, alpha=2.0, neighbours=1).i_ty == 0.0
    assert estimate_mi(t, y, "renyi", inputs=x, alpha=1.01, neighbours=1).i_ty > 0


def test_a_runs_later_layer_epochs_reuse_the_inputs_and_labels_sides_to_the_same_values(monkeypatch):
    """S(X) and S(Y), with their Gram matrices, are computed once per run's inputs and labels:
    a second layer takes three eigendecompositions, not five, and gives what a fresh computation
    gives, bit for bit."""
    from ib_keras.estimate.estimators import _renyi

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(60, 5)), np.arange(60) % 3
    layers = [np.tanh(x @ rng.normal(size=(5, d))) for d in (4, 2)]
    calls = []
    original = _renyi.entropy
    monkeypatch.setattr(_renyi, "entropy", lambda matrix, alpha, lanczos: calls.append(1) or original(matrix, alpha))
    _renyi._kept.clear()
    first = estimate_mi(layers[0], y, "renyi", inputs=x, neighbours=5)
    assert len(calls) == 5
    second = estimate_mi(layers[1], y, "renyi", inputs=x, neighbours=5)
    assert len(calls) == 8  # S(T), S(X, T), S(T, Y): the inputs' and labels' kept
    _renyi._kept.clear()
    assert estimate_mi(layers[1], y, "renyi", inputs=x, neighbours=5) == second and len(calls) == 13
    estimate_mi(layers[1], y, "renyi", inputs=rng.normal(size=x.shape), neighbours=5)
    assert len(calls) == 17  # other inputs: their S(X) computed, the labels' kept
    assert estimate_mi(layers[0], y, "renyi", inputs=x, neighbours=5) == first


@pytest.mark.parametrize("alpha", [1.01, 1.0, 2.0])
def test_lanczos_quadrature_gives_the_eigendecompositions_entropy_within_its_stated_error(alpha):
    """trace="lanczos" (deflation, then stochastic Lanczos quadrature) beside the eigenvalues of
    the same matrices: on a tanh layer of 800 inputs, within 0.05 bits."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(800, 8))
    y = (x[:, 0] + 0.5 * rng.normal(size=800) > 0).astype(np.int64) + (x[:, 1] > 1)
    t = np.tanh(x @ rng.normal(size=(8, 6)) * 0.5)
    exact = estimate_mi(t, y, "renyi", inputs=x, alpha=alpha)
    quadrature = estimate_mi(t, y, "renyi", inputs=x, alpha=alpha, trace="lanczos")
    np.testing.assert_allclose(quadrature, exact, atol=0.05)
    with pytest.raises(ValueError, match="renyi: trace must be one of eig, lanczos, got 'svd'"):
        estimate_mi(t, y, "renyi", inputs=x, trace="svd")
    with pytest.raises(ValueError, match="unknown parameter.*probes"):
        estimate_mi(t, y, "kde", probes=3)
