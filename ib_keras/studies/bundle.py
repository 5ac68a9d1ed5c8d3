"""A study's report and its figures, written into one directory as a set (all new, or all as they
were), for the study commands that draw them from a result, and those commands' arguments."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ib_keras.studies.timings import read_timings
from ib_keras.system.arguments import path_text
from ib_keras.system.atomic import output_set


def write_bundle(out: str | Path, draw: Callable[[Path], list[Path]],
                 report: Callable[[Path, dict], Path], timings: str | None = None) -> None:
    """``draw(directory)`` the figures (and any tables) and ``report(directory / "REPORT.md", wall
    times)`` into ``out`` as one set (`ib_keras.system.atomic.output_set`), with the stage times of the
    ``timings`` file; says where. Matplotlib draws to files only (no display needed or opened)."""
    from ib_keras.plots.files import files_only

    files_only()
    times = read_timings(timings)  # a bad file refused before anything is drawn
    with output_set(out) as staging:
        files = draw(staging)
        report(staging / "REPORT.md", times)
    print(f"{Path(out) / 'REPORT.md'}: report written, {len(files)} files beside it")


def bundle_arguments(parser: argparse.ArgumentParser, networks: str, out: str) -> None:
    """The arguments of a study's command that writes its bundle from the summary of ``networks``
    (in words) into ``out`` by default: the summary, ``--out`` and ``--timings``."""
    parser.add_argument("summary", type=path_text, help=f"the summary directory (or MI table) of {networks}")
    parser.add_argument("--out", type=path_text, default=out,
                        help=f"directory for REPORT.md and the figures (default: {out})")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage, for the manifest")
