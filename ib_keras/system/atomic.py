"""Output paths: a file written all at once or not at all, no empty directory left behind by a
failed command, and names that the tables, which keep paths as UTF-8 text, can hold."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ib_keras.system.locks import exclusive


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


_JOURNAL = ".commit.json"
_STAGING = ".staging"


@contextmanager
def output_set(directory: str | Path) -> Iterator[Path]:
    """A staging directory for the block to write a set of outputs into (a report, its tables and
    figures), moved into ``directory`` as a set: when the block fails (or the process is killed
    while it runs) ``directory`` keeps the old set untouched; once it succeeds, a journal naming
    the new files is written, the files are renamed into place, and the journal removed. A set
    whose renames a kill interrupted is completed by the next `finish_pending` on the directory
    (every `output_set` and every reader of a bundle calls it), so that a reader finds all new or
    all old files, never a mixture. ValueError at once when another process is writing a set into
    ``directory``."""
    # a block that fails leaves no directory it made; a second writer stops at once
    with created_directory(directory) as directory, exclusive(directory, f"{directory}: another command is writing "
                                                                          "its outputs here"):
        finish_pending(directory)
        staging = directory / f"{_STAGING}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            yield staging
            names = sorted(path.name for path in staging.iterdir() if not path.name.startswith("."))
            with atomic_path(directory / _JOURNAL) as partial:
                partial.write_text(json.dumps({"staging": staging.name, "files": names}))
            finish_pending(directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def finish_pending(directory: str | Path) -> None:
    """Complete the set of outputs a killed `output_set` had begun to move into ``directory`` (its
    journal is there), and remove staging directories that a killed block left (no journal: the
    old set stays). A staging directory of a process still running is its own: left alone, and
    a set that such a process is moving is completed by whichever process gets to each file."""
    directory = Path(directory)
    journal = directory / _JOURNAL
    try:
        pending = json.loads(journal.read_text())
    except FileNotFoundError:
        pending = None
    if pending is not None:
        staging = directory / pending["staging"]
        for name in pending["files"]:
            try:
                os.replace(staging / name, directory / name)
            except FileNotFoundError:  # moved already
                pass
        journal.unlink(missing_ok=True)
    for leftover in directory.glob(f"{_STAGING}.*"):
        if leftover.is_dir() and not _running(leftover.suffix.lstrip(".")):
            shutil.rmtree(leftover, ignore_errors=True)


def _running(pid: str) -> bool:
    """Whether ``pid`` (a staging directory's suffix) is a running process other than this one."""
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
