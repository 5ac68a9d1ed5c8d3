"""The data sets `train --dataset` takes: the paper's 12-bit task, scikit-learn's bundled digits,
MNIST (through the package registry, `ib_keras.data.mnist`), or a user's file (a var_u-style
``.mat`` or an ``.npz``).

Every data set is ``x`` float32 (N, features) and ``y`` int64 (N,) labels 0..C-1, checked the same
way whatever its source.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ib_keras.data.tishby import STANDARD, load_mat, split_indices, tishby_dataset

TISHBY = "tishby"
DIGITS = "digits"
MNIST = "mnist"
BUILT_IN = (TISHBY, DIGITS, MNIST)
MIN_SAMPLES = 10
_LARGEST_INPUT = float(np.finfo(np.float32).max)  # training is in float32: larger inputs become inf


@dataclass(frozen=True)
class Dataset:
    """Inputs, labels and how the run's config names them."""

    x: np.ndarray  # float32 (N, features)
    y: np.ndarray  # int64 (N,), 0..C-1
    name: str  # "tishby_var_u", "digits", "mnist" or the file's name
    content_hash: str | None  # BLAKE2b of x and y; None for the paper's task and MNIST, which their names fix
    standard_split: tuple[np.ndarray, np.ndarray] | None = None  # its own (train, test) rows, if it has them
    evaluation: np.ndarray | None = None  # the rows whose activity is recorded (None: every row)
    image_shape: tuple[int, int, int] | None = None  # (H, W, C) of the features read as images (None: not images)

    @property
    def n_classes(self) -> int:
        return int(self.y.max()) + 1

    def config(self) -> dict:
        """What goes into a run's config: the name and, for other data than the paper's, the hash;
        for a data set recorded on some rows only, which ones ("test": its standard test rows)."""
        return {"dataset": self.name, **({"dataset_hash": self.content_hash} if self.content_hash else {}),
                **({"recorded_rows": "test"} if self.evaluation is not None else {})}

    def split(self, split: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Sorted (train, test) rows: ``standard`` its own split, else `split_indices`. ValueError
        for ``standard`` on a data set without one."""
        if split != STANDARD:
            return split_indices(len(self.x), split, seed)
        if self.standard_split is None:
            raise ValueError(f"{self.name} has no standard split; give --split random or first")
        return self.standard_split


def stratified_rows(y: np.ndarray, rows: np.ndarray, n: int, rng: np.random.Generator,
                    option: str = "--record-inputs") -> np.ndarray:
    """``n`` of ``rows`` (sorted), drawn class by class in proportion to the classes' counts among
    them (the largest remainders rounded up) by ``rng``. ValueError, naming ``option``, for an
    ``n`` that is more than the rows or fewer than their classes."""
    classes, counts = np.unique(y[rows], return_counts=True)
    if not len(classes) <= n <= len(rows):
        raise ValueError(f"{option} must be from {len(classes)} (one per class) to {len(rows)} (the rows it "
                         f"samples from), got {n}")
    quota = n * counts / len(rows)
    take = np.floor(quota).astype(int)
    take[np.argsort(take - quota, kind="stable")[: n - take.sum()]] += 1
    return np.sort(np.concatenate([rng.choice(rows[y[rows] == c], k, replace=False) for c, k in zip(classes, take)]))


def load_dataset(name_or_path: str) -> Dataset:
    """``tishby`` (the default task), ``digits`` (scikit-learn's 1797 8x8 images, pixels scaled
    to [0, 1], 10 classes), ``mnist`` (70,000 28x28 images, 10 classes, pixels scaled to [-1, 1]
    as Saxe et al.'s ``utils.get_mnist``; its standard 60,000/10,000 split, and its 10,000 test
    images the rows recorded), or a ``.mat`` (``F``, ``y``) or ``.npz`` (``x``, ``y``) file.

    Raises ValueError naming the data set, the file and the field for anything that cannot train:
    an unknown name, a missing file or key, wrong shapes, non-integer or single-class labels,
    non-finite inputs, fewer than MIN_SAMPLES samples.
    """
    if name_or_path == TISHBY:
        x, y = tishby_dataset()
        return Dataset(x, y, "tishby_var_u", None)
    if name_or_path == DIGITS:
        from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

        digits = load_digits()
        return replace(_checked(digits.data / 16.0, digits.target, DIGITS, DIGITS), image_shape=(8, 8, 1))
    if name_or_path == MNIST:
        return _mnist()
    path = Path(name_or_path)
    if path.suffix not in (".mat", ".npz"):
        raise ValueError(f"unknown dataset '{name_or_path}'; give {', '.join(BUILT_IN)}, or a .mat or .npz file")
    if not path.is_file():
        raise ValueError(f"{path}: no such data file")
    x, y = load_mat(path, n_features=None) if path.suffix == ".mat" else _read_npz(path)
    return _checked(x, y, path.name, str(path), ("F", "y") if path.suffix == ".mat" else ("x", "y"))


def _mnist() -> Dataset:
    """MNIST as a data set: the training images, then the test images (`ib_keras.data.mnist`),
    grey levels g scaled to 2 g / 255 - 1 (``artemyk/ibsgd`` ``utils.py`` lines 9-12)."""
    from ib_keras.data.mnist import mnist

    data = mnist()
    x = np.concatenate([data.x_train, data.x_test]).astype(np.float32) * np.float32(2 / 255) - np.float32(1)
    y = np.concatenate([data.y_train, data.y_test])
    n_train = len(data.y_train)
    test = np.arange(n_train, len(y))
    return Dataset(x, y, MNIST, None, (np.arange(n_train), test), test, (28, 28, 1))


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        contents = np.load(path, allow_pickle=False)
        if not isinstance(contents, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an archive of named arrays")
        with contents:
            arrays = {key: contents[key] for key in ("x", "y") if key in contents.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:  # not an .npz, or a truncated one
        raise ValueError(f"{path}: cannot read as a NumPy .npz file ({error})") from error
    for key in ("x", "y"):
        if key not in arrays:
            raise ValueError(f"{path}: missing field '{key}' (expected x: (N, features) inputs, y: (N,) integer labels)")
    return arrays["x"], arrays["y"]


def _checked(x, y, name: str, where: str, fields: tuple[str, str] = ("x", "y")) -> Dataset:
    """The data set, its labels renumbered 0..C-1 in sorted order; ValueError naming ``where`` and
    the field as the file calls it (``fields``: the names of x and y there)."""
    x, y = np.asarray(x), np.asarray(y)
    fx, fy = fields
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"{where}: field '{fx}' has shape {x.shape}, expected (N, features)")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{where}: field '{fy}' has shape {y.shape}, expected ({len(x)},) to match {fx}")
    if len(x) < MIN_SAMPLES:
        raise ValueError(f"{where}: {len(x)} samples; at least {MIN_SAMPLES} are needed for an 80/20 split")
    if np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise ValueError(f"{where}: field '{fx}' holds {x.dtype} values; give real numbers")
    if not np.isfinite(x.astype(np.float64)).all():
        raise ValueError(f"{where}: field '{fx}' holds NaN or infinite values")
    largest = float(np.abs(x).max(initial=0.0))
    if largest > _LARGEST_INPUT:
        raise ValueError(f"{where}: field '{fx}' holds values up to {largest:.3g}, beyond float32's range "
                         f"(|x| <= {_LARGEST_INPUT:.3g}) that training computes in; rescale the inputs")
    if np.iscomplexobj(y) or not (np.issubdtype(y.dtype, np.integer) or (np.issubdtype(y.dtype, np.floating)
                                                                       and np.isfinite(y).all()
                                                                       and (y == np.round(y)).all())):
        raise ValueError(f"{where}: field '{fy}' must hold integer class labels, got {y.dtype}")
    classes, y = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"{where}: field '{fy}' has a single class ({classes[0]}); need at least two")
    x, y = x.astype(np.float32), y.astype(np.int64)
    digest = hashlib.blake2b(x.tobytes() + y.tobytes(), digest_size=16).hexdigest()
    return Dataset(x, y, name, digest)
