"""Exclusive locks on output paths, so that two commands never write the same files."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(path: Path, busy: str) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the block: an existing directory, or else a lock
    file, created for the block and removed after it.

    Raises ValueError ``"<busy>; wait for it to finish"`` at once if another process holds the
    lock. The kernel releases it when its holder exits, however it exits.
    """
    lock_file = not path.is_dir()
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if lock_file else os.open(path, os.O_RDONLY)
    except OSError as error:
        raise ValueError(f"cannot lock {path} ({error.strerror}); is {path.parent} writable?") from error
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"{busy}; wait for it to finish") from None
        try:
            yield
        finally:
            if lock_file:
                path.unlink(missing_ok=True)  # while still held: whoever opens it next makes a new one
    finally:
        os.close(fd)


def is_locked(path: Path) -> bool:
    """Whether a process holds `exclusive`'s lock on the directory ``path`` now (False for a path
    that is not a directory, or that cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases the shared lock taken, if it was
    return False
