"""The estimate stage: every estimator on every run file, epoch and layer, into one tidy table
(its columns: `ib_keras.estimate.table`).

Work already in the table is not recomputed: a row is keyed by the run file's content hash, the
estimator, its parameters, the epoch and the layer (an estimator asked at every third epoch, then
at every epoch, computes the epochs it lacks). Rows of a run file whose content changed (it was
retrained) are replaced. Each finished file's rows are kept beside the table (`parts`) until the
table is written, atomically.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from ib_keras.estimate.files import file_hash, run_files
from ib_keras.estimate.parts import Parts
from ib_keras.estimate.run_rows import fill_later
from ib_keras.estimate.settings import EstimatorSpec
from ib_keras.estimate.table import (COLUMNS, KEY, canonical_runs, check_table_path, deleted_runs, merge, read_table,
                                     write_table)
from ib_keras.estimate.tasks import TASKS_PER_WORKER, finished_tasks, plan_tasks
from ib_keras.scaleout.cluster import dask_client, worker_threads
from ib_keras.system.atomic import created_directory
from ib_keras.system.locks import exclusive


def estimate_runs(
    paths: Sequence[str | Path],
    specs: Sequence[EstimatorSpec],
    out: str | Path,
    jobs: int = 1,
    strict: bool = False,
    progress: bool = True,
    report: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
    scheduler: str | None = None,
    epoch_stride: int = 1,
    samples: int | None = None,
    inputs: str | None = None,
    share: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Estimate every spec on every run file under ``paths``; update and write the table ``out``.

    Each file's rows are kept beside the table as soon as the file is done, and the table is
    written at the end: a killed stage, rerun, computes only the files not yet done. A second
    stage on the same table stops at once with ValueError. A file that cannot be estimated
    (corrupt, truncated, incomplete, NaN activity) is reported by name and skipped, its earlier
    rows kept; with ``strict`` ValueError is raised and the table is not written. With
    ``scheduler`` (see `ib_keras.scaleout.cluster.dask_client`) the tasks run on that Dask cluster instead
    of ``jobs`` local processes; this process alone writes the table. With ``epoch_stride`` K > 1,
    every K-th recorded epoch and the last (`strided_epochs`). With ``samples`` K, every estimate
    is of a class-stratified subsample of K inputs (`stratified_subsample`; ``samples`` in the
    rows' params, so that it sits beside the estimates of all inputs); with ``inputs`` "train" or
    "test", of the recorded inputs that are the run's training or test rows alone (before the
    subsample; in the params too).

    With ``share`` (i, K), only the i-th of K shares of the files (every K-th, from the i-th in
    name order) is estimated and its rows kept beside the table, which is not written: K shares
    run as SLURM array tasks at once (`ib_keras.estimate.slurm_jobs`), each under a lock of its
    own, and the stage without ``share`` then writes the table from what they kept; it returns
    the rows the share's files have.

    A run is named in the table by its file's absolute path, however ``paths`` spelled it. Rows
    of a file that was under ``paths`` and no longer exists are dropped (and reported); rows of
    files elsewhere are kept as they are. A worker process that dies (killed, out of memory)
    ends the stage with ValueError once the table holds every file finished before it.
    Returns the whole table as written.
    """
    out = Path(out)
    check_table_path(out)
    if samples is not None:
        if samples < 2:
            raise ValueError(f"--samples must be at least 2, got {samples}")
        specs = [replace(spec, samples=samples) for spec in specs]
    if inputs is not None:
        specs = [replace(spec, inputs=inputs) for spec in specs]
    files = run_files(paths, report)
    if not files:
        raise ValueError(f"no run files (*.h5) under {', '.join(map(str, paths))}")
    if share is not None:
        index, count = share
        if not 0 <= index < count:
            raise ValueError(f"--share {index}/{count}: give I/K with 0 <= I < K")
        files = sorted(files)[index::count]
    with dask_client(scheduler) if scheduler else nullcontext() as client:  # an unreachable one: before any writing
        with created_directory(out.parent):  # where the lock, the parts and the table go; removed if left empty
            return _estimate_into(files, [Path(p).resolve() for p in paths], specs, out, jobs, strict, progress,
                                  report, client, epoch_stride, share)


def _estimate_into(files: list[Path], roots: list[Path], specs: Sequence[EstimatorSpec], out: Path, jobs: int,
                   strict: bool, progress: bool, report: Callable[[str], None], client, stride: int,
                   share: tuple[int, int] | None) -> pd.DataFrame:
    lock, busy = (f".{out.name}.lock", f"{out}: another estimate is writing this table") if share is None else \
        (f".{out.name}.share-{share[0]}-of-{share[1]}.lock",
         f"{out}: another estimate runs share {share[0]}/{share[1]}")
    with exclusive(out.with_name(lock), busy):
        parts = Parts(out)
        hashes = {path: file_hash(path) for path in files}
        table = merge([canonical_runs(read_table(out)) if out.exists() else pd.DataFrame(columns=COLUMNS),
                        *parts.read(report)], hashes)
        deleted = deleted_runs(table, roots, files) if share is None else []
        if deleted:
            report(f"{len(deleted)} run file(s) under {', '.join(map(str, roots))} no longer exist; their rows are "
                   f"dropped from {out} (first: {min(deleted)})")
            table = table[~table["run"].isin(deleted)].reset_index(drop=True)
        done = ({key: frozenset(epochs) for key, epochs in table.groupby([*KEY, "layer", "resolved"])["epoch"]}
                if len(table) else {})
        # Whole files while there are enough of them to keep every worker busy to the end; else a
        # task per layer. Largest first, so that no worker is left with a long task at the end.
        workers = worker_threads(client) if client is not None else jobs
        split = len(files) < TASKS_PER_WORKER * max(workers, 1)
        tasks: list = []
        failures: dict[Path, str] = {}  # a file fails whole: none of its layers' rows are kept
        for path in files:
            try:
                tasks += plan_tasks(path, hashes[path], specs, done, split, stride)
            except ValueError as error:  # refused before any work
                failures[path] = str(error)
        tasks.sort(key=lambda task: task.cost, reverse=True)
        pending = {path: sum(task.path == path for task in tasks) for path in {task.path for task in tasks}}
        if progress and tasks:
            print(f"{len(pending)} of {len(files)} run files to estimate, the others already in {out}", file=sys.stderr)
        collected: dict[Path, list[pd.DataFrame]] = {}
        lost: set[Path] = set()  # files whose tasks died with a worker process
        with tqdm(total=len(tasks), desc="estimate", unit="task", disable=not progress or not tasks,
                  file=sys.stderr) as bar:
            for task, rows, error in finished_tasks(tasks, min(jobs, len(tasks)), client):
                if rows is None and error is None:
                    lost.add(task.path)
                elif error is not None:
                    failures.setdefault(task.path, error)
                elif task.path not in failures and task.path not in lost:
                    collected.setdefault(task.path, []).append(rows)
                    if len(collected[task.path]) == pending[task.path]:
                        rows = pd.concat(collected.pop(task.path), ignore_index=True)
                        if len(rows):
                            parts.add(rows)
                bar.update(1)
        if failures:
            if strict:
                parts.discard_added()
                raise ValueError(f"{len(failures)} run file(s) failed, table not written; "
                                 f"first: {next(iter(failures.values()))}")
        if share is not None:  # the table is written by the stage without a share, from the parts
            for failure in failures.values():
                report(f"skipped: {failure}")
            if lost:
                report(f"{len(lost)} run file(s) lost with a worker process that died (first: {min(lost)}); the "
                       "stage without --share estimates them")
            kept = merge([table, *parts.read(report)], hashes)
            return kept[kept["run"].isin({str(path) for path in files})].reset_index(drop=True)
        table = fill_later(merge([table, *parts.read(report)], hashes), hashes)
        if table.empty and len(failures) + len(lost) <= 1:  # said once, in the error
            first = next(iter(failures.values()), f"{min(lost)}: lost with a worker process that died" if lost else
                         "nothing to estimate")
            raise ValueError(f"no rows to write to {out}: {first}")
        for failure in failures.values():
            report(f"skipped: {failure}")
        if table.empty:
            raise ValueError(f"no rows to write to {out}: every one of the {len(failures) + len(lost)} run files "
                             "failed (each said above)")
        write_table(table, out)
        parts.clear()
        if lost:
            raise ValueError(f"{out}: a worker process died (killed, or out of memory) while estimating {len(lost)} "
                             f"run file(s) (first: {min(lost)}); the table holds every file finished before it: "
                             "rerun the same command to estimate the rest")
    return table
