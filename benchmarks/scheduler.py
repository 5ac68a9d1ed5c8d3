"""The estimate stage on a Dask LocalCluster against the default process pool, on one machine.

Both estimate the same run files (default: the quick run's, runs/quick) with run_all.sh's
estimators into a fresh table, with as many workers as cores: (a) the process pool
(`estimate --jobs N`), (b) `estimate --scheduler local:N`. Wall time includes starting the
workers (and, for (b), the scheduler). The two alternate, so that a noisy machine slows both
alike; prints each repeat, the medians and their ratio.

    .venv/bin/python benchmarks/scheduler.py [runs/quick] [--repeats 3] [--workers CORES]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from ib_keras.estimate import estimate_runs, parse_estimators

ESTIMATORS = "ebab,akde,uniform,fixed,kde,akde:variance_scale=0.01,akde:variance_scale=1"


def seconds(runs: Path, out: Path, jobs: int, scheduler: str | None) -> float:
    """Wall seconds for one estimate stage into the new table ``out``."""
    start = time.perf_counter()
    estimate_runs([runs], parse_estimators(ESTIMATORS), out, jobs=jobs, progress=False,
                  report=lambda message: None, scheduler=scheduler)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=Path, default=Path("runs/quick"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    pool, cluster = [], []
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(args.repeats):
            pool.append(seconds(args.runs, Path(directory) / f"pool-{repeat}.parquet", args.workers, None))
            cluster.append(seconds(args.runs, Path(directory) / f"cluster-{repeat}.parquet", args.workers,
                                   f"local:{args.workers}"))
            print(f"repeat {repeat + 1}: process pool {pool[-1]:.1f} s, local:{args.workers} {cluster[-1]:.1f} s")
    a, b = statistics.median(pool), statistics.median(cluster)
    print(f"{args.runs}, {args.workers} workers, median of {args.repeats}: process pool {a:.1f} s, "
          f"local:{args.workers} {b:.1f} s, ratio {a / b:.3f} (above 1: the cluster is faster)")


if __name__ == "__main__":
    main()
