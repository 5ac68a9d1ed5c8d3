"""Worker processes for the train and estimate stages: clean interpreters that die with their parent."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

_PARENT_POLL_SECONDS = 1.0


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)  # the parent died (SIGKILL, OOM): stop at once rather than compute for nobody


def _start_worker(parent: int, setup: Callable[[], None] | None) -> None:
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()
    if setup is not None:
        setup()


def worker_pool(workers: int, setup: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes, each running ``setup()`` (a module-level function)
    first. Spawned, not forked: forking a process that runs threads (TensorFlow's, tqdm's) is
    unsafe. A worker exits within a second of its parent's death, however the parent died."""
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(os.getpid(), setup),
    )
