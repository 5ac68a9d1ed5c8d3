"""A training checkpoint's file, read without TensorFlow: what `TrainingCheckpoint` saves (the
epoch, the configs it belongs to, every model and optimizer variable), so that a plan can say
before TensorFlow starts whether a checkpoint resumes."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def checkpoint_identity(configs: Sequence[dict]) -> str:
    """What a checkpoint belongs to, as stored: the networks' configs in order, as JSON."""
    return json.dumps(list(configs), sort_keys=True)


def read_checkpoint(path: str | Path) -> dict | None:
    """The checkpoint at ``path`` read whole, every array decompressed and checked (a damaged one
    fails here, not half-way through a restore): {"epoch", "identity", "variables", "optimizer"};
    None when there is none or it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            count = lambda prefix: sum(name.startswith(prefix) for name in saved.files)  # noqa: E731
            return {"epoch": int(saved["epoch"]), "identity": str(saved["identity"]),
                    "variables": [saved[f"v{i}"] for i in range(count("v"))],
                    "optimizer": [saved[f"o{i}"] for i in range(count("o"))]}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, MemoryError):  # none, or damaged on disk
        return None
