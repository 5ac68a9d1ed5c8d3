"""The MNIST study's figures: Saxe et al.'s Figure 1 C-D (tanh beside ReLU, KDE upper bound at
s2 = 0.1), the same networks under every setting of the study, and their SNR figure (Figs. 9-10,
row 4). PNG only, as results/ ships them."""

from __future__ import annotations

from pathlib import Path

from ib_keras.plots.files import Output
from ib_keras.plots.planes import epoch_norm, plane_grid
from ib_keras.studies.baselines.claims import Baselines
from ib_keras.studies.baselines.figures import setting_plane, setting_title
from ib_keras.studies.mnist.claims import PROTOCOL
from ib_keras.studies.paper.extension_figures import fig_snr
from ib_keras.studies.paper.figure_data import FigureData

PANELS = (("C", "tanh"), ("D", "relu"))  # their Figure 1's panels


def _cell(b: Baselines, activation: str, setting: str, panel: str = "") -> tuple:
    """The seed-mean plane of one activation under one setting, and its title."""
    title = setting_title(b, PROTOCOL, activation, setting)
    return setting_plane(b, PROTOCOL, activation, setting), f"{panel}: {title}" if panel else title


def _norm(b: Baselines):
    return epoch_norm(int(b.summaries[PROTOCOL].planes["epoch"].max()))


def fig_mnist_planes(b: Baselines, out: Output) -> list[Path]:
    cells = [[_cell(b, activation, "kde_upper", panel) for panel, activation in PANELS]]
    return plane_grid(_norm(b), cells, out, "fig_mnist_planes", (10, 4.4))


def fig_mnist_settings(b: Baselines, out: Output) -> list[Path]:
    cells = [[_cell(b, activation, setting) for setting in b.settings] for _, activation in PANELS]
    return plane_grid(_norm(b), cells, out, "fig_mnist_settings", (4 * len(b.settings), 7.5))


def fig_mnist_snr(b: Baselines, out: Output) -> list[Path]:
    return fig_snr(FigureData(b.summaries[PROTOCOL]), out, "fig_mnist_snr")


FIGURES = [
    (fig_mnist_planes, "Saxe et al.'s Figure 1 C-D: the information plane of tanh (C) and ReLU (D) networks "
                       "under the KDE upper bound at s2 = 0.1 on the 10,000 test images, seed means; each line a "
                       "layer, colour the epoch."),
    (fig_mnist_settings, "The same networks under every setting of the study (columns), tanh (top) and ReLU "
                         "(bottom), seed means."),
    (fig_mnist_snr, "Saxe et al.'s SNR rows (Figs. 9-10, row 4): per layer, the norms of the kernel gradients' "
                    "mean and standard deviation over one pass of minibatches and their ratio, seed means."),
]


def make_mnist_figures(b: Baselines, out: str | Path) -> list[Path]:
    """Draw every figure of the MNIST study into ``out`` (PNG); return the files. ValueError
    when ``b`` holds no saxe-mnist networks."""
    if PROTOCOL not in b.summaries:
        raise ValueError(f"the summary holds no {PROTOCOL} networks: give the summary of `./run_all.sh --mnist`")
    Path(out).mkdir(parents=True, exist_ok=True)
    output = Output(Path(out), (".png",))
    return [path for figure, _ in FIGURES for path in figure(b, output)]
