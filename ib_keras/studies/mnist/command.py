"""The MNIST study's command: ``mnist`` (REPORT.md and figures from the summary of its networks)."""

from __future__ import annotations

import argparse
import functools

from ib_keras.studies.bundle import bundle_arguments, write_bundle
from ib_keras.studies.study import Command


def _run(args: argparse.Namespace) -> None:
    from ib_keras.analysis.summary import load
    from ib_keras.studies.baselines.claims import baselines
    from ib_keras.studies.mnist.configurations import MNIST_SETTINGS
    from ib_keras.studies.mnist.figures import make_mnist_figures
    from ib_keras.studies.mnist.report import write_mnist_report

    result = baselines([load(args.summary)], MNIST_SETTINGS)
    write_bundle(args.out, lambda out: make_mnist_figures(result, out),
                 lambda path, times: write_mnist_report(result, path, times), args.timings)


COMMANDS = (
    Command("mnist", "Saxe et al.'s MNIST claims on networks trained under their protocol: REPORT.md and figures",
            functools.partial(bundle_arguments, networks="the saxe-mnist networks", out="figures/mnist"), _run),
)
