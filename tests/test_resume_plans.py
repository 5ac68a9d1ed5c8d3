"""A rerun after an interrupted training: its plan line says, for every checkpoint of the networks
it trains, whether it resumes and why not; one that cannot resume is deleted when its networks
start afresh; and a truncated run file beside a checkpoint is named, never waited on."""

import shutil

import keras
import numpy as np
import pytest

from ib_keras.runfile import read_run
from tests.helpers import cli, cli_here

ARGS = ["train", "--activation", "tanh", "--epochs", "8", "--record-points", "4", "--workers", "1",
        "--checkpoint-seconds", "0"]


class _Killed(BaseException):
    """Stands for the kill that stops a training between two epochs."""


class _KillAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise _Killed


def _interrupted(monkeypatch, out, seeds, at=3, *more):
    """Train ``seeds`` networks as ``ARGS`` into ``out``, stopped after epoch ``at`` as a kill stops
    them: run files incomplete, the checkpoint of that epoch beside them."""
    from ib_keras.train import fit

    original = fit.fit_ensemble
    with monkeypatch.context() as patch:
        patch.setattr(fit, "fit_ensemble", lambda model, x, y, group, epochs, batch_size, callbacks, **options:
                      original(model, x, y, group, epochs, batch_size, [*callbacks, _KillAt(at)], **options))
        with pytest.raises(_Killed):
            cli_here(*ARGS, "--seeds", str(seeds), "--out", str(out), *more)
    return out / "tanh"


def test_the_plan_says_why_a_checkpoint_does_not_resume_and_deletes_it_when_its_networks_start(tmp_path, monkeypatch):
    """One interrupted training of three networks, copied for each rerun: other settings, its
    networks in other models (--seeds 2), a damaged checkpoint. (A checkpoint that resumes is
    said so in tests/test_resume.py.)"""
    interrupted = _interrupted(monkeypatch, tmp_path / "interrupted", 3)
    assert [path.name for path in interrupted.glob("checkpoint-*.npz")] == ["checkpoint-seed-000-001-002.npz"]
    for case in ("settings", "seeds", "damaged"):
        shutil.copytree(interrupted, tmp_path / case / "tanh")
    (tmp_path / "damaged" / "tanh" / "checkpoint-seed-000-001-002.npz").write_bytes(
        (interrupted / "checkpoint-seed-000-001-002.npz").read_bytes()[:-200])
    for case, options, why in [
            ("settings", ["--seeds", "3", "--epochs", "6"], "it is of other settings (epochs 8 vs 6)"),
            ("seeds", ["--seeds", "2"], "this command trains seeds 0, 1, 2 in other models"),
            ("damaged", ["--seeds", "3"], "it cannot be read: damaged")]:
        rerun = cli_here(*ARGS, *options, "--out", str(tmp_path / case))
        assert rerun.returncode == 0, rerun.stderr
        saved = "" if case == "damaged" else " (epoch 3)"
        assert (f"checkpoint-seed-000-001-002.npz{saved} is not resumed and is deleted when its networks start "
                f"afresh: {why}") in rerun.stdout, rerun.stdout
        assert "resumes at" not in rerun.stdout and "not resumed, deleted" in rerun.stderr
        directory = tmp_path / case / "tanh"
        assert not list(directory.glob("checkpoint-*.npz")) and read_run(directory / "seed-000.h5").complete
    assert read_run(tmp_path / "settings" / "tanh" / "seed-000.h5").epochs[-1] == 6


def test_a_truncated_run_file_beside_its_checkpoint_is_named_and_trained_again_not_waited_for(tmp_path, monkeypatch):
    """Cut to a twentieth, which hung for good before; other cuts: tests/test_storage.py."""
    directory = _interrupted(monkeypatch, tmp_path / "runs", 1)
    path = directory / "seed-000.h5"
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 20)
    rerun = cli(*ARGS, "--seeds", "1", "--out", str(tmp_path / "runs"), timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{path}: cannot continue this run file: {path}: truncated" in rerun.stdout
    assert read_run(path).complete and np.array_equal(read_run(path).epochs, read_run(path).schedule)
