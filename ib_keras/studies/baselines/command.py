"""The baselines study's command: ``baselines`` (REPORT.md and figures from one summary per protocol)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ib_keras.studies.study import Command
from ib_keras.system.arguments import path_text


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("summaries", nargs="+", type=path_text,
                        help="one summary directory (or MI table) per protocol: shwartz-ziv, saxe")
    parser.add_argument("--out", type=path_text, default="figures/baselines",
                        help="directory for REPORT.md and the figures (default: figures/baselines)")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage, for the manifest")


def _run(args: argparse.Namespace) -> None:
    from ib_keras.plots.files import files_only

    files_only()  # Agg: figures go to files, no display is needed or opened
    from ib_keras.analysis.summary import load
    from ib_keras.studies.baselines.claims import baselines
    from ib_keras.studies.baselines.figures import make_baseline_figures
    from ib_keras.studies.baselines.report import write_baselines_report
    from ib_keras.studies.timings import read_timings
    from ib_keras.system.atomic import output_set

    timings = read_timings(args.timings)
    result = baselines([load(path) for path in args.summaries])
    with output_set(args.out) as staging:  # the report and its figures: all new, or all as they were
        files = make_baseline_figures(result, staging)
        write_baselines_report(result, staging / "REPORT.md", timings)
    print(f"{Path(args.out) / 'REPORT.md'}: report written, {len(files)} figures beside it")


COMMANDS = (
    Command("baselines", "the baseline papers' claims on networks trained under their protocols: REPORT.md and figures",
            _arguments, _run),
)
