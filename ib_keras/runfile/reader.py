"""read_run: a run file read and checked, whole or cut to the epochs a killed writer flushed.

Until ``complete`` is set a file written in SWMR mode opens only with ``h5py.File(path, "r",
swmr=True)``, and its whole epochs are the rows that every growing dataset has (a writer killed
while flushing may have extended some datasets and not the others); `read_run` does both itself.
HDF5 verifies each chunk's Fletcher-32 checksum on read; `read_run` also checks the config's field
types, the labels against the number of classes, the indices against N and the epochs for order.
"""

from __future__ import annotations

import errno
import json
import stat
from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from ib_keras.networks.activations import OUTPUT_ACTIVATION, numpy_function
from ib_keras.networks.protocols import record_schedule
from ib_keras.runfile.checks import config_problem, contents_problem
from ib_keras.runfile.checksums import stored_eof
from ib_keras.runfile.schema import (GRIDS, LAYER_STATISTICS, METRICS, SCHEMA_VERSION, ForeignFileError, LayerSpec,
                                     Run, RunFileError)


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
        stored, actual = stored_eof(path), path.stat().st_size
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


def _layer_spec(dataset: h5py.Dataset, path: Path) -> LayerSpec:
    """A layer's attributes; RunFileError when its shape does not hold its units."""
    shape = tuple(int(n) for n in dataset.attrs["shape"]) if "shape" in dataset.attrs else None
    units = int(dataset.attrs["units"])
    if shape is not None and (not shape or int(np.prod(shape)) != units):
        raise RunFileError(f"{path}: '{dataset.name}' has shape attribute {shape}, which does not hold its {units} "
                           "units; train it again")
    grid, bits = str(dataset.attrs.get("grid", "")), int(dataset.attrs.get("bits", 0))
    if grid not in ("", *GRIDS) or (grid and not (dataset.dtype == np.uint8 and 1 <= bits <= 8)):
        raise RunFileError(f"{path}: '{dataset.name}' has grid attribute {grid!r} of {bits} bits on {dataset.dtype} "
                           f"values; a quantized layer's are uint8 codes of 1 to 8 bits, grid one of "
                           f"{', '.join(GRIDS)}: train it again")
    return LayerSpec(units, str(dataset.attrs["activation"]), shape, str(dataset.attrs.get("name", "")), grid, bits)


def grid_values(codes: np.ndarray, grids: np.ndarray, grid: str) -> np.ndarray:
    """A quantized layer's float32 values from its (E, N, units) codes and (E, 2) grids (low,
    scale): low + scale c, through a softmax over the units for a "logits" grid (the output's
    probabilities), as the network computed them (to float32 rounding)."""
    low, scale = (grids[:, k, None, None].astype(np.float32) for k in (0, 1))
    values = codes.astype(np.float32) * scale + low
    return numpy_function(OUTPUT_ACTIVATION)(values) if grid == "logits" else values


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


def _check_config(config: dict, path: Path) -> None:
    problem = config_problem(config)
    if problem:
        raise RunFileError(f"{path}: {problem}; the file is damaged or was edited: train it again")


def _check_contents(run: Run) -> None:
    """RunFileError naming the field whose values cannot be this run's: labels outside the
    classes, indices outside the samples, epochs out of order or beyond the config's."""
    problem = contents_problem(len(run.x), run.y, run.config.get("n_classes", run.layers[-1].units), run.train_idx,
                               run.test_idx, run.epochs, run.config.get("epochs"))
    if problem:
        raise RunFileError(f"{run.path}: {problem}; the file is damaged: train it again")


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
    _check_config(config, path)
    growing = [_field(f, path, name) for name in ("epochs", *(f"metrics/{m}" for m in METRICS), *LAYER_STATISTICS)]
    datasets = _layer_datasets(f, path)
    parameters = _parameter_datasets(f, path, datasets)
    growing += [dataset for pair in parameters or [] for dataset in pair]
    specs = [_layer_spec(d, path) for d in datasets]
    grids = [_field(f, path, f"grids/layer_{i}") if spec.grid else None for i, spec in enumerate(specs)]
    growing += [grid for grid in grids if grid is not None]
    # An epoch is whole once every dataset has its row: a writer killed while flushing may
    # have extended some datasets and not yet the others (HDF5 writes raw data first).
    n = min(dataset.shape[0] for dataset in (*growing, *datasets))
    codes = [d[:n] if spec.grid else None for d, spec in zip(datasets, specs)] if activity else None
    grid_rows = [grid[:n] if grid is not None else None for grid in grids] if activity else None
    run = Run(
        path=path,
        config=config,
        finished=bool(f.attrs.get("complete", False)),
        x=_field(f, path, "x")[()],
        y=_field(f, path, "y")[()],
        train_idx=_field(f, path, "train_idx")[()],
        test_idx=_field(f, path, "test_idx")[()],
        epochs=f["epochs"][:n],
        layers=specs,
        metrics={name: _field(f, path, f"metrics/{name}")[:n] for name in METRICS},
        weights_norm=_field(f, path, "weights_norm")[:n],
        grad_mean=_field(f, path, "grad_mean")[:n],
        grad_std=_field(f, path, "grad_std")[:n],
        activity=[grid_values(c, g, spec.grid) if spec.grid else d[:n].astype(np.float32, copy=False)
                  for d, spec, c, g in zip(datasets, specs, codes, grid_rows)] if activity else None,
        schedule=_schedule(f, path, config),
        kernels=[kernel[:n] for kernel, _ in parameters] if activity and parameters else None,
        biases=[bias[:n] for _, bias in parameters] if activity and parameters else None,
        codes=codes if any(spec.grid for spec in specs) else None,
        grids=grid_rows if any(spec.grid for spec in specs) else None,
    )
    _check_contents(run)
    return run
