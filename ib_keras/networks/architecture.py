"""A network's hidden layers as ``train --hidden`` spells them: Dense widths, and for images
convolutions and max pooling before them.

``--hidden 10,7,5,4,3`` is the paper's Dense network; ``--hidden conv8x5,pool2,conv16x5,pool2,128``
a LeNet-like one: ``conv<F>x<S>`` is F filters of S x S (stride 1, no padding, so an H x W image
becomes H - S + 1 x W - S + 1), ``pool<P>`` a P x P max pooling of stride P (the remainder rows
dropped), a number a Dense layer of that many units (on the flattened image after the last
convolution). Convolutions and pooling come before every Dense layer and need an image data set
(MNIST, digits). The recorded layers are the convolutions and the Dense layers, each after its
activation; a pooling layer is not recorded.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_UNITS = 10_000  # a Dense layer's width, a convolution's filters
MAX_SIZE = 32  # a convolution's or a pooling's side


@dataclass(frozen=True)
class Conv:
    """``filters`` filters of ``size`` x ``size``, stride 1, no padding."""

    filters: int
    size: int

    def __str__(self) -> str:
        return f"conv{self.filters}x{self.size}"


@dataclass(frozen=True)
class Pool:
    """Max pooling over ``size`` x ``size``, stride ``size``."""

    size: int

    def __str__(self) -> str:
        return f"pool{self.size}"


Layer = int | Conv | Pool  # an int: a Dense layer's units


@dataclass(frozen=True)
class Weighted:
    """One layer with a kernel, as the initialisers and the cost models see it: Keras' fan-in and
    fan-out of its kernel, its kernel's shape, multiply-adds per input, and its output per input."""

    fan_in: int
    fan_out: int
    kernel_shape: tuple[int, ...]
    multiply_adds: int
    shape: tuple[int, ...]

    @property
    def parameters(self) -> int:
        return math.prod(self.kernel_shape) + self.kernel_shape[-1]

    @property
    def units(self) -> int:
        return math.prod(self.shape)


_TOKEN = re.compile(r"(?:conv(\d+)x(\d+)|pool(\d+)|(\d+))")


def parse_hidden(text: str) -> tuple[Layer, ...]:
    """``--hidden``'s comma-separated layers; ValueError naming the token that is not one, or
    whose width or size is out of range."""
    layers: list[Layer] = []
    for token in (part.strip() for part in text.split(",")):
        match = _TOKEN.fullmatch(token)
        if not match:
            raise ValueError(f"'{token}' is not a layer: give Dense widths (10,7,5), or for images conv<F>x<S> "
                             "(F filters of S x S) and pool<P> (P x P max pooling) before them, e.g. "
                             "conv8x5,pool2,conv16x5,pool2,128")
        filters, size, pool, units = match.groups()
        layers.append(Conv(int(filters), int(size)) if filters else Pool(int(pool)) if pool else int(units))
    check_sizes(layers)
    return tuple(layers)


def check_sizes(layers: Sequence[Layer]) -> None:
    """ValueError naming the layer whose width, filters or side is out of range."""
    for layer in layers:
        count = layer if isinstance(layer, int) else layer.filters if isinstance(layer, Conv) else None
        if count is not None and not 1 <= count <= MAX_UNITS:
            raise ValueError(f"--hidden: {layer}: widths and filters go from 1 to {MAX_UNITS}")
        if not isinstance(layer, int) and not 1 <= layer.size <= MAX_SIZE:
            raise ValueError(f"--hidden: {layer}: sizes go from 1 to {MAX_SIZE}")


def hidden_text(layers: Sequence[Layer]) -> str:
    """The ``--hidden`` spelling of ``layers``."""
    return ",".join(map(str, layers))


def is_convolutional(layers: Sequence[Layer]) -> bool:
    return any(isinstance(layer, (Conv, Pool)) for layer in layers)


def check_hidden(layers: Sequence[Layer], image_shape: tuple[int, ...] | None) -> None:
    """ValueError naming the layer when ``layers`` cannot be built on inputs of ``image_shape``
    ((H, W, C); None for inputs that are not images): widths and sizes out of range, a
    convolution or pooling after a Dense layer or on inputs that are not images, an image that
    shrinks to nothing."""
    if not layers:
        raise ValueError("--hidden needs at least one layer")
    check_sizes(layers)
    if not is_convolutional(layers):
        return
    first_dense = next((i for i, layer in enumerate(layers) if isinstance(layer, int)), len(layers))
    late = [str(layer) for layer in layers[first_dense:] if not isinstance(layer, int)]
    if late:
        raise ValueError(f"--hidden: {late[0]} comes after a Dense layer; convolutions and pooling come first")
    if image_shape is None:
        raise ValueError(f"--hidden: {next(layer for layer in layers if not isinstance(layer, int))} needs images; "
                         "this data set's inputs are not images (give Dense widths, or --dataset mnist or digits)")
    height, width, _ = image_shape
    for layer in layers[:first_dense]:
        shrink = layer.size - 1 if isinstance(layer, Conv) else 0
        height, width = (height - shrink, width - shrink) if isinstance(layer, Conv) else \
            (height // layer.size, width // layer.size)
        if height < 1 or width < 1:
            raise ValueError(f"--hidden: {layer} leaves no pixels of the {image_shape[0]} x {image_shape[1]} images; "
                             "use smaller or fewer convolutions and poolings")


def weighted_layers(layers: Sequence[Layer], input_shape: tuple[int, ...], n_classes: int) -> list[Weighted]:
    """Every layer with a kernel (the convolutions, the Dense layers, the output layer), in
    order, on inputs of ``input_shape`` ((features,), or (H, W, C) images for a convolutional
    network). Assumes `check_hidden` passed."""
    shape = tuple(input_shape) if is_convolutional(layers) else (math.prod(input_shape),)
    found = []
    for layer in (*layers, n_classes):
        if isinstance(layer, Pool):
            shape = (shape[0] // layer.size, shape[1] // layer.size, shape[2])
        elif isinstance(layer, Conv):
            height, width, channels = shape
            shape = (height - layer.size + 1, width - layer.size + 1, layer.filters)
            area = layer.size * layer.size
            found.append(Weighted(area * channels, area * layer.filters, (layer.size, layer.size, channels,
                                                                           layer.filters),
                                  shape[0] * shape[1] * area * channels * layer.filters, shape))
        else:
            fan_in = math.prod(shape)
            shape = (layer,)
            found.append(Weighted(fan_in, layer, (fan_in, layer), fan_in * layer, shape))
    return found
