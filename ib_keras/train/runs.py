"""Training one configuration's networks into run files: what to train, in which groups, and where.

A configuration (`TrainSpec`) is an activation, an L2 strength, a protocol, hidden widths and a
data set; its networks differ only in their seed. Complete files of the same configuration are kept; incomplete or
unreadable or truncated ones are trained again; a complete file of another configuration, or a
file this ib_keras did not write, is an error unless ``overwrite`` is set.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np

from ib_keras import __version__
from ib_keras.data.datasets import TISHBY, Dataset, load_dataset
from ib_keras.data.tishby import TRAIN_FRACTION, check_split, split_indices
from ib_keras.networks.activations import check_activation
from ib_keras.networks.protocols import (DEFAULT_PROTOCOL, HIDDEN_UNITS, N_CLASSES, NOISE_STD_RANGE, SHUFFLED, Protocol,
                                         get_protocol, kernel_stddevs, record_schedule)
from ib_keras.runfile import ForeignFileError, RunFileError, config_dir, read_run, run_file_bytes, run_path
from ib_keras.system.atomic import created_directory
from ib_keras.system.locks import exclusive
from ib_keras.system.memory import available_memory
from ib_keras.system.workers import worker_pool

# TensorFlow is imported where a network is trained (`_train_seeds`, `one_thread`), not here: the
# plan, its checks and a refusal come before its start-up, and a process that only plans (a
# rerun with every network complete, a sweep's client) never pays it.

# Peak memory of one member of the paper's network while training and recording on its 4096
# inputs (4096 x (12 + 31) values), with a wide margin; other data and widths scale it.
_BYTES_PER_MEMBER = 8 * 2**20
_PAPER_VALUES = 4096 * (12 + sum(HIDDEN_UNITS) + N_CLASSES)
_BYTES_PER_PARAMETER = 4 * 4  # float32 weight, gradient and Adam's two moments
MAX_UNITS = 10_000
_MEMORY_SHARE = 0.25  # of the memory available when training starts
_DISK_MARGIN = 1.1


@dataclass(frozen=True)
class TrainSpec:
    """One configuration of the networks to train; every network of it differs only in seed.

    ``epochs`` and ``split`` default to the protocol's; ``record_points`` replaces the protocol's
    recording schedule by that many log-spaced epochs.
    """

    activation: str
    l2: float = 0.0
    protocol: str = DEFAULT_PROTOCOL
    epochs: int | None = None
    split: str | None = None
    split_seed: int = 0
    record_points: int | None = None
    hidden: tuple[int, ...] = HIDDEN_UNITS
    dataset: str = TISHBY  # a name `ib_keras.data.datasets.load_dataset` takes
    noise_std: float = 0.0  # s > 0: noisy networks, N(0, s^2) added after every hidden activation

    def __post_init__(self):
        check_activation(self.activation)
        if not self.hidden or not all(1 <= units <= MAX_UNITS for units in self.hidden):
            raise ValueError(f"--hidden must be 1 or more widths from 1 to {MAX_UNITS}, got {list(self.hidden)}")
        self.data()  # a data set that cannot train fails here, before anything is written
        protocol = get_protocol(self.protocol)
        if self.split is None:
            object.__setattr__(self, "split", protocol.split)
        check_split(self.split)
        if self.l2 < 0 or not np.isfinite(self.l2):
            raise ValueError(f"--l2 must be a finite number >= 0, got {self.l2}")
        if self.epochs is not None and self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {self.epochs}")
        if self.record_points is not None and self.record_points < 1:
            raise ValueError(f"--record-points must be >= 1, got {self.record_points}")
        low, high = NOISE_STD_RANGE
        if not (self.noise_std == 0 or low <= self.noise_std <= high):
            raise ValueError(f"--noise-std must be 0 (a deterministic network) or from {low:g} to {high:g} (what sp can "
                             f"estimate), got {self.noise_std}")

    @property
    def total_epochs(self) -> int:
        return self.epochs if self.epochs is not None else get_protocol(self.protocol).epochs

    def record_epochs(self) -> np.ndarray:
        """The epochs recorded (int64, from 0 to ``total_epochs``)."""
        return record_schedule(self.protocol, self.total_epochs, self.record_points)

    def data(self) -> Dataset:
        """The data set (loaded once per process)."""
        return _load_dataset(self.dataset)

    def config(self, seed: int) -> dict:
        """The JSON description stored with network ``seed``: every hyperparameter and versions.
        The paper's task and widths, and a deterministic network (no ``noise_std``), give the same
        config as before these were options."""
        data = self.data()
        protocol = get_protocol(self.protocol)
        settings = {name: value for name, value in asdict(self).items()
                    if name not in ("hidden", "dataset") and (name != "noise_std" or value > 0)}
        return {
            **settings,
            "epochs": self.total_epochs,
            "hidden_units": list(self.hidden),
            "n_classes": data.n_classes,
            "kernel_stddev": kernel_stddevs(self.activation, self.protocol, data.x.shape[1], self.hidden,
                                            data.n_classes),
            "optimizer": protocol.optimizer,
            "learning_rate": protocol.learning_rate,
            "batch_size": protocol.batch_size,
            "loss": "categorical_crossentropy",
            "train_fraction": TRAIN_FRACTION,
            **_protocol_rules(protocol),
            **data.config(),
            "seed": seed,
            "versions": _versions(),
        }


_load_dataset = functools.cache(load_dataset)


def _protocol_rules(protocol: Protocol) -> dict:
    """The rules in which ``protocol`` departs from the default one (minibatch order, output
    kernel, when a recorded epoch is read), as config fields; the default's are implied, so that
    its files stay as they were before these were stored."""
    default = get_protocol(DEFAULT_PROTOCOL)
    rules = {name: getattr(protocol, name) for name in ("minibatch_order", "output_init", "recorded_at")}
    return {name: value for name, value in rules.items() if value != getattr(default, name)}


def _versions() -> dict:
    return {
        "ib_keras": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": _installed("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel"),
        "keras": _installed("keras"),
        "h5py": h5py.__version__,
    }


def _installed(*distributions: str) -> str | None:
    """The version of the first of ``distributions`` installed (TensorFlow's name depends on the
    platform), read from its metadata: without importing it."""
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


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
        return len(self.todo) * run_file_bytes(len(data.x), units, len(self.spec.record_epochs()), data.x.shape[1])


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


def member_bytes(spec: TrainSpec) -> int:
    """Peak memory of one network of ``spec`` while it trains and records (bytes, with a margin):
    its activity on every sample, as measured on the paper's network, and for each parameter the
    weight, its gradient and Adam's two moments in float32."""
    data = spec.data()
    widths = [data.x.shape[1], *spec.hidden, data.n_classes]
    parameters = sum((fan_in + 1) * units for fan_in, units in zip(widths, widths[1:]))
    activity = _BYTES_PER_MEMBER * max(1.0, len(data.x) * sum(widths) / _PAPER_VALUES)
    return int(activity) + _BYTES_PER_PARAMETER * parameters


def check_memory(spec: TrainSpec) -> None:
    """ValueError when one network of ``spec`` needs more memory than is available."""
    needed, free = member_bytes(spec), available_memory()
    if needed > free:
        raise ValueError(f"one network of widths {','.join(map(str, spec.hidden))} on {spec.dataset} needs about "
                         f"{needed / 1e9:.1f} GB of memory to train, and {free / 1e9:.1f} GB are available; choose "
                         "smaller --hidden widths")


# Training work (networks x epochs x training rows) from which a second worker process repays its
# start-up (TensorFlow's import and the compilation, about 9 s): measured on 2 cores with the
# paper's tanh network, 2 seeds x 1500 epochs took 23 s in one process and 27 s on two workers.
_WORK_PER_WORKER = 2.5e7


def default_workers(spec: TrainSpec, n_networks: int) -> int:
    """The processes `train` uses unless told: one per core (at most one per network) when the
    training is long enough to repay a worker's start-up, else 1 (this process)."""
    work = n_networks * spec.total_epochs * len(spec.data().x) * TRAIN_FRACTION
    return max(1, min(os.cpu_count() or 1, n_networks, int(work // _WORK_PER_WORKER)))


def members_per_model(n_networks: int, spec: TrainSpec) -> int:
    """How many networks of ``spec`` to train in one model: all of them unless memory says otherwise."""
    return max(1, min(n_networks, int(_MEMORY_SHARE * available_memory() // member_bytes(spec))))


def one_thread() -> None:
    """Worker set-up: TensorFlow on one thread, so that workers share the cores without contention.
    In a process where TensorFlow already ran (a cluster worker's earlier task) it stays as set."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # "cannot be modified after initialization": done by the earlier task
        pass


#: More callbacks for a group of networks trained together, from the plan, the group's seeds, its
#: inputs and labels (`ib_keras.live.LiveView` is one); sent to worker processes, so it pickles.
CallbackFactory = Callable[["TrainPlan", Sequence[int], np.ndarray, np.ndarray], list]


def train_configuration(
    spec: TrainSpec,
    seeds: Sequence[int],
    out: str | Path,
    overwrite: bool = False,
    workers: int | None = 1,
    progress: bool = True,
    announce: Callable[[TrainPlan], None] = lambda plan: None,
    extra_callbacks: CallbackFactory | None = None,
) -> TrainPlan:
    """Everything `train` does for one configuration: make and lock its directory (a second writer
    stops at once), plan, check the disk and the memory, ``announce`` the plan, train. Returns the
    plan. ValueError before anything is trained for a bad output, a busy directory, a short disk or
    too little memory (the directories it made are then removed again); ValueError once the
    finished networks are kept when a worker process dies. ``workers`` None: `default_workers`."""
    directory = config_dir(out, spec.activation, spec.l2)
    with created_directory(directory), exclusive(directory, f"{directory}: another train command is writing here"):
        plan = plan_training(spec, seeds, out, overwrite)
        check_memory(spec)
        check_free_disk(plan)
        announce(plan)
        train_plan(plan, progress, workers or default_workers(spec, len(plan.todo)), extra_callbacks)
    return plan


def train_plan(plan: TrainPlan, progress: bool = True, workers: int = 1,
               extra_callbacks: CallbackFactory | None = None) -> list[Path]:
    """Train every seed in ``plan.todo`` into its run file; return the files.

    With ``workers`` > 1 the seeds are split into that many contiguous shares, each trained by a
    worker process on one thread: on small networks two such workers train about 1.4x as fast as
    one process on two threads. A network's file is the same however the seeds are split.
    """
    if not plan.todo:
        return []
    shares = [[int(seed) for seed in share] for share in np.array_split(plan.todo, max(1, min(workers, len(plan.todo))))]
    if len(shares) == 1:
        _train_seeds(plan, plan.todo, progress, extra_callbacks)
    else:
        with worker_pool(len(shares), one_thread) as pool:
            futures = [pool.submit(_train_seeds, plan, share, progress and i == 0, extra_callbacks) for i, share in enumerate(shares)]
            try:
                for future in futures:
                    future.result()
            except BrokenProcessPool:  # the pool stops its other workers too: their files stay incomplete
                complete = sum(_is_complete(plan.path(seed)) for seed in plan.todo)
                raise ValueError(f"{plan.path(0).parent}: a training worker process died (killed, or out of memory); "
                                 f"{complete} of the {len(plan.todo)} networks to train are complete and kept: rerun "
                                 "the same command to train the others") from None
    return [plan.path(seed) for seed in plan.todo]


def _is_complete(path: Path) -> bool:
    try:
        return read_run(path, activity=False).complete
    except RunFileError:
        return False


def _train_seeds(plan: TrainPlan, seeds: Sequence[int], progress: bool,
                 extra_callbacks: CallbackFactory | None = None) -> None:
    """Train ``seeds`` of ``plan``, K at a time as memory allows; a progress bar if ``progress``;
    the callbacks ``extra_callbacks`` makes for each group (such as the live information plane)."""
    import keras

    from ib_keras.networks.models import build_ensemble
    from ib_keras.train.callbacks.activation_recorder import ActivationRecorder
    from ib_keras.train.callbacks.progress import TrainingProgress
    from ib_keras.train.fit import fit_ensemble

    spec = plan.spec
    data = spec.data()
    x, y = data.x, data.y
    train_idx, test_idx = split_indices(len(x), spec.split, spec.split_seed)
    group_size = members_per_model(len(seeds), spec)
    protocol = get_protocol(spec.protocol)
    for start in range(0, len(seeds), group_size):
        group = seeds[start : start + group_size]
        model = build_ensemble(spec.activation, group, spec.l2, spec.protocol, x.shape[1], spec.hidden, data.n_classes,
                               spec.noise_std)
        recorder = ActivationRecorder([plan.path(seed) for seed in group], x, y, train_idx, test_idx,
                                      spec.record_epochs(), configs=[spec.config(seed) for seed in group],
                                      batch_size=protocol.batch_size, verbose=0)  # the plan said it
        callbacks = [recorder]
        if extra_callbacks is not None:
            callbacks += extra_callbacks(plan, group, x, y)
        if progress:  # every share trains at the same pace: one bar, for all of the plan's networks
            callbacks.append(TrainingProgress(spec.total_epochs, len(plan.todo), plan.path(0).parent.name))
        try:
            fit_ensemble(model, x[train_idx], y[train_idx], group, spec.total_epochs, protocol.batch_size, callbacks,
                         shuffle=protocol.minibatch_order == SHUFFLED)
        finally:
            recorder.close()
        keras.backend.clear_session()
