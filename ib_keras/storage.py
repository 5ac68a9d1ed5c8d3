"""The run file: one HDF5 file per trained network. The only module that knows its layout.

Layout (``schema_version`` 1)::

    <out>/<activation>[_l2-<lambda>]/seed-<NNN>.h5
    /                         attrs: schema_version, complete (bool), config (JSON)
    /x (N, 12) float32   /y (N,) int64   /train_idx (n_train,) int64   /test_idx (n_test,) int64
    /schedule (S,) int64      the epochs the run is to record (files from before it: its config's)
    /epochs (E,) int64
    /activations/layer_<i>    (E, N, units) float32, attrs units, activation
    /metrics/train_loss, train_accuracy, test_loss, test_accuracy   (E,) float64
    /weights_norm, /grad_mean, /grad_std   (E, L) float64
    /kernels/layer_<i> (E, fan_in, units) float32, /biases/layer_<i> (E, units) float32
                              each recorded epoch's parameters, so that a noisy network's noise can be
                              propagated afterwards (`ib_keras.estimators.estimate_sp`); files from
                              before them, and a recorder of a model whose layers are not all
                              (fan_in, units) Dense kernels, have none

The file is written in HDF5's single-writer/multiple-reader (SWMR) mode, one epoch per chunk,
flushed after every epoch, so a writer killed at any instant leaves every flushed epoch readable.
Until ``complete`` is set such a file opens only with ``h5py.File(path, "r", swmr=True)``, and
its whole epochs are the rows that every growing dataset has (a writer killed while flushing may
have extended some datasets and not the others); `read_run` does both itself. A file is
complete when its ``complete`` attribute is set and its recorded epochs are its schedule.

Every dataset carries HDF5's Fletcher-32 checksum of each chunk (files written before it have
none and still read), which HDF5 verifies on every read: a file damaged on disk is reported, not
read as numbers. `read_run` also checks the config's field types, the labels against the number
of classes, the indices against N and the epochs for order.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from isal import isal_zlib

from ib_keras.protocols import record_schedule

SCHEMA_VERSION = 1
METRICS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy")
LAYER_STATISTICS = ("weights_norm", "grad_mean", "grad_std")
# Activity chunks go through HDF5's shuffle + gzip + fletcher32 filters, applied by us: ISA-L's
# deflate (isal) writes standard zlib streams 8x faster than zlib at the same ratio, and the chunks
# are handed to HDF5 as they are. The datasets declare the same filters, so any HDF5 reader decodes
# them and verifies their checksums.
_DEFLATE_LEVEL = 3  # isal's highest
_ACTIVITY_FILTERS = {"compression": "gzip", "compression_opts": 4, "shuffle": True, "fletcher32": True}
_CHECKSUM = {"fletcher32": True}  # every other dataset: chunked, each chunk with its checksum
_CHECKSUM_BLOCK = 1 << 22  # words: sum of j w_j over a block stays below 2^63
_SERIES_CHUNK = 256  # epochs per chunk of the small per-epoch series
_UPDATE_WAIT = 60.0  # seconds a finished run waits for readers to let go of its file


class RunFileError(ValueError):
    """A run file is missing, unreadable or not of this schema; the message names file and fix."""


@dataclass(frozen=True)
class LayerSpec:
    """One recorded Dense layer: its width and the nonlinearity its activity comes after."""

    units: int
    activation: str


@dataclass
class Run:
    """The contents of one run file, cut to its recorded epochs (E of them).

    ``activity[i]`` is layer i's (E, N, units) float32 activity, hidden layers first, then the
    output layer's softmax probabilities; None when read with ``activity=False``.
    """

    path: Path
    config: dict
    finished: bool  # the ``complete`` attribute: training ran to its end
    x: np.ndarray
    y: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    epochs: np.ndarray
    layers: list[LayerSpec]
    metrics: dict[str, np.ndarray]
    weights_norm: np.ndarray
    grad_mean: np.ndarray
    grad_std: np.ndarray
    activity: list[np.ndarray] | None
    schedule: np.ndarray | None = None  # the epochs to record; None when neither file nor config says
    kernels: list[np.ndarray] | None = None  # layer i's (E, fan_in, units); None: not recorded, or not read
    biases: list[np.ndarray] | None = None  # layer i's (E, units)

    @property
    def complete(self) -> bool:
        """Training finished (the file says so) and every scheduled epoch is recorded."""
        return self.finished and (self.schedule is None or np.array_equal(self.epochs, self.schedule))

    def incomplete_reason(self) -> str:
        """Why the run is not complete, in words for a message ('' when it is)."""
        if self.complete:
            return ""
        if self.finished:
            return (f"marked complete but holds {len(self.epochs)} of the {len(self.schedule)} epochs its "
                    "schedule records")
        return "training was interrupted"


def config_dir(out: str | Path, activation: str, l2: float = 0.0) -> Path:
    """``<out>/<activation>`` or ``<out>/<activation>_l2-<lambda>`` for a regularised run."""
    return Path(out) / (f"{activation}_l2-{l2:g}" if l2 > 0 else activation)


def run_path(out: str | Path, activation: str, l2: float, seed: int) -> Path:
    """The file of network ``seed`` of one configuration: ``.../seed-<NNN>.h5``."""
    return config_dir(out, activation, l2) / f"seed-{seed:03d}.h5"


def run_file_bytes(n_samples: int, layer_units: Sequence[int], n_epochs: int, input_dim: int = 12) -> int:
    """Upper bound, in bytes, of one run file (activity stored uncompressed), with the kernels and
    biases of layers fed by ``input_dim`` inputs."""
    widths = [input_dim, *layer_units]
    parameters = sum((fan_in + 1) * units for fan_in, units in zip(widths, widths[1:]))
    per_epoch = 4 * (n_samples * sum(layer_units) + parameters) \
        + 8 * (len(METRICS) + 1 + len(LAYER_STATISTICS) * len(layer_units))
    return n_epochs * per_epoch + 8 * 16 * n_samples + 64 * 1024


class RunWriter:
    """Creates one run file and appends recorded epochs to it, each flushed to disk at once.

    Args:
        path: the file to create (its directory is made); an existing file is replaced.
        x, y: (N, features) inputs and (N,) labels the activity is recorded on.
        train_idx, test_idx: rows of x used for training and testing.
        layers: the recorded layers, in order.
        config: JSON-serialisable description of the run, stored as the ``config`` attribute.
        schedule: the epochs that will be appended (sorted); the file is complete once they all are.
        fan_ins: each layer's kernel rows, to keep every recorded epoch's kernels and biases
            (None: not kept).
    """

    def __init__(self, path, x, y, train_idx, test_idx, layers: Sequence[LayerSpec], config: dict,
                 schedule: Sequence[int], fan_ins: Sequence[int] | None = None):
        self.path = Path(path)
        self._layers = list(layers)
        self._fan_ins = None if fan_ins is None else [int(fan_in) for fan_in in fan_ins]
        with _writing(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._create(x, y, train_idx, test_idx, config, schedule)

    def _create(self, x, y, train_idx, test_idx, config: dict, schedule: Sequence[int]) -> None:
        n = len(x)
        f = self._file = h5py.File(self.path, "w", libver="latest")
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["complete"] = False
        f.attrs["config"] = json.dumps(config, sort_keys=True)
        for name, values, dtype in (("x", x, np.float32), ("y", y, np.int64), ("train_idx", train_idx, np.int64),
                                    ("test_idx", test_idx, np.int64), ("schedule", schedule, np.int64)):
            f.create_dataset(name, data=np.asarray(values, dtype=dtype), **_CHECKSUM)
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
                dtype=np.float32,
                **_ACTIVITY_FILTERS,
            )
            dataset.attrs["units"] = layer.units
            dataset.attrs["activation"] = layer.activation
            self._activity.append(dataset)
        self._parameters = []
        for i, (layer, fan_in) in enumerate(zip(self._layers, self._fan_ins or [])):
            self._parameters += [self._growing(f"kernels/layer_{i}", (fan_in, layer.units), np.float32),
                                 self._growing(f"biases/layer_{i}", (layer.units,), np.float32)]
        f.swmr_mode = True  # from here on the file stays readable whatever happens to the writer

    def _growing(self, name: str, row_shape: tuple, dtype) -> h5py.Dataset:
        return self._file.create_dataset(
            name, shape=(0, *row_shape), maxshape=(None, *row_shape), chunks=(_SERIES_CHUNK, *row_shape), dtype=dtype,
            **_CHECKSUM,
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
    ) -> None:
        """Add one epoch: per-layer (N, units) activity, the four metrics, (L,) statistics, and
        when the writer keeps them per-layer (fan_in, units) kernels and (units,) biases.
        ``/epochs`` grows last, so a reader never sees an epoch without its data."""
        row = len(self._series["epochs"])
        parameters = [value for pair in zip(kernels, biases, strict=True) for value in pair]
        for dataset, values in [*zip(self._activity, activity, strict=True),
                                *zip(self._parameters, parameters, strict=True)]:
            if values.shape != dataset.shape[1:]:
                raise ValueError(f"{self.path}: {dataset.name} takes {dataset.shape[1:]} rows, got {values.shape}")
        values = {**metrics, "weights_norm": weights_norm, "grad_mean": grad_mean, "grad_std": grad_std}
        with _writing(self.path):
            for dataset, layer_values in zip(self._activity, activity):
                dataset.resize(row + 1, axis=0)
                dataset.id.write_direct_chunk((row, 0, 0), _encode_chunk(layer_values))
            for dataset, parameter in zip(self._parameters, parameters):
                dataset.resize(row + 1, axis=0)
                dataset[row] = parameter
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
                    f.create_dataset("schedule", data=recorded, **_CHECKSUM)
                f.attrs["complete"] = True

    def close(self) -> None:
        """Close the file, leaving it incomplete. After a failed write the file may not close
        cleanly: that second error is not raised, the first one is what stopped the run."""
        try:
            self._file.close()
        except (OSError, RuntimeError):
            pass


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


def _encode_chunk(values: np.ndarray) -> bytes:
    """One (N, units) float32 chunk through HDF5's filters in their order: shuffle (byte planes),
    deflate, then Fletcher-32 (the checksum of the compressed bytes appended, little-endian)."""
    raw = np.ascontiguousarray(values, dtype=np.float32)
    compressed = isal_zlib.compress(raw.view(np.uint8).reshape(-1, raw.itemsize).T.tobytes(), _DEFLATE_LEVEL)
    return compressed + fletcher32(compressed).to_bytes(4, "little")


def fletcher32(data: bytes) -> int:
    """HDF5's Fletcher-32 checksum of ``data``, as its fletcher32 filter stores and verifies it
    (``H5_checksum_fletcher32``: sums of big-endian 16-bit words, an odd last byte as the high byte
    of a word, kept below 2^16 by end-around folding). Folding keeps each sum's value modulo 65535,
    and a sum once positive stays in 1..65535, so the folded sums are those residues, with 65535
    for 0 unless every word is 0; here computed in closed form: sum1 = sum of the words w_j, sum2 =
    sum of the prefix sums = n sum1 - sum of j w_j over the n words (in int64 blocks that cannot
    overflow)."""
    raw = np.frombuffer(data, np.uint8)
    if len(raw) % 2:
        raw = np.append(raw, np.uint8(0))
    words = raw.view(">u2")
    n, sum1 = len(words), int(words.sum(dtype=np.int64))
    if sum1 == 0:
        return 0
    weighted = 0
    for start in range(0, n, _CHECKSUM_BLOCK):
        block = words[start : start + _CHECKSUM_BLOCK].astype(np.int64)
        weighted += start * int(block.sum()) + int(np.dot(np.arange(len(block), dtype=np.int64), block))
    fold = lambda total: (total - 1) % 65535 + 1  # noqa: E731
    return fold(n * sum1 - weighted) << 16 | fold(sum1)


class ForeignFileError(RunFileError):
    """A readable file that this ib_keras did not write: another program's HDF5, another schema."""


# HDF5's superblock of versions 2 and 3 (what libver="latest" writes): the signature, then
# version, offset size and length size at bytes 8-10, then the base and end-of-file addresses.
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _stored_eof(path: Path) -> int | None:
    """The file size HDF5's superblock records (bytes), or None for a superblock before version 2."""
    with open(path, "rb") as f:
        head = f.read(48)
    if len(head) < 12 or head[:8] != _HDF5_SIGNATURE or head[8] not in (2, 3):
        return None
    size = head[9]
    if size not in (4, 8) or len(head) < 12 + 4 * size:
        return None
    base, _, eof = (int.from_bytes(head[12 + i * size : 12 + (i + 1) * size], "little") for i in range(3))
    return base + eof


def check_regular_file(path: Path, what: str = "run file") -> None:
    """RunFileError unless ``path`` is a regular file (or a link to one): a FIFO or a device would
    block or never end when read."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ENOENT:
            raise RunFileError(f"{path}: no such {what}") from error
        raise RunFileError(f"{path}: cannot read it ({error.strerror})") from error
    if not stat.S_ISREG(mode):
        raise RunFileError(f"{path}: not a regular file (a FIFO, device, socket or directory); only regular "
                           f"files are read as a {what}")


def _open(path: Path) -> h5py.File:
    check_regular_file(path)
    try:
        is_hdf5 = h5py.is_hdf5(path)
        stored, actual = _stored_eof(path), path.stat().st_size
    except OSError as error:
        raise RunFileError(f"{path}: cannot read it ({error.strerror})") from error
    if not is_hdf5:
        raise RunFileError(f"{path}: not an HDF5 file ({actual} bytes), so not a run file: run files are the "
                           "seed-NNN.h5 files `python -m ib_keras train` writes")
    # Checked before opening: HDF5's own check is skipped for SWMR readers, which then retry a
    # truncated file's missing metadata for ever.
    if stored is not None and actual < stored:
        raise RunFileError(f"{path}: truncated ({actual} of {stored} bytes); delete it and train it again")
    try:
        return h5py.File(path, "r")
    except (OSError, RuntimeError):
        pass
    try:  # an unfinished SWMR file (its writer was killed) opens only as an SWMR reader
        return h5py.File(path, "r", swmr=True)
    except (OSError, RuntimeError) as error:
        raise RunFileError(f"{path}: not a readable HDF5 file ({error}); delete it and train it again") from error


def _field(f: h5py.File, path: Path, name: str) -> h5py.Dataset:
    if not isinstance(f.get(name, getlink=True), h5py.HardLink) or not isinstance(f[name], h5py.Dataset):
        raise RunFileError(
            f"{path}: missing '{name}'; not an ib_keras run file of schema {SCHEMA_VERSION}, train it again"
        )
    return f[name]


def _layer_datasets(f: h5py.File, path: Path) -> list[h5py.Dataset]:
    """The /activations/layer_<i> datasets in order; RunFileError unless they are layer_0..layer_{L-1}."""
    group = f.get("activations")
    if not isinstance(group, h5py.Group) or not len(group):
        raise RunFileError(f"{path}: no '/activations' datasets; not a complete ib_keras run file, train it again")
    expected = [f"layer_{i}" for i in range(len(group))]
    if sorted(group, key=lambda name: (len(name), name)) != expected:
        raise RunFileError(f"{path}: '/activations' holds {sorted(group)}, expected {expected}; train it again")
    datasets = [group[name] for name in expected]
    n = _field(f, path, "x").shape[0]
    for d in datasets:
        units = d.attrs.get("units")
        if not isinstance(d, h5py.Dataset) or d.ndim != 3 or d.shape[1] != n or units != d.shape[2] \
                or "activation" not in d.attrs:
            raise RunFileError(f"{path}: '{d.name}' is not an (epochs, {n}, units) activity dataset with "
                               "'units' and 'activation' attributes; train it again")
    return datasets


def _parameter_datasets(f: h5py.File, path: Path, layers: Sequence[h5py.Dataset]) -> list[tuple] | None:
    """(kernel, bias) datasets of every layer, or None for a file that keeps none; RunFileError when
    they do not match the layers' widths."""
    if "kernels" not in f and "biases" not in f:
        return None
    pairs = []
    for i, layer in enumerate(layers):
        kernel, bias = _field(f, path, f"kernels/layer_{i}"), _field(f, path, f"biases/layer_{i}")
        units = layer.shape[2]
        if kernel.ndim != 3 or kernel.shape[2] != units or bias.shape[1:] != (units,):
            raise RunFileError(f"{path}: '{kernel.name}' or '{bias.name}' does not fit {layer.name}'s {units} units; "
                               "train it again")
        pairs.append((kernel, bias))
    return pairs


def read_run(path: str | Path, activity: bool = True) -> Run:
    """Read a run file, cut to its recorded epochs; RunFileError names the file, the field and the
    fix (ForeignFileError when the file is readable HDF5 that this ib_keras did not write). With
    ``activity`` False neither the activity nor the kernels and biases are read."""
    path = Path(path)
    with _open(path) as f:
        try:
            return _read(f, path, activity)
        except RunFileError:
            raise
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as error:
            if "filter returned failure" in str(error):  # HDF5's word for a failed checksum (or inflate)
                raise RunFileError(f"{path}: fails its checksum: the file was damaged on disk ({error}); "
                                   "delete it and train it again") from error
            raise RunFileError(f"{path}: corrupt run file ({error}); delete it and train it again") from error


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The config fields the stages read, each with its test and what it must be; fields a file lacks
# (a user's own recorder config) are not checked.
_CONFIG_FIELDS = {
    "activation": (lambda v: isinstance(v, str), "a name"),
    "protocol": (lambda v: isinstance(v, str), "a name"),
    "dataset": (lambda v: isinstance(v, str), "a name"),
    "split": (lambda v: isinstance(v, str), "a name"),
    "minibatch_order": (lambda v: isinstance(v, str), "a name"),
    "output_init": (lambda v: isinstance(v, str), "a name"),
    "recorded_at": (lambda v: isinstance(v, str), "a name"),
    "l2": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf"),
           "a number >= 0"),
    "seed": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "split_seed": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "epochs": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "record_points": (lambda v: v is None or (_is_int(v) and v >= 1), "a whole number >= 1 or null"),
    "hidden_units": (lambda v: isinstance(v, list) and all(_is_int(u) and u >= 1 for u in v), "a list of widths"),
    "n_classes": (lambda v: _is_int(v) and v >= 2, "a whole number >= 2"),
}


def _check_config(config: dict, path: Path) -> None:
    for name, (valid, expected) in _CONFIG_FIELDS.items():
        if name in config and not valid(config[name]):
            raise RunFileError(f"{path}: config field '{name}' is {config[name]!r}, expected {expected}; the file "
                               "is damaged or was edited: train it again")


def _check_contents(run: Run) -> None:
    """RunFileError naming the field whose values cannot be this run's: labels outside the
    classes, indices outside the samples, epochs out of order or beyond the config's."""
    path, n = run.path, len(run.x)
    classes = run.config.get("n_classes", run.layers[-1].units)
    if run.y.shape != (n,) or len(run.y) and not (0 <= run.y.min() and run.y.max() < classes):
        raise RunFileError(f"{path}: field 'y' holds values outside the {classes} classes 0..{classes - 1} (or is "
                           f"not ({n},)); the file is damaged: train it again")
    for name in ("train_idx", "test_idx"):
        indices = getattr(run, name)
        if indices.ndim != 1 or len(indices) and not (0 <= indices.min() and indices.max() < n) \
                or len(np.unique(indices)) != len(indices):
            raise RunFileError(f"{path}: field '{name}' holds indices outside 0..{n - 1} or repeated ones; "
                               "the file is damaged: train it again")
    last = run.config.get("epochs")
    if len(run.epochs) and (run.epochs[0] < 0 or np.any(np.diff(run.epochs) <= 0)
                            or (last is not None and run.epochs[-1] > last)):
        raise RunFileError(f"{path}: field 'epochs' is not increasing from 0 to the config's {last} epochs; "
                           "the file is damaged: train it again")


def _schedule(f: h5py.File, path: Path, config: dict) -> np.ndarray | None:
    """The epochs the run is to record: the file's /schedule, or for a file from before it, what
    its config's protocol schedules (None when the config does not say)."""
    if "schedule" in f:
        return _field(f, path, "schedule")[()]
    if isinstance(config.get("protocol"), str) and "epochs" in config:
        try:
            return record_schedule(config["protocol"], config["epochs"], config.get("record_points"))
        except ValueError:
            return None
    return None


def _read(f: h5py.File, path: Path, activity: bool) -> Run:
    version = f.attrs.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ForeignFileError(
            f"{path}: schema_version {version!r}; this ib_keras reads and writes {SCHEMA_VERSION}"
        )
    try:
        config = json.loads(f.attrs["config"])
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise RunFileError(f"{path}: unreadable 'config' attribute ({error}); train it again") from error
    if not isinstance(config, dict):
        raise RunFileError(f"{path}: 'config' attribute holds a JSON {type(config).__name__}, not an object; "
                           "train it again")
    _check_config(config, path)
    growing = [_field(f, path, name) for name in ("epochs", *(f"metrics/{m}" for m in METRICS), *LAYER_STATISTICS)]
    datasets = _layer_datasets(f, path)
    parameters = _parameter_datasets(f, path, datasets)
    growing += [dataset for pair in parameters or [] for dataset in pair]
    # An epoch is whole once every dataset has its row: a writer killed while flushing may
    # have extended some datasets and not yet the others (HDF5 writes raw data first).
    n = min(dataset.shape[0] for dataset in (*growing, *datasets))
    run = Run(
        path=path,
        config=config,
        finished=bool(f.attrs.get("complete", False)),
        x=_field(f, path, "x")[()],
        y=_field(f, path, "y")[()],
        train_idx=_field(f, path, "train_idx")[()],
        test_idx=_field(f, path, "test_idx")[()],
        epochs=f["epochs"][:n],
        layers=[LayerSpec(int(d.attrs["units"]), str(d.attrs["activation"])) for d in datasets],
        metrics={name: _field(f, path, f"metrics/{name}")[:n] for name in METRICS},
        weights_norm=_field(f, path, "weights_norm")[:n],
        grad_mean=_field(f, path, "grad_mean")[:n],
        grad_std=_field(f, path, "grad_std")[:n],
        activity=[d[:n] for d in datasets] if activity else None,
        schedule=_schedule(f, path, config),
        kernels=[kernel[:n] for kernel, _ in parameters] if activity and parameters else None,
        biases=[bias[:n] for _, bias in parameters] if activity and parameters else None,
    )
    _check_contents(run)
    return run
