"""Training one configuration's networks into run files: what to train, in which groups, and where.

A configuration (`TrainSpec`) is an activation, an L2 strength, a protocol, hidden widths and a
data set; its networks differ only in their seed. Complete files of the same configuration are kept; incomplete or
unreadable or truncated ones are trained again; a complete file of another configuration, or a
file this ib_keras did not write, is an error unless ``overwrite`` is set.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ib_keras.networks.architecture import is_convolutional
from ib_keras.networks.protocols import SHUFFLED, get_protocol
from ib_keras.runfile import (ForeignFileError, RunFileError, check_continuable, config_dir, read_run, run_file_bytes,
                              run_path)
from ib_keras.system.atomic import created_directory
from ib_keras.system.locks import exclusive
from ib_keras.system.workers import worker_pool
from ib_keras.train.checkpoint_file import checkpoint_identity, read_checkpoint
from ib_keras.train.resources import (check_memory, default_workers, duration_text, member_bytes,
                                      members_per_model, training_seconds)
from ib_keras.train.spec import TrainSpec

# TensorFlow is imported where a network is trained (`_train_seeds`, `one_thread`), not here: the
# plan, its checks and a refusal come before its start-up, and a process that only plans (a
# rerun with every network complete, a sweep's client) never pays it.

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
    checkpoint_seconds: float | None = None  # least time between checkpoints (None: TrainingCheckpoint's minute)
    workers: int = 1  # processes that train ``todo``, each a contiguous share

    def path(self, seed: int) -> Path:
        return run_path(self.out, self.spec.activation, self.spec.l2, seed)

    def disk_bytes(self) -> int:
        """Upper bound of the disk the files still to train will take."""
        spec = self.spec
        kept = 0 if is_convolutional(spec.hidden) else None  # a CNN's kernels and biases are not kept
        return len(self.todo) * run_file_bytes(spec.n_recorded, spec.recorded_units(), len(spec.record_epochs()),
                                               spec.data().x.shape[1], spec.value_bytes(), kept)

    def groups(self) -> list[list[int]]:
        """The networks trained together, one model each: ``todo`` in ``workers`` contiguous shares
        (`train_plan`), each share in models of as many networks as memory allows."""
        return [group for share in _shares(self.todo, self.workers) for group in _groups(share, self.spec)]

    def describe(self) -> str:
        """The plan in one line: networks to train and complete, epochs, the expected wall time on
        this machine, disk and memory, and which checkpoints resume."""
        spec = self.spec
        together = members_per_model(max(len(self.todo), 1), spec)
        resumed = "".join(f"; {name} resumes at epoch {epoch}" if not why else
                          f"; {checkpoint_name(name, epoch)} is not resumed and is deleted when its networks start "
                          f"afresh: {why}" for name, epoch, why in self.checkpoints())
        return (f"{self.path(0).parent}: {len(self.todo)} networks to train, {len(self.done)} already complete; "
                f"{spec.total_epochs} epochs, {len(spec.record_epochs())} recorded; about "
                f"{duration_text(training_seconds(spec, len(self.todo)))} of training on this machine, "
                f"planned disk use at most {self.disk_bytes() / 1e9:.2f} GB, the networks' memory about "
                f"{together * member_bytes(spec) / 1e9:.2f} GB ({together} per model; TensorFlow and the data "
                f"come on top){resumed}")

    def checkpoints(self) -> list[tuple[str, int | None, str]]:
        """The checkpoints beside the run files that hold networks this plan trains, in name order,
        as (file name, the epoch it saved (None: unreadable), why it is not resumed: '' when it is). One is not
        resumed when it cannot be read, when this plan trains its networks in other models, when
        it is of other settings (the differences named), or when a run file it continues cannot
        be continued (`check_continuable`); it is deleted when its networks start training afresh.
        Checkpoints of networks this plan does not train are left as they are."""
        planned = {tuple(group) for group in self.groups()}
        schedule = self.spec.record_epochs()
        found = []
        for path in sorted(self.path(0).parent.glob(_CHECKPOINTS)):
            seeds = checkpoint_seeds(path.name)
            if not set(seeds) & set(self.todo):
                continue
            state = read_checkpoint(path)
            found.append((path.name, state["epoch"] if state else None,
                          self._why_not_resumed(seeds, state, planned, schedule)))
        return found

    def _why_not_resumed(self, seeds: tuple[int, ...], state: dict | None, planned: set, schedule) -> str:
        if state is None:
            return "it cannot be read: damaged"
        if seeds not in planned:
            return f"this command trains seeds {', '.join(map(str, seeds))} in other models"
        configs = [self.spec.config(seed) for seed in seeds]
        if state["identity"] != checkpoint_identity([{**c, "versions": None} for c in configs]):
            stored = json.loads(state["identity"])
            differences = _differences(stored[0], configs[0], ignore=("versions", "seed")) if len(stored) == len(
                configs) else f"{len(stored)} networks vs {len(configs)}"
            return f"it is of other settings ({differences or 'seeds'})"
        for seed, config in zip(seeds, configs):
            try:
                check_continuable(self.path(seed), config, schedule, int(np.sum(schedule < state["epoch"])))
            except RunFileError as error:
                return str(error)
        return ""


def _shares(todo: Sequence[int], workers: int) -> list[list[int]]:
    """``todo`` in at most ``workers`` contiguous shares, one per worker process."""
    return [[int(seed) for seed in share] for share in np.array_split(todo, max(1, min(workers, len(todo))))] \
        if len(todo) else []


def _groups(share: Sequence[int], spec: TrainSpec) -> list[list[int]]:
    """A worker's ``share`` of networks in models of as many as memory allows."""
    size = members_per_model(len(share), spec)
    return [list(share[start : start + size]) for start in range(0, len(share), size)]


def plan_training(spec: TrainSpec, seeds: Sequence[int], out: str | Path, overwrite: bool = False) -> TrainPlan:
    """Sort ``seeds`` into those to train and those already complete under ``out``.

    Raises ValueError when, and ``overwrite`` is off, a complete file holds another configuration
    or a readable file was not written by this ib_keras (another program's HDF5, another schema).
    With ``overwrite`` the directory's checkpoints are deleted: nothing resumes.
    """
    plan = TrainPlan(spec, Path(out), [], [])
    if overwrite:  # every network trained afresh: no checkpoint of the files it replaces resumes
        for path in plan.path(0).parent.glob(_CHECKPOINTS):
            path.unlink()
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


_DISK_MARGIN = 1.1


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


def one_thread() -> None:
    """Worker set-up: TensorFlow on one thread, so that workers share the cores without contention.
    In a process where TensorFlow already ran (a cluster worker's earlier task) it stays as set.
    The objects alive once TensorFlow and Keras are imported (406,000 of them), the first time in a
    process, are moved out of the garbage collector's scans (`gc.freeze`): the full collection of
    each network's `clear_session` then scans what training made, not them (0.17-0.18 s each here)."""
    import gc

    import keras  # noqa: F401  (TensorFlow with it)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # "cannot be modified after initialization": done by the earlier task
        pass
    if not gc.get_freeze_count():  # once in a process: a cluster worker's later tasks leave its objects alone
        gc.collect()  # nothing unreachable is frozen
        gc.freeze()


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
    checkpoint_seconds: float | None = None,
) -> TrainPlan:
    """Everything `train` does for one configuration: make and lock its directory (a second writer
    stops at once), plan, check the disk and the memory, ``announce`` the plan, train. Returns the
    plan. ValueError before anything is trained for a bad output, a busy directory, a short disk or
    too little memory (the directories it made are then removed again); ValueError once the
    finished networks are kept when a worker process dies. ``workers`` None: `default_workers`.
    Each model of networks trained together keeps a checkpoint beside its run files every
    ``checkpoint_seconds`` (None: a minute); a rerun resumes from it (`TrainPlan.checkpoints`)."""
    directory = config_dir(out, spec.activation, spec.l2)
    with created_directory(directory), exclusive(directory, f"{directory}: another train command is writing here"):
        plan = plan_training(spec, seeds, out, overwrite)
        plan.checkpoint_seconds = checkpoint_seconds
        plan.workers = workers or default_workers(spec, len(plan.todo))
        check_memory(spec)
        check_free_disk(plan)
        announce(plan)
        train_plan(plan, progress, plan.workers, extra_callbacks)
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
    shares = _shares(plan.todo, workers)
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
    train_idx, test_idx = data.split(spec.split, spec.split_seed)
    record_rows = spec.recorded_rows()
    recorded = record_rows if record_rows is not None else slice(None)
    protocol = get_protocol(spec.protocol)
    # the checkpoints that cannot resume, found once: none becomes resumable as the groups train
    stale = [(name, epoch, why) for name, epoch, why in plan.checkpoints() if why]
    for group in _groups(seeds, spec):
        configs = [spec.config(seed) for seed in group]
        checkpoint = _checkpoint(plan, group, configs, stale)
        model = build_ensemble(spec.activation, group, spec.l2, spec.protocol, spec.input_shape(), spec.hidden,
                               data.n_classes, spec.noise_std, spec.quantize_bits)
        recorder = ActivationRecorder([plan.path(seed) for seed in group], x, y, train_idx, test_idx,
                                      spec.record_epochs(), configs=configs,
                                      batch_size=protocol.batch_size, record_rows=record_rows,
                                      activity_dtype=spec.record_dtype, verbose=0)  # the plan said it
        callbacks = [checkpoint, recorder]  # the checkpoint first: the recorder continues from its epoch
        if extra_callbacks is not None:
            callbacks += extra_callbacks(plan, group, x[recorded], y[recorded])
        if progress:  # every share trains at the same pace: one bar, for all of the plan's networks
            callbacks.append(TrainingProgress(spec.total_epochs, len(plan.todo), plan.path(0).parent.name))
        try:
            fit_ensemble(model, x[train_idx], y[train_idx], group, spec.total_epochs, protocol.batch_size, callbacks,
                         shuffle=protocol.minibatch_order == SHUFFLED)
        finally:
            recorder.close()
        checkpoint.remove()  # the files are complete
        keras.backend.clear_session()


def _checkpoint(plan: TrainPlan, group: Sequence[int], configs: list[dict],
                stale: Sequence[tuple[str, int | None, str]]):
    """The checkpoint of the networks ``group`` (of ``configs``) trained together, beside their run
    files. Every checkpoint of ``stale`` (those `TrainPlan.checkpoints` finds cannot resume, with
    why) that holds any of them is deleted first, and said: these networks train afresh, so it
    never could."""
    from ib_keras.train.callbacks.checkpoint import TrainingCheckpoint

    for name, epoch, why in stale:
        if not set(checkpoint_seeds(name)) & set(group):
            continue
        try:
            (plan.path(0).parent / name).unlink()
        except FileNotFoundError:  # deleted for an earlier group (or by another worker's share)
            continue
        print(f"{checkpoint_name(name, epoch)} not resumed, deleted: {why}; training seeds "
              f"{', '.join(map(str, group))} afresh", file=sys.stderr)
    return TrainingCheckpoint(checkpoint_path(plan, group), [{**c, "versions": None} for c in configs],
                              *([] if plan.checkpoint_seconds is None else [plan.checkpoint_seconds]))


_CHECKPOINTS = "checkpoint-seed-*.npz"


def checkpoint_seeds(name: str) -> tuple[int, ...]:
    """The seeds of the networks a checkpoint file (`checkpoint_path`) holds, from its name."""
    return tuple(int(seed) for seed in Path(name).stem.split("-")[2:])


def checkpoint_name(name: str, epoch: int | None) -> str:
    """A checkpoint as a message names it: its file name and the epoch it saved, when readable."""
    return name if epoch is None else f"{name} (epoch {epoch})"


def checkpoint_path(plan: TrainPlan, group: Sequence[int]) -> Path:
    """Where the checkpoint of the networks ``group``, trained in one model, is kept."""
    return plan.path(group[0]).parent / _CHECKPOINTS.replace("*", "-".join(f"{seed:03d}" for seed in group))
