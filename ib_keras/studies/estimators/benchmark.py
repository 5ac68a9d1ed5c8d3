"""The benchmark's work: the estimate stage on the quantized and float runs (their tables kept in
a work directory, so that a rerun computes only what it lacks), benchmark-mi's tasks and the
cost grid (each kept there once computed), and the scores drawn from them."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ib_keras.estimate import SAMPLES, estimate_runs, parse_estimators, read_table, run_files
from ib_keras.runfile import read_run
from ib_keras.studies.estimators.claims import (NOISY_TRUTHS, SETTINGS, costs, score_exact, score_mixtures,
                                                 score_noisy)
from ib_keras.system.atomic import atomic_path

SUBSAMPLES = (500, 2000)  # besides every recorded input: the truth at several N
EIGENVALUES_UP_TO = 2048  # renyi by eigenvalues on at most this many inputs (its cost, N^3); lanczos on all
EPOCHS = 3  # recorded epochs estimated per run: the first, one between and the last
COST_GRID = ((1000, 10), (1000, 1024), (4096, 10), (10000, 20), (10000, 1024))


@dataclass(frozen=True)
class Benchmark:
    """What the report draws: every scored layer-epoch (`ROWS`), and the cost grid."""

    rows: pd.DataFrame
    costs: pd.DataFrame


def run_benchmark(exact: Sequence[Path], noisy: Sequence[Path], work: Path, settings: Sequence[str] = tuple(SETTINGS),
                  subsamples: Sequence[int] = SUBSAMPLES, mixture_sizes: Sequence[int] | None = None,
                  mixture_seeds: int | None = None, cost_grid: Sequence[tuple[int, int]] = COST_GRID,
                  epochs: int = EPOCHS, jobs: int = 1,
                  report: Callable[[str], None] = lambda message: print(message, file=sys.stderr)) -> Benchmark:
    """Estimate, score and time: ``exact`` quantized runs (directories or files; exact and
    ``settings`` at every recorded input and each of ``subsamples`` below it), ``noisy`` float
    runs (the noisy truths and ``settings``), each at about ``epochs`` of its recorded epochs (the
    first and the last among them), on ``jobs`` processes; benchmark-mi's tasks and the cost
    grid; everything kept under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    texts = [SETTINGS[name][1] for name in settings]
    scored = []
    for family, directories, truths in (("exact", exact, ["exact"]), ("noisy", noisy, list(NOISY_TRUTHS.values()))):
        for directory in directories:
            name = "-".join(Path(directory).parts[-3:]).removesuffix(".h5")
            table = _estimated(Path(directory), work / f"{family}-{name}.parquet",
                               parse_estimators(",".join([*truths, *texts])), subsamples, epochs, jobs, report)
            scored.append((score_exact if family == "exact" else score_noisy)(table))
    mixtures = _kept(work / "mixtures.parquet", lambda: score_mixtures(
        settings, **({"sizes": mixture_sizes} if mixture_sizes else {}),
        **({"seeds": mixture_seeds} if mixture_seeds else {})), report)
    timed = _kept(work / "costs.parquet", lambda: costs(settings, cost_grid), report)
    return Benchmark(pd.concat([*scored, mixtures], ignore_index=True), timed)


def _estimated(directory: Path, out: Path, specs: list, subsamples: Sequence[int], epochs: int, jobs: int,
               report: Callable[[str], None]) -> pd.DataFrame:
    """The MI table ``out`` of the runs under ``directory`` under ``specs``, at every recorded input
    and each subsample smaller than the runs' N (renyi by eigenvalues only up to `EIGENVALUES_UP_TO`),
    every stride-th recorded epoch so that about ``epochs`` of them, the last among them."""
    files = run_files([directory], report)
    if not files:
        raise ValueError(f"{directory}: no run files (*.h5) to score; train them first (results/estimators/README.md)")
    run = read_run(files[0], activity=False)
    n, stride = len(run.y), max(1, (len(run.epochs) - 1) // max(1, epochs - 1))
    for size in (None, *(k for k in subsamples if k < n)):
        chosen = [spec for spec in specs if not (spec.method == "renyi" and (size or n) > EIGENVALUES_UP_TO
                                                 and dict(spec.params).get("trace") != "lanczos")]
        estimate_runs([directory], chosen, out, jobs=jobs, progress=False, report=report, samples=size,
                      epoch_stride=stride)
    table = read_table(out)
    sizes = table["params"].map(lambda params: json.loads(params).get(SAMPLES))
    return table[sizes.isna() | sizes.isin(subsamples)]  # a table of an earlier run may hold other subsamples


def _kept(path: Path, compute: Callable[[], pd.DataFrame], report: Callable[[str], None]) -> pd.DataFrame:
    """The table at ``path``, or ``compute()``d and kept there (atomically) for the next run."""
    if path.is_file():
        return pd.read_parquet(path)
    report(f"{path.name}: computing (kept for the next run)")
    frame = compute()
    with atomic_path(path) as partial:
        frame.to_parquet(partial, index=False)
    return frame
