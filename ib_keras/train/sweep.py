"""A sweep's configurations trained as tasks: one task per configuration, which does all `train`
does for it (lock its directory, plan, check the disk, train every seed), on a pool of local worker
processes or on a Dask cluster (writing the run files to the filesystem the workers share), or as
the array tasks of a SLURM job, each a `train` command. TensorFlow starts once per worker, not
once per configuration. Rerunning resumes: complete runs are kept, as by `train`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ib_keras.scaleout.slurm import SlurmJobs, expected_requeues, runs, submit, wait_for
from ib_keras.system.atomic import created_directory
from ib_keras.system.workers import worker_pool

SLURM_LOGS = "slurm"  # beside the configurations' directories: the batch script and its jobs' logs
# a job's start-up before it trains (about 8 s here): Python, TensorFlow, the plan, the checkpoint read
TRAIN_START_SECONDS = 15


def train_sweep(specs: Sequence, seeds: Sequence[int], out: str | Path, scheduler: str | None = None,
                overwrite: bool = False, workers: int = 1, checkpoint_seconds: float | None = None,
                report: Callable[[str], None] = lambda message: print(message, flush=True)) -> None:
    """Train every `ib_keras.train.spec.TrainSpec` in ``specs`` for ``seeds`` under ``out``, a task each,
    reporting each configuration as it finishes: on the Dask cluster ``scheduler``, or without one
    on ``workers`` local processes (one thread each; in this process for one worker). ``out`` goes
    to the workers as an absolute path, made here first: a worker that does not see it fails its
    task. Each model keeps a checkpoint every ``checkpoint_seconds`` (None: a minute).

    Raises ValueError naming the configurations that failed (their error, or workers that kept
    dying) once every other one is done.
    """
    out = Path(out).resolve()  # a worker's working directory is its own
    task = functools.partial(_train_one, seeds=list(seeds), out=str(out), overwrite=overwrite,
                             checkpoint_seconds=checkpoint_seconds)
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


def _train_one(spec, seeds: list[int], out: str, overwrite: bool,
               checkpoint_seconds: float | None = None) -> tuple[str | None, str | None]:
    """(what was trained, None), or (None, the error) for an error `train` reports."""
    from ib_keras.train.runs import train_configuration

    try:
        plan = train_configuration(spec, seeds, out, overwrite, workers=1, progress=False,
                                   checkpoint_seconds=checkpoint_seconds)
    except (ValueError, OSError, FloatingPointError) as error:
        return None, str(error)
    return f"{plan.path(0).parent}: {len(plan.todo)} trained, {len(plan.done)} already complete", None


def submit_sweep(specs: Sequence, seeds: Sequence[int], out: str | Path, jobs: SlurmJobs,
                 checkpoint_seconds: float | None = None, wait: bool = False,
                 report: Callable[[str], None] = lambda message: print(message, flush=True)) -> str | None:
    """Submit the configurations of ``specs`` with networks left to train as a SLURM job array,
    a `train` of one configuration's ``seeds`` per array task (``jobs.cpus`` worker processes),
    its batch script and logs in ``out``/slurm; say the plan (jobs, time limit, expected
    requeues). With ``wait``, return when every job has ended. Returns the job id, or None when
    every configuration is complete.

    Raises ValueError before submitting for a configuration `train` would refuse (another
    configuration's files in its directory, a file this ib_keras did not write), or for a time
    limit that leaves no time to train; with ``wait``, naming the configurations left incomplete.
    """
    from ib_keras.train.resources import duration_text, training_seconds
    from ib_keras.train.runs import plan_training

    if list(seeds) != list(range(seeds[0], seeds[0] + len(seeds))):
        raise ValueError(f"seeds {list(seeds)}: a job trains a range of seeds (--first-seed, --seeds); give one")
    out = Path(out).resolve()
    plans = [plan_training(spec, seeds, out) for spec in specs]
    left = [plan for plan in plans if plan.todo]
    if not left:
        report(f"{out}: every one of the {len(plans)} configurations is complete; nothing to submit")
        return None
    seconds = [training_seconds(plan.spec, len(plan.todo)) for plan in left]
    requeues = [expected_requeues(s, jobs, TRAIN_START_SECONDS) for s in seconds]
    commands = [[sys.executable, "-m", "ib_keras", "train", *plan.spec.train_options(),
                 "--seeds", str(len(seeds)), "--first-seed", str(seeds[0]), "--out", str(out),
                 "--workers", str(jobs.cpus),
                 *([] if checkpoint_seconds is None else ["--checkpoint-seconds", f"{checkpoint_seconds:g}"])]
                for plan in left]
    job, script = submit(out / SLURM_LOGS, "ib-keras-train", commands, jobs,
                         f"{len(left)} configurations of {out}, one per array task")
    checkpoint = "a minute" if checkpoint_seconds is None else f"{checkpoint_seconds:g} s"
    report(f"SLURM job {job}: {len(left)} job(s) (one configuration's networks each; {len(plans) - len(left)} "
           f"configurations complete), time limit {jobs.time_limit} min, {jobs.cpus} CPU(s) each; a job requeues "
           f"itself {jobs.margin} s before its limit and resumes from its checkpoint (one every {checkpoint}); "
           f"about {duration_text(max(seconds))} of training per job at this machine's speed: {max(requeues)} "
           f"requeue(s) expected per job; script {script}, logs beside it")
    if wait:
        wait_for([job], report)
        requeued = sum(len(spans) - 1 for (id_, _), spans in runs(script.parent, "ib-keras-train").items()
                       if id_ == job)
        unfinished = [plan.path(0).parent.name for plan in left if plan_training(plan.spec, seeds, out).todo]
        if unfinished:
            raise ValueError(f"SLURM job {job} ended with {len(unfinished)} configuration(s) incomplete "
                             f"({', '.join(unfinished)}): see the logs in {script.parent}; the same command submits "
                             "what is left")
        report(f"SLURM job {job}: every configuration complete, after {requeued} requeue(s)")
    return job
