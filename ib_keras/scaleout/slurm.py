"""Commands as SLURM batch jobs: a job array of command lines, one per array task, written into a
batch script that `sbatch` submits, and one job after the array when a stage needs it.

Every job can be ended before its command finishes: by its time limit, by ``scancel``, by a
preemption, by a node that fails. The batch script requeues its own job at the time limit's
warning (``--signal=B:USR1@margin``: SLURM ends the job and starts it again later), and is
submitted ``--requeue`` so that a preemption or a node failure requeues it too; ``scontrol
requeue`` requeues a cancelled one. The commands themselves make a requeue cheap: a training
resumes from its last checkpoint, an estimate from the rows it kept, and a command that finds its
work done exits at once. Logs are appended across a job's runs, each run between a line saying
which run it is (``start N``: SLURM's restart count) and one with its exit status (`runs` reads them).

Chosen over dask-jobqueue's SLURMCluster: a job array is what a cluster's users submit, watch
(``squeue``, ``sacct``) and requeue, it needs no process of ours to stay alive on the login node,
and SLURM's own requeue is the resumption (a Dask worker ended at its time limit loses its task,
which then starts again from nothing on another worker).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ib_keras.system.arguments import number
from ib_keras.system.atomic import atomic_path

SLURM_CHECK_SECONDS = 30  # slurmctld checks time limits, and sends their warnings, this often
SIGNAL_EARLY_SECONDS = 60  # a time limit's warning may come this much earlier than asked (sbatch(1), --signal)
POLL_SECONDS = 5  # --wait: how often squeue is asked
RUN = re.compile(r"^ib-keras: job (\d+) task (\d+) (start|end) (\d+) at (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class SlurmJobs:
    """How a stage's jobs are asked for: a time limit in minutes, CPUs per job, and more ``sbatch``
    options as given (``--partition=compute``, ``--account=lab``, ``--mem=4G``)."""

    time_limit: int = 60
    cpus: int = 1
    options: tuple[str, ...] = ()

    @property
    def margin(self) -> int:
        """Seconds before the time limit at which a job requeues itself (SLURM may warn up to
        SIGNAL_EARLY_SECONDS earlier): at least slurmctld's check interval, so that the warning
        always comes before the limit; a quarter of the limit, up to two minutes."""
        return max(SLURM_CHECK_SECONDS, min(120, self.time_limit * 60 // 4))


def add_slurm_options(parser: argparse.ArgumentParser, what: str) -> None:
    """The options of a stage that can run as SLURM jobs (``what``: what one job does)."""
    parser.add_argument("--slurm", action="store_true",
                        help=f"submit the work as SLURM batch jobs instead ({what}), each requeued at its time limit "
                             "and resuming from what it kept (docs/scale-out.md)")
    parser.add_argument("--time-limit", type=number(int, 1, 525600, "a number of minutes from 1 to 525600"),
                        default=60, metavar="MINUTES", help="with --slurm: each job's time limit (default: 60)")
    parser.add_argument("--sbatch-option", action="append", default=[], metavar="OPTION",
                        help="with --slurm: an sbatch option for every job, such as --sbatch-option=--partition=gpu "
                             "(repeatable)")
    parser.add_argument("--wait", action="store_true", help="with --slurm: return when every job has ended")


# Why an option cannot go with --slurm, where it is not plain (the others run locally or on Dask only)
_NOT_WITH_SLURM = {"overwrite": "a requeued job would train afresh again; delete the runs to retrain them"}


def slurm_jobs(args: argparse.Namespace, cpus: int, local_only: Sequence[str] = ()) -> SlurmJobs | None:
    """The `SlurmJobs` the options of `add_slurm_options` ask for (None without --slurm).
    ``local_only``: the command's options (``args`` attribute names) that cannot go with --slurm.

    Raises ValueError for a SLURM option without --slurm, for options of ``local_only`` given with
    it (naming those given), or for --slurm where sbatch is not found.
    """
    if not args.slurm:
        if args.sbatch_option or args.wait or args.time_limit != 60:
            raise ValueError("--time-limit, --sbatch-option and --wait set the jobs of --slurm: give --slurm too")
        return None
    given = [name for name in local_only if getattr(args, name)]
    if given:
        why = "".join(f" ({_NOT_WITH_SLURM[name]})" for name in given if name in _NOT_WITH_SLURM)
        raise ValueError(f"--slurm runs the work as SLURM jobs: leave out "
                         f"{', '.join('--' + name.replace('_', '-') for name in given)}{why}")
    for command in ("sbatch", "squeue", "scontrol"):
        if shutil.which(command) is None:
            raise ValueError(f"--slurm: {command} not found; submit from a node of a SLURM cluster (scripts/"
                             "slurm_node.sh starts one on this machine for trying it)")
    return SlurmJobs(args.time_limit, cpus, tuple(args.sbatch_option))


def batch_script(name: str, commands: Sequence[Sequence[str]], logs: Path, jobs: SlurmJobs, about: str,
                 comment: str = "") -> str:
    """The batch script that runs ``commands[i]`` as array task i (a single job for one command),
    logging to ``logs``/<name>-<job>_<task>.out, appended across requeues; ``comment`` is the
    jobs' SLURM comment (what they write, for `queued`)."""
    array = [f"#SBATCH --array=0-{len(commands) - 1}"] if len(commands) > 1 else []
    cases = "\n".join(f"  {i}) set -- {shlex.join(command)} ;;" for i, command in enumerate(commands))
    return "\n".join([
        "#!/bin/bash",
        f"# {about}",
        "# Written by ib_keras; `sbatch` it again to run what is left (finished work is kept).",
        f"#SBATCH --job-name={name}",
        *array,
        f"#SBATCH --time={jobs.time_limit}",
        f"#SBATCH --cpus-per-task={jobs.cpus}",
        "#SBATCH --requeue",
        f"#SBATCH --signal=B:USR1@{jobs.margin}",
        "#SBATCH --open-mode=append",
        f"#SBATCH --chdir={shlex.quote(os.getcwd())}",
        f"#SBATCH --output={shlex.quote(str(logs))}/%x-{'%A_%a' if array else '%j'}.out",
        *([f"#SBATCH --comment={shlex.quote(comment)}"] if comment else []),
        *(f"#SBATCH {option}" for option in jobs.options),
        f"# {jobs.margin} to {jobs.margin + SIGNAL_EARLY_SECONDS} s before the time limit SLURM sends USR1, and this "
        "script requeues",
        "# its job: SLURM ends it and starts it again later, and the command resumes from what it kept.",
        "# A preemption with requeue, a failed node and `scontrol requeue` start it again the same way.",
        'case "${SLURM_ARRAY_TASK_ID:-0}" in',
        cases,
        "esac",
        f"export OMP_NUM_THREADS={jobs.cpus}",
        "# ib_keras.scaleout.slurm_task becomes the batch shell: it logs each run's start and end (its exit",
        "# status), requeues the job at USR1, passes SIGTERM on to the command and waits for it.",
        f'exec {shlex.quote(sys.executable)} -m ib_keras.scaleout.slurm_task "$@"',
        "",
    ])


def submit(directory: Path, name: str, commands: Sequence[Sequence[str]], jobs: SlurmJobs, about: str,
           after: str | None = None) -> tuple[str, Path]:
    """Write the batch script of ``commands`` to ``directory``/<name>.sh (atomically; its jobs'
    logs beside it) and submit it, after the job ``after`` has ended when given, its comment
    ``directory``. Returns the job id and the script.

    Raises ValueError, before writing anything, while jobs of the same name and directory are
    pending or running (two such jobs would write the same files), and with sbatch's own message
    when it refuses the job.
    """
    already = queued(name, str(directory))
    if already:
        raise ValueError(f"SLURM job(s) {', '.join(already)} of {directory} are pending or running: wait for them to "
                         "end (squeue), or scancel them, before submitting again")
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{name}.sh"
    with atomic_path(script) as partial:
        Path(partial).write_text(batch_script(name, commands, directory, jobs, about, str(directory)))
    options = ["--parsable", *([f"--dependency=afterany:{after}"] if after else [])]
    done = subprocess.run(["sbatch", *options, str(script)], capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(f"sbatch refused {script}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip().split(";")[0], script


def _squeue(*options: str) -> list[list[str]]:
    """``squeue -h`` with ``options`` (the last ``-o FORMAT`` of two fields): each pending or
    running job's two fields; none for job ids SLURM no longer knows. ValueError if it fails."""
    done = subprocess.run(["squeue", "-h", *options], capture_output=True, text=True)
    if done.returncode != 0 and "Invalid job id" not in done.stderr:
        raise ValueError(f"squeue failed: {done.stderr.strip()}")
    return [line.split(maxsplit=1) for line in done.stdout.splitlines() if line.strip()]


def active(job_ids: Sequence[str]) -> dict[str, str]:
    """The jobs of ``job_ids`` (arrays' tasks each) still pending or running: id -> state."""
    return dict(_squeue("-j", ",".join(job_ids), "-o", "%i %T"))


def queued(name: str, comment: str) -> list[str]:
    """The pending or running jobs called ``name`` whose comment is ``comment``: an array by the id
    sbatch gave it (%F; %A would give each started task's own id)."""
    return sorted({fields[0] for fields in _squeue("-n", name, "-o", "%F %k") if fields[1:] == [comment]})


def wait_for(job_ids: Sequence[str], report: Callable[[str], None] = lambda message: print(message, flush=True),
             poll: float = POLL_SECONDS) -> None:
    """Return once no job of ``job_ids`` is pending or running, reporting each change of states."""
    said = None
    while jobs := active(job_ids):
        states = ", ".join(f"{count} {state.lower()}" for state, count in sorted(Counter(jobs.values()).items()))
        if states != said:
            report(f"SLURM jobs {', '.join(job_ids)}: {states}")
            said = states
        time.sleep(poll)


def runs(directory: Path, name: str) -> dict[tuple[str, int], list[tuple[int, int | None, int | None]]]:
    """Each (job, task) whose log is in ``directory``: its runs in order, each (start, end, exit
    status), the times in Unix seconds (end and status None for a run that was killed outright or
    is still going). More than one run is a requeue."""
    found: dict[tuple[str, int], list[tuple[int, int | None, int | None]]] = {}
    for log in sorted(directory.glob(f"{name}-*.out")):
        for job, task, what, number, at in RUN.findall(log.read_text(errors="replace")):
            spans = found.setdefault((job, int(task)), [])
            if what == "start":
                spans.append((int(at), None, None))
            elif spans and spans[-1][1] is None:
                spans[-1] = (spans[-1][0], int(at), int(number))
    return found


def expected_requeues(seconds: float, jobs: SlurmJobs, start_up: float) -> int:
    """Requeues a job of ``seconds`` of work is expected to need: each run of it works from its
    start-up to its requeue, ``margin`` (and up to SIGNAL_EARLY_SECONDS more) before the limit."""
    usable = jobs.time_limit * 60 - jobs.margin - SIGNAL_EARLY_SECONDS - start_up
    if usable <= 0:
        raise ValueError(f"--time-limit {jobs.time_limit}: a job may be requeued "
                         f"{jobs.margin + SIGNAL_EARLY_SECONDS} s before its limit, "
                         f"before its start-up of about {start_up:.0f} s is over; give a longer time limit")
    return max(0, -int(-seconds // usable) - 1)
