"""Estimator speed: ms per layer-epoch at N = 4096 for every method, beside a straightforward
baseline timed in the same run (the original codes' approach: unique rows of binned activity,
one pass per class; KDE as Saxe et al.'s TensorFlow graph, a matmul distance matrix and one pass
per entropy). The last line times the four KDE settings of run_all.sh asked for together, against
the same baseline run once per setting. Then the truth (``noisy``, r = 4 draws per input) against one ``kde`` setting of the
same s2, timed side by side at every width of the paper's network (the issue's target: at most 6x).
Then sample propagation (``sp`` at its defaults) per layer of a noisy tanh network (s = 0.005)
beside one ``kde`` setting on the same layer's noise-free activity. Last, the cost curve of one
``kde`` setting (I(X;T) and I(T;Y)) over widths d at N = 4096 and over N at d = 10 and 256, each
beside the plain NumPy way timed in the same run (float32 matrix-product distances and scipy's
logsumexp, I(X;T) alone).

    .venv/bin/python benchmarks/estimators.py [--repeats 20] [--curve-only]
"""

from __future__ import annotations

import argparse
import time

import ib_keras  # noqa: F401  (sets TensorFlow's environment before it loads)
import numpy as np
import tensorflow as tf
from scipy.special import logsumexp

from ib_keras.data.tishby import tishby_dataset
from ib_keras.estimate.estimators import METHODS, estimate_mi, estimate_mi_many, estimate_sp
from ib_keras.estimate.estimators._propagation import replica_centres
from ib_keras.networks.activations import OUTPUT_ACTIVATION
from ib_keras.networks.models import HIDDEN_UNITS, N_CLASSES


def _unique_rows_entropy(rows: np.ndarray) -> float:
    rows = np.ascontiguousarray(rows)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    _, counts = np.unique(keys, return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * np.log2(p)))


def _baseline_binned(bins: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    h_t = _unique_rows_entropy(bins)
    h_t_y = sum(np.mean(labels == c) * _unique_rows_entropy(bins[labels == c]) for c in np.unique(labels))
    return h_t, h_t - h_t_y


def _baseline_ebab_bins(activity: np.ndarray, n_bins: int) -> np.ndarray:
    levels = np.unique(activity)
    edges = [levels[0]]
    rest = levels[1:]
    for k in range(n_bins):
        edges.append(rest[int(k * (rest.size / n_bins))])
    edges.append(rest[-1])
    edges = np.asarray(edges, dtype=np.float32)
    return edges[np.digitize(activity, edges) - 1]


def _baseline_kde_entropy(points: tf.Tensor, variance: float) -> tf.Tensor:
    squares = tf.reduce_sum(points * points, axis=1, keepdims=True)
    distances = squares + tf.transpose(squares) - 2 * tf.matmul(points, points, transpose_b=True)
    n, d = points.shape
    log_probs = tf.reduce_logsumexp(-distances / (2 * variance), axis=1) - np.log(n) - d / 2 * np.log(2 * np.pi * variance)
    return d / 2 - tf.reduce_mean(log_probs)


def _baseline_kde(activity: np.ndarray, labels: np.ndarray, variance: float) -> tuple[float, float]:
    h_t = float(_baseline_kde_entropy(tf.constant(activity), variance))
    h_t_y = sum(np.mean(labels == c) * float(_baseline_kde_entropy(tf.constant(activity[labels == c]), variance))
                for c in np.unique(labels))
    d = activity.shape[1]
    return h_t - d / 2 * (np.log(2 * np.pi * variance) + 1), h_t - h_t_y


BASELINES = {
    "uniform": lambda a, y: _baseline_binned(np.digitize(a, np.linspace(-1, 1, 30).astype(np.float32)), y),
    "fixed": lambda a, y: _baseline_binned(np.floor(a / np.float32(0.07)).astype(int), y),
    "ebab": lambda a, y: _baseline_binned(_baseline_ebab_bins(a, 30), y),
    "kde": lambda a, y: _baseline_kde(a, y, 1e-3),
    "akde": lambda a, y: _baseline_kde(a, y, 0.1 * float(np.abs(a).max())),
}
# run_all.sh's KDE settings: Saxe et al.'s fixed noise and aKDE at three variance scales.
RUN_ALL_KDE = [("kde", {}), *(("akde", {"variance_scale": scale}) for scale in (0.01, 0.1, 1.0))]


def _ms(function, repeats: int) -> float:
    function()  # warm up (tracing, compiling)
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return 1000 * (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--curve-only", action="store_true", help="print the width and size curve alone")
    args = parser.parse_args()
    if args.curve_only:
        _cost_curve()
        return
    x, y = tishby_dataset()
    weights = np.random.default_rng(0).normal(size=(12, 10)).astype(np.float32)
    activity = np.tanh(x @ weights * 0.7)  # a 10-unit layer, the widest of the network
    print(f"N = {len(x)}, d = {activity.shape[1]}, {args.repeats} repeats; ms per layer-epoch")
    print(f"{'method':8s} {'ib_keras':>10s} {'baseline':>10s} {'speed-up':>9s}")
    for method in BASELINES:
        ours = _ms(lambda: estimate_mi(activity, y, method), args.repeats)
        baseline = _ms(lambda: BASELINES[method](activity, y), max(3, args.repeats // 4))
        print(f"{method:8s} {ours:10.3f} {baseline:10.3f} {baseline / ours:8.1f}x")
    largest = float(np.abs(activity).max())
    variances = [1e-3, *(scale * largest for scale in (0.01, 0.1, 1.0))]
    ours = _ms(lambda: estimate_mi_many(activity, y, RUN_ALL_KDE), args.repeats)
    baseline = _ms(lambda: [_baseline_kde(activity, y, v) for v in variances], max(3, args.repeats // 4))
    print(f"{'4 KDE':8s} {ours:10.3f} {baseline:10.3f} {baseline / ours:8.1f}x   (kde + akde 0.01, 0.1, 1 together)")
    _noisy_against_kde(x, y, args.repeats)
    _sp_per_layer(x, y, args.repeats)
    _cost_curve()


def _numpy_kde_i_xt(activity: np.ndarray, variance: float, block: int = 1024) -> float:
    """I(X;T') (bits, upper bound) the plain NumPy way: float32 distances from a matrix product per
    block of rows, scipy's logsumexp."""
    n, d = activity.shape
    norms = (activity * activity).sum(1)
    log_sums = np.concatenate([logsumexp(-np.maximum(norms[i:i + block, None] + norms[None] - 2 * activity[i:i + block]
                                                      @ activity.T, 0) / (2 * variance), axis=1)
                               for i in range(0, n, block)])
    return float((np.log(n) - log_sums.mean()) / np.log(2))


def _cost_curve() -> None:
    """ms of one kde setting (s2 = 1e-3) per layer-epoch over widths and sample counts, beside the
    plain NumPy way; tanh activity of a random layer on random binary inputs."""
    print(f"\nkde cost curve (one setting, s2 = 1e-3)\n{'N':>6s} {'d':>5s} {'ib_keras':>10s} {'numpy':>10s} {'ratio':>7s}")
    rng = np.random.default_rng(3)
    for n, d in [*((4096, d) for d in (2, 10, 24, 32, 64, 256, 1024)),
                 *((n, d) for d in (10, 256) for n in (1024, 4096, 16384))]:
        inputs = rng.choice([0.0, 1.0], size=(n, 64)).astype(np.float32)
        activity = np.tanh(inputs @ rng.normal(size=(64, d)).astype(np.float32) / 4)
        labels = rng.integers(0, 2, n)
        repeats = max(1, int(2e8 // (n * n * max(d, 16))))
        ours = _ms(lambda: estimate_mi(activity, labels, "kde"), repeats)
        numpy = _ms(lambda: _numpy_kde_i_xt(activity, 1e-3), repeats)
        print(f"{n:6d} {d:5d} {ours:10.1f} {numpy:10.1f} {numpy / ours:6.2f}x")


def _noisy_against_kde(x: np.ndarray, y: np.ndarray, repeats: int) -> None:
    """ms per layer-epoch of noisy (r = 4) and of one kde setting (s2 = 1e-3), per width of the
    paper's layers, and their ratio; the whole network's in the last line."""
    print(f"\n{'width':8s} {'noisy r=4':>10s} {'kde':>10s} {'ratio':>9s}")
    rng = np.random.default_rng(1)
    totals = np.zeros(2)
    for width in (*HIDDEN_UNITS, N_CLASSES):
        activity = np.tanh(x @ rng.normal(size=(12, width)).astype(np.float32) * 0.7)
        times = np.array([_ms(lambda: estimate_mi(activity, y, "noisy"), max(3, repeats // 4)),
                          _ms(lambda: estimate_mi(activity, y, "kde"), repeats)])
        totals += times
        print(f"{width:<8d} {times[0]:10.3f} {times[1]:10.3f} {times[0] / times[1]:8.1f}x")
    print(f"{'network':8s} {totals[0]:10.3f} {totals[1]:10.3f} {totals[0] / totals[1]:8.1f}x   (every layer of one epoch)")


def _sp_per_layer(x: np.ndarray, y: np.ndarray, repeats: int) -> None:
    """ms per layer-epoch of sp (defaults) and of one kde setting on the noise-free activity, per
    layer of a tanh network with kernels N(0, 1/fan_in), s = 0.005; the network's in the last line."""
    settings = ", ".join(f"{k} {v}" for k, v in METHODS["sp"].items() if k != "noise_std")
    print(f"\nsp ({settings}), s = 0.005\n{'layer':8s} {'sp':>10s} {'kde':>10s} {'ratio':>9s}")
    rng = np.random.default_rng(2)
    widths = (x.shape[1], *HIDDEN_UNITS, N_CLASSES)
    kernels = [rng.normal(size=(a, b)).astype(np.float32) / np.sqrt(a) for a, b in zip(widths, widths[1:])]
    biases = [np.zeros(b, np.float32) for b in widths[1:]]
    activations = ["tanh"] * len(HIDDEN_UNITS) + [OUTPUT_ACTIVATION]
    totals = np.zeros(2)
    for layer in range(len(kernels)):
        activity = replica_centres(x, kernels, biases, activations, layer, 0.0, 1, 0)[:, 0]
        times = np.array([_ms(lambda: estimate_sp(x, kernels, biases, activations, y, layer, 0.005), max(2, repeats // 10)),
                          _ms(lambda: estimate_mi(activity, y, "kde"), repeats)])
        totals += times
        print(f"{layer + 1:<8d} {times[0]:10.1f} {times[1]:10.3f} {times[0] / times[1]:8.1f}x")
    print(f"{'network':8s} {totals[0]:10.1f} {totals[1]:10.3f} {totals[0] / totals[1]:8.1f}x   (every layer of one epoch)")


if __name__ == "__main__":
    main()
