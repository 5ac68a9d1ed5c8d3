"""Helpers shared by the test modules: running the command line, waiting on a condition, finding a
command's worker processes, listing written files, writing synthetic run files."""

import contextlib
import io
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import integrate, stats

from ib_keras.data.tishby import tishby_dataset
from ib_keras.runfile import METRICS, LayerSpec, RunWriter

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT, **kwargs):
    """``python -m ib_keras ARGS`` in a fresh process; the CompletedProcess, output as text."""
    return subprocess.run([sys.executable, "-m", "ib_keras", *args], capture_output=True, text=True, cwd=cwd, **kwargs)


def cli_ok(*args):
    """`cli_here`, asserting that the command succeeded (its stderr shown when not)."""
    result = cli_here(*args)
    assert result.returncode == 0, result.stderr
    return result


def cli_here(*args):
    """``python -m ib_keras ARGS`` run in this process, the CompletedProcess as `cli` gives it: a
    fresh process spends about 6 s importing TensorFlow, this one imports it once. For commands
    that need no process of their own (no signal, time limit or resource limit, no check of what
    a fresh process imports)."""
    from ib_keras.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit:  # argparse's refusals
            code = exit.code
    return subprocess.CompletedProcess([sys.executable, "-m", "ib_keras", *args], code, out.getvalue(), err.getvalue())


def wait_for(condition, seconds):
    """Poll ``condition`` every 50 ms until it holds; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def spawned_workers(process):
    """The worker processes a command has spawned (a local pool's or a Dask LocalCluster's: each runs
    ``spawn_main``), not multiprocessing's resource tracker; a child that has already exited (a
    zombie, or gone) is not one."""
    import psutil

    workers = []
    for child in psutil.Process(process.pid).children():
        try:
            command = " ".join(child.cmdline())
        except psutil.NoSuchProcess:  # ZombieProcess included
            continue
        if "spawn_main" in command and "resource_tracker" not in command:
            workers.append(child)
    return workers


def files(directory):
    """Every file under ``directory``, sorted; [] if it does not exist."""
    return sorted(p for p in Path(directory).rglob("*") if p.is_file()) if Path(directory).exists() else []


def write_run(path, seed, epochs=3):
    """A synthetic relu run of ``epochs`` recorded epochs, two layers, on the 4096 patterns."""
    x, y = tishby_dataset()
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(12, 3)), rng.normal(size=(12, 2))]
    writer = RunWriter(path, x, y, np.arange(3277), np.arange(3277, 4096),
                       [LayerSpec(3, "relu"), LayerSpec(2, "softmax")],
                       {"activation": "relu", "seed": seed, "l2": 0.0, "protocol": "chelombiev", "epochs": epochs},
                       range(epochs))
    for epoch in range(epochs):
        hidden = np.maximum(x @ weights[0] * (1 + epoch), 0).astype(np.float32)
        logits = x @ weights[1] * (1 + epoch)
        output = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
        writer.append(epoch, [hidden, output], {name: 0.5 for name in METRICS}, np.ones(2), np.ones(2), np.ones(2))
    writer.finish()
    return path


def cut_growing_datasets(path, rows):
    """Resize every dataset of a run file that grows by epoch to ``rows`` rows, leaving the rest
    (and the ``complete`` attribute) as they are: a file that claims more than it holds."""
    import h5py

    with h5py.File(path, "r+") as f:
        f.visititems(lambda name, item: item.resize(rows, axis=0)
                     if isinstance(item, h5py.Dataset) and item.maxshape[0] is None else None)


def mixture_entropy_1d(points, variance):
    """H of the equal-weight 1-d mixture of N(point, variance), nats, by numerical integration."""
    scale = math.sqrt(variance)

    def density(u):
        return float(np.mean(stats.norm.pdf(u, loc=points, scale=scale)))

    def integrand(u):
        p = density(u)
        return -p * math.log(p) if p > 0 else 0.0

    lo, hi = min(points) - 12 * scale, max(points) + 12 * scale
    return integrate.quad(integrand, lo, hi, points=sorted(points), limit=500, epsabs=1e-12)[0]
