"""Which outputs of a Keras model are its layers' representations T, as a user means them, and how
its output and loss are read: the probe both callbacks record through.

Layer l's representation is the output of a layer with a kernel (Dense, a convolution; or a layer
chosen by name) taken after everything that follows it alone and keeps one value per unit: its
activation given as an argument or as a separate layer (Activation, ReLU, Softmax, ...),
BatchNormalization or another normalisation, and the layers that do nothing at inference
(Dropout, Gaussian noise: inactive, as the activity is recorded with ``training=False``). The
model's output is recorded as class probabilities: a softmax output as it is, logits (a last
layer without softmax, under a loss with ``from_logits=True``) through a softmax. What cannot be
read so (a layer whose output feeds several layers, an output of another kind, a loss that is not
a categorical cross-entropy) is refused with a ValueError naming the layer, before anything is
written.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import keras

from ib_keras.networks.activations import LINEAR, OUTPUT_ACTIVATION
from ib_keras.networks.layers import ENSEMBLE_LAYERS, EnsembleNoise

# Layers that keep the representation of the layer before them and make it final: activations,
# normalisations, and layers inactive at inference.
_ACTIVATIONS = (keras.layers.Activation, keras.layers.ReLU, keras.layers.Softmax, keras.layers.LeakyReLU,
                keras.layers.ELU, keras.layers.PReLU)
_NORMALISATIONS = (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                   keras.layers.GroupNormalization, keras.layers.UnitNormalization)
_INACTIVE = (keras.layers.Dropout, keras.layers.SpatialDropout1D, keras.layers.SpatialDropout2D,
             keras.layers.SpatialDropout3D, keras.layers.GaussianNoise, keras.layers.GaussianDropout,
             keras.layers.AlphaDropout, keras.layers.ActivityRegularization, EnsembleNoise)
_NAMES = {keras.layers.ReLU: "relu", keras.layers.Softmax: OUTPUT_ACTIVATION, keras.layers.LeakyReLU: "leaky_relu",
          keras.layers.ELU: "elu", keras.layers.PReLU: "prelu"}
_NORMALISATION_NAMES = {keras.layers.BatchNormalization: "batch_normalization",
                        keras.layers.LayerNormalization: "layer_normalization",
                        keras.layers.GroupNormalization: "group_normalization",
                        keras.layers.UnitNormalization: "unit_normalization"}


def activation_name(layer) -> str:
    """The name of a layer's activation function ("linear" without one)."""
    activation = getattr(layer, "activation", LINEAR)
    return activation if isinstance(activation, str) else getattr(activation, "__name__", str(activation))


@dataclass
class Representation:
    """One recorded layer: ``layer`` the one chosen (with a kernel, or by name), ``output`` the
    tensor recorded (after its followers), ``activation`` what it comes after ("relu",
    "batch_normalization+relu", "linear"...), ``shape`` its output per input."""

    layer: keras.layers.Layer
    output: object
    activation: str
    shape: tuple[int, ...]

    @property
    def units(self) -> int:
        """Values per input: the product of ``shape``."""
        return math.prod(self.shape)


def _consumers(layer) -> list:
    return [node.operation for node in getattr(layer, "_outbound_nodes", [])]


def _follow(model: keras.Model, layer) -> Representation:
    """``layer``'s output taken through the layers that follow it alone and keep its units."""
    steps = [] if activation_name(layer) == LINEAR else [activation_name(layer)]
    current = layer
    while True:
        consumers = [c for c in _consumers(current) if c in model.layers]
        if len(consumers) != 1 or not isinstance(consumers[0], (*_ACTIVATIONS, *_NORMALISATIONS, *_INACTIVE)):
            if len(consumers) > 1 and any(isinstance(c, (*_ACTIVATIONS, *_NORMALISATIONS)) for c in consumers):
                raise ValueError(f"model {model.name}: the output of layer {current.name!r} feeds {len(consumers)} "
                                 f"layers ({', '.join(c.name for c in consumers)}), so its representation is not one "
                                 "tensor; give the recorder the layers to record by name (layers=[...])")
            break
        current = consumers[0]
        if isinstance(current, _ACTIVATIONS):
            steps.append(_NAMES.get(type(current)) or activation_name(current))
        elif isinstance(current, _NORMALISATIONS):
            steps.append(_NORMALISATION_NAMES[type(current)])
    return Representation(layer, current.output, "+".join(steps) or LINEAR,
                          tuple(int(n) for n in current.output.shape[1:]))


def representations(model: keras.Model, names: Sequence[str] | None = None) -> list[Representation]:
    """The layers to record, in the model's order: every layer with a kernel, or the layers
    ``names``; for an ensemble (`ib_keras.networks.models.build_ensemble`) the shape is per member.
    ValueError naming the layer for a name the model lacks or a layer that cannot be read."""
    ensemble = is_ensemble(model)
    if names is None:
        chosen = [layer for layer in model.layers if hasattr(layer, "kernel")]
        if not chosen:
            raise ValueError(f"model {model.name} has no layer with a kernel (Dense, a convolution) to record; name "
                             "the layers to record (layers=[...])")
    else:
        known = {layer.name: layer for layer in model.layers}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"model {model.name} has no layer {', '.join(map(repr, unknown))}; its layers: "
                             f"{', '.join(known)}")
        chosen = [known[name] for name in names]
    found = [_follow(model, layer) for layer in chosen]
    if ensemble:
        for representation in found:
            representation.shape = representation.shape[1:]  # (K, units): each member's units
    return found


def is_ensemble(model: keras.Model) -> bool:
    """Whether ``model`` holds K networks in ensemble layers (`EnsembleDense`, `EnsembleConv2D`:
    input (batch, K, features))."""
    return any(isinstance(layer, ENSEMBLE_LAYERS) for layer in model.layers)


def probe(model: keras.Model, names: Sequence[str] | None = None) -> tuple[list[Representation], keras.Model, bool]:
    """The representations to record, a model giving them (the output as probabilities) and
    whether the loss takes integer labels: what both callbacks read a model through."""
    found = representations(model, names)
    reading = read_output(model, found[-1])
    outputs = [representation.output for representation in found]
    if reading.logits:
        outputs[-1] = keras.ops.softmax(outputs[-1])
    return found, keras.Model(model.inputs, outputs), reading.sparse


@dataclass(frozen=True)
class OutputReading:
    """How the model's output and loss are read: ``logits`` the output is turned into probabilities
    by a softmax; ``sparse`` the loss takes integer labels, not one-hot rows."""

    logits: bool
    sparse: bool


def _loss_name_and_logits(loss) -> tuple[str, bool]:
    if isinstance(loss, str):
        return loss, False
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    name = getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__)
    return str(name), bool(config.get("from_logits", False))


def read_output(model: keras.Model, last: Representation) -> OutputReading:
    """How to read ``model``'s output, recorded as ``last`` (the last representation): ValueError
    unless ``last`` is the model's one output, of softmax probabilities or of logits under a
    cross-entropy with ``from_logits=True``, and the loss a categorical cross-entropy (one-hot or
    sparse labels)."""
    if len(model.outputs) != 1 or model.outputs[0] is not last.output:
        raise ValueError(f"model {model.name}: its output is not that of its last recorded layer {last.layer.name!r} "
                         "(after its activation); the recorder records the output as class probabilities: end the "
                         f"model in Dense(n_classes, activation='{OUTPUT_ACTIVATION}'), or in logits with a loss "
                         "given from_logits=True")
    if is_ensemble(model):  # build_ensemble's own: softmax outputs under its per-member cross-entropy
        return OutputReading(logits=False, sparse=False)
    loss = getattr(model, "loss", None)
    if loss is None or isinstance(loss, (list, tuple, dict)):
        raise ValueError(f"model {model.name}: compile it with one categorical cross-entropy loss before training "
                         f"(got {loss!r})")
    name, from_logits = _loss_name_and_logits(loss)
    if "categorical_crossentropy" not in name:
        raise ValueError(f"model {model.name}: loss {name!r}; the recorder reads the output as class probabilities "
                         "under a categorical cross-entropy (categorical_crossentropy, or "
                         "sparse_categorical_crossentropy for integer labels)")
    final = last.activation.split("+")[-1]
    if from_logits and final == OUTPUT_ACTIVATION:
        raise ValueError(f"model {model.name}: layer {last.layer.name!r} ends in softmax but the loss has "
                         "from_logits=True, so it takes probabilities for logits; drop one of the two")
    if not from_logits and final != OUTPUT_ACTIVATION:
        raise ValueError(f"model {model.name}: layer {last.layer.name!r} gives {last.activation} values, not "
                         f"probabilities; end it in activation='{OUTPUT_ACTIVATION}', or compile with a loss given "
                         "from_logits=True to record its logits as probabilities")
    return OutputReading(logits=from_logits, sparse=name.startswith("sparse"))
