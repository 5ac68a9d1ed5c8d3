"""The networks and the published set-ups that train them: the nonlinearities, the architectures
(Dense widths, convolutions), the protocols and their recording schedules, per-network random
streams, and the Keras ensemble (K independent
networks in one model: its layers, initialisers and loss). Importing this folder does not start
TensorFlow; `models`, `layers` and `initializers` do.

Public names (``from ib_keras.networks import ACTIVATIONS``):
    activations: ACTIVATIONS, STATELESS, check_activation, init_gain, activation_function, numpy_function
    architecture: Conv, Pool, parse_hidden, hidden_text, check_hidden, weighted_layers
    protocols: Protocol, PROTOCOLS, DEFAULT_PROTOCOL, get_protocol, record_schedule, HIDDEN_UNITS, N_CLASSES,
        NOISE_STD_RANGE, kernel_stddevs
    schedules: log_spaced_epochs, idnns_epochs, saxe_epochs
    seeding: stream
    models: build_ensemble, ensemble_crossentropy
    layers: EnsembleDense, EnsembleConv2D, EnsembleMaxPool, EnsembleNoise
    initializers: MemberTruncatedNormal, MemberGlorotUniform
"""

from ib_keras._lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    "activations": ("ACTIVATIONS", "STATELESS", "check_activation", "init_gain", "activation_function",
                    "numpy_function"),
    "architecture": ("Conv", "Pool", "parse_hidden", "hidden_text", "check_hidden", "weighted_layers"),
    "protocols": ("Protocol", "PROTOCOLS", "DEFAULT_PROTOCOL", "get_protocol", "record_schedule", "HIDDEN_UNITS",
                  "N_CLASSES", "NOISE_STD_RANGE", "kernel_stddevs"),
    "schedules": ("log_spaced_epochs", "idnns_epochs", "saxe_epochs"),
    "seeding": ("stream",),
    "models": ("build_ensemble", "ensemble_crossentropy"),
    "layers": ("EnsembleDense", "EnsembleConv2D", "EnsembleMaxPool", "EnsembleNoise"),
    "initializers": ("MemberTruncatedNormal", "MemberGlorotUniform"),
})
