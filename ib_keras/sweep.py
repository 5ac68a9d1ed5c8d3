"""A sweep's configurations trained as tasks of a Dask cluster: one task per configuration, which
does all `train` does for it (lock its directory, plan, check the disk, train every seed) on one
worker and writes the run files to the filesystem the workers share. Rerunning resumes: complete
runs are kept, as by `train`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ib_keras.atomic import created_directory
from ib_keras.cluster import check_visible, dask_client, finished


def train_sweep(specs: Sequence, seeds: Sequence[int], out: str | Path, scheduler: str, overwrite: bool = False,
                report: Callable[[str], None] = lambda message: print(message, flush=True)) -> None:
    """Train every `ib_keras.runs.TrainSpec` in ``specs`` for ``seeds`` under ``out`` on the Dask
    cluster ``scheduler``, a task each, reporting each configuration as it finishes. ``out`` goes to
    the workers as an absolute path, made here first: a worker that does not see it fails its task.

    Raises ValueError naming the configurations that failed (their error, or workers that kept
    dying) once every other one is done.
    """
    out = Path(out).resolve()  # a worker's working directory is its own
    task = functools.partial(_train_one, seeds=list(seeds), out=str(out), overwrite=overwrite)
    failures = []
    with dask_client(scheduler) as client, created_directory(out):
        report(f"{len(specs)} configurations x {len(seeds)} seeds on {scheduler}")
        for spec, result, lost in finished(client, task, specs):
            message, error = result or (None, lost)
            if message is None:
                failures.append(f"{spec.activation} l2 {spec.l2:g}: {error}")
                print(f"failed: {failures[-1]}", file=sys.stderr, flush=True)
            else:
                report(message)
    if failures:
        raise ValueError(f"{len(failures)} of {len(specs)} configurations failed; first: {failures[0]}")


def _train_one(spec, seeds: list[int], out: str, overwrite: bool) -> tuple[str | None, str | None]:
    """On a worker: (what was trained, None), or (None, the error) for an error `train` reports."""
    from ib_keras.runs import one_thread, train_configuration

    one_thread()
    try:
        check_visible(out)  # made by the client: a worker without the client's filesystem fails here
        plan = train_configuration(spec, seeds, out, overwrite, workers=1, progress=False)
    except (ValueError, OSError, FloatingPointError) as error:
        return None, str(error)
    return f"{plan.path(0).parent}: {len(plan.todo)} trained, {len(plan.done)} already complete", None
