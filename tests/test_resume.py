"""Trainings that resume: a network killed at epoch e goes on from its last checkpoint, its run file
continued without a gap or a repeated epoch, to the result of a training never stopped."""

import signal
import subprocess
import sys

import h5py
import numpy as np

from ib_keras.runfile import read_run
from tests.helpers import ROOT, cli_here, wait_for

ARGS = ["train", "--activation", "tanh", "--seeds", "2", "--epochs", "150", "--record-points", "25", "--workers", "1"]


def _checkpoint_epoch(directory):
    """The epoch of the one checkpoint in ``directory`` (0 while there is none)."""
    paths = list(directory.glob("checkpoint-seed-*.npz"))
    try:
        with np.load(paths[0]) as saved:
            return int(saved["epoch"])
    except (IndexError, OSError, ValueError, KeyError, EOFError):  # none yet, or being replaced
        return 0


def _runs(out):
    return sorted(out.glob("*/seed-*.h5"))


def _datasets(path):
    """Every dataset of a run file by name, and its attributes."""
    values = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: values.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
        return values, dict(f.attrs)


def test_a_training_killed_mid_way_resumes_from_its_checkpoint_to_the_uninterrupted_result(tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen([sys.executable, "-m", "ib_keras", *ARGS, "--checkpoint-seconds", "0", "--out",
                                str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _checkpoint_epoch(killed / "tanh") >= 25 or process.poll() is not None, 300)
        assert process.poll() is None, "finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stopped_at = _checkpoint_epoch(killed / "tanh")
    assert 25 <= stopped_at < 150
    before = [read_run(path) for path in _runs(killed)]  # every epoch flushed before the kill reads back
    assert not any(run.complete for run in before) and all(len(run.activity[0]) == len(run.epochs) for run in before)

    rerun = cli_here(*ARGS, "--out", str(killed))
    assert rerun.returncode == 0, rerun.stderr
    assert f"checkpoint-seed-000-001.npz resumes at epoch {stopped_at}" in rerun.stdout
    assert not list((killed / "tanh").glob("checkpoint-*")), "a complete training keeps no checkpoint"
    assert cli_here(*ARGS, "--out", str(whole)).returncode == 0

    for resumed, uninterrupted in zip(_runs(killed), _runs(whole), strict=True):
        (got, attrs), (want, want_attrs) = _datasets(resumed), _datasets(uninterrupted)
        assert attrs["complete"] and attrs["config"] == want_attrs["config"] and got.keys() == want.keys()
        np.testing.assert_array_equal(got["epochs"], want["schedule"])  # no gap, no epoch twice
        for name, value in want.items():
            np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    for killed_run, path in zip(before, _runs(killed)):  # the epochs before the checkpoint are kept as they were
        kept = int(np.sum(killed_run.epochs < stopped_at))
        np.testing.assert_array_equal(read_run(path).activity[0][:kept], killed_run.activity[0][:kept])
