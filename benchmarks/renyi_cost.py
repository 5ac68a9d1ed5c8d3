"""The cost of one layer-epoch of the matrix-based Renyi estimator against its floor.

`renyi` takes an eigendecomposition of an N x N float64 matrix for each entropy: S(X), S(Y), S(T),
S(X, T) and S(T, Y). S(X) and S(Y), with their Gram matrices, do not change between a run's layers
and epochs and are kept (`ib_keras.estimate.estimators._renyi._side`): the run's first layer-epoch
takes five eigendecompositions, every later one three. The floor is ``numpy.linalg.eigvalsh`` of
the same matrices (five, then three), timed alone in the same run. Inputs: N random 784-pixel
images, a 1152-unit layer (a 12 x 12 x 8 convolution's output), ten classes, kNN widths. N above
the estimator's limit (MAX_RENYI_INPUTS) is timed on the function itself, which has none.
Beside them, ``trace="lanczos"`` (deflation and stochastic Lanczos quadrature) on the same inputs,
its time and, up to --eigenvalues-up-to, its difference from the eigenvalues' I(X;T) and I(T;Y) in
bits (results/estimators measures it on the benchmark's layers).

    .venv/bin/python benchmarks/renyi_cost.py [--sizes 1797,10000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ib_keras.estimate.estimators import METHODS
from ib_keras.estimate.estimators._params import LANCZOS
from ib_keras.estimate.estimators import _renyi
from ib_keras.estimate.estimators._renyi import gram, knn_width, renyi_information, squared_distances


def best_seconds(work, repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1797,10000", help="numbers of inputs N, comma-separated")
    parser.add_argument("--repeats", type=int, default=1, help="timings of each, the best kept")
    parser.add_argument("--eigenvalues-up-to", type=int, default=4096,
                        help="above this N the estimator by eigenvalues is not timed, only a later layer-epoch's floor")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    params = METHODS["renyi"]
    print(f"{'N':>6} {'layer-epoch':>12} {'renyi (s)':>10} {'eigvalsh (s)':>13} {'ratio':>6} {'lanczos (s)':>12} "
          f"{'ratio':>6} {'|dI(X;T)|':>10} {'|dI(T;Y)|':>10}", flush=True)
    lanczos = {**params, **LANCZOS}
    for n in map(int, args.sizes.split(",")):
        x = rng.uniform(-1, 1, size=(n, 784)).astype(np.float32)
        classes = np.arange(n) % 10
        t = np.tanh(x[:, :1152 // 2].repeat(2, axis=1) * rng.normal(size=1152).astype(np.float32))
        matrices = []
        for points in (x, t):
            distances = squared_distances(points)
            matrices.append(gram(distances, knn_width(distances, params["neighbours"])) / n)
        matrices.append(gram(squared_distances(np.eye(10)[classes]), params["label_sigma"]) / n)
        matrices += [matrices[0] * matrices[1] * n, matrices[1] * matrices[2] * n]  # X, T, Y, (X, T), (T, Y)

        def first():
            _renyi._kept.clear()
            renyi_information(x, t, classes, params)

        floors = {"first": lambda: [np.linalg.eigvalsh(m) for m in matrices],
                  "later": lambda: [np.linalg.eigvalsh(m) for m in matrices[1:2] + matrices[3:]]}
        def first_lanczos():
            _renyi._kept.clear()
            renyi_information(x, t, classes, lanczos)

        differences = np.full(2, np.nan)  # above eigenvalues_up_to, the estimator by eigenvalues is not run
        if n <= args.eigenvalues_up_to:
            exact = renyi_information(x, t, classes, params)
            differences = np.abs(np.subtract(renyi_information(x, t, classes, lanczos), exact))
        for name, work, fast in (("first", first, first_lanczos),
                                 ("later", lambda: renyi_information(x, t, classes, params),
                                  lambda: renyi_information(x, t, classes, lanczos))):
            if name == "first" and n > args.eigenvalues_up_to:
                continue  # the estimator by eigenvalues and its first floor: ten decompositions of minutes each
            cost = best_seconds(work, args.repeats) if n <= args.eigenvalues_up_to else np.nan
            floor = best_seconds(floors[name], args.repeats)
            quick = best_seconds(fast, args.repeats)
            print(f"{n:>6} {name:>12} {cost:>10.2f} {floor:>13.2f} {cost / floor:>6.2f} {quick:>12.2f} "
                  f"{quick / floor:>6.3f} {differences[0]:>10.4f} {differences[1]:>10.4f}", flush=True)
        del matrices
        _renyi._kept.clear()


if __name__ == "__main__":
    main()
