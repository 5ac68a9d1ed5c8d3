"""Crash-safe parts: each finished run file's rows kept beside the table until the table is written."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ib_keras.estimate.table import read_table, write_table


class Parts:
    """Finished files' rows, each kept in its own file beside the table until the table is written,
    so that a killed stage loses at most the files in flight. Merged into the table when it is next
    read: a part written twice (killed after the table was written) adds no duplicate rows."""

    def __init__(self, out: Path):
        self.directory = out.with_name(f".{out.name}.parts")
        self.added: list[Path] = []

    def read(self, report: Callable[[str], None]) -> list[pd.DataFrame]:
        """The parts' rows; a part that cannot be read is reported and deleted (its file's rows are
        then estimated again), so that no bad part blocks the stage."""
        frames = []
        for path in sorted(self.directory.glob("*.parquet")):
            try:
                frames.append(read_table(path))
            except ValueError as error:
                report(f"discarded an unreadable kept part, its run file is estimated again: {error}")
                path.unlink(missing_ok=True)
        return frames

    def add(self, rows: pd.DataFrame) -> None:
        # a name no other process takes (the shares of a stage run as SLURM jobs on several nodes at
        # once), in the order the parts were written
        self.added.append(self.directory / f"{time.time_ns():020d}-{uuid.uuid4().hex}.parquet")
        write_table(rows, self.added[-1])

    def discard_added(self) -> None:
        for path in self.added:
            path.unlink(missing_ok=True)
        if self.directory.is_dir() and not any(self.directory.iterdir()):
            self.directory.rmdir()

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
