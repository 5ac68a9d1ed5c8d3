import json
import math

import numpy as np
import pytest
from scipy.special import logsumexp

from ib_keras.data.tishby import tishby_dataset
from ib_keras.estimate.estimators import METHODS, estimate_mi, estimate_mi_many
from ib_keras.estimate.estimators._binning import ebab_edges
from ib_keras.estimate.estimators._pair_sums import kernel_sums

BINNING = ["uniform", "fixed", "ebab"]
ALL = [*BINNING, "kde", "akde", "noisy"]


@pytest.fixture(scope="module")
def dataset():
    return tishby_dataset()


def _h_bits(labels):
    p = np.bincount(labels) / len(labels)
    return float(-np.sum(p[p > 0] * np.log2(p[p > 0])))


def _naive_binned_mi(bins, labels):
    """Straightforward reference: entropies from unique rows, class by class."""

    def h(rows):
        _, counts = np.unique(rows, axis=0, return_counts=True)
        p = counts / counts.sum()
        return -np.sum(p * np.log2(p))

    h_t = h(bins)
    h_t_y = sum(np.mean(labels == c) * h(bins[labels == c]) for c in np.unique(labels))
    return h_t, h_t - h_t_y


@pytest.mark.parametrize("method", BINNING)
def test_one_hot_of_x_gives_12_bits_and_all_of_h_y(dataset, method):
    _, y = dataset
    one_hot = np.eye(4096, dtype=np.float32)
    i_xt, i_ty = estimate_mi(one_hot, y, method)
    assert i_xt == pytest.approx(12.0, abs=1e-12)
    assert i_ty == pytest.approx(_h_bits(y), abs=1e-12)


@pytest.mark.parametrize("method", ["kde", "akde"])
def test_kde_of_distinct_well_separated_points_tends_to_12_bits(dataset, method):
    x, y = dataset
    params = {"noise_variance": 1e-6} if method == "kde" else {"variance_scale": 1e-6}
    i_xt, i_ty = estimate_mi(x, y, method, **params)  # the 12 bits: every pattern 1 apart at least
    assert i_xt == pytest.approx(12.0, abs=1e-3)
    assert i_ty == pytest.approx(_h_bits(y), abs=1e-3)


@pytest.mark.parametrize("method", ALL)
def test_constant_activity_carries_no_information(dataset, method):
    _, y = dataset
    i_xt, i_ty = estimate_mi(np.full((4096, 3), 0.5, np.float32), y, method)
    tolerance = 1e-9 if method in BINNING else 1e-6  # KDE sums its kernels in float32
    assert i_xt == pytest.approx(0.0, abs=tolerance) and i_ty == pytest.approx(0.0, abs=tolerance)


@pytest.mark.parametrize("method", BINNING)
def test_activity_equal_to_the_label_carries_h_y(dataset, method):
    _, y = dataset
    i_xt, i_ty = estimate_mi(y[:, None].astype(np.float32) * 0.9, y, method)
    assert i_ty == pytest.approx(_h_bits(y), abs=1e-12)
    assert i_xt == pytest.approx(_h_bits(y), abs=1e-12)


@pytest.mark.parametrize("method", ALL)
def test_one_hot_of_ten_balanced_classes_carries_log2_10_bits(method):
    # C = 10 and N = 1000 (not the paper's 2 and 4096): T = one-hot(Y), so I(X;T) = I(T;Y) = H(Y).
    labels = np.arange(1000) % 10
    one_hot = np.eye(10, dtype=np.float32)[labels]
    params = {"kde": {"noise_variance": 1e-3}, "akde": {"variance_scale": 1e-3}}.get(method, {})
    i_xt, i_ty = estimate_mi(one_hot, labels, method, **params)
    tolerance = 1e-12 if method in BINNING else 1e-5  # KDE: the clusters are 1.4 apart, its kernels 0.03 wide
    assert i_xt == pytest.approx(math.log2(10), abs=tolerance)
    assert i_ty == pytest.approx(math.log2(10), abs=tolerance)


@pytest.mark.parametrize("method", [m for m in ALL if m != "noisy"])  # noisy draws its noise per position
def test_permuting_the_samples_changes_nothing(dataset, method):
    x, y = dataset
    rng = np.random.default_rng(0)
    activity = np.tanh(x @ rng.normal(size=(12, 4)).astype(np.float32))
    order = rng.permutation(4096)
    before = estimate_mi(activity, y, method)
    after = estimate_mi(activity[order], y[order], method)
    assert after == pytest.approx(before, abs=1e-9 if method in BINNING else 1e-5)


@pytest.mark.parametrize("method, params", [("uniform", {"lo": -1.0, "hi": 8.0}), ("uniform", {"lo": 0.0, "hi": 5.0}),
                                            ("fixed", {}),
                                            ("fixed", {"bin_size": 0.3}), ("ebab", {}), ("ebab", {"low": 0.0}),
                                            ("ebab", {"n_bins": 7})])
def test_binning_agrees_with_a_naive_unique_rows_computation(dataset, method, params):
    x, y = dataset
    rng = np.random.default_rng(1)
    activity = np.maximum(x @ rng.normal(size=(12, 5)).astype(np.float32), 0)
    if method == "uniform":
        p = {**METHODS["uniform"], **params}
        bins = np.digitize(activity, np.linspace(p["lo"], p["hi"], p["n_bins"]).astype(np.float32))
    elif method == "fixed":
        bins = np.floor(activity / np.float32(params.get("bin_size", 0.07))).astype(int)
    else:
        p = {**METHODS["ebab"], **params}
        bins = np.digitize(activity, ebab_edges(activity, p["n_bins"], p["low"]))
    assert estimate_mi(activity, y, method, **params) == pytest.approx(_naive_binned_mi(bins, y), abs=1e-9)


def test_ebab_edges_follow_the_definition():
    activity = np.array([[0.0, 0.5], [0.25, 1.0], [0.75, 0.5], [0.0, 2.0]], np.float32)
    # unique levels without low=0: [0.25, 0.5, 0.75, 1.0, 2.0]; 2 bins: u[0], u[floor(5/2)] = u[2], then u[-1]
    np.testing.assert_array_equal(ebab_edges(activity, 2, None), [0.0, 0.25, 0.75, 2.0])
    # with low=-1, 0 is a level too: u = [0, 0.25, 0.5, 0.75, 1, 2], so u[0] and u[3]
    np.testing.assert_array_equal(ebab_edges(activity, 2, -1.0), [-1.0, 0.0, 0.75, 2.0])


def test_ebab_bins_hold_equal_numbers_of_unique_levels():
    rng = np.random.default_rng(2)
    levels = np.sort(rng.choice(np.arange(1, 10_000), size=301, replace=False)).astype(np.float32) / 100
    activity = rng.choice(levels, size=(4096, 3)).astype(np.float32)
    activity[0, 0], activity[1, 1] = levels[0], levels[-1]  # every level is present
    activity.flat[rng.permutation(activity.size)[:301]] = levels
    edges = ebab_edges(activity, 30, None)
    bins = np.digitize(levels, edges)
    per_bin = np.bincount(bins)
    # low (the minimum) alone below edges[1]; then 30 bins of 10 levels, the last of them 9 + u[-1]
    assert per_bin[1] == 1
    np.testing.assert_array_equal(per_bin[2:31], 10)


def test_ebab_is_unchanged_by_a_strictly_increasing_transform(dataset):
    x, y = dataset
    rng = np.random.default_rng(3)
    activity = np.round(np.tanh(x @ rng.normal(size=(12, 4))) * 50) / 50
    transformed = np.exp(3 * activity) - 2
    assert len(np.unique(activity.astype(np.float32))) == len(np.unique(transformed.astype(np.float32)))
    assert estimate_mi(transformed, y, "ebab") == estimate_mi(activity, y, "ebab")


def test_uniform_layer_max_uses_the_layers_largest_activity(dataset):
    x, y = dataset
    activity = np.maximum(x @ np.random.default_rng(4).normal(size=(12, 3)).astype(np.float32), 0)
    top = float(activity.max())
    assert estimate_mi(activity, y, "uniform", lo=0.0, hi="layer_max") == estimate_mi(activity, y, "uniform", lo=0.0, hi=top)


def _brute_force_kde(activity, labels, variance, bound):
    """Float64 Kolchinsky-Tracey bounds straight from the formulas, in bits."""
    t = activity.astype(np.float64)
    d = t.shape[1]

    def h_upper(points, s2):
        distances = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        n = len(points)
        return d / 2 - np.mean(logsumexp(-distances / (2 * s2), axis=1) - np.log(n) - d / 2 * np.log(2 * np.pi * s2))

    def h(points):
        return h_upper(points, variance) if bound == "upper" else h_upper(points, 4 * variance) + d / 2 * np.log(0.25)

    h_t = h(t)
    h_t_y = sum(np.mean(labels == c) * h(t[labels == c]) for c in np.unique(labels))
    h_t_x = d / 2 * (np.log(2 * np.pi * variance) + 1)
    return (h_t - h_t_x) / np.log(2), (h_t - h_t_y) / np.log(2)


@pytest.mark.parametrize("bound", ["upper", "lower"])
@pytest.mark.parametrize("variance", [1e-3, 0.05, 1.0])
def test_kde_matches_a_brute_force_float64_computation(bound, variance):
    rng = np.random.default_rng(5)
    activity = np.tanh(rng.normal(size=(300, 4))).astype(np.float32)
    labels = rng.integers(0, 3, 300)
    expected = _brute_force_kde(activity, labels, variance, bound)
    assert estimate_mi(activity, labels, "kde", noise_variance=variance, bound=bound) == pytest.approx(expected, abs=1e-4)


def test_kde_keeps_its_precision_for_large_activity():
    rng = np.random.default_rng(6)
    activity = (50 + rng.normal(size=(200, 3)) * 0.05).astype(np.float32)  # far from 0, close together
    labels = rng.integers(0, 2, 200)
    expected = _brute_force_kde(activity, labels, 1e-3, "upper")
    assert estimate_mi(activity, labels, "kde") == pytest.approx(expected, abs=1e-3)


def test_akde_is_kde_with_variance_scaled_by_the_largest_activity(dataset):
    x, y = dataset
    activity = np.maximum(x @ np.random.default_rng(7).normal(size=(12, 3)).astype(np.float32), 0)
    largest = float(np.abs(activity).max())
    assert estimate_mi(activity, y, "akde", variance_scale=0.2) == pytest.approx(
        estimate_mi(activity, y, "kde", noise_variance=0.2 * largest), abs=1e-9)


def test_huge_noise_hides_everything(dataset):
    x, y = dataset
    i_xt, i_ty = estimate_mi(x, y, "kde", noise_variance=1e5)
    assert i_xt == pytest.approx(0.0, abs=1e-3) and i_ty == pytest.approx(0.0, abs=1e-3)


def test_the_lower_bound_lies_below_the_upper_bound(dataset):
    x, y = dataset
    rng = np.random.default_rng(8)
    for variance in (1e-3, 1e-2, 1e-1):
        activity = np.tanh(x @ rng.normal(size=(12, 5)).astype(np.float32))
        lower = estimate_mi(activity, y, "kde", noise_variance=variance, bound="lower")
        upper = estimate_mi(activity, y, "kde", noise_variance=variance, bound="upper")
        assert lower[0] <= upper[0]


@pytest.mark.parametrize(
    "activity, labels, method, params, message",
    [
        (np.array([[np.nan], [1.0]]), np.array([0, 1]), "ebab", {}, "NaN or inf"),
        (np.array([[np.inf], [1.0]]), np.array([0, 1]), "kde", {}, "NaN or inf"),
        (np.ones((3, 2)), np.array([0, 1]), "fixed", {}, "labels must have shape"),
        (np.ones(3), np.array([0, 1, 0]), "fixed", {}, r"\(N, d\)"),
        (np.ones((3, 2)), np.array([1, 1, 1]), "uniform", {}, "single class"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "ebab", {"n_bins": 0}, "n_bins must be"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "kde", {"noise_variance": 0.0}, "noise_variance must be"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "kde", {"bound": "middle"}, "bound must be"),
        (np.zeros((3, 2)), np.array([0, 1, 0]), "akde", {}, "all zero"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "ksg", {}, "unknown estimator 'ksg'; valid estimators: uniform"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "ebab", {"bins": 3}, "unknown parameter"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "uniform", {"lo": 1.0, "hi": 0.0}, "hi must be"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "noisy", {"replicas": 5}, "replicas must be an even"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "noisy", {"replicas": 2}, "replicas must be an even"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "noisy", {"noise_variance": None}, "give noise_variance"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "noisy", {"noise_variance": 1e-3, "variance_scale": 0.1},
         "one of them"),
        (np.ones((3, 2)), np.array([0, 1, 0]), "noisy", {"seed": 1.5}, "seed must be"),
        (np.zeros((3, 2)), np.array([0, 1, 0]), "noisy", {"variance_scale": 0.1}, "all zero"),
    ],
)
def test_bad_input_raises_a_value_error_naming_the_problem(activity, labels, method, params, message):
    with pytest.raises(ValueError, match=message):
        estimate_mi(activity, labels, method, **params)


@pytest.mark.parametrize("n_edges", [1, 30, 300])
def test_bin_indices_equal_numpy_digitize_including_ties_and_duplicate_edges(n_edges):
    from ib_keras.estimate.estimators._binning import _digitize

    rng = np.random.default_rng(9)
    values = np.round(rng.normal(size=(500, 4)), 1).astype(np.float32)  # many ties with the edges
    edges = np.sort(rng.choice(values.ravel(), n_edges)).astype(np.float32)  # duplicates likely
    np.testing.assert_array_equal(_digitize(values, edges), np.digitize(values, edges))


@pytest.mark.parametrize("n, d", [(203, 1), (130, 10), (97, 4)])
def test_kernel_sums_match_a_float64_computation_for_every_variance(n, d):
    # n not a multiple of four and three unsorted classes of unequal size: every path of the
    # sweep (four rows, the pairs inside them, a class's last rows, same and other class).
    rng = np.random.default_rng(n)
    points = (3 + rng.normal(size=(n, d))).astype(np.float32)
    classes = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    variances = [1e-3, 0.1, 2.0]
    total, own = kernel_sums(points, classes, variances)
    distances = ((points[:, None, :].astype(np.float64) - points[None, :, :]) ** 2).sum(-1)
    for s, variance in enumerate(variances):
        kernel = np.exp(-distances / (2 * variance))
        np.testing.assert_allclose(total[s], kernel.sum(axis=1), rtol=1e-5)
        np.testing.assert_allclose(own[s], (kernel * (classes[:, None] == classes[None, :])).sum(axis=1), rtol=1e-5)


def test_estimating_settings_together_equals_estimating_each_alone(dataset):
    x, y = dataset
    activity = np.tanh(x @ np.random.default_rng(9).normal(size=(12, 6)).astype(np.float32))
    # kde lower at 1e-3 and kde upper at 4e-3 share one kernel variance; binning in between.
    requests = [("kde", {}), ("ebab", {}), ("kde", {"bound": "lower"}), ("kde", {"noise_variance": 4e-3}),
                ("akde", {"variance_scale": 0.01}), ("uniform", {}), ("akde", {"bound": "lower"})]
    together = estimate_mi_many(activity, y, requests)
    alone = [estimate_mi(activity, y, method, **params) for method, params in requests]
    np.testing.assert_allclose(np.array(together), np.array(alone), rtol=0, atol=1e-9)


def test_uniform_refuses_activity_beyond_its_range_instead_of_clipping_it():
    activity = np.linspace(0.0, 2.0, 40, dtype=np.float32)[:, None]
    labels = np.arange(40) % 2
    with pytest.raises(ValueError, match=r"spans \[0, 2\], beyond the bins' range \[0, 1\]"):
        estimate_mi(activity, labels, "uniform", lo=0.0, hi=1.0)
    assert estimate_mi(activity, labels, "uniform", lo=0.0, hi=2.0) == estimate_mi(activity, labels, "uniform", lo=0.0,
                                                                                    hi="layer_max")


def test_a_tables_run_max_is_resolved_from_the_run_not_refused_without_a_way(tmp_path):
    from ib_keras.estimate import estimate_runs, parse_estimators, resolve_run_values
    from ib_keras.runfile import read_run

    from .helpers import write_run

    run = read_run(write_run(tmp_path / "seed-000.h5", 0, epochs=2))
    table = estimate_runs([run.path], parse_estimators("uniform"), tmp_path / "mi.parquet", progress=False)
    row = table[(table["layer"] == 0) & (table["epoch"] == 0)].iloc[0]
    assert json.loads(row["params"])["hi"] == "activation"  # the request: each layer's activation sets it
    params = json.loads(row["resolved"])  # a ReLU layer's: the run's range
    assert params["hi"] == "run_max"
    with pytest.raises(ValueError, match="resolve_run_values"):
        estimate_mi(run.activity[0][0], run.y, "uniform", **params)
    resolved = resolve_run_values(params, run.activity)
    assert tuple(estimate_mi(run.activity[0][0], run.y, "uniform", **resolved)) == (row["i_xt"], row["i_ty"])
