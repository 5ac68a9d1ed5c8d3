"""One SLURM array task's command, run and watched: the batch script of `slurm.batch_script` execs
``python -m ib_keras.scaleout.slurm_task COMMAND...``, so that this process is the job's batch
shell. It logs the run's start (SLURM's restart count), requeues the job when the time limit's
warning comes (USR1), passes SLURM's SIGTERM on to the command, waits for it and exits with its
status (128 + N for a command ended by signal N), logged as the run's end: the lines `slurm.runs`
reads.

In Python rather than in bash (bash 5.2 did this before): bash's ``wait`` sometimes lost the
command's status when the job was requeued at the warning (the log said ``end -1``: 2 of 10
requeues of a stopped command, 0 of 4 of a running one, on SLURM 22.05); ``Popen.wait`` retries
after every signal handler and always returns the status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def _say(what: str) -> None:
    """A line of the job's log: ``ib-keras: job J task T <what> at <Unix time>``."""
    job = os.environ.get("SLURM_ARRAY_JOB_ID") or os.environ.get("SLURM_JOB_ID", "0")
    print(f"ib-keras: job {job} task {os.environ.get('SLURM_ARRAY_TASK_ID', '0')} {what} at {int(time.time())}",
          flush=True)


def _this_job() -> str:
    """The id `scontrol requeue` takes for this job (J_T for an array task)."""
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID", "")


def run(command: list[str]) -> int:
    """Run ``command`` as this job's work; returns its exit status (128 + N when signal N ended it)."""
    def requeue(signum, frame):
        print(f"ib-keras: time limit near, requeued at {int(time.time())}", flush=True)
        subprocess.run(["scontrol", "requeue", _this_job()], check=False)

    signal.signal(signal.SIGUSR1, requeue)  # before anything else: USR1's default would end this process
    _say(f"start {os.environ.get('SLURM_RESTART_COUNT', '0')}")
    child = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
    returned = child.wait()
    status = 128 - returned if returned < 0 else returned
    _say(f"end {status}")
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
