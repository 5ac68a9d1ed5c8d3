"""Figures saved to files: PNG (a 256-colour palette, at most PNG_PIXELS on the long side, so a
bundle's figures stay under 1 MB) and PDF, and the Agg backend for processes that only draw to files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from PIL import Image

PNG_PIXELS = 2400  # the long side of a PNG at most: the big grids stay under 1 MB


@dataclass(frozen=True)
class Output:
    """Where figures go and in which formats."""

    directory: Path
    suffixes: tuple[str, ...] = (".png", ".pdf")


def save_figure(fig: plt.Figure, out: Output, name: str) -> list[Path]:
    """Save ``fig`` as ``name`` in each of ``out``'s formats and close it. The layout (constrained
    layout: most of a grid's drawing time) is computed for the first format and kept for the others."""
    paths = [out.directory / f"{name}{suffix}" for suffix in out.suffixes]
    for path in paths:
        if path.suffix == ".png":
            _save_png(fig, path)
        else:
            fig.savefig(path)
        fig.set_layout_engine("none")
    plt.close(fig)
    return paths


def _save_png(fig: plt.Figure, path: Path) -> None:
    """150 dpi, or less so that the long side stays within PNG_PIXELS, in a 256-colour palette:
    a plane grid of thousands of translucent markers is then a few hundred kB, not a few MB."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=min(150, PNG_PIXELS / max(fig.get_size_inches())))
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def files_only() -> None:
    """Draw with the Agg backend: figures go to files, no display is needed or opened (the command
    line's choice, and every drawing worker's set-up)."""
    import matplotlib

    matplotlib.use("Agg")
