"""The reports' Markdown pieces: numbers, p-values starred by a false-discovery rule, tables, and
the manifest of what produced a result."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

ALPHA = 0.05  # the false discovery rate of the Benjamini-Hochberg correction behind a star


_SPECIAL = re.compile(r"([\\|<>`*\[\]])")  # what would end a table cell or start markup, HTML or a link
_LINE_BREAK = re.compile(r"[\r\n]+")


def escape(text: object) -> str:
    """``text`` (a name from a run's config or a table) safe inside a Markdown line or table cell:
    line breaks become spaces, and ``\\ | < > ` * [ ]`` are backslash-escaped."""
    return _SPECIAL.sub(r"\\\1", _LINE_BREAK.sub(" ", str(text)))


def escaped(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with the text of ``columns`` (those it has) passed through `escape`."""
    return frame.assign(**{column: frame[column].map(escape) for column in columns if column in frame})


def link(target: str | Path, report: str | Path) -> str:
    """The Markdown link target of the file ``target`` from the report file ``report``: relative to
    the report's directory, percent-encoded (spaces, parentheses...)."""
    relative = os.path.relpath(os.path.abspath(target), os.path.dirname(os.path.abspath(report)))
    return quote(Path(relative).as_posix())


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
    """What produced a summary (its manifest, `ib_keras.analysis.summary`) and each stage's wall time (s)."""
    seeds = "; ".join(f"{configuration_name(escape(entry['activation']), entry['l2'])}: {entry['seeds'][0]}-"
                      f"{entry['seeds'][-1]} ({len(entry['seeds'])})" for entry in manifest.get("seeds", []))
    lines = [title, "",
             f"- Runs: {manifest.get('runs')} networks; epochs {_listed(manifest.get('epochs'))}; "
             f"protocol {_listed(manifest.get('protocols'))}.",
             f"- Configuration hash (every run's config without seed and versions): `{escape(manifest.get('config_hash'))}`.",
             "- Versions: " + ", ".join(f"{escape(k)} {escape(v)}" for k, v in sorted(manifest.get("versions", {}).items()))
             + ".", f"- Seeds: {seeds}.",
             "- Estimators: " + "; ".join(f"{escape(e['estimator'])} {escape(e['params'])}"
                                          for e in manifest.get("estimators", [])) + "."]
    if timings:
        lines.append(f"- Wall time per stage: {stage_times(timings)}.")
    return "\n".join(lines)


def _listed(values: list | None) -> str:
    """A manifest's list as Python prints it, each item escaped: "[8000]", "['saxe']"."""
    return "None" if values is None else "[" + ", ".join(escape(repr(value)) for value in values) + "]"


def stage_times(timings: dict) -> str:
    """"train 120 s, estimate 60 s" from wall times per stage in seconds."""
    return ", ".join(f"{stage} {seconds:.0f} s" for stage, seconds in timings.items())


def report_file(out: str | Path) -> Path:
    """``out`` as a report's path; ValueError when it names a directory ("newdir/" does too)."""
    if str(out).endswith(("/", os.sep)) or Path(out).is_dir():
        raise ValueError(f"{out} is a directory; give the report's file name, e.g. {Path(out) / 'REPORT.md'}")
    return Path(out)


def finish_report(out: Path, parts: list[str], figures: list[tuple[str, str]], manifest: dict,
                  timings: dict | None) -> Path:
    """Write the report ``out`` (atomically): ``parts`` (Markdown lines), then a section per figure
    ((name, caption) of ``figures``, its PNG beside the report), the manifest and the wall time per
    stage; returns ``out``."""
    from ib_keras.system.atomic import atomic_path

    parts = [*parts, "## Figures", ""]
    for name, caption in figures:
        parts += [f"### {name}", "", caption, "", f"![{name}]({name}.png)", ""]
    parts += [manifest_section(manifest, {}), ""]
    if timings:
        parts.append(f"Wall time per stage: {stage_times(timings)}.")
    with atomic_path(out) as partial:
        partial.write_text("\n".join(parts).rstrip("\n") + "\n")
    return out
