"""What a requeue costs a training on SLURM, in seconds of the job's run time.

One configuration is submitted twice as a SLURM job (`sweep --slurm`) at once, on the same node:
one left alone, one requeued (`scontrol requeue`, as a preemption or the time limit's warning
does) ``--requeues`` times while it trains, each time released at once. From the jobs' logs (each
run's start and end): the overhead per requeue is (the requeued job's runs summed - the other's
run) / requeues, which is the start-up (Python, TensorFlow, the plan, the checkpoint read) and the
epochs since the last checkpoint trained again. SLURM's hold of a requeued job (its BeginTime, two
minutes here before it may start again) and the queue's wait come on top of it on a cluster; they
are not the training's and are released here. Needs a running SLURM: scripts/slurm_node.sh start DIR,
then SLURM_CONF=DIR/slurm.conf.

    .venv/bin/python benchmarks/slurm_requeue.py [--epochs 12000] [--checkpoint-seconds 10] [--requeues 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ib_keras.scaleout.slurm import runs
from ib_keras.train.checkpoint_file import read_checkpoint


def submit(out: Path, epochs: int, checkpoint_seconds: float) -> str:
    done = subprocess.run([sys.executable, "-m", "ib_keras", "sweep", "--activations", "tanh", "--seeds", "1",
                           "--epochs", str(epochs), "--record-points", "6", "--checkpoint-seconds",
                           f"{checkpoint_seconds:g}", "--out", str(out), "--slurm", "--time-limit", "60"],
                          capture_output=True, text=True, check=True)
    return re.search(r"SLURM job (\d+)", done.stdout)[1]


def state(job: str) -> str:
    shown = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True, check=True).stdout
    return re.search(r"JobState=(\S+)", shown)[1]


def wait(condition, seconds: float = 1200) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12000)
    parser.add_argument("--checkpoint-seconds", type=float, default=10.0)
    parser.add_argument("--requeues", type=int, default=2)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="slurm-requeue-"))
    alone = submit(root / "alone", args.epochs, args.checkpoint_seconds)
    requeued = submit(root / "requeued", args.epochs, args.checkpoint_seconds)
    checkpoint = root / "requeued" / "tanh" / "checkpoint-seed-000.npz"
    for _ in range(args.requeues):
        seen = (read_checkpoint(checkpoint) or {"epoch": -1})["epoch"]
        wait(lambda: (read_checkpoint(checkpoint) or {"epoch": -1})["epoch"] > seen)  # a new checkpoint, then
        time.sleep(args.checkpoint_seconds / 2)  # half an interval on: the loss a preemption costs on average
        if state(requeued) != "RUNNING":
            raise SystemExit("the training finished before its requeue: give more --epochs")
        subprocess.run(["scontrol", "requeue", requeued], check=True)
        wait(lambda: state(requeued) == "PENDING")
        # in 2 s: started within the second its last run ended, a job's launch fails ("Job credential revoked")
        subprocess.run(["scontrol", "update", f"JobId={requeued}", "StartTime=now+2"], check=True)
    wait(lambda: state(alone) == "COMPLETED" and state(requeued) == "COMPLETED")
    spans = {job: next(spans for (id_, _), spans in runs(root / kind / "slurm", "ib-keras-train").items()
                       if id_ == job) for job, kind in ((alone, "alone"), (requeued, "requeued"))}
    whole = sum(end - start for start, end, _ in spans[alone])
    parts = sum(end - start for start, end, _ in spans[requeued])
    print(f"{args.epochs} epochs, a checkpoint every {args.checkpoint_seconds:g} s: uninterrupted {whole} s; requeued "
          f"{len(spans[requeued]) - 1} times, {parts} s in {len(spans[requeued])} runs "
          f"({', '.join(str(end - start) for start, end, _ in spans[requeued])} s); "
          f"{(parts - whole) / max(1, len(spans[requeued]) - 1):.1f} s lost per requeue (logs under {root})")


if __name__ == "__main__":
    main()
