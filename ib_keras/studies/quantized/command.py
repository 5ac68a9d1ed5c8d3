"""The quantized study's command: ``quantized`` (REPORT.md and figures from its MI tables)."""

from __future__ import annotations

import argparse

from ib_keras.studies.bundle import write_bundle
from ib_keras.studies.study import Command
from ib_keras.system.arguments import path_text


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tables", type=path_text, nargs="+",
                        help="the MI tables of the study's networks, one per precision (8-bit, 4-bit, float32)")
    parser.add_argument("--out", type=path_text, default="figures/quantized",
                        help="directory for REPORT.md, the figures and the compact tables (claims.csv, errors.csv, "
                             "verdicts.csv; default: figures/quantized)")
    parser.add_argument("--timings", help="JSON file of wall time (s) per stage, for the manifest")


def _run(args: argparse.Namespace) -> None:
    from ib_keras.studies.quantized.claims import quantized_result
    from ib_keras.studies.quantized.figures import make_quantized_figures
    from ib_keras.studies.quantized.report import write_quantized_report, write_quantized_tables

    result = quantized_result(args.tables)
    write_bundle(args.out, lambda out: make_quantized_figures(result, out) + write_quantized_tables(result, out),
                 lambda path, times: write_quantized_report(result, path, times), args.timings)


COMMANDS = (
    Command("quantized", "Lorenzen et al.'s claims on quantized networks, exact information against every "
                         "estimator: REPORT.md and figures", _arguments, _run),
)
