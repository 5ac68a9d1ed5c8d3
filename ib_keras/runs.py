"""Training one configuration's networks into run files: what to train, in which groups, and where.

A configuration (`TrainSpec`) is an activation, an L2 strength, a protocol, hidden widths and a
data set; its networks differ only in their seed. Complete files of the same configuration are kept; incomplete or
unreadable or truncated ones are trained again; a complete file of another configuration, or a
file this ib_keras did not write, is an error unless ``overwrite`` is set.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import keras
import numpy as np
import tensorflow as tf

from ib_keras import __version__
from ib_keras.activations import check_activation
from ib_keras.callbacks import ActivationRecorder, TrainingProgress
from ib_keras.data import TRAIN_FRACTION, check_split, split_indices
from ib_keras.datasets import TISHBY, Dataset, load_dataset
from ib_keras.models import BATCH_SIZE, HIDDEN_UNITS, LEARNING_RATE, N_CLASSES, build_ensemble, kernel_stddevs
from ib_keras.protocols import get_protocol
from ib_keras.schedules import log_spaced_epochs
from ib_keras.locks import exclusive
from ib_keras.storage import ForeignFileError, RunFileError, config_dir, read_run, run_file_bytes, run_path
from ib_keras.training import fit_ensemble
from ib_keras.workers import worker_pool

# Peak memory of one member of the paper's network while training and recording on its 4096
# inputs (4096 x (12 + 31) values), with a wide margin; other data and widths scale it.
_BYTES_PER_MEMBER = 8 * 2**20
_PAPER_VALUES = 4096 * (12 + sum(HIDDEN_UNITS) + N_CLASSES)
MAX_UNITS = 10_000
_MEMORY_SHARE = 0.25  # of the memory available when training starts
_DISK_MARGIN = 1.1


@dataclass(frozen=True)
class TrainSpec:
    """One configuration of the networks to train; every network of it differs only in seed.

    ``epochs`` defaults to the protocol's; ``record_points`` replaces the protocol's recording
    schedule by that many log-spaced epochs.
    """

    activation: str
    l2: float = 0.0
    protocol: str = "chelombiev"
    epochs: int | None = None
    split: str = "random"
    split_seed: int = 0
    record_points: int | None = None
    hidden: tuple[int, ...] = HIDDEN_UNITS
    dataset: str = TISHBY  # a name `ib_keras.datasets.load_dataset` takes

    def __post_init__(self):
        check_activation(self.activation)
        if not self.hidden or not all(1 <= units <= MAX_UNITS for units in self.hidden):
            raise ValueError(f"--hidden must be 1 or more widths from 1 to {MAX_UNITS}, got {list(self.hidden)}")
        self.data()  # a data set that cannot train fails here, before anything is written
        get_protocol(self.protocol)
        check_split(self.split)
        if self.l2 < 0 or not np.isfinite(self.l2):
            raise ValueError(f"--l2 must be a finite number >= 0, got {self.l2}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {self.epochs}")
        if self.record_points is not None and self.record_points < 1:
            raise ValueError(f"--record-points must be >= 1, got {self.record_points}")

    @property
    def total_epochs(self) -> int:
        return self.epochs if self.epochs is not None else get_protocol(self.protocol).epochs

    def record_epochs(self) -> np.ndarray:
        """The epochs recorded (int64, from 0 to ``total_epochs``)."""
        if self.record_points is not None:
            return log_spaced_epochs(self.total_epochs, self.record_points)
        return get_protocol(self.protocol).record_epochs(self.total_epochs)

    def data(self) -> Dataset:
        """The data set (loaded once per process)."""
        return _load_dataset(self.dataset)

    def config(self, seed: int) -> dict:
        """The JSON description stored with network ``seed``: every hyperparameter and versions.
        The paper's task and widths give the same config as before these were options."""
        data = self.data()
        settings = {name: value for name, value in asdict(self).items() if name not in ("hidden", "dataset")}
        return {
            **settings,
            "epochs": self.total_epochs,
            "hidden_units": list(self.hidden),
            "n_classes": data.n_classes,
            "kernel_stddev": kernel_stddevs(self.activation, self.protocol, data.x.shape[1], self.hidden,
                                            data.n_classes),
            "optimizer": "adam",
            "learning_rate": LEARNING_RATE,
            "batch_size": BATCH_SIZE,
            "loss": "categorical_crossentropy",
            "train_fraction": TRAIN_FRACTION,
            **data.config(),
            "seed": seed,
            "versions": _versions(),
        }


_load_dataset = functools.cache(load_dataset)


def _versions() -> dict:
    return {
        "ib_keras": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "h5py": h5py.__version__,
    }


def _differences(stored: dict, wanted: dict, ignore: tuple[str, ...] = ("versions",)) -> str:
    """The settings in which two configs differ, as "name stored vs wanted, ..."; empty if none."""
    keys = sorted((set(stored) | set(wanted)) - set(ignore))
    return ", ".join(f"{key} {stored.get(key)} vs {wanted.get(key)}" for key in keys if stored.get(key) != wanted.get(key))


@dataclass
class TrainPlan:
    """Which seeds of a configuration still need training, and where every file goes."""

    spec: TrainSpec
    out: Path
    todo: list[int]
    done: list[int]

    def path(self, seed: int) -> Path:
        return run_path(self.out, self.spec.activation, self.spec.l2, seed)

    def disk_bytes(self) -> int:
        """Upper bound of the disk the files still to train will take."""
        data = self.spec.data()
        units = [*self.spec.hidden, data.n_classes]
        return len(self.todo) * run_file_bytes(len(data.x), units, len(self.spec.record_epochs()))


def plan_training(spec: TrainSpec, seeds: Sequence[int], out: str | Path, overwrite: bool = False) -> TrainPlan:
    """Sort ``seeds`` into those to train and those already complete under ``out``.

    Raises ValueError when, and ``overwrite`` is off, a complete file holds another configuration
    or a readable file was not written by this ib_keras (another program's HDF5, another schema).
    """
    plan = TrainPlan(spec, Path(out), [], [])
    for seed in seeds:
        path = plan.path(seed)
        if overwrite or not path.exists():
            plan.todo.append(seed)
            continue
        try:
            run = read_run(path, activity=False)
        except ForeignFileError as error:
            raise ValueError(f"{error}; refusing to replace a file this ib_keras did not write: move it away, "
                             "or pass --overwrite") from error
        except RunFileError:
            plan.todo.append(seed)  # unreadable or truncated: a killed run, trained again
            continue
        if not run.complete:
            plan.todo.append(seed)
        elif not _differences(run.config, spec.config(seed)):
            plan.done.append(seed)
        else:
            raise ValueError(
                f"{path} holds a complete run of another configuration ({_differences(run.config, spec.config(seed))}); "
                "choose another --out, or pass --overwrite to replace it"
            )
    _check_neighbours(plan, seeds)
    return plan


def _check_neighbours(plan: TrainPlan, seeds: Sequence[int]) -> None:
    """ValueError when a readable run of another seed in the directory has another configuration:
    one directory holds one configuration, so that its runs can be compared and tabled together."""
    directory = plan.path(0).parent
    ours = {plan.path(seed) for seed in seeds}
    for path in sorted(directory.glob("seed-*.h5")) if directory.is_dir() else []:
        if path in ours:
            continue
        try:
            stored = read_run(path, activity=False).config
        except RunFileError:
            continue
        differences = _differences(stored, plan.spec.config(0), ignore=("versions", "seed"))
        if differences:
            raise ValueError(f"{directory} holds runs of another configuration ({path.name}: {differences}); "
                             "keep each configuration in its own --out")


def check_output_dir(directory: Path) -> None:
    """Make the output directory; OSError-free or ValueError naming the directory and the fix."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create output directory {directory} ({error.strerror}); choose another --out") from error
    if not os.access(directory, os.W_OK):
        raise ValueError(f"output directory {directory} is not writable; choose another --out")


def check_free_disk(plan: TrainPlan) -> None:
    """ValueError when the disk under ``plan.out`` has less free space than the plan needs."""
    existing = plan.out
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    needed = int(_DISK_MARGIN * plan.disk_bytes())
    if free < needed:
        raise ValueError(
            f"not enough free disk under {existing}: need {needed / 1e9:.2f} GB, have {free / 1e9:.2f} GB; "
            "free space, choose another --out, or record fewer epochs (--record-points)"
        )


def members_per_model(n_networks: int, values_per_member: int = _PAPER_VALUES) -> int:
    """How many networks to train in one model: all of them unless memory says otherwise.
    ``values_per_member``: samples x (input width + every layer's width), which memory grows with."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        available = 4 * 2**30
    per_member = _BYTES_PER_MEMBER * max(1.0, values_per_member / _PAPER_VALUES)
    return max(1, min(n_networks, int(_MEMORY_SHARE * available // per_member)))


def one_thread() -> None:
    """Worker set-up: TensorFlow on one thread, so that workers share the cores without contention.
    In a process where TensorFlow already ran (a cluster worker's earlier task) it stays as set."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # "cannot be modified after initialization": done by the earlier task
        pass


def train_configuration(
    spec: TrainSpec,
    seeds: Sequence[int],
    out: str | Path,
    overwrite: bool = False,
    workers: int = 1,
    progress: bool = True,
    announce: Callable[[TrainPlan], None] = lambda plan: None,
) -> TrainPlan:
    """Everything `train` does for one configuration: make and lock its directory (a second writer
    stops at once), plan, check the disk, ``announce`` the plan, train. Returns the plan.
    ValueError before anything is trained for a bad output, a busy directory or a short disk."""
    directory = config_dir(out, spec.activation, spec.l2)
    check_output_dir(directory)
    with exclusive(directory, f"{directory}: another train command is writing here"):
        plan = plan_training(spec, seeds, out, overwrite)
        check_free_disk(plan)
        announce(plan)
        train_plan(plan, progress, workers)
    return plan


def train_plan(plan: TrainPlan, progress: bool = True, workers: int = 1) -> list[Path]:
    """Train every seed in ``plan.todo`` into its run file; return the files.

    With ``workers`` > 1 the seeds are split into that many contiguous shares, each trained by a
    worker process on one thread: on small networks two such workers train about 1.4x as fast as
    one process on two threads. A network's file is the same however the seeds are split.
    """
    shares = [[int(seed) for seed in share] for share in np.array_split(plan.todo, max(1, min(workers, len(plan.todo))))]
    if len(shares) == 1:
        _train_seeds(plan, plan.todo, progress)
    else:
        with worker_pool(len(shares), one_thread) as pool:
            futures = [pool.submit(_train_seeds, plan, share, progress and i == 0) for i, share in enumerate(shares)]
            for future in futures:
                future.result()
    return [plan.path(seed) for seed in plan.todo]


def _train_seeds(plan: TrainPlan, seeds: Sequence[int], progress: bool) -> None:
    """Train ``seeds`` of ``plan``, K at a time as memory allows; a progress bar if ``progress``."""
    spec = plan.spec
    data = spec.data()
    x, y = data.x, data.y
    train_idx, test_idx = split_indices(len(x), spec.split, spec.split_seed)
    group_size = members_per_model(len(seeds), len(x) * (x.shape[1] + sum(spec.hidden) + data.n_classes))
    for start in range(0, len(seeds), group_size):
        group = seeds[start : start + group_size]
        model = build_ensemble(spec.activation, group, spec.l2, spec.protocol, x.shape[1], spec.hidden, data.n_classes)
        recorder = ActivationRecorder([plan.path(seed) for seed in group], x, y, train_idx, test_idx,
                                      spec.record_epochs(), configs=[spec.config(seed) for seed in group])
        callbacks = [recorder]
        if progress:  # every share trains at the same pace: one bar, for all of the plan's networks
            callbacks.append(TrainingProgress(spec.total_epochs, len(plan.todo), plan.path(0).parent.name))
        try:
            fit_ensemble(model, x[train_idx], y[train_idx], group, spec.total_epochs, callbacks=callbacks)
        finally:
            recorder.close()
        keras.backend.clear_session()
