"""The noisy-network study's command: ``noisy-report`` (REPORT.md, figures and noisy.parquet)."""

from __future__ import annotations

import argparse

from ib_keras.studies.study import Command
from ib_keras.system.arguments import path_text


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", type=path_text, help="MI table of the noisy runs, with sp rows (.parquet or .csv)")
    parser.add_argument("--out", type=path_text, default="figures/noisy",
                        help="directory for REPORT.md, the figures and noisy.parquet (default: figures/noisy)")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage")


def _run(args: argparse.Namespace) -> None:
    from ib_keras.plots.files import files_only

    files_only()  # Agg: figures go to files, no display is needed or opened
    from ib_keras.studies.noisy.report import noisy_report
    from ib_keras.studies.timings import read_timings

    print(f"{noisy_report(args.table, args.out, read_timings(args.timings))}: report written")


COMMANDS = (
    Command("noisy-report", "Goldfeld et al.'s claims on noisy networks (train --noise-std; estimate with sp): "
                            "REPORT.md, figures, noisy.parquet", _arguments, _run),
)
