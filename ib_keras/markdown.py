"""The reports' Markdown pieces: numbers, p-values starred by a false-discovery rule, tables, and
the manifest of what produced a result."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

ALPHA = 0.05  # the false discovery rate of the Benjamini-Hochberg correction behind a star


def number(value: float, digits: int = 2) -> str:
    """``value`` to ``digits`` decimals, or "n/a" when missing or not finite."""
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def p_value(value: float, q: float = np.nan) -> str:
    """A p-value, starred when it survives the report's Benjamini-Hochberg correction (q < ALPHA)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.2g}{'*' if np.isfinite(q) and q < ALPHA else ''}"


def table(frame: pd.DataFrame) -> str:
    """A Markdown table of ``frame``'s columns and rows, values as they print."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def configuration_name(activation: str, l2: float) -> str:
    """"tanh", or "tanh L2 0.015" for a regularised configuration."""
    return activation if l2 == 0 else f"{activation} L2 {l2:g}"


def manifest_section(manifest: dict, timings: dict, title: str = "## Manifest") -> str:
    """What produced a summary (its manifest, `ib_keras.summary`) and each stage's wall time (s)."""
    seeds = "; ".join(f"{configuration_name(entry['activation'], entry['l2'])}: {entry['seeds'][0]}-{entry['seeds'][-1]} "
                      f"({len(entry['seeds'])})" for entry in manifest.get("seeds", []))
    lines = [title, "",
             f"- Runs: {manifest.get('runs')} networks; epochs {manifest.get('epochs')}; "
             f"protocol {manifest.get('protocols')}.",
             f"- Configuration hash (every run's config without seed and versions): `{manifest.get('config_hash')}`.",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(manifest.get("versions", {}).items())) + ".",
             f"- Seeds: {seeds}.",
             "- Estimators: " + "; ".join(f"{e['estimator']} {e['params']}" for e in manifest.get("estimators", [])) + "."]
    if timings:
        lines.append(f"- Wall time per stage: {stage_times(timings)}.")
    return "\n".join(lines)


def stage_times(timings: dict) -> str:
    """"train 120 s, estimate 60 s" from wall times per stage in seconds."""
    return ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in timings.items())


def report_file(out: str | Path) -> Path:
    """``out`` as a report's path; ValueError when it names a directory ("newdir/" does too)."""
    if str(out).endswith(("/", os.sep)) or Path(out).is_dir():
        raise ValueError(f"{out} is a directory; give the report's file name, e.g. {Path(out) / 'REPORT.md'}")
    return Path(out)
