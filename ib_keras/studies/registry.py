"""Every study, registered once: its command-line commands and its ``run_all.sh`` modes.

The command line (`ib_keras.cli`) adds each study's commands from here, and ``run_all.sh`` reads
its modes from here: ``python3 ib_keras/studies/registry.py --shell MODE`` prints the mode as
shell variables, ``--help`` lists the modes. It imports nothing but the standard library, so
``run_all.sh`` checks its options with the system's python3 before it builds the environment.

Adding a study: a folder ``studies/<name>/`` (``claims.py``, ``report.py``, ``figures.py``,
``command.py`` with ``COMMANDS``) and one `Study` line in `STUDIES` (docs/contributing.md).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

# Every setting of the paper's estimators, and the truth (noisy) beside each KDE setting with the
# lower bounds, on a subset of seeds and of recorded epochs (every stride-th and the last).
PAPER_ESTIMATORS = "ebab,akde,uniform,fixed,kde,akde:variance_scale=0.01,akde:variance_scale=1"
TRUTH_ESTIMATORS = ("noisy,noisy:variance_scale=0.1,noisy:variance_scale=0.01,noisy:variance_scale=1,kde:bound=lower,"
                    "akde:bound=lower,akde:variance_scale=0.01:bound=lower,akde:variance_scale=1:bound=lower")


@dataclass(frozen=True)
class Group:
    """One sweep: ``activations`` trained under ``protocol`` for ``epochs``, and
    ``l2_activations`` again with the mode's L2 penalty."""

    protocol: str
    activations: tuple[str, ...]
    epochs: int
    l2_activations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Estimate:
    """One `estimate` call on every configuration's runs (or the run files matching ``files``), at
    every ``stride``-th recorded epoch and the last; its wall time counts under ``stage``."""

    stage: str
    estimators: str
    files: str = ""
    stride: int = 1


@dataclass(frozen=True)
class Mode:
    """A ``run_all.sh`` mode: train the groups, run the estimates, then ``finish``: commands of
    ``python -m ib_keras`` with {summary} (the first group's summary directory), {summaries} (every
    group's), {table} (the MI table), {figures} and {timings} filled in; the one with {timings}
    runs last, after the stage times are written."""

    flag: str
    about: str
    groups: tuple[Group, ...]
    seeds: int
    out: str
    figures: str
    estimates: tuple[Estimate, ...]
    finish: tuple[str, ...]
    minutes_per_network: float  # measured on this 2-core machine, for the plan line
    summarize: bool = True  # each group's table reduced by `summarize` before finish
    group_dirs: bool = False  # each group in its own directory, out/<protocol>
    l2: float = 0.015
    noise_std: float | None = None
    record_points: int | None = None
    note: str = ""  # said on the plan line


@dataclass(frozen=True)
class Command:
    """A study's command of ``python -m ib_keras``: ``add_arguments(parser)`` declares its
    arguments, ``run(args)`` does it (a ValueError or OSError becomes one line and exit code 2)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], None]


@dataclass(frozen=True)
class Study:
    """A study: its folder ``ib_keras/studies/<name>``, shipped as ``results/<name>``; its commands
    are its folder's ``command.COMMANDS``."""

    name: str
    title: str
    modes: tuple[Mode, ...] = field(default=())


_PAPER_FINISH = ("plot {summary} --out {figures}", "report {summary} --out {figures}/REPORT.md --timings {timings}")
STUDIES = (
    Study("paper", "Chelombiev et al. (ICLR 2019): adaptive estimators on the synthetic task", (
        Mode("--quick", "the quick run (default): tanh, ReLU, ELU, swish, 3 seeds, 1500 epochs, L2 for tanh and ReLU, "
                        "every estimator, every figure and the report; the truth (noisy) at every 6th recorded epoch",
             (Group("chelombiev", ("tanh", "relu", "elu", "swish"), 1500, ("tanh", "relu")),), 3, "runs/quick", "figures",
             (Estimate("estimate", PAPER_ESTIMATORS), Estimate("truth", TRUTH_ESTIMATORS, "seed-*.h5", 6)),
             _PAPER_FINISH, 0.22, note="the truth (noisy) on every seed, every 6th recorded epoch"),
        # measured: 3.7 min for 18 networks on a fresh clone (train 54 s, estimate 57, truth 86, plot 24)
        Mode("--full", "the paper's protocol: 11 activations x 50 seeds x 8000 epochs, plus L2 (lambda 0.015) for tanh "
                       "and ReLU; the truth on seeds 0-9 at every 4th recorded epoch",
             (Group("chelombiev", ("tanh", "relu", "softsign", "softplus", "centered_softplus", "elu", "prelu", "swish",
                                   "abs", "leaky_relu", "sigmoid"), 8000, ("tanh", "relu")),), 50, "runs/paper",
             "figures", (Estimate("estimate", PAPER_ESTIMATORS), Estimate("truth", TRUTH_ESTIMATORS, "seed-00[0-9].h5", 4)),
             _PAPER_FINISH, 0.15, note="the truth (noisy) on seeds 0-9 of 50, every 4th recorded epoch"),
        # measured: 78 min for 650 networks (train 49, estimate 27, plot 1), the truth 21
    )),
    Study("baselines", "Shwartz-Ziv & Tishby (2017) and Saxe et al. (2018) under their own protocols", (
        Mode("--baselines", "the baselines under their own protocols: Shwartz-Ziv & Tishby tanh, Saxe et al. tanh and "
                            "ReLU, 50 seeds each; their claims in figures/baselines",
             (Group("shwartz-ziv", ("tanh",), 8000), Group("saxe", ("tanh", "relu"), 10000)), 50, "runs/baselines",
             "figures/baselines", (Estimate("estimate", PAPER_ESTIMATORS + ",kde:bound=lower"),),
             ("baselines {summaries} --out {figures} --timings {timings}",), 0.49, group_dirs=True),
        # measured: 73 min for 150 networks (train 26, estimate 47)
    )),
    Study("noisy", "Noisy networks (Goldfeld et al., ICML 2019): sample propagation beside the estimators", (
        # Goldfeld et al.'s set-up (ICML 2019, Section 6): s = 0.005, Adam 4e-4, batch 256 (the chelombiev
        # protocol's), 10000 epochs; 98 log-spaced points give 84 distinct recorded epochs.
        Mode("--noisy", "noisy networks (Goldfeld et al. 2019): tanh and ReLU, noise s = 0.005 after every hidden "
                        "layer, Adam 4e-4, batch 256, 10000 epochs, 84 recorded, 10 seeds each; sample propagation (sp) "
                        "at every 2nd recorded epoch beside the other estimators at every one; claims in figures/noisy",
             (Group("chelombiev", ("tanh", "relu"), 10000),), 10, "runs/noisy", "figures/noisy",
             (Estimate("estimate", "noisy:noise_variance=2.5e-05,kde:noise_variance=2.5e-05,fixed:bin_size=0.005,ebab"),
              Estimate("sp", "sp", stride=2),  # 0.75 s per layer-epoch: every 2nd recorded epoch and the last
              Estimate("sensitivity", "sp:replicas=256:marginal_replicas=16", "seed-000.h5", 12)),  # the replica bias
             ("noisy-report {table} --out {figures} --timings {timings}",), 3.0, summarize=False, noise_std=0.005,
             record_points=98),
        # estimated: training 10 networks x 10000 epochs took 9 min per activation
    )),
)
DEFAULT_MODE = "--quick"


def modes() -> dict[str, Mode]:
    """Every study's modes by flag."""
    return {mode.flag: mode for study in STUDIES for mode in study.modes}


def shell(mode: Mode) -> str:
    """``mode`` as bash assignments: groups as ``protocol|activations|l2 activations|epochs``,
    estimates as ``stage|files|estimators|stride``, finish commands one per array item."""
    def array(name: str, items: list[str]) -> str:
        return f"{name}=({' '.join(map(shlex.quote, items))})"

    values = {"seeds": mode.seeds, "out": mode.out, "figures": mode.figures, "l2": mode.l2,
              "minutes_per_network": mode.minutes_per_network, "summarize": "yes" if mode.summarize else "",
              "group_dirs": "yes" if mode.group_dirs else "", "noise_std": mode.noise_std or "",
              "record_points": mode.record_points or "", "note": mode.note}
    lines = [f"{name}={shlex.quote(str(value))}" for name, value in values.items()]
    lines.append(array("groups", [f"{g.protocol}|{' '.join(g.activations)}|{' '.join(g.l2_activations)}|{g.epochs}"
                                  for g in mode.groups]))
    lines.append(array("estimates", [f"{e.stage}|{e.files}|{e.estimators}|{e.stride}" for e in mode.estimates]))
    lines.append(array("finish", list(mode.finish)))
    return "\n".join(lines)


def usage() -> str:
    """The modes, for ``run_all.sh --help``."""
    return "\n".join(textwrap.fill(mode.about, 100, initial_indent=f"  {mode.flag:<12} ", subsequent_indent=" " * 15)
                     for mode in modes().values())


def main(argv: list[str]) -> int:
    """``--help``, or ``--shell MODE``; exit code 2 for an unknown mode."""
    if argv == ["--help"]:
        print(usage())
        return 0
    if len(argv) == 2 and argv[0] == "--shell" and argv[1] in modes():
        print(shell(modes()[argv[1]]))
        return 0
    print(f"unknown option '{argv[-1] if argv else ''}'; modes: {', '.join(modes())}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
