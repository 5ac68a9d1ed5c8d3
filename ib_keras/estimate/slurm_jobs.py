"""The estimate stage as SLURM jobs: a job array of K shares of the run files, each an ``estimate
--share i/K`` that keeps its files' rows beside the table (`ib_keras.estimate.parts`), and one job
after the array (whichever way its tasks ended) that runs the stage itself: it merges the kept
rows, estimates whatever a share did not finish, and writes the table, as a local stage would."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ib_keras.estimate.files import run_files
from ib_keras.scaleout.slurm import SlurmJobs, submit, wait_for

SLURM_LOGS = "slurm"  # beside the table: the batch scripts and their jobs' logs
MAX_SHARES = 32  # default shares: one per run file, at most this many


def submit_estimate(paths: Sequence[str | Path], options: Sequence[str], out: str | Path, jobs: SlurmJobs,
                    shares: int | None = None, wait: bool = False,
                    report: Callable[[str], None] = lambda message: print(message, flush=True)) -> tuple[str, str]:
    """Submit the estimate stage of the run files under ``paths`` into the table ``out`` as SLURM
    jobs: ``shares`` array tasks (default: one per file, at most MAX_SHARES), each with
    ``options`` (the stage's estimator options as ``estimate`` takes them) and ``jobs.cpus``
    processes, then the job that writes the table; say the plan. With ``wait``, return when both
    have ended. Returns the two job ids.

    Raises ValueError before submitting when there is no run file under ``paths``; with ``wait``,
    when the table was not written (its job's log named).
    """
    files = run_files(paths, lambda message: None)
    if not files:
        raise ValueError(f"no run files (*.h5) under {', '.join(map(str, paths))}")
    out = Path(out).resolve()
    count = min(shares or min(len(files), MAX_SHARES), len(files))
    stage = [sys.executable, "-m", "ib_keras", "estimate", *(str(Path(path).resolve()) for path in paths), *options,
             "--out", str(out), "--jobs", str(jobs.cpus)]
    logs = out.parent / SLURM_LOGS
    array, _ = submit(logs, "ib-keras-estimate", [[*stage, "--share", f"{i}/{count}"] for i in range(count)], jobs,
                      f"the estimate stage of {len(files)} run files into {out}, in {count} shares")
    written = out.stat().st_mtime_ns if out.exists() else None
    table, script = submit(logs, "ib-keras-table", [stage], jobs, f"the table {out}, from the shares' rows", array)
    report(f"SLURM jobs {array} and {table}: {count} jobs estimating {len(files)} run files (every {count}-th each), "
           f"then one writing {out} from their rows; time limit {jobs.time_limit} min, {jobs.cpus} CPU(s) each; a job "
           f"requeues itself {jobs.margin} s before its limit and keeps every file it finished (each file's rows are "
           f"kept as it finishes); scripts and logs in {script.parent}")
    if wait:
        wait_for([array, table], report)
        if not out.exists() or out.stat().st_mtime_ns == written:
            raise ValueError(f"{out} was not written by SLURM job {table}: see its log in {logs}")
    return array, table
