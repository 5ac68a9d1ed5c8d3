"""The estimate stage's work as tasks (a run file, or one layer of it, under the settings it lacks),
each with its cost, run in this process, on local worker processes or on a Dask cluster."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ib_keras.estimate.run_rows import check_estimable, estimate_run, resolved_texts
from ib_keras.estimate.settings import EstimatorSpec, canonical_params
from ib_keras.runfile import RunFileError, read_run
from ib_keras.scaleout.cluster import check_visible, finished
from ib_keras.system.workers import worker_pool

TASKS_PER_WORKER = 4  # fewer files than this per worker: split them by layer


@dataclass(frozen=True)
class Task:
    """One unit of the stage's work: some layers of one run file under the specs it lacks."""

    path: Path
    run_hash: str
    specs: tuple[EstimatorSpec, ...]
    layers: tuple[int, ...] | None  # None: every layer
    epochs: tuple[int, ...] | None  # the recorded epochs to estimate; None: every one
    cost: float  # relative: epochs x samples^2 x (layer widths + KDE settings)


# Measured: a layer-epoch costs about (d + 4.5 k + 1.5 r (d + 4.5)) units, d its width, k its KDE
# settings and r the draws of its noisy settings (and sp's R^2 mc_samples) (the distance pass grows with d, each KDE setting
# adds one sweep of exponentials; a noisy setting of 4 draws costs 6 times one KDE setting alone).
_KDE_SETTING_COST = 4.5


_NOISY_DRAW_COST = 1.5


def strided_epochs(epochs: Sequence[int], stride: int) -> tuple[int, ...]:
    """Every ``stride``-th of the recorded ``epochs`` from the first, and the last always (the
    compression C = max - final needs it)."""
    return tuple(sorted({*epochs[::stride], *epochs[-1:]}))


def plan_tasks(path: Path, run_hash: str, specs: Sequence[EstimatorSpec], done: dict, split: bool,
           stride: int) -> list[Task]:
    """The work this file still needs at every ``stride``-th epoch, in the layers that lack it: one
    task per layer if ``split``, else one for the file. ``done``: the epochs in the table per (KEY,
    layer, resolved); a layer-epoch is done when the table has it with the parameters the layer
    resolves the request to now (a row resolved otherwise, by an older rule, is estimated again).
    ValueError naming the file when it is readable and cannot be estimated so (`check_estimable`),
    before any work."""
    try:
        run = read_run(path, activity=False)
    except RunFileError:
        return [Task(path, run_hash, tuple(specs), None, None, 0.0)]  # the worker reports the file
    check_estimable(run, specs)
    if not len(run.epochs):
        return [Task(path, run_hash, tuple(specs), None, None, 0.0)]  # the worker reports the file
    wanted = set(strided_epochs([int(epoch) for epoch in run.epochs], stride))
    missing = {spec: [wanted - epochs for epochs in _done_epochs(spec, run, run_hash, done)] for spec in specs}
    pending = tuple(spec for spec in specs if any(missing[spec]))
    if not pending:
        return []
    lacking = [layer for layer in range(len(run.layers)) if any(missing[spec][layer] for spec in pending)]
    # every pending setting at each epoch in each such layer: some may have them
    epochs = tuple(sorted(set().union(*(missing[spec][layer] for spec in pending for layer in lacking))))
    kde_settings = sum(spec.method in ("kde", "akde") for spec in pending)
    draws = sum(spec.params_for()["replicas"] for spec in pending if spec.method == "noisy")
    # sp: N^2 R_m mc_samples / 4 (centre, centre) pairs, four draws each: a noisy setting of R_m mc_samples draws
    draws += sum(params["marginal_replicas"] * params["mc_samples"]
                 for params in (spec.params_for() for spec in pending if spec.method == "sp"))
    size = min([len(run.x), *(spec.samples for spec in pending if spec.samples is not None)])
    per_layer = [len(epochs) * size ** 2 * (layer.units + _KDE_SETTING_COST * kde_settings
                                                  + _NOISY_DRAW_COST * draws * (layer.units + _KDE_SETTING_COST))
                 for layer in run.layers]
    if split:
        return [Task(path, run_hash, pending, (layer,), epochs, per_layer[layer]) for layer in lacking]
    layers = None if len(lacking) == len(run.layers) else tuple(lacking)
    return [Task(path, run_hash, pending, layers, epochs, sum(per_layer[layer] for layer in lacking))]


def _done_epochs(spec: EstimatorSpec, run, run_hash: str, done: dict) -> list[frozenset]:
    """Per layer of ``run``, the epochs ``done`` holds of ``spec`` as the layer resolves it."""
    request = canonical_params(spec.params_for())
    return [done.get((run_hash, spec.method, request, layer, resolved), frozenset())
            for layer, resolved in enumerate(resolved_texts(spec, run))]


def finished_tasks(tasks: Sequence[Task], jobs: int, client=None) -> Iterator[tuple[Task, pd.DataFrame | None, str | None]]:
    """(task, rows, error) for every task as it finishes: on a Dask ``client``'s cluster, in this
    process, or over ``jobs`` workers. (task, None, None) for a task lost with a worker process
    that died (killed, out of memory), which takes every unfinished task of the pool with it."""
    if client is not None:
        for task, result, lost in finished(client, estimate_cluster_task, tasks):
            yield (task, None, f"{task.path}: {lost}") if lost else (task, *result)
        return
    if jobs <= 1:
        for task in tasks:
            yield task, *estimate_task(task)
        return
    with worker_pool(jobs) as pool:
        futures = {pool.submit(estimate_task, task): task for task in tasks}  # run in this order
        for future in as_completed(futures):
            try:
                yield futures[future], *future.result()
            except BrokenProcessPool:
                yield futures[future], None, None


def estimate_cluster_task(task: Task) -> tuple[pd.DataFrame | None, str | None]:
    """`estimate_task` on a cluster's worker, which may not see the client's files."""
    try:
        check_visible(task.path)
    except ValueError as error:
        return None, str(error)
    return estimate_task(task)


def estimate_task(task: Task) -> tuple[pd.DataFrame | None, str | None]:
    """(rows, None), or (None, the error naming the file)."""
    try:
        return estimate_run(task.path, task.run_hash, task.specs, task.layers, task.epochs), None
    except ValueError as error:  # RunFileError is a ValueError
        return None, str(error)
