"""The CNN study's figures: the information planes of tanh and ReLU networks under the matrix-based
Renyi estimator on the training and the test images (every layer, the convolutions included), and
the same networks under EBAB and KDE. PNG only, as results/ ships them."""

from __future__ import annotations

from pathlib import Path

from ib_keras.plots.files import Output
from ib_keras.plots.planes import epoch_norm, plane_grid
from ib_keras.studies.baselines.claims import Baselines
from ib_keras.studies.baselines.figures import setting_plane
from ib_keras.studies.cnn.claims import ACTIVATIONS
from ib_keras.studies.cnn.configurations import PROTOCOL


def _title(b: Baselines, activation: str, setting: str) -> str:
    """A panel's title: "tanh: Renyi kNN, train, mean of n"."""
    row = b.row(PROTOCOL, activation, setting, 0)
    n = "" if row is None else f", mean of {int(row['n'])}"
    return f"{activation}: {b.label(setting)}{n}"


def _grid(b: Baselines, settings: tuple[str, ...], out: Output, name: str) -> list[Path]:
    norm = epoch_norm(int(b.summaries[PROTOCOL].planes["epoch"].max()))
    cells = [[(setting_plane(b, PROTOCOL, activation, setting), _title(b, activation, setting))
              for setting in settings] for activation in ACTIVATIONS]
    return plane_grid(norm, cells, out, name, (4.2 * len(settings), 7.5))


def fig_cnn_renyi(b: Baselines, out: Output) -> list[Path]:
    return _grid(b, ("renyi_train", "renyi_test", "renyi_alignment_train", "renyi_alignment_test"), out,
                 "fig_cnn_renyi")


def fig_cnn_estimators(b: Baselines, out: Output) -> list[Path]:
    return _grid(b, ("ebab_train", "ebab_test", "kde_train", "kde_test"), out, "fig_cnn_estimators")


FIGURES = [
    (fig_cnn_renyi, "The information plane under the matrix-based Renyi estimator (alpha 1.01), tanh (top) and "
                    "ReLU (bottom), on the 500 training and the 500 test images, with kNN and with label-aligned "
                    "kernel widths; seed means, each line a layer (layers 1-3 the convolutions, 4 the Dense "
                    "layer), colour the epoch."),
    (fig_cnn_estimators, "The same networks under EBAB and under KDE (s2 = 0.1, upper bound) on the flattened "
                         "activity, on the training and the test images; seed means."),
]


def make_cnn_figures(b: Baselines, out: str | Path) -> list[Path]:
    """Draw every figure of the CNN study into ``out`` (PNG); return the files. ValueError when
    ``b`` holds no wickstrom-cnn networks."""
    if PROTOCOL not in b.summaries:
        raise ValueError(f"the summary holds no {PROTOCOL} networks: give the summary of the CNN study's networks "
                         "(results/cnn/README.md)")
    Path(out).mkdir(parents=True, exist_ok=True)
    output = Output(Path(out), (".png",))
    return [path for figure, _ in FIGURES for path in figure(b, output)]
