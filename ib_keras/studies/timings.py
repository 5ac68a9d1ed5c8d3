"""The wall time of each stage of a study's run, as ``run_all.sh`` writes it (``--timings``), for the
reports' manifests."""

from __future__ import annotations

import json
from pathlib import Path


def read_timings(path: str | None) -> dict:
    """The wall times per stage (s) of a --timings file; {} without one. ValueError naming the file
    when it is not a JSON object of numbers."""
    if not path:
        return {}
    try:
        timings = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable JSON file of timings ({error})") from error
    if not isinstance(timings, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in timings.values()):
        raise ValueError(f"{path}: not a JSON object of wall times per stage in seconds, such as "
                         '{"train": 120, "estimate": 60}')
    return timings
