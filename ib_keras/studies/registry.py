"""Every study, registered once: one line per study in `REGISTERED`.

A study is a folder ``ib_keras/studies/<name>/`` whose ``configurations.STUDY`` gives its
``run_all.sh`` modes and whose ``command.COMMANDS`` its commands. The command line
(`ib_keras.cli`) adds each registered study's commands, and ``run_all.sh`` reads the modes:
``python3 ib_keras/studies/registry.py --shell MODE`` prints one as shell variables, ``--help``
lists them. The registry and the configurations import only the standard library, so
``run_all.sh`` checks its options with the system's python3 before it builds the environment.
Adding a study: docs/contributing.md.
"""

from __future__ import annotations

import importlib
import shlex
import sys
import textwrap
from pathlib import Path

if __name__ == "__main__":  # run as a script by run_all.sh: the package from this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ib_keras.studies.study import Mode, Study  # noqa: E402 (after the path, when run as a script)

REGISTERED = (
    "paper",
    "baselines",
    "noisy",
    "mnist",
    "cnn",
    "quantized",
    "estimators",
)


def studies() -> list[Study]:
    """Every registered study, in `REGISTERED`'s order."""
    return [importlib.import_module(f"ib_keras.studies.{name}.configurations").STUDY for name in REGISTERED]


def modes() -> dict[str, Mode]:
    """Every study's modes by flag."""
    return {mode.flag: mode for study in studies() for mode in study.modes}


def shell(mode: Mode) -> str:
    """``mode`` as bash assignments: groups as ``protocol|activations|l2 activations|epochs|bits|seeds``
    (bits and seeds empty when not set), estimates as ``stage|files|estimators|stride|quantized``,
    finish commands one per array item."""
    def array(name: str, items: list[str]) -> str:
        return f"{name}=({' '.join(map(shlex.quote, items))})"

    values = {"seeds": mode.seeds, "out": mode.out, "figures": mode.figures, "l2": mode.l2,
              "minutes_per_network": mode.minutes_per_network, "summarize": "yes" if mode.summarize else "",
              "group_dirs": "yes" if mode.group_dirs else "", "noise_std": mode.noise_std or "",
              "record_points": mode.record_points or "", "note": mode.note}
    lines = [f"{name}={shlex.quote(str(value))}" for name, value in values.items()]
    lines.append(array("groups", [f"{g.protocol}|{' '.join(g.activations)}|{' '.join(g.l2_activations)}|{g.epochs}|"
                                  f"{g.quantize_bits or ''}|{g.seeds or ''}" for g in mode.groups]))
    lines.append(array("estimates", [f"{e.stage}|{e.files}|{e.estimators}|{e.stride}|{'yes' if e.quantized else ''}"
                                     for e in mode.estimates]))
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
