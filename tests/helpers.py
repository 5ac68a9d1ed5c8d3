"""Helpers shared by the test modules: running the command line, listing written files."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT, **kwargs):
    """``python -m ib_keras ARGS`` in a fresh process; the CompletedProcess, output as text."""
    return subprocess.run([sys.executable, "-m", "ib_keras", *args], capture_output=True, text=True, cwd=cwd, **kwargs)


def files(directory):
    """Every file under ``directory``, sorted; [] if it does not exist."""
    return sorted(p for p in Path(directory).rglob("*") if p.is_file()) if Path(directory).exists() else []
