"""The baselines study's command: ``baselines`` (REPORT.md and figures from one summary per protocol)."""

from __future__ import annotations

import argparse

from ib_keras.studies.study import Command
from ib_keras.system.arguments import path_text


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("summaries", nargs="+", type=path_text,
                        help="one summary directory (or MI table) per protocol: shwartz-ziv, saxe")
    parser.add_argument("--out", type=path_text, default="figures/baselines",
                        help="directory for REPORT.md and the figures (default: figures/baselines)")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage, for the manifest")


def _run(args: argparse.Namespace) -> None:
    from ib_keras.analysis.summary import load
    from ib_keras.studies.baselines.claims import baselines
    from ib_keras.studies.baselines.figures import make_baseline_figures
    from ib_keras.studies.baselines.report import write_baselines_report
    from ib_keras.studies.bundle import write_bundle

    result = baselines([load(path) for path in args.summaries])
    write_bundle(args.out, lambda out: make_baseline_figures(result, out),
                 lambda path, times: write_baselines_report(result, path, times), args.timings)


COMMANDS = (
    Command("baselines", "the baseline papers' claims on networks trained under their protocols: REPORT.md and figures",
            _arguments, _run),
)
