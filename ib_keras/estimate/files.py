"""The run files a stage reads: found under directories, named once (absolute, links resolved), hashed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

from ib_keras.runfile import RunFileError, check_regular_file
from ib_keras.system.atomic import check_utf8


def run_files(paths: Iterable[str | Path], report: Callable[[str], None] | None = None) -> list[Path]:
    """Every ``*.h5`` regular file under the given directories, and the given files, as absolute
    paths with links and ``..`` resolved (so that one file has one name however it was given),
    sorted and unique. Anything else named ``*.h5`` (a FIFO, a device, a link to one) would block
    or never end when read, and a path that is not UTF-8 cannot go into a table: each is passed
    to ``report`` by name and left out."""
    candidates = []
    for path in map(Path, paths):
        if path.is_dir():
            candidates += sorted(path.rglob("*.h5"))
        elif path.exists():
            candidates.append(path)
        else:
            raise ValueError(f"{path}: no such file or directory")
    found = set()
    for path in candidates:
        try:
            check_regular_file(path)
            check_utf8(path.resolve())
            found.add(path.resolve())
        except (RunFileError, ValueError) as error:
            if report is not None:
                report(f"skipped: {error}")
    return sorted(found)


def file_hash(path: Path) -> str:
    """BLAKE2b of the file's bytes (hex, 32 characters)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
