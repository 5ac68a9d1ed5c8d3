"""The paper study's commands: ``plot`` (its figures) and ``report`` (REPORT.md)."""

from __future__ import annotations

import argparse
import os

from ib_keras.studies.study import Command
from ib_keras.system.arguments import path_text, positive_int

_SOURCE = "MI table written by estimate (.parquet or .csv), or a directory written by summarize"


def _plot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help=_SOURCE)
    parser.add_argument("--out", type=path_text, default="figures",
                        help="directory for the PNG and PDF files (default: figures)")
    parser.add_argument("--png-only", action="store_true", help="write PNG files only, no PDF")
    parser.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                        help="processes sharing the figures (default: one per core)")


def _plot(args: argparse.Namespace) -> None:
    from ib_keras.plots.files import files_only

    files_only()  # Agg: figures go to files, no display is needed or opened
    from ib_keras.analysis.summary import load
    from ib_keras.studies.paper.figures import make_figures, not_drawn
    from ib_keras.system.atomic import output_set

    summary = load(args.table)
    with output_set(args.out) as staging:  # the figures: all new, or all as they were
        files = make_figures(summary, staging, pdf=not args.png_only, workers=args.workers)
    print(f"{args.out}: {len(files)} figure files ({'PNG' if args.png_only else 'PNG and PDF'})")
    for name, reason in not_drawn(summary).items():
        print(f"  not drawn: {name} ({reason})")


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help=_SOURCE)
    parser.add_argument("--out", type=path_text, default="figures/REPORT.md",
                        help="report file (default: figures/REPORT.md)")
    parser.add_argument("--figures", help="directory of the figures to embed (default: beside the report)")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage, for the manifest")


def _report(args: argparse.Namespace) -> None:
    from ib_keras.analysis.summary import load
    from ib_keras.studies.paper.report import write_report
    from ib_keras.studies.timings import read_timings

    print(f"{write_report(load(args.table), args.out, args.figures, read_timings(args.timings))}: report written")


COMMANDS = (
    Command("plot", "draw the paper's figures that an MI table or its summary has the data for", _plot_arguments,
            _plot),
    Command("report", "write REPORT.md: the numbers behind each claim, with verdicts", _report_arguments, _report),
)
