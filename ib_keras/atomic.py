"""Output paths: a file written all at once or not at all, no empty directory left behind by a
failed command, and names that the tables, which keep paths as UTF-8 text, can hold."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (its directory made) for the block to write: when the
    block succeeds it replaces ``path`` in one rename; when it fails it is removed and ``path``
    is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def created_directory(directory: str | Path) -> Iterator[Path]:
    """``directory`` made (with its parents) for the block; when the block fails, the directories
    it made are removed again if they are still empty, so that a refused command leaves nothing.
    ValueError naming the directory when it cannot be made or written to."""
    directory = Path(directory)
    made = []
    for path in (directory, *directory.parents):
        if path.exists():
            break
        made.append(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create output directory {directory} ({error.strerror}); choose another --out") \
            from error
    if not os.access(directory, os.W_OK):
        raise ValueError(f"output directory {directory} is not writable; choose another --out")
    try:
        yield directory
    except BaseException:
        for path in made:  # deepest first
            try:
                path.rmdir()
            except OSError:  # not empty (another command's files), or gone: leave it
                break
        raise


def check_utf8(path: str | Path) -> None:
    """ValueError unless ``path`` is UTF-8 text (a name from the command line may hold any bytes)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{os.fsencode(path)!r} is not a UTF-8 path; ib_keras keeps paths as UTF-8 text: "
                         "choose a UTF-8 name") from None
