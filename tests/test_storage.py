import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from ib_keras.storage import SCHEMA_VERSION, LayerSpec, RunFileError, RunWriter, read_run, run_path

LAYERS = [LayerSpec(3, "tanh"), LayerSpec(2, "softmax")]
N = 8


def _epoch_data(epoch):
    activity = [np.full((N, 3), epoch, np.float32), np.full((N, 2), -epoch, np.float32)]
    metrics = {"train_loss": epoch + 0.1, "train_accuracy": 0.5, "test_loss": epoch + 0.2, "test_accuracy": 0.25}
    return activity, metrics, np.array([epoch, 1.0]), np.array([2.0, epoch]), np.array([3.0, 4.0])


def _writer(path):
    x = np.arange(N * 12, dtype=np.float32).reshape(N, 12)
    return RunWriter(path, x, np.arange(N) % 2, np.arange(6), np.arange(6, N), LAYERS, {"seed": 3})


def _write(path, epochs, complete=True):
    """A run file holding ``epochs``, finished (complete) or closed as an interrupted run leaves it."""
    writer = _writer(path)
    for epoch in epochs:
        writer.append(epoch, *_epoch_data(epoch))
    writer.finish() if complete else writer.close()


def test_written_epochs_read_back_exactly(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0, 1, 5))
    run = read_run(path)
    assert run.complete and run.config == {"seed": 3}
    np.testing.assert_array_equal(run.epochs, [0, 1, 5])
    assert run.layers == LAYERS
    assert [a.shape for a in run.activity] == [(3, N, 3), (3, N, 2)]
    np.testing.assert_array_equal(run.activity[1][:, 0, 0], [0, -1, -5])
    np.testing.assert_allclose(run.metrics["test_loss"], [0.2, 1.2, 5.2])
    np.testing.assert_array_equal(run.weights_norm[:, 0], [0, 1, 5])
    np.testing.assert_array_equal(run.train_idx, np.arange(6))


def test_the_file_is_plain_hdf5_for_users(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0,))
    with h5py.File(path, "r") as f:
        assert f.attrs["schema_version"] == SCHEMA_VERSION and bool(f.attrs["complete"])
        assert json.loads(f.attrs["config"]) == {"seed": 3}
        assert f["activations/layer_0"].shape == (1, N, 3)
        assert f["activations/layer_0"].attrs["activation"] == "tanh"
        assert f["grad_std"].shape == (1, 2)


def test_an_unfinished_file_reads_as_incomplete(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0,), complete=False)
    run = read_run(path)
    assert not run.complete and list(run.epochs) == [0]


KILLED_WRITER = """
import sys, numpy as np
sys.path.insert(0, {root!r})
from tests.test_storage import _writer, _epoch_data
writer = _writer({path!r})
epoch = 0
while True:
    writer.append(epoch, *_epoch_data(epoch))
    epoch += 1
"""


@pytest.mark.parametrize("delay", [0.5, 1.1])
def test_a_writer_killed_at_any_instant_leaves_every_flushed_epoch(tmp_path, delay):
    path = tmp_path / "killed.h5"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = KILLED_WRITER.format(root=root, path=str(path))
    process = subprocess.Popen([sys.executable, "-c", code])
    time.sleep(delay)
    while not path.exists() and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    run = read_run(path)
    assert not run.complete
    assert len(run.epochs) > 0
    np.testing.assert_array_equal(run.epochs, np.arange(len(run.epochs)))
    for epoch in run.epochs:  # every epoch the reader sees is whole
        np.testing.assert_array_equal(run.activity[0][epoch], epoch)
        np.testing.assert_array_equal(run.activity[1][epoch], -epoch)
        assert run.metrics["test_loss"][epoch] == pytest.approx(epoch + 0.2)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(RunFileError, match="no such run file") as error:
        read_run(tmp_path / "nope.h5")
    assert "nope.h5" in str(error.value)


def test_a_corrupt_file_is_named_with_the_fix(tmp_path):
    path = tmp_path / "corrupt.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(2000))
    with pytest.raises(RunFileError, match="train it again") as error:
        read_run(path)
    assert "corrupt.h5" in str(error.value)


def test_a_file_of_another_schema_names_the_missing_field(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["config"] = "{}"
        f["x"] = np.zeros((2, 12))
    with pytest.raises(RunFileError, match="missing 'epochs'"):
        read_run(path)


def test_run_paths_follow_the_documented_layout():
    assert run_path("runs/paper", "relu", 0.0, 7).as_posix() == "runs/paper/relu/seed-007.h5"
    assert run_path("runs/paper", "tanh", 0.015, 12).as_posix() == "runs/paper/tanh_l2-0.015/seed-012.h5"


def test_only_epochs_that_every_dataset_holds_are_read(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0, 1, 2), complete=False)
    with h5py.File(path, "r+") as f:  # as a writer killed mid-flush can leave it: some datasets ran ahead
        f["epochs"].resize(4, axis=0)
        f["epochs"][3] = 3
        f["activations/layer_1"].resize(4, axis=0)
    run = read_run(path)
    np.testing.assert_array_equal(run.epochs, [0, 1, 2])
    assert [a.shape[0] for a in run.activity] == [3, 3] and run.metrics["test_loss"].shape == (3,)
    assert run.grad_std.shape == (3, 2)
