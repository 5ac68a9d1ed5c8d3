"""RunWriter: a run file created, grown one flushed epoch at a time, and marked complete.

The file is written in HDF5's single-writer/multiple-reader (SWMR) mode, one epoch per chunk of
every growing dataset, flushed after every epoch, so a writer killed at any instant leaves every
flushed epoch readable (`ib_keras.runfile.reader.read_run` reads it). A chunk once written is
never written again: HDF5 rewrites a checksummed chunk of unchanged size in place, and a kill in
the middle of a write of more than one page tears it (Linux stops a write between pages for a
fatal signal), which with several epochs to a chunk lost every epoch in it. A training resumed from a checkpoint continues
such a file (`RunWriter.continuing`): its first epochs are kept, the rest recorded again.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from ib_keras.runfile.checks import config_problem, contents_problem, whole_numbers
from ib_keras.runfile.checksums import ACTIVITY_FILTERS, CHECKSUM, encode_chunk
from ib_keras.runfile.reader import read_run
from ib_keras.runfile.schema import LAYER_STATISTICS, METRICS, SCHEMA_VERSION, LayerSpec, RunFileError

_UPDATE_WAIT = 60.0  # seconds a finished run waits for readers to let go of its file


class RunWriter:
    """Creates one run file and appends recorded epochs to it, each flushed to disk at once.

    Args:
        path: the file to create (its directory is made); an existing file is replaced.
        x: (N, features) inputs the activity is recorded on.
        y: (N,) labels.
        train_idx: rows of x used for training.
        test_idx: rows of x used for testing.
        layers: the recorded layers, in order.
        config: JSON-serialisable description of the run, stored as the ``config`` attribute.
        schedule: the epochs that will be appended (sorted); the file is complete once they all are.
        fan_ins: each layer's kernel rows, to keep every recorded epoch's kernels and biases
            (None: not kept).
        activity_dtype: "float32", or "float16" (half the disk; values beyond its range of
            +-65504 are refused, naming the layer). A layer with a ``grid`` (a quantized network's)
            is stored as its uint8 codes whatever it says, its grid beside them.
    """

    def __init__(self, path, x, y, train_idx, test_idx, layers: Sequence[LayerSpec], config: dict,
                 schedule: Sequence[int], fan_ins: Sequence[int] | None = None, activity_dtype: str = "float32"):
        self.path = Path(path)
        self._dtype = np.dtype(activity_dtype)
        self._layers = list(layers)
        self._fan_ins = None if fan_ins is None else [int(fan_in) for fan_in in fan_ins]
        _check_arguments(self.path, x, y, train_idx, test_idx, self._layers, config, schedule)
        with _writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._create(x, y, train_idx, test_idx, config, schedule)

    @classmethod
    def continuing(cls, path, keep: int, x, y, train_idx, test_idx, layers: Sequence[LayerSpec], config: dict,
                   schedule: Sequence[int], fan_ins: Sequence[int] | None = None,
                   activity_dtype: str = "float32", extending: bool = False) -> RunWriter:
        """A writer that continues the incomplete file ``path`` after its first ``keep`` recorded
        epochs (a training resumed from a checkpoint), the arguments as for a new file. The file
        is written anew beside it, those epochs copied chunk by chunk (HDF5 does not reopen a
        killed SWMR writer's file for writing), and renamed over it: a kill before the rename
        leaves it as it was. RunFileError (`check_continuable`, which says what ``extending`` allows)
        when it cannot be continued."""
        path = Path(path)
        check_continuable(path, config, schedule, keep, extending)
        partial = path.with_name(f".{path.name}.continuing")
        writer = cls(partial, x, y, train_idx, test_idx, layers, config, schedule, fan_ins, activity_dtype)
        try:
            with _writing(path), h5py.File(path, "r", swmr=True) as old:
                for dataset in writer._activity:  # one compressed, checksummed chunk per epoch: copied as is
                    dataset.resize(keep, axis=0)
                    source = old[dataset.name].id
                    for row in range(keep):
                        dataset.id.write_direct_chunk((row, 0, 0), source.read_direct_chunk((row, 0, 0))[1])
                for dataset in writer._rows()[len(writer._activity):]:
                    dataset.resize(keep, axis=0)
                    dataset[:keep] = old[dataset.name][:keep]
                writer._file.flush()
            os.replace(partial, path)
        except BaseException:
            writer.close()
            partial.unlink(missing_ok=True)
            raise
        writer.path = path
        return writer

    def _rows(self) -> list[h5py.Dataset]:
        """Every dataset that grows one row per recorded epoch, ``/epochs`` last."""
        return [*self._activity, *self._parameters, *self._grids,
                *(self._series[name] for name in (*METRICS, *LAYER_STATISTICS)), self._series["epochs"]]

    def _create(self, x, y, train_idx, test_idx, config: dict, schedule: Sequence[int]) -> None:
        n = len(x)
        f = self._file = h5py.File(self.path, "w", libver="latest")
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["complete"] = False
        f.attrs["config"] = json.dumps(config, sort_keys=True)
        for name, values, dtype in (("x", x, np.float32), ("y", y, np.int64), ("train_idx", train_idx, np.int64),
                                    ("test_idx", test_idx, np.int64), ("schedule", schedule, np.int64)):
            f.create_dataset(name, data=np.asarray(values, dtype=dtype), **CHECKSUM)
        self._series = {"epochs": self._growing("epochs", (), np.int64)}
        for name in METRICS:
            self._series[name] = self._growing(f"metrics/{name}", (), np.float64)
        for name in LAYER_STATISTICS:
            self._series[name] = self._growing(name, (len(self._layers),), np.float64)
        self._activity = []
        for i, layer in enumerate(self._layers):
            dataset = f.create_dataset(
                f"activations/layer_{i}",
                shape=(0, n, layer.units),
                maxshape=(None, n, layer.units),
                chunks=(1, n, layer.units),
                dtype=np.uint8 if layer.grid else self._dtype,
                **ACTIVITY_FILTERS,
            )
            if layer.grid:
                dataset.attrs["grid"], dataset.attrs["bits"] = layer.grid, layer.bits
            dataset.attrs["units"] = layer.units
            dataset.attrs["activation"] = layer.activation
            if layer.name:
                dataset.attrs["name"] = layer.name
            if layer.shape is not None:
                dataset.attrs["shape"] = np.asarray(layer.shape, dtype=np.int64)
            self._activity.append(dataset)
        self._parameters = []
        for i, (layer, fan_in) in enumerate(zip(self._layers, self._fan_ins or [])):
            self._parameters += [self._growing(f"kernels/layer_{i}", (fan_in, layer.units), np.float32),
                                 self._growing(f"biases/layer_{i}", (layer.units,), np.float32)]
        self._grids = [self._growing(f"grids/layer_{i}", (2,), np.float32)
                       for i, layer in enumerate(self._layers) if layer.grid]
        f.swmr_mode = True  # from here on the file stays readable whatever happens to the writer

    def _growing(self, name: str, row_shape: tuple, dtype) -> h5py.Dataset:
        """An (epochs, *row_shape) series, one epoch per chunk (written once, never rewritten)."""
        return self._file.create_dataset(
            name, shape=(0, *row_shape), maxshape=(None, *row_shape), chunks=(1, *row_shape), dtype=dtype, **CHECKSUM,
        )

    def append(
        self,
        epoch: int,
        activity: Sequence[np.ndarray],
        metrics: dict[str, float],
        weights_norm: np.ndarray,
        grad_mean: np.ndarray,
        grad_std: np.ndarray,
        kernels: Sequence[np.ndarray] = (),
        biases: Sequence[np.ndarray] = (),
        grids: Sequence[np.ndarray] = (),
    ) -> None:
        """Add one epoch: per-layer (N, units) activity (a quantized layer's uint8 codes), the four
        metrics, (L,) statistics, when the writer keeps them per-layer (fan_in, units) kernels and
        (units,) biases, and each quantized layer's (2,) grid (low, scale).
        ``/epochs`` grows last, so a reader never sees an epoch without its data."""
        row = len(self._series["epochs"])
        parameters = [value for pair in zip(kernels, biases, strict=True) for value in pair]
        for dataset, values in [*zip(self._activity, activity, strict=True),
                                *zip(self._parameters, parameters, strict=True), *zip(self._grids, grids, strict=True)]:
            if values.shape != dataset.shape[1:]:
                raise ValueError(f"{self.path}: {dataset.name} takes {dataset.shape[1:]} rows, got {values.shape}")
        chunks = [encode_chunk(values, np.uint8) if layer.grid else encode_chunk(_narrowed(values, self._dtype, i),
                                                                                   self._dtype)
                  for i, (layer, values) in enumerate(zip(self._layers, activity))]
        values = {**metrics, "weights_norm": weights_norm, "grad_mean": grad_mean, "grad_std": grad_std}
        with _writing(self.path):
            for dataset, chunk in zip(self._activity, chunks):
                dataset.resize(row + 1, axis=0)
                dataset.id.write_direct_chunk((row, 0, 0), chunk)
            for dataset, value in [*zip(self._parameters, parameters), *zip(self._grids, grids)]:
                dataset.resize(row + 1, axis=0)
                dataset[row] = value
            for name in (*METRICS, *LAYER_STATISTICS, "epochs"):
                dataset = self._series[name]
                dataset.resize(row + 1, axis=0)
                dataset[row] = epoch if name == "epochs" else values[name]
            self._file.flush()

    def finish(self, stopped_early: bool = False) -> None:
        """Close the file and mark it complete. ``stopped_early``: the training ended before its
        schedule (Keras' EarlyStopping), so the epochs recorded become the schedule."""
        with _writing(self.path):
            self._file.close()
            with _open_for_update(self.path) as f:
                if stopped_early:
                    recorded = f["epochs"][()]
                    del f["schedule"]
                    f.create_dataset("schedule", data=recorded, **CHECKSUM)
                f.attrs["complete"] = True

    def close(self) -> None:
        """Close the file, leaving it incomplete. After a failed write the file may not close
        cleanly: that second error is not raised, the first one is what stopped the run."""
        try:
            self._file.close()
        except (OSError, RuntimeError):
            pass


def _check_arguments(path: Path, x, y, train_idx, test_idx, layers: Sequence[LayerSpec], config: dict,
                     schedule: Sequence[int]) -> None:
    """ValueError naming ``path`` and what cannot be written, before the file is made: a directory
    in its place, inputs, labels, indices or a schedule that a reader would refuse (`checks`), a
    config that is not JSON."""
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give the run file's name, e.g. {path / 'seed-000.h5'}")
    if not layers:
        raise ValueError(f"{path}: no layers to record")
    try:
        y, train_idx, test_idx, schedule = (whole_numbers(values, name) for name, values in (
            ("y", y), ("train_idx", train_idx), ("test_idx", test_idx), ("schedule", schedule)))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    problem = config_problem(config) or contents_problem(
        len(x), y, config.get("n_classes", layers[-1].units), train_idx, test_idx, schedule, config.get("epochs"))
    if problem:
        raise ValueError(f"{path}: {problem}; nothing was written")


def _narrowed(values: np.ndarray, dtype: np.dtype, layer: int) -> np.ndarray:
    """``values`` as ``dtype``; OverflowError naming the layer when a finite value does not fit."""
    with np.errstate(over="ignore"):  # said below, naming the layer
        narrow = np.asarray(values, dtype=dtype)  # float32 activity: no copy
    if dtype != np.float32 and not np.array_equal(np.isfinite(narrow), np.isfinite(values)):
        raise OverflowError(f"layer {layer}'s activity exceeds {dtype}'s range (+-{np.finfo(dtype).max:g}); "
                            "record it in float32 (--record-dtype float32)")
    return narrow


def check_continuable(path: str | Path, config: dict, schedule: Sequence[int], keep: int,
                      extending: bool = False) -> None:
    """RunFileError naming the file and the reason unless ``path`` is an incomplete run of
    ``config`` (its versions aside) and ``schedule`` that holds at least its first ``keep``
    recorded epochs. ``extending``: the file is this process's own recording of the same model,
    continued by a further training (`ActivationRecorder` reused by another ``fit``), so it may
    be complete and its schedule shorter. The file is read as `read_run` reads any run file
    (truncation and checksums checked), never opened raw."""
    path = Path(path)
    try:
        run = read_run(path, activity=False)
    except RunFileError as error:
        raise RunFileError(f"{path}: cannot continue this run file: {error}") from error
    recorded = np.asarray(run.epochs)
    reason = (
        "it is complete" if run.finished and not extending else
        "its configuration differs" if {**run.config, "versions": None} != {**config, "versions": None} else
        "its schedule differs" if not extending and not np.array_equal(run.schedule, schedule) else
        f"it holds fewer than the {keep} recorded epochs to keep"
        if len(recorded) < keep or not np.array_equal(recorded[:keep], np.asarray(schedule)[:keep]) else
        "")
    if reason:
        raise RunFileError(f"{path}: cannot continue this run file: {reason}")


def _open_for_update(path: Path) -> h5py.File:
    """``h5py.File(path, "r+")``, waiting up to _UPDATE_WAIT seconds while another process has the
    file open to read (`inspect`, `estimate`, a user's script): HDF5's file lock refuses the
    update (EAGAIN) until the reader closes it, and a training must not fail for that."""
    deadline = time.monotonic() + _UPDATE_WAIT
    while True:
        try:
            return h5py.File(path, "r+")
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a failed write (a full disk, a file size limit) into one line naming the file and the fix."""
    try:
        yield
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error).splitlines()[0]
        raise OSError(f"{path}: cannot write ({reason}); free disk space or choose another --out, "
                      "then rerun the same command") from error
