import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from ib_keras.runfile import METRICS, SCHEMA_VERSION, LayerSpec, RunFileError, RunWriter, fletcher32, read_run, run_path
from tests.helpers import cut_growing_datasets

LAYERS = [LayerSpec(3, "tanh"), LayerSpec(2, "softmax")]
N = 8


def _epoch_data(epoch):
    activity = [np.full((N, 3), epoch, np.float32), np.full((N, 2), -epoch, np.float32)]
    metrics = {"train_loss": epoch + 0.1, "train_accuracy": 0.5, "test_loss": epoch + 0.2, "test_accuracy": 0.25}
    return activity, metrics, np.array([epoch, 1.0]), np.array([2.0, epoch]), np.array([3.0, 4.0])


def _writer(path, schedule=range(1000)):
    x = np.arange(N * 12, dtype=np.float32).reshape(N, 12)
    return RunWriter(path, x, np.arange(N) % 2, np.arange(6), np.arange(6, N), LAYERS, {"seed": 3}, schedule)


def _write(path, epochs, complete=True):
    """A run file holding ``epochs``, finished (complete) or closed as an interrupted run leaves it."""
    writer = _writer(path, epochs)
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


def _written_chunks(f, path):
    """Every chunk of every dataset of the open file ``f``: {(dataset, chunk offset): bytes on disk}."""
    chunks = {}
    with open(path, "rb") as raw:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and obj.chunks:
                for i in range(obj.id.get_num_chunks()):
                    info = obj.id.get_chunk_info(i)
                    raw.seek(info.byte_offset)
                    chunks[name, info.chunk_offset] = raw.read(info.size)
        f.visititems(visit)
    return chunks


def test_a_written_chunk_is_never_written_again(tmp_path):
    # A kill in the middle of a write can tear it between pages; an epoch is safe only if no
    # later epoch rewrites the bytes it was flushed in.
    path = tmp_path / "run.h5"
    writer = _writer(path)
    for epoch in range(3):
        writer.append(epoch, *_epoch_data(epoch))
    before = _written_chunks(writer._file, path)
    for epoch in range(3, 6):
        writer.append(epoch, *_epoch_data(epoch))
    after = _written_chunks(writer._file, path)
    writer.close()
    assert len(before) > 3 * len(LAYERS) and len(after) > len(before)
    assert {key: after[key] for key in before} == before


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


@pytest.mark.parametrize("data", [b"\x01", b"\0\0\0", b"\xff\xff" * 1000, b"\xff" * 721, b"\0\x01" * 70000,
                                  np.random.default_rng(0).integers(0, 256, 2_000_001, np.uint8).tobytes()])
def test_our_fletcher32_is_the_checksum_hdf5_stores(tmp_path, data):
    values = np.frombuffer(data, np.uint8)
    with h5py.File(tmp_path / "c.h5", "w") as f:
        _, raw = f.create_dataset("a", data=values, chunks=(len(values),), fletcher32=True).id.read_direct_chunk((0,))
    assert raw[:-4] == data and raw[-4:] == fletcher32(data).to_bytes(4, "little")


def test_every_dataset_of_a_new_file_carries_a_checksum(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0, 1))
    with h5py.File(path, "r") as f:
        datasets = []
        f.visititems(lambda name, item: datasets.append(item) if isinstance(item, h5py.Dataset) else None)
        assert len(datasets) == 15 and all(d.fletcher32 for d in datasets), [d.name for d in datasets]


@pytest.mark.parametrize("name", ["y", "activations/layer_0"])
def test_bytes_damaged_inside_a_dataset_fail_its_checksum(tmp_path, name):
    path = tmp_path / "run.h5"
    _write(path, (0, 1))
    with h5py.File(path, "r") as f:
        offset = f[name].id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes(np.random.default_rng(0).integers(0, 256, 6, np.uint8)))
    with pytest.raises(RunFileError, match=f"{path}: fails its checksum"):
        read_run(path)


def _without_checksums(path):
    """An older file: the same contents, written before checksums, with damaged labels."""
    run = read_run(path)
    with h5py.File(path, "w") as f:
        f.attrs.update(schema_version=SCHEMA_VERSION, complete=True, config=json.dumps(run.config))
        for name in ("x", "y", "train_idx", "test_idx", "epochs", "weights_norm", "grad_mean", "grad_std"):
            f[name] = getattr(run, name)
        for metric, values in run.metrics.items():
            f[f"metrics/{metric}"] = values
        for i, (layer, values) in enumerate(zip(run.layers, run.activity)):
            f[f"activations/layer_{i}"] = values
            f[f"activations/layer_{i}"].attrs.update(units=layer.units, activation=layer.activation)


def test_a_file_without_checksums_still_reads_and_its_labels_are_checked(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0, 1))
    _without_checksums(path)
    assert read_run(path).complete
    with h5py.File(path, "r+") as f:
        f["y"][3] = -8_600_000_000_000_000_000
    with pytest.raises(RunFileError, match=f"{path}: field 'y' holds values outside the 2 classes"):
        read_run(path)


@pytest.mark.parametrize("field, value, message", [
    ("train_idx", 99, "field 'train_idx' holds indices outside 0..7 or repeated ones"),
    ("test_idx", 6, "field 'test_idx' holds indices outside 0..7 or repeated ones"),  # test_idx 6, 6
    ("epochs", 0, "field 'epochs' is not increasing"),
])
def test_indices_and_epochs_are_checked(tmp_path, field, value, message):
    path = tmp_path / "run.h5"
    _write(path, (0, 1, 5))
    with h5py.File(path, "r+") as f:
        f[field][-1] = value
    with pytest.raises(RunFileError, match=message):
        read_run(path)


def test_a_complete_file_short_of_its_schedule_is_incomplete(tmp_path):
    path = tmp_path / "run.h5"
    _write(path, (0, 1, 5))
    cut_growing_datasets(path, 2)
    run = read_run(path)
    assert list(run.epochs) == [0, 1] and run.finished and not run.complete
    assert run.incomplete_reason() == "marked complete but holds 2 of the 3 epochs its schedule records; rerun its train command"


def test_a_file_from_before_the_schedule_is_held_to_its_configs_protocol(tmp_path):
    path = tmp_path / "run.h5"
    writer = RunWriter(path, np.zeros((N, 12), np.float32), np.arange(N) % 2, np.arange(6), np.arange(6, N), LAYERS,
                       {"protocol": "chelombiev", "epochs": 5, "record_points": None}, [0, 1, 2, 3, 4, 5])
    for epoch in (0, 1, 2, 3, 4, 5):
        writer.append(epoch, *_epoch_data(epoch))
    writer.finish()
    with h5py.File(path, "r+") as f:
        del f["schedule"]
    assert read_run(path).complete  # log-spaced over 5 epochs: every epoch
    with h5py.File(path, "r+") as f:
        f.attrs["config"] = json.dumps({"protocol": "chelombiev", "epochs": 5, "record_points": 2})
    assert not read_run(path).complete  # the config's schedule is 0, 1, 5: not these epochs
    with h5py.File(path, "r+") as f:
        f.attrs["config"] = json.dumps({"seed": 1})
    assert read_run(path).complete  # a config that names no schedule: the attribute decides


@pytest.mark.parametrize("field, value", [("activation", 5), ("activation", ["tanh"]), ("split_seed", "zero"),
                                          ("l2", "notfloat"), ("seed", True), ("hidden_units", [3, "x"])])
def test_a_config_value_of_the_wrong_type_is_one_message_naming_file_and_field(tmp_path, field, value):
    path = tmp_path / "run.h5"
    _write(path, (0,))
    with h5py.File(path, "r+") as f:
        f.attrs["config"] = json.dumps({"seed": 3, field: value})
    with pytest.raises(RunFileError, match=f"{path}: config field '{field}' is"):
        read_run(path)


@pytest.mark.parametrize("content", [b"PAR1 not a run", b"", b"PK\x03\x04 an npz"])
def test_a_file_that_is_not_hdf5_is_not_called_a_run_to_train_again(tmp_path, content):
    path = tmp_path / "mi.parquet"
    path.write_bytes(content)
    with pytest.raises(RunFileError, match=f"{path}: not an HDF5 file .*so not a run file") as error:
        read_run(path)
    assert "train it again" not in str(error.value)


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    path = tmp_path / "seed-000.h5"
    os.mkfifo(path)
    with pytest.raises(RunFileError, match=f"{path}: not a regular file"):
        read_run(path)  # opening a FIFO for reading would block: this returns at once


def test_fletcher32_summed_in_blocks_is_the_same_checksum(tmp_path, monkeypatch):
    from ib_keras.runfile import checksums

    data = np.random.default_rng(1).integers(0, 256, 300_001, np.uint8)
    with h5py.File(tmp_path / "c.h5", "w") as f:
        _, raw = f.create_dataset("a", data=data, chunks=(len(data),), fletcher32=True).id.read_direct_chunk((0,))
    monkeypatch.setattr(checksums, "_CHECKSUM_BLOCK", 1000)  # 151 blocks, the last one short
    assert raw[-4:] == fletcher32(data.tobytes()).to_bytes(4, "little")


def test_a_reader_holding_the_file_when_the_training_ends_delays_finish_not_fails_it(tmp_path):
    # `inspect` or `estimate` in another process may open the file in the instant between the
    # writer closing its SWMR handle and reopening the file to mark it complete; HDF5's file lock
    # then refuses the update (EAGAIN) while the reader holds it. Here the reader holds the file
    # across that instant: the writer's handle is closed as finish() closes it, a reader process
    # opens the file, and finish() must wait for it rather than fail the training.
    path = tmp_path / "run.h5"
    writer = _writer(path, [0, 1])
    for epoch in (0, 1):
        writer.append(epoch, *_epoch_data(epoch))
    writer._file.close()  # what finish() does first
    reader = subprocess.Popen([sys.executable, "-c", "import h5py, sys, time\nf = h5py.File(sys.argv[1], 'r')\n"
                               "print('open', flush=True)\ntime.sleep(1.0)", str(path)], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "open"
    writer.finish()  # closing again is a no-op; the update waits for the reader
    reader.wait(timeout=60)
    assert read_run(path).complete


def test_a_wide_layers_kernels_take_the_disk_of_the_epochs_recorded_not_of_a_chunk(tmp_path):
    """A 784 x 1024 kernel (MNIST's first layer) recorded at two epochs: about 2 x 3.2 MB on disk,
    not a 256-epoch chunk of 822 MB allocated at the first."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 784)).astype(np.float32), np.arange(20) % 2
    writer = RunWriter(tmp_path / "wide.h5", x, y, np.arange(16), np.arange(16, 20),
                       [LayerSpec(1024, "tanh"), LayerSpec(2, "softmax")], {"activation": "tanh"}, [0, 1], [784, 1024])
    for epoch in (0, 1):
        kernels = [rng.normal(size=(784, 1024)).astype(np.float32), rng.normal(size=(1024, 2)).astype(np.float32)]
        writer.append(epoch, [np.tanh(x @ kernels[0]), np.full((20, 2), 0.5, np.float32)], dict.fromkeys(METRICS, 0.5),
                      np.ones(2), np.ones(2), np.ones(2), kernels, [np.zeros(1024, np.float32), np.zeros(2, np.float32)])
    writer.finish()
    run = read_run(tmp_path / "wide.h5")
    assert run.complete and run.kernels[0].shape == (2, 784, 1024)
    # two epochs' kernels, and at most a megabyte for the first chunk of each other series
    assert (tmp_path / "wide.h5").stat().st_size < 2 * 784 * 1024 * 4 + 4 * 2**20


def test_float16_activity_is_the_float32_rounded_and_a_value_beyond_its_range_is_refused_by_layer(tmp_path):
    x = np.zeros((N, 12), np.float32)
    writer = RunWriter(tmp_path / "half.h5", x, np.arange(N) % 2, np.arange(6), np.arange(6, N), LAYERS, {}, [0, 1],
                       activity_dtype="float16")
    activity, *rest = _epoch_data(0)
    activity = [np.linspace(-1, 1, N * 3, dtype=np.float32).reshape(N, 3) / 3, activity[1]]
    writer.append(0, activity, *rest)
    with pytest.raises(OverflowError, match="layer 1's activity exceeds float16's range"):
        writer.append(1, [activity[0], np.full((N, 2), 7e4, np.float32)], *rest)
    writer.close()
    with h5py.File(tmp_path / "half.h5", "r", swmr=True) as f:
        assert f["activations/layer_0"].dtype == np.float16
    run = read_run(tmp_path / "half.h5")
    assert run.activity[0].dtype == np.float32 and len(run.epochs) == 1  # the refused epoch was not written
    np.testing.assert_array_equal(run.activity[0][0], activity[0].astype(np.float16))


def test_a_continued_file_keeps_its_first_epochs_and_records_the_rest_once(tmp_path):
    path = tmp_path / "run.h5"
    schedule = (0, 1, 2, 5, 9)
    writer = _writer(path, schedule)
    for epoch in (0, 1, 2):
        writer.append(epoch, *_epoch_data(epoch))
    writer.close()  # killed after epoch 2; its checkpoint holds epoch 1: keep 0 and 1, record 2 again
    x = np.arange(N * 12, dtype=np.float32).reshape(N, 12)
    arguments = (x, np.arange(N) % 2, np.arange(6), np.arange(6, N), LAYERS)
    with pytest.raises(RunFileError, match="its configuration differs"):
        RunWriter.continuing(path, 2, *arguments, {"seed": 4}, schedule)
    with pytest.raises(RunFileError, match="fewer than the 4 recorded epochs"):
        RunWriter.continuing(path, 4, *arguments, {"seed": 3}, schedule)
    writer = RunWriter.continuing(path, 2, *arguments, {"seed": 3}, schedule)
    for epoch in (2, 5, 9):
        writer.append(epoch, *_epoch_data(epoch))
    writer.finish()
    run = read_run(path)
    assert run.complete and list(path.parent.iterdir()) == [path]
    np.testing.assert_array_equal(run.epochs, schedule)
    np.testing.assert_array_equal(run.activity[1][:, 0, 0], [-e for e in schedule])
    np.testing.assert_array_equal(run.weights_norm[:, 0], schedule)


def test_continuing_a_truncated_file_is_refused_at_once_wherever_it_was_cut(tmp_path):
    """A killed writer's file cut early, midway or by a byte: `check_continuable` names it
    truncated (an early cut hung for good in HDF5's SWMR retries when it opened the file itself).
    In a process of its own, so that a hang fails the test instead of stopping the suite."""
    path = tmp_path / "run.h5"
    _write(path, range(6), complete=False)
    size = path.stat().st_size
    script = ("import shutil, sys\nfrom ib_keras.runfile import RunFileError, check_continuable\n"
              "for i, cut in enumerate(map(int, sys.argv[2:])):\n"
              "    part = f'{sys.argv[1]}.{i}'; shutil.copy(sys.argv[1], part)\n"
              "    open(part, 'r+b').truncate(cut)\n"
              "    try: check_continuable(part, {'seed': 3}, list(range(6)), 2)\n"
              "    except RunFileError as error: print(error)\n")
    cuts = [size // 50, size // 10, size // 2, size - 1]
    result = subprocess.run([sys.executable, "-c", script, str(path), *map(str, cuts)], capture_output=True, text=True,
                            timeout=120)
    lines = result.stdout.splitlines()
    assert len(lines) == len(cuts) and all(f"truncated ({cut} of {size} bytes)" in line for line, cut in zip(lines, cuts)), \
        result.stdout + result.stderr
