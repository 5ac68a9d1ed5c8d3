"""A sweep's configurations trained as tasks: one task per configuration, which does all `train`
does for it (lock its directory, plan, check the disk, train every seed), on a pool of local worker
processes or on a Dask cluster (writing the run files to the filesystem the workers share).
TensorFlow starts once per worker, not once per configuration. Rerunning resumes: complete runs
are kept, as by `train`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ib_keras.system.atomic import created_directory
from ib_keras.system.workers import worker_pool


def train_sweep(specs: Sequence, seeds: Sequence[int], out: str | Path, scheduler: str | None = None,
                overwrite: bool = False, workers: int = 1,
                report: Callable[[str], None] = lambda message: print(message, flush=True)) -> None:
    """Train every `ib_keras.train.spec.TrainSpec` in ``specs`` for ``seeds`` under ``out``, a task each,
    reporting each configuration as it finishes: on the Dask cluster ``scheduler``, or without one
    on ``workers`` local processes (one thread each; in this process for one worker). ``out`` goes
    to the workers as an absolute path, made here first: a worker that does not see it fails its
    task.

    Raises ValueError naming the configurations that failed (their error, or workers that kept
    dying) once every other one is done.
    """
    out = Path(out).resolve()  # a worker's working directory is its own
    task = functools.partial(_train_one, seeds=list(seeds), out=str(out), overwrite=overwrite)
    failures = []
    with created_directory(out):
        where = scheduler or f"{min(workers, len(specs))} local worker(s)"
        report(f"{len(specs)} configurations x {len(seeds)} seeds on {where}")
        results = _on_cluster(task, specs, scheduler, str(out)) if scheduler else _local(task, specs, workers)
        for spec, result, lost in results:
            message, error = result or (None, lost)
            if message is None:
                failures.append(f"{spec.activation} l2 {spec.l2:g}: {error}")
                print(f"failed: {failures[-1]}", file=sys.stderr, flush=True)
            else:
                report(message)
    if failures:
        raise ValueError(f"{len(failures)} of {len(specs)} configurations failed; first: {failures[0]}")


def _on_cluster(task: Callable, specs: Sequence, scheduler: str, out: str) -> Iterator[tuple]:
    from ib_keras.scaleout.cluster import dask_client, finished

    with dask_client(scheduler) as client:
        yield from finished(client, functools.partial(_on_worker, task, out), specs)


def _local(task: Callable, specs: Sequence, workers: int) -> Iterator[tuple]:
    """(spec, result, None) per configuration as it finishes, or (spec, None, why) for one whose
    worker process died (the pool then stops: the others are reported the same way)."""
    from ib_keras.train.runs import one_thread

    if workers <= 1 or len(specs) <= 1:
        for spec in specs:
            yield spec, task(spec), None
        return
    with worker_pool(min(workers, len(specs)), one_thread) as pool:
        futures = {pool.submit(task, spec): spec for spec in specs}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result(), None
            except BrokenProcessPool:
                yield futures[future], None, "a training worker process died (killed, or out of memory); rerun the " \
                                             "same command to train what is left"


def _on_worker(task: Callable, out: str, spec) -> tuple[str | None, str | None]:
    """A task on a Dask worker: TensorFlow on one thread, the files' directory checked visible."""
    from ib_keras.scaleout.cluster import check_visible
    from ib_keras.train.runs import one_thread

    one_thread()
    try:
        check_visible(out)  # made by the client: a worker without the client's filesystem fails here
    except ValueError as error:
        return None, str(error)
    return task(spec)


def _train_one(spec, seeds: list[int], out: str, overwrite: bool) -> tuple[str | None, str | None]:
    """(what was trained, None), or (None, the error) for an error `train` reports."""
    from ib_keras.train.runs import train_configuration

    try:
        plan = train_configuration(spec, seeds, out, overwrite, workers=1, progress=False)
    except (ValueError, OSError, FloatingPointError) as error:
        return None, str(error)
    return f"{plan.path(0).parent}: {len(plan.todo)} trained, {len(plan.done)} already complete", None
