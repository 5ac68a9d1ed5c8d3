"""The estimator benchmark's command: ``estimator-benchmark`` (results/estimators: REPORT.md, the
leaderboard and error tables, the figures) from quantized and float runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from ib_keras.studies.bundle import write_bundle
from ib_keras.studies.study import Command
from ib_keras.system.arguments import path_text


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exact", type=path_text, nargs="+", default=[],
                        help="quantized runs (directories or run files): scored against their exact information")
    parser.add_argument("--noisy", type=path_text, nargs="+", default=[],
                        help="float runs (directories or run files): scored against the noisy truth")
    parser.add_argument("--work", type=path_text, default="runs/estimators/work",
                        help="where the MI tables, tasks and timings are kept between runs (default: "
                             "runs/estimators/work): a rerun computes only what it lacks")
    parser.add_argument("--settings", help="comma-separated names of the settings to score (default: all of "
                                           "ib_keras.studies.estimators.claims.SETTINGS)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes of the estimate stage (default: 2)")
    parser.add_argument("--out", type=path_text, default="figures/estimators",
                        help="directory for REPORT.md, the figures and the tables (default: figures/estimators)")
    parser.add_argument("--from", dest="bundle", type=path_text,
                        help="draw the report again from a bundle's scores (its scores.parquet and costs.csv), "
                             "estimating nothing")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage, for the report")


def _run(args: argparse.Namespace) -> None:
    from ib_keras.studies.estimators.benchmark import run_benchmark
    from ib_keras.studies.estimators.claims import SETTINGS
    from ib_keras.studies.estimators.figures import make_figures
    from ib_keras.studies.estimators.report import read_benchmark, write_report, write_tables

    settings = tuple(SETTINGS) if not args.settings else tuple(s.strip() for s in args.settings.split(","))
    unknown = [name for name in settings if name not in SETTINGS]
    if unknown:
        raise ValueError(f"--settings: unknown {', '.join(unknown)}; valid: {', '.join(SETTINGS)}")
    if not args.exact and not args.noisy and not args.bundle:
        raise ValueError("give runs to score: --exact (quantized runs) and/or --noisy (float runs), or --from a bundle")
    b = read_benchmark(Path(args.bundle)) if args.bundle else run_benchmark(
        [Path(p) for p in args.exact], [Path(p) for p in args.noisy], Path(args.work), settings, jobs=args.jobs)
    write_bundle(args.out, lambda out: make_figures(b.rows, out) + write_tables(b, out),
                 lambda path, times: write_report(b, path, times), args.timings)


COMMANDS = (
    Command("estimator-benchmark", "every estimator setting scored against known truths (exact information of "
                                   "quantized networks, the noisy truth, benchmark-mi's tasks): REPORT.md, "
                                   "leaderboard and figures", _arguments, _run),
)
