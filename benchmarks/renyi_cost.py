"""The cost of one layer-epoch of the matrix-based Renyi estimator against its floor.

`renyi` takes five eigendecompositions per layer and epoch (S(X), S(T), S(Y), S(X, T), S(T, Y)), each
of an N x N float64 matrix, and builds the Gram matrices before them (distances, the width rule,
the exponentials). The floor is ``numpy.linalg.eigvalsh`` of the same five matrices, timed alone
in the same run. Inputs: N random 784-pixel images and a 1152-unit layer (a 12 x 12 x 8
convolution's output), ten classes.

    .venv/bin/python benchmarks/renyi_cost.py [--sizes 100,500,2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ib_keras.estimate.estimators import estimate_mi
from ib_keras.estimate.estimators._renyi import gram, knn_width, squared_distances


def best_seconds(work, repeats: int) -> float:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500,2000", help="numbers of inputs N, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each, the best kept")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'N':>6} {'width':>10} {'renyi (s)':>10} {'5 eigvalsh (s)':>15} {'ratio':>6}")
    for n in map(int, args.sizes.split(",")):
        x = rng.uniform(-1, 1, size=(n, 784)).astype(np.float32)
        y = np.arange(n) % 10
        t = np.tanh(x[:, :1152 // 2].repeat(2, axis=1) * rng.normal(size=1152).astype(np.float32))
        matrices = []
        for points in (x, t):
            distances = squared_distances(points)
            matrices.append(gram(distances, knn_width(distances, 20)) / n)
        matrices.append(gram(squared_distances(np.eye(10)[y]), 0.1) / n)  # the labels' kernel
        matrices += [matrices[0] * matrices[1] * n, matrices[1] * matrices[2] * n]
        floor = best_seconds(lambda: [np.linalg.eigvalsh(m) for m in matrices], args.repeats)
        for width in ("knn", "alignment"):
            cost = best_seconds(lambda: estimate_mi(t, y, "renyi", inputs=x, width=width), args.repeats)
            print(f"{n:>6} {width:>10} {cost:>10.3f} {floor:>15.3f} {cost / floor:>6.2f}")


if __name__ == "__main__":
    main()
