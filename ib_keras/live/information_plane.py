"""InformationPlaneLogger: each layer's I(X;T) and I(T;Y) written to TensorBoard while a network trains."""

from __future__ import annotations

import io
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from matplotlib.figure import Figure
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ib_keras.estimate import RUN_MAX, RUN_MIN, EstimatorSpec, layer_information, layer_params, parse_estimators
from ib_keras.estimate.estimators import NETWORK_METHODS
from ib_keras.networks.activations import OUTPUT_ACTIVATION
from ib_keras.plots.layer_paths import LEGEND_TITLE, draw_layer_paths, saturation_notes, time_legend
from ib_keras.runfile import layer_name, model_layer_name
from ib_keras.train.callbacks.representations import is_ensemble, probe
from ib_keras.train.fit import model_members

PLANE_TAG = "information plane"
IMAGE_EVERY = 16  # recorded epochs between two plane images (and one at the end)
IMAGE_NETWORKS = 4  # the first networks of a model that get images (each image costs ~0.1 s)


def scalar_tag(quantity: str, layer: int, last: int) -> str:
    """The TensorBoard tag of one layer's quantity, "I(X;T)/layer 1" or "I(T;Y)/softmax": one
    section per quantity, one chart per layer, the members of an ensemble as runs on each chart."""
    return f"{quantity}/{layer_name(layer, last)}"


def live_request(spec: EstimatorSpec, activations: Sequence[str]) -> list[tuple[str, dict]]:
    """(method, params) of ``spec`` for each layer of a network whose recorded layers end in
    ``activations``, as the estimate stage resolves them (`ib_keras.estimate.layer_params`);
    ValueError for a parameter that needs the whole run (uniform's default range for an unbounded
    activation spans the run's activity, unknown while it trains), and for ``sp``, which needs the
    network's parameters rather than one layer's activity."""
    if spec.method in NETWORK_METHODS:
        raise ValueError(f"{spec}: sp propagates noise through the network's recorded parameters, after training; "
                         "watch a layer estimator live (ebab, akde, noisy) and estimate sp afterwards")
    requests = [(spec.method, layer_params(spec.method, spec.params_for(), activations, layer))
                for layer in range(len(activations))]
    for (_, params), activation in zip(requests, activations):
        whole_run = [name for name, value in params.items() if value in (RUN_MIN, RUN_MAX)]
        if whole_run:
            raise ValueError(f"{spec} for a {activation} layer: {' and '.join(whole_run)} span the whole run's "
                             f"activity, unknown while it trains; give them (e.g. '{spec.method}:lo=0:hi=10') or "
                             "use ebab or akde")
    return requests


class InformationPlaneLogger(keras.callbacks.Callback):
    """At the recorded epochs, estimates every Dense layer's I(X;T) and I(T;Y) (bits) on all inputs
    and writes them to TensorBoard as scalars (`scalar_tag`, step = epoch), with the information
    plane so far as an image every ``image_every`` recorded epochs and at the end of training, for
    the first ``image_networks`` networks.

    Epoch 0 is the initialisation (in ``on_train_begin``), epoch e the state after e epochs, as
    `ActivationRecorder` counts. Works on a plain Keras model (input (batch, features), one
    TensorBoard run in ``log_dir/run_names[0]``) and on an ensemble from
    `ib_keras.networks.models.build_ensemble` (input (batch, K, features), one run per member), beside an
    `ActivationRecorder` or without one. The estimator sees the layers' float32 activity exactly as
    the recorder stores it, so ``estimate`` on the recorder's files gives the same numbers.

    Args:
        log_dir: TensorBoard's ``--logdir``.
        x: (N, features) inputs (all of them: X is uniform over these N).
        y: (N,) integer labels.
        epochs: the epochs to estimate at.
        estimator: one setting as ``estimate --estimators`` takes it: "akde" (the default, as
            `ib_keras.estimate.default_estimator` chooses for a user's model), "ebab" (the paper's,
            on its task), "akde:variance_scale=0.01"...; the values an activation sets (EBAB's lowest
            edge, ...) resolved per layer from the layer's own, as the estimate stage resolves them.
        run_names: one TensorBoard run name per network (default "network", or "member-NNN").
        image_every: recorded epochs between plane images.
        image_networks: how many networks, the first ones, get plane images (all get scalars).

    Example:

    ```python
    logger = InformationPlaneLogger("runs/tb", x, y, epochs=[0, 1, 2, 5, 10, 20, 50, 100])
    model.fit(x[train_idx], y_onehot[train_idx], epochs=100, callbacks=[logger])
    # tensorboard --logdir runs/tb
    ```
    """

    def __init__(
        self,
        log_dir: str | Path,
        x: np.ndarray,
        y: np.ndarray,
        epochs: Sequence[int],
        estimator: str = "akde",
        run_names: Sequence[str] | None = None,
        image_every: int = IMAGE_EVERY,
        image_networks: int = IMAGE_NETWORKS,
    ):
        super().__init__()
        self.log_dir = Path(log_dir)
        self.x = np.asarray(x, dtype=np.float32)
        self.y = np.asarray(y, dtype=np.int64)
        self.epochs = frozenset(int(e) for e in epochs)
        specs = parse_estimators(estimator)
        if len(specs) != 1:
            raise ValueError(f"InformationPlaneLogger takes one estimator setting, got {len(specs)}: {estimator!r}")
        self.spec: EstimatorSpec = specs[0]
        self.run_names = list(run_names) if run_names is not None else None
        self.image_every = int(image_every)
        self.image_networks = int(image_networks)
        if self.x.ndim < 2 or self.y.shape != (len(self.x),):
            raise ValueError(f"x must be (N, features) or (N, H, W, C) and y (N,), got {self.x.shape} and "
                             f"{self.y.shape}")
        if self.image_every < 1:
            raise ValueError(f"image_every must be at least 1, got {image_every}")

    def on_train_begin(self, logs=None):
        members = model_members(self.model)
        names = self.run_names or (["network"] if members == 1 else [f"member-{k:03d}" for k in range(members)])
        self._run_names = names
        if len(names) != members:
            raise ValueError(f"model has {members} networks but {len(names)} run names were given")
        found, reader, _ = probe(self.model)
        self._last = len(found) - 1
        self._names = {i: model_layer_name(r.name, i, self._last) for i, r in enumerate(found)}
        # the output as class probabilities, as the recorder stores it
        self._requests = live_request(self.spec, [r.activation for r in found[:-1]] + [OUTPUT_ACTIVATION])
        self._activity_of = tf.function(reader)
        inputs = np.repeat(self.x[:, None, :], members, axis=1) if is_ensemble(self.model) else self.x
        self._inputs = tf.constant(inputs)
        # TensorBoard's own event writer with hand-built summaries: tf.summary costs 0.6 ms per
        # scalar in eager mode, as much as the estimates themselves; this, 0.1 ms per event
        self._writers = [EventFileWriter(str(self.log_dir / name)) for name in names]
        self._history: list[list[tuple[int, int, float, float]]] = [[] for _ in names]
        self._since_image = 0
        if 0 in self.epochs:
            self._log(0)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 in self.epochs:
            self._log(epoch + 1)

    def on_train_end(self, logs=None):
        if self._since_image:
            self._images(max(epoch for epoch, *_ in self._history[0]))
        for writer in self._writers:
            writer.close()
        for name, history in zip(self._run_names, self._history):  # what the estimator could not show, said once
            plane = pd.DataFrame(history, columns=["epoch", "layer", "i_xt", "i_ty"])
            for note in saturation_notes(plane, self._names, len(self.x)):
                print(f"InformationPlaneLogger, {name}, {self.spec}: {note}; this estimator shows nothing there: see "
                      "docs/estimators.md, \"Which estimator\"")

    def _log(self, epoch: int) -> None:
        members = len(self._writers)
        # (K, N, units), each member's rows contiguous (the binning runs twice as fast on them), a
        # convolution's output flattened per input as the recorder stores it
        activity = [np.ascontiguousarray(np.moveaxis(np.asarray(a).reshape(len(self.x), members, -1), 1, 0))
                    for a in self._activity_of(self._inputs)]
        for k, writer in enumerate(self._writers):
            values = []
            for layer, layer_activity in enumerate(activity):
                i_xt, i_ty = map(float, layer_information(layer_activity[k], self.y, [self._requests[layer]])[0])
                values += [Summary.Value(tag=scalar_tag("I(X;T)", layer, self._last), simple_value=i_xt),
                           Summary.Value(tag=scalar_tag("I(T;Y)", layer, self._last), simple_value=i_ty)]
                self._history[k].append((epoch, layer, i_xt, i_ty))
            writer.add_event(Event(wall_time=time.time(), step=epoch, summary=Summary(value=values)))
            writer.flush()
        self._since_image += 1
        if self._since_image >= self.image_every:
            self._images(epoch)

    def _images(self, epoch: int) -> None:
        """Each network's plane so far, as a PNG image at step ``epoch``."""
        self._since_image = 0
        for history, writer in zip(self._history[: self.image_networks], self._writers):
            plane = pd.DataFrame(history, columns=["epoch", "layer", "i_xt", "i_ty"])
            png, height, width = plane_image(plane, str(self.spec), self._names,
                                             saturation_notes(plane, self._names, len(self.x)))
            image = Summary.Image(encoded_image_string=png, height=height, width=width, colorspace=4)
            writer.add_event(Event(wall_time=time.time(), step=epoch, summary=Summary(
                value=[Summary.Value(tag=PLANE_TAG, image=image)])))
            writer.flush()


def plane_image(plane: pd.DataFrame, estimator: str, names: dict[int, str],
                notes: Sequence[str] = ()) -> tuple[bytes, int, int]:
    """The information plane of rows (epoch, layer, i_xt, i_ty) as `ib_keras.plots.layer_paths`
    draws it (each layer one colour along its path, named ``names[layer]``, the markers growing
    with the epoch, epoch 0 hollow), as (RGBA PNG bytes, height, width): 640 x 480 pixels, a size
    TensorBoard's image card shows whole, with the layers' legend beside the plane and ``notes``
    (what the estimator cannot show: `saturation_notes`) under it."""
    # A bare Figure, not pyplot: no backend is chosen (a notebook keeps its own); a fixed layout,
    # as a computed one doubles the cost
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.1, right=0.7, bottom=0.11, top=0.93)
    draw_layer_paths(ax, plane, names)
    ax.set_xlim(0, 1.05 * max(plane["i_xt"].max(), 0.1))
    ax.set_ylim(0, 1.05 * max(plane["i_ty"].max(), 0.1))
    ax.set_title(f"{estimator}, epochs {int(plane['epoch'].min())}-{int(plane['epoch'].max())}", fontsize=10)
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *time_legend(int(plane["epoch"].min()),
                                                                        int(plane["epoch"].max()))],
              loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, title=LEGEND_TITLE, title_fontsize=8,
              borderaxespad=0)
    if notes:
        fig.text(0.72, 0.11, "\n".join(textwrap.fill(note, 28) for note in notes), fontsize=7, va="bottom")
    buffer = io.BytesIO()
    dpi = 100
    fig.savefig(buffer, format="png", dpi=dpi)
    width, height = (round(inches * dpi) for inches in fig.get_size_inches())
    return buffer.getvalue(), height, width