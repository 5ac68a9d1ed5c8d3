"""Which outputs of a Keras model are its layers' representations T, as a user means them, and how
its output and loss are read: the probe both callbacks record through.

Layer l's representation is the output of a layer with weights of its own (Dense, a convolution,
an LSTM, an embedding; or a layer chosen by name), at each application of it in the model's graph,
taken after everything that follows it alone and keeps one value per unit: its
activation given as an argument or as a separate layer (Activation, ReLU, Softmax, ...),
BatchNormalization or another normalisation, and the layers that do nothing at inference
(Dropout, Gaussian noise: inactive, as the activity is recorded with ``training=False``). The
model's output is recorded as class probabilities: a softmax output as it is, logits (a last
layer without softmax, under a loss with ``from_logits=True``) through a softmax. What cannot be
read so (a layer whose output feeds several layers, an output of another kind, a loss that is not
a categorical cross-entropy, a nested model not named, a subclassed or multi-input model) is
refused with a ValueError naming the layer, before anything is written. The weights whose norms
and gradients are kept (`kernels_of`) and whether the kernels and biases give the activity
(`dense_chain`) are read here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras

from ib_keras.networks.activations import LINEAR, OUTPUT_ACTIVATION
from ib_keras.networks.layers import ENSEMBLE_LAYERS, EnsembleDense, EnsembleNoise

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
    """One recorded application of a layer: ``layer`` the one chosen (with weights, or by name),
    ``output`` the tensor recorded (after its followers), ``activation`` what it comes after
    ("relu", "batch_normalization+relu", "linear"...), ``shape`` its output per input, ``name``
    the layer's name, with "#k" for its k-th application when the model applies it more than once."""

    layer: keras.layers.Layer
    output: object
    activation: str
    shape: tuple[int, ...]
    name: str

    @property
    def units(self) -> int:
        """Values per input: the product of ``shape``."""
        return math.prod(self.shape)


def _graph(model: keras.Model):
    """The functional graph of ``model`` (a Sequential's inner one); ValueError for a model that
    has none the recorder can read: a subclassed model, a model of several inputs."""
    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    if getattr(graph, "_nodes_by_depth", None) is None:  # Keras' functional graph (keras.Model(inputs, outputs))
        raise ValueError(f"model {model.name}: a subclassed keras.Model (or one not yet built) has no graph of layers "
                         "whose outputs the recorder can read; build it with keras.Sequential([keras.Input(...), ...]) "
                         "or the functional API (keras.Model(inputs, outputs))")
    if len(graph.inputs) != 1:
        raise ValueError(f"model {model.name} takes {len(graph.inputs)} inputs; the recorder records models of one input "
                         "(the N inputs x it is given): concatenate them into one input layer")
    return graph


def _nodes(graph) -> set[int]:
    return {id(node) for nodes in graph._nodes_by_depth.values() for node in nodes}


def _consumers(tensor, nodes: set[int]) -> list:
    """The nodes of the graph that take ``tensor`` as an input."""
    operation = tensor._keras_history.operation
    return [node for node in operation._outbound_nodes
            if id(node) in nodes and any(t is tensor for t in node.input_tensors)]


def _follow(model: keras.Model, layer, node, name: str, nodes: set[int]) -> Representation:
    """The output of ``layer``'s application ``node`` taken through the layers that follow it
    alone and keep its units."""
    if len(node.output_tensors) != 1:
        raise ValueError(f"model {model.name}: layer {name!r} gives {len(node.output_tensors)} outputs (such as an "
                         "LSTM with return_state=True); the recorder records one tensor per layer: name the layers "
                         "that take them (layers=[...])")
    steps = [] if activation_name(layer) == LINEAR else [activation_name(layer)]
    tensor = node.output_tensors[0]
    while True:
        consumers = _consumers(tensor, nodes)
        if len(consumers) != 1 or not isinstance(consumers[0].operation, (*_ACTIVATIONS, *_NORMALISATIONS, *_INACTIVE)):
            if len(consumers) > 1 and any(isinstance(c.operation, (*_ACTIVATIONS, *_NORMALISATIONS)) for c in consumers):
                raise ValueError(f"model {model.name}: the output of layer {tensor._keras_history.operation.name!r} "
                                 f"feeds {len(consumers)} layers ({', '.join(c.operation.name for c in consumers)}), "
                                 "so its representation is not one tensor; give the recorder the layers to record by "
                                 "name (layers=[...])")
            break
        follower = consumers[0].operation
        tensor = consumers[0].output_tensors[0]
        if isinstance(follower, _ACTIVATIONS):
            steps.append(_NAMES.get(type(follower)) or activation_name(follower))
        elif isinstance(follower, _NORMALISATIONS):
            steps.append(_NORMALISATION_NAMES[type(follower)])
    return Representation(layer, tensor, "+".join(steps) or LINEAR, tuple(int(n) for n in tensor.shape[1:]), name)


def _transforms(layer) -> bool:
    """Whether ``layer`` is recorded by default: it has weights of its own (a kernel, a
    convolution's, an LSTM's, an embedding's) and is not an activation, a normalisation or a
    layer inactive at inference, which the layer before it is recorded through."""
    return bool(layer.weights) and not isinstance(layer, (*_ACTIVATIONS, *_NORMALISATIONS, *_INACTIVE))


def _applications(layer, nodes: set[int]) -> list[tuple[str, object]]:
    """(name, node) of every application of ``layer`` in the model's graph, in order: the layer's
    name, with "#k" for the k-th when there are several."""
    applied = [node for node in layer._inbound_nodes if id(node) in nodes]
    return [(layer.name if len(applied) == 1 else f"{layer.name}#{k}", node) for k, node in enumerate(applied, 1)]


def representations(model: keras.Model, names: Sequence[str] | None = None) -> list[Representation]:
    """The layers to record, in the model's order, each at every application of it: every layer
    with weights of its own (`_transforms`), or the layers ``names`` (a layer's name records its
    every application, "name#k" its k-th alone); for an ensemble
    (`ib_keras.networks.models.build_ensemble`) the shape is per member. ValueError naming the
    layer for a name the model lacks, a layer that cannot be read, or a nested model holding
    layers with weights (not named: the recorder does not reach inside it)."""
    graph = _graph(model)
    nodes = _nodes(graph)
    ensemble = is_ensemble(model)
    applications = {layer.name: _applications(layer, nodes) for layer in model.layers}
    if names is None:
        nested = [layer for layer in model.layers if isinstance(layer, keras.Model) and layer.weights]
        if nested:
            inner = ", ".join(sub.name for sub in nested[0].layers if sub.weights)
            raise ValueError(f"model {model.name}: layer {nested[0].name!r} is a nested model whose layers ({inner}) "
                             "the recorder does not reach inside; record its output by naming it among the layers to "
                             f"record (layers=[{nested[0].name!r}, ...]), or build the model with its layers in one "
                             "graph")
        chosen = [(layer, name, node) for layer in model.layers if _transforms(layer)
                  for name, node in applications[layer.name]]
        if not chosen:
            raise ValueError(f"model {model.name} has no layer with weights (Dense, a convolution, an LSTM...) to "
                             "record; name the layers to record (layers=[...])")
    else:
        known = {name: (layer, name, node) for layer in model.layers for name, node in applications[layer.name]}
        chosen = []
        for name in names:
            if applications.get(name):  # a layer: every application of it
                chosen += [known[application] for application, _ in applications[name]]
            elif name in known:  # "name#k": that application alone
                chosen.append(known[name])
            else:
                raise ValueError(f"model {model.name} has no layer {name!r}; its layers: "
                                 f"{', '.join(n for layer in model.layers for n, _ in applications[layer.name])}")
    found = [_follow(model, layer, node, name, nodes) for layer, name, node in chosen]
    if ensemble:
        for representation in found:
            representation.shape = representation.shape[1:]  # (K, units): each member's units
    return found


def is_ensemble(model: keras.Model) -> bool:
    """Whether ``model`` holds K networks in ensemble layers (`EnsembleDense`, `EnsembleConv2D`:
    input (batch, K, features))."""
    return any(isinstance(layer, ENSEMBLE_LAYERS) for layer in model.layers)


def reader(model: keras.Model, outputs: Sequence) -> Callable:
    """A function of a batch of ``model``'s inputs giving the list of ``outputs`` (tensors of its
    graph) at inference (``training=False``), a list even of one."""
    reading = keras.Model(model.inputs, list(outputs))

    def read(inputs):
        values = reading(inputs, training=False)
        return list(values) if isinstance(values, (list, tuple)) else [values]

    return read


def probe(model: keras.Model, names: Sequence[str] | None = None) -> tuple[list[Representation], Callable, bool]:
    """The representations to record, a function of a batch of inputs giving them (the output as
    probabilities; `reader`) and whether the loss takes integer labels: what both callbacks read a
    model through."""
    found = representations(model, names)
    reading = read_output(model, found[-1])
    outputs = [representation.output for representation in found]
    if reading.logits:
        outputs[-1] = keras.ops.softmax(outputs[-1])
    return found, reader(model, outputs), reading.sparse


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


def kernels_of(layer) -> list:
    """The weights of ``layer`` whose norms and gradients the recorder keeps: its ``kernel``, or
    for a layer without one its trainable weights of two or more dimensions (an LSTM's kernel and
    recurrent kernel, a separable convolution's depthwise and pointwise kernels, an embedding);
    none for a layer without weights (pooling, Flatten)."""
    if hasattr(layer, "kernel"):
        return [layer.kernel]
    return [weight for weight in layer.trainable_weights if len(weight.shape) >= 2]


def dense_chain(model: keras.Model) -> bool:
    """Whether ``model`` is a chain of Dense layers, with `EnsembleNoise` between them: one input,
    one output, and no layer that takes several inputs or that ``sp`` does not model (a separate
    activation, BatchNormalization, Dropout...), so that the kernels and biases alone give the
    activity."""
    chain = (keras.layers.InputLayer, keras.layers.Dense, EnsembleDense, EnsembleNoise)
    return len(model.inputs) == 1 and len(model.outputs) == 1 and all(isinstance(layer, chain) for layer in model.layers)

