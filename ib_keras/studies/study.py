"""What a study is, as its folder declares it: its ``run_all.sh`` modes (the groups of networks to
train, the estimates, the commands that finish it) and its commands of ``python -m ib_keras``.
Standard library only: ``run_all.sh`` reads the studies with the system's python3."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Group:
    """One sweep: ``activations`` trained under ``protocol`` for ``epochs``, and
    ``l2_activations`` again with the mode's L2 penalty; ``quantize_bits`` trains quantized
    networks (in out/<protocol>-<bits>bit when the mode has group directories), ``seeds`` replaces
    the mode's number of networks per configuration."""

    protocol: str
    activations: tuple[str, ...]
    epochs: int
    l2_activations: tuple[str, ...] = ()
    quantize_bits: int | None = None
    seeds: int | None = None


@dataclass(frozen=True)
class Estimate:
    """One `estimate` call on every configuration's runs (or the run files matching ``files``), at
    every ``stride``-th recorded epoch and the last; its wall time counts under ``stage``;
    ``quantized`` only on the groups of quantized networks."""

    stage: str
    estimators: str
    files: str = ""
    stride: int = 1
    quantized: bool = False


@dataclass(frozen=True)
class Mode:
    """A ``run_all.sh`` mode: train the groups, run the estimates, then ``finish``: commands of
    ``python -m ib_keras`` with {summary} (the first group's summary directory), {summaries} (every
    group's), {tables} (every group's MI table), {table} (the MI table), {figures} and {timings}
    filled in; the one with {timings} runs last, after the stage times are written."""

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
    group_dirs: bool = False  # each group in its own directory, out/<protocol> (out/<protocol>-<bits>bit)
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
    """A study: its folder ``ib_keras/studies/<name>``, shipped as ``results/<name>``, declared by
    its ``configurations.STUDY``; its commands are its folder's ``command.COMMANDS``."""

    name: str
    title: str
    modes: tuple[Mode, ...] = field(default=())
