"""The Shwartz-Ziv & Tishby (2017) synthetic task, generated exactly, and its train/test split.

Every 12-bit pattern is an input; its label is 1 iff ``w + |m| >= theta`` where ``w`` is the
number of set bits and ``m`` is the sum of unit vectors placed on the vertices of a regular
icosahedron, one per bit. The rule reproduces the published ``var_u.mat`` for all 4096 patterns.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

N_BITS = 12
N_PATTERNS = 2**N_BITS
TRAIN_FRACTION = 0.8
STANDARD = "standard"  # a data set's own split (MNIST's 60,000 / 10,000): `ib_keras.data.datasets.Dataset.split`
SPLITS = ("random", "first", STANDARD)

_PHI = (1.0 + np.sqrt(5.0)) / 2.0
# Vertex of the icosahedron that carries bit j (unnormalised; every row has length sqrt(1 + phi^2)).
_VERTICES = np.array(
    [
        (0, -1, -_PHI), (-1, -_PHI, 0), (0, -1, _PHI), (1, -_PHI, 0),
        (-_PHI, 0, 1), (0, 1, -_PHI), (-1, _PHI, 0), (1, _PHI, 0),
        (_PHI, 0, 1), (0, 1, _PHI), (_PHI, 0, -1), (-_PHI, 0, -1),
    ]
)
# The median of w + |m| over all patterns; patterns exactly on it are positive.
THRESHOLD = 6.0 + np.sqrt(2.0 + 2.0 / np.sqrt(5.0))
# f takes discrete values; the nearest value below THRESHOLD is 0.14 away, so this only absorbs
# float rounding of patterns that lie exactly on the threshold.
_TIE_TOLERANCE = 1e-9


def tishby_dataset() -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)``: all 4096 12-bit patterns and their labels.

    ``x`` is float32 (4096, 12): row i holds the bits of i, most significant first.
    ``y`` is int64 (4096,) in {0, 1}.
    """
    codes = np.arange(N_PATTERNS)
    bits = (codes[:, None] >> np.arange(N_BITS - 1, -1, -1)) & 1
    unit_vertices = _VERTICES / np.linalg.norm(_VERTICES, axis=1, keepdims=True)
    f = bits.sum(axis=1) + np.linalg.norm(bits @ unit_vertices, axis=1)
    y = (f >= THRESHOLD - _TIE_TOLERANCE).astype(np.int64)
    return bits.astype(np.float32), y


def load_mat(path: str | Path, n_features: int | None = N_BITS) -> tuple[np.ndarray, np.ndarray]:
    """Read a var_u-style MATLAB file with ``F`` (N, n_features) inputs (any width if None) and
    ``y`` (1, N) or (N,) labels.

    Returns ``(x, y)`` as float32 (N, features) and int64 (N,). Raises ValueError naming the file
    and the field when a key is missing or a shape does not fit.
    """
    path = Path(path)
    contents = _read_mat(path)
    for key in ("F", "y"):
        if key not in contents:
            raise ValueError(f"{path}: missing field '{key}' (expected F: (N, features) inputs, y: (1, N) labels)")
    x = np.asarray(contents["F"])
    y = np.asarray(contents["y"])
    if x.ndim != 2 or (n_features is not None and x.shape[1] != n_features):
        raise ValueError(f"{path}: field 'F' has shape {x.shape}, expected (N, {n_features or 'features'})")
    if y.size != x.shape[0] or (y.ndim == 2 and 1 not in y.shape) or y.ndim > 2:
        raise ValueError(f"{path}: field 'y' has shape {y.shape}, expected (1, {x.shape[0]}) to match F")
    if n_features is None:  # labels as stored: `ib_keras.data.datasets` checks them
        return x, y.reshape(-1)
    return x.astype(np.float32), y.reshape(-1).astype(np.int64)


def _read_mat(path: Path) -> dict:
    """The variables of a MATLAB file: v4 to v7 through SciPy, v7.3 (an HDF5 file, arrays stored
    transposed) through h5py. ValueError naming the file when it is neither."""
    try:
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as f:
                return {key: np.asarray(f[key]).T for key in ("F", "y") if isinstance(f.get(key), h5py.Dataset)}
        return scipy.io.loadmat(path)
    except (OSError, ValueError, IndexError, TypeError, NotImplementedError, MatReadError) as error:
        raise ValueError(f"{path}: cannot read as a MATLAB .mat file ({error or type(error).__name__})") from error


def check_split(split: str) -> str:
    """Return ``split`` if it names a split; raise ValueError listing the valid ones."""
    if split not in SPLITS:
        raise ValueError(f"unknown split '{split}'; valid splits: {', '.join(SPLITS)}")
    return split


def split_indices(
    n_samples: int, split: str = "random", seed: int = 0, train_fraction: float = TRAIN_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted ``(train_idx, test_idx)`` int64 arrays partitioning ``range(n_samples)``.

    ``split="random"`` draws the training rows with ``seed``; ``split="first"`` takes the first
    ``round(train_fraction * n_samples)`` rows, the authors' unshuffled split (3277 of 4096).
    """
    check_split(split)
    if split == STANDARD:
        raise ValueError("the standard split is a data set's own (MNIST's): `ib_keras.data.datasets.Dataset.split`")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction}")
    n_train = int(round(train_fraction * n_samples))
    order = np.arange(n_samples)
    if split == "random":
        order = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(order[:n_train]), np.sort(order[n_train:])
