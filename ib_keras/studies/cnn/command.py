"""The CNN study's command: ``cnn`` (REPORT.md and figures from the summary of its networks)."""

from __future__ import annotations

import argparse
import functools

from ib_keras.studies.bundle import bundle_arguments, write_bundle
from ib_keras.studies.study import Command


def _run(args: argparse.Namespace) -> None:
    from ib_keras.analysis.summary import load
    from ib_keras.studies.baselines.claims import baselines
    from ib_keras.studies.cnn.configurations import SETTINGS
    from ib_keras.studies.cnn.figures import make_cnn_figures
    from ib_keras.studies.cnn.report import write_cnn_report

    result = baselines([load(args.summary)], SETTINGS)
    write_bundle(args.out, lambda out: make_cnn_figures(result, out),
                 lambda path, times: write_cnn_report(result, path, times), args.timings)


COMMANDS = (
    Command("cnn", "Wickstrom et al.'s claims on their MNIST CNN, read with the matrix-based Renyi estimator: "
                   "REPORT.md and figures",
            functools.partial(bundle_arguments, networks="the wickstrom-cnn networks", out="figures/cnn"), _run),
)
