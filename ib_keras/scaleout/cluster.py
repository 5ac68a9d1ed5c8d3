"""Running a stage's tasks on a Dask cluster: a running scheduler (``tcp://host:port``, its workers
anywhere that sees the same files), or a LocalCluster of N one-thread worker processes on this
machine (``local:N``). This process alone writes outputs; tasks only read inputs, write their own
run files, and return results. Dask reschedules the task of a worker that dies.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

Item = TypeVar("Item")
LOCAL = "local:"
CONNECT_TIMEOUT = "5s"
NO_WORKERS_NOTICE = 5  # seconds without a worker before the stage says that it is waiting for one
# A LocalCluster runs our tasks as fast as the process pool on the same cores when: each worker
# thread holds one task at a time, as a pool hands them out (Dask's default saturation 1.1 queues
# a second one on a worker, which can leave another idle at the end); workers start without Dask's
# MALLOC_TRIM_THRESHOLD_ (it also fixes glibc's mmap threshold, so that every large temporary is
# mapped afresh: tasks 4 % slower); no statistical profiler, and monitors that wake rarely (at
# Dask's intervals they took about 2 % of the workers' CPU time).
_LOCAL_CONFIG = {"distributed.scheduler.worker-saturation": 1.0,
                 "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
                                                         "OPENBLAS_NUM_THREADS": 1},
                 "distributed.worker.profile.enabled": False, "distributed.worker.memory.monitor-interval": "10s",
                 "distributed.admin.system-monitor.interval": "10s", "distributed.admin.tick.interval": "1s"}


@contextmanager
def dask_client(scheduler: str) -> Iterator[object]:
    """A ``distributed.Client`` of ``scheduler`` for the block.

    Raises ValueError, before anything is run, for an address it cannot reach within
    CONNECT_TIMEOUT or a malformed ``local:N``.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler.startswith(LOCAL):
        count = scheduler[len(LOCAL):]
        if not count.isdigit() or not 1 <= int(count) <= 1024:
            raise ValueError(f"--scheduler {scheduler}: give local:N with N worker processes from 1 to 1024")
        with dask.config.set(_LOCAL_CONFIG), \
                LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            cluster.scale(int(count))  # the workers start while the block plans its tasks
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        raise ValueError(f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT} ({error}); "
                         "start it with `dask scheduler`, or give --scheduler local:N") from error
    with client:
        yield client


def worker_threads(client) -> int:
    """Threads of the cluster's workers: those connected, or all a LocalCluster is starting."""
    if client.cluster is not None:
        return sum(spec["options"]["nthreads"] for spec in client.cluster.worker_spec.values())
    return sum(client.nthreads().values())


def check_visible(path: str | Path) -> None:
    """On a worker: ValueError unless ``path`` (absolute, as the client sent it) exists here."""
    if not os.path.exists(path):
        raise ValueError(f"{path}: not there on the Dask worker on {socket.gethostname()}; the cluster's workers "
                         "need the client's files at the same paths (one filesystem, mounted alike)")


def _wait_for_a_worker(client, report: Callable[[str], None]) -> None:
    """Return once the cluster has a worker, saying after NO_WORKERS_NOTICE seconds that it waits."""
    if client.cluster is not None or client.nthreads():  # a LocalCluster starts its own
        return
    try:
        client.wait_for_workers(1, timeout=NO_WORKERS_NOTICE)
    except TimeoutError:
        address = client.scheduler.address
        report(f"the Dask scheduler at {address} has no workers; waiting for one (start it with "
               f"`dask worker {address}`, or stop with Ctrl-C)")
        client.wait_for_workers(1)


def finished(client, function: Callable[[Item], object], items: Iterable[Item],
             report: Callable[[str], None] = lambda message: print(message, file=sys.stderr, flush=True),
             ) -> Iterator[tuple[Item, object, str | None]]:
    """(item, function(item), None) for every item as its task finishes on the cluster, or
    (item, None, why) when its task could not run (its workers kept dying). While the cluster has
    no worker, ``report`` says so once and the tasks wait for one."""
    from distributed import KilledWorker, as_completed

    items = list(items)
    _wait_for_a_worker(client, report)
    futures = client.map(function, items, pure=False)
    positions = {future.key: position for position, future in enumerate(futures)}
    for future in as_completed(futures):
        item = items[positions[future.key]]
        try:
            yield item, future.result(), None
        except KilledWorker as error:
            yield item, None, f"its task's workers died ({error})"
