"""Estimator settings as the command line and the table give them: ``"akde:variance_scale=0.01"``
parsed and checked, the defaults an activation sets resolved per layer, ``run_max``-style values resolved on a run, the
seeded, class-stratified subsample of ``--samples``, and the recorded inputs of ``--inputs``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

from ib_keras.estimate.estimators import BY_ACTIVATION, LAYER_MAX, LAYER_MIN, METHODS, method_defaults, resolve_params
from ib_keras.networks.activations import OUTPUT_ACTIVATION

RUN_MAX = "run_max"  # the largest activity anywhere in the run
RUN_MIN = "run_min"  # the smallest activity anywhere in the run


# Shwartz-Ziv & Tishby's fixed range for the bounded activations; the others span the run.
_UNIFORM_RANGES = {"tanh": (-1.0, 1.0), "softsign": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


# The authors' lowest EBAB edge (their code): 0 for ReLU and softplus, -1.000001 for tanh and
# ELU; elsewhere the layer's minimum activity.
_EBAB_LOW = {"relu": 0.0, "softplus": 0.0, "tanh": -1.000001, "elu": -1.000001}


def activation_values(method: str, activation: str) -> dict:
    """The parameters of ``method`` that an activation sets, for a layer ending in ``activation``:
    uniform's range (lo, hi): [-1, 1] for tanh and softsign, [0, 1] for sigmoid, else the run's
    (``run_min``, ``run_max``); EBAB's lowest edge (low): 0 for ReLU and softplus, -1.000001 for
    tanh and ELU, else None (the layer's minimum). Empty for the other estimators."""
    if method == "uniform":
        lo, hi = _UNIFORM_RANGES.get(activation, (RUN_MIN, RUN_MAX))
        return {"lo": lo, "hi": hi}
    if method == "ebab":
        return {"low": _EBAB_LOW.get(activation)}
    return {}


def defining_activation(activations: Sequence[str], layer: int) -> str:
    """The activation that sets ``layer``'s `activation_values`, of the recorded layers'
    ``activations`` (as a run file's layers name them, a chain such as
    "batch_normalization+relu" by its last step): the layer's own, except that a softmax layer
    takes that of the layer before it, as the original codes bin a network's softmax output with
    its hidden layers (Shwartz-Ziv & Tishby's in [-1, 1] for tanh, Saxe et al.'s up to the run's
    largest activity for ReLU, Chelombiev et al.'s EBAB from -1.000001 for tanh). A network of one
    hidden activation (every network this project trains) so resolves every layer as the network's
    activation would."""
    while layer > 0 and activations[layer].split("+")[-1] == OUTPUT_ACTIVATION:
        layer -= 1
    return activations[layer].split("+")[-1]


def layer_params(method: str, params: dict, activations: Sequence[str], layer: int) -> dict:
    """``params`` of ``method`` (a row's, as `EstimatorSpec.params_for` gives them) for recorded
    layer ``layer`` of a run whose layers end in ``activations``: every value `BY_ACTIVATION`
    replaced by the one `activation_values` gives for the layer's `defining_activation`, the rest
    as they are (``run_max`` is resolved on the run's activity: `resolve_run_values`)."""
    if BY_ACTIVATION not in params.values():
        return params
    values = activation_values(method, defining_activation(activations, layer))
    return {name: values[name] if value == BY_ACTIVATION else value for name, value in params.items()}


def restated_params(method: str, params: str, activation: str) -> str:
    """``params`` (JSON) of a table row written before the defaults were resolved per layer, when
    every layer took the value of the run's ``activation`` (the whole name: "tanh", or a user's
    "batch_normalization+relu"), with each such value written `BY_ACTIVATION`, as the same request
    is written now; the value it was estimated with stays in the row's ``resolved``. For a network
    of one hidden activation both rules give every layer the same value."""
    values = json.loads(params)
    old = activation_values(method, activation)
    restated = {name: BY_ACTIVATION for name, value in old.items() if name in values and values[name] == value}
    return canonical_params({**values, **restated}) if restated else params


@dataclass(frozen=True)
class EstimatorSpec:
    """An estimator and the parameters the user set; the rest default (those an activation sets,
    per layer: `layer_params`). ``samples`` K: estimated on a class-stratified subsample of K
    inputs (`stratified_subsample`); ``inputs`` "train" or "test": on the recorded inputs that are
    the run's training (test) rows alone (before any subsample). Both are parameters of the
    table's rows like the others."""

    method: str
    params: tuple[tuple[str, object], ...] = ()
    samples: int | None = None
    inputs: str | None = None

    def params_for(self) -> dict:
        """Every parameter of the request (and ``samples`` and ``inputs`` when set), as the table's
        ``params`` holds them: the same in every model, those an activation sets (uniform's range,
        EBAB's lowest edge) `BY_ACTIVATION` unless given, resolved per layer by `layer_params`, and
        ``run_max``-style values unresolved."""
        defaults = dict.fromkeys(activation_values(self.method, ""), BY_ACTIVATION)
        return {**method_defaults(self.method, dict(self.params)), **defaults, **dict(self.params), **self._rows()}

    def _rows(self) -> dict:
        """The parameters choosing the inputs: ``inputs`` and ``samples``, those set."""
        return {name: value for name, value in ((INPUTS, self.inputs), (SAMPLES, self.samples)) if value is not None}

    def __str__(self) -> str:
        return ":".join([self.method, *(f"{name}={value}" for name, value in (*self.params, *self._rows().items()))])


SAMPLES = "samples"
INPUTS = "inputs"
INPUT_SETS = ("train", "test")  # the run file's train_idx and test_idx among its recorded inputs
ROW_PARAMS = (INPUTS, SAMPLES)  # the parameters that choose the inputs, not the estimator's


SUBSAMPLE_SEED = 0


PAPER_TASK = "tishby_var_u"  # the data set of the paper's networks (a run config's ``dataset``)


def default_estimator(protocol: str | None, dataset: str | None, quantized: bool = False) -> str:
    """The estimator setting a plane or live view reads a run with when none is asked for. One
    rule: a quantized network's codes are counted (``exact``: its information is known); a run of
    the paper's task (trained by ``train`` under a ``protocol`` on Shwartz-Ziv & Tishby's 4096
    patterns, its config's ``dataset``, or none in files from before it) keeps the paper's own
    estimator (``ebab``); any other run (a user's own model, digits, MNIST) is read with aKDE
    (``akde``: upper bound, s2 = 0.1 max|T| per layer and epoch), the paper's other estimator,
    whose noise follows each layer's own scale whatever its width or activation. Measured on a
    digits MLP (N = 1,797; 64-32 tanh-16 ReLU-10 softmax; docs/estimators.md, "Which estimator"):
    EBAB put every layer at log2 N = 10.81 bits at every epoch, aKDE kept the layers apart
    (10.40, 8.85 and 3.44 bits after 64 epochs) and moving."""
    if quantized:
        return "exact"
    dataset = dataset if isinstance(dataset, str) else None  # a table's missing value, NaN
    return "ebab" if isinstance(protocol, str) and protocol and dataset in (None, PAPER_TASK) else "akde"


def stratified_subsample(labels: np.ndarray, samples: int, seed: int = SUBSAMPLE_SEED) -> np.ndarray:
    """Sorted indices of ``samples`` of the N inputs, each class keeping its share (largest
    remainders) and at least one input, drawn without replacement by ``default_rng([seed,
    samples])``: the same K always picks the same inputs. ValueError unless the number of classes
    <= K <= N."""
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if not max(2, len(classes)) <= samples <= len(labels):
        raise ValueError(f"samples must be from {max(2, len(classes))} (one input of each of the {len(classes)} "
                         f"classes) to the run's {len(labels)} inputs, got {samples}")
    quotas = counts * samples / len(labels)
    kept = np.maximum(np.floor(quotas).astype(np.int64), 1)
    if kept.sum() > samples:  # the classes raised to one input take theirs from the largest quotas
        for _ in range(kept.sum() - samples):
            kept[np.argmax(np.where(kept > 1, kept - quotas, -np.inf))] -= 1
    kept[np.argsort(kept - quotas)[: samples - kept.sum()]] += 1  # the largest remainders first
    rng = np.random.default_rng([seed, samples])
    chosen = [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c, k in zip(classes, kept)]
    return np.sort(np.concatenate(chosen))


def parse_estimators(text: str) -> list[EstimatorSpec]:
    """Parse ``"ebab,akde:variance_scale=0.01,uniform:hi=layer_max"`` into specs.

    Values are read as JSON where they parse (numbers, null), as text otherwise; ``samples=K``
    sets the spec's subsample, so that a table's ``setting`` (`setting_text`) parses back to the
    setting it names. Raises ValueError naming an unknown estimator or parameter.
    """
    specs = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        method, *assignments = token.split(":")
        params = []
        for assignment in assignments:
            name, equals, value = assignment.partition("=")
            if not equals:
                raise ValueError(f"'{assignment}' in '{token}' is not name=value")
            if name in dict(params):
                raise ValueError(f"'{token}' sets {name} twice; give each parameter once")
            try:
                params.append((name, json.loads(value)))
            except json.JSONDecodeError:
                params.append((name, value))
        samples, inputs = dict(params).get(SAMPLES), dict(params).get(INPUTS)
        if samples is not None and (not isinstance(samples, int) or isinstance(samples, bool) or samples < 2):
            raise ValueError(f"'{token}': {SAMPLES} must be a whole number of inputs, at least 2, got {samples!r}")
        if inputs is not None and inputs not in INPUT_SETS:
            raise ValueError(f"'{token}': {INPUTS} must be one of {', '.join(INPUT_SETS)}, got {inputs!r}")
        spec = EstimatorSpec(method, tuple(p for p in params if p[0] not in ROW_PARAMS), samples, inputs)
        _check(spec)
        specs.append(spec)
    if not specs:
        raise ValueError("no estimators given")
    return specs


def _check(spec: EstimatorSpec) -> None:
    """Validate a spec as far as it can be before a run is read (run_max etc. stand in as 1, and
    the values an activation sets as a ReLU layer's)."""
    if spec.method not in METHODS:
        raise ValueError(f"unknown estimator '{spec.method}'; valid estimators: {', '.join(METHODS)}")
    stand_ins = {RUN_MIN: 0.0, RUN_MAX: 1.0}
    given = replace(spec, samples=None, inputs=None).params_for()  # the inputs are checked on the run
    for name in ("lo", "hi"):
        layer_value = LAYER_MAX if name == "hi" else LAYER_MIN
        if isinstance(given.get(name), str) and given[name] not in (*stand_ins, layer_value, BY_ACTIVATION):
            raise ValueError(f"{spec.method}: {name} must be a finite number, '{RUN_MIN}' or '{RUN_MAX}' (the run's "
                             f"smallest or largest activity), {layer_value!r} (the layer-epoch's) or "
                             f"'{BY_ACTIVATION}' (set by each layer's activation), got {given[name]!r}")
    given = layer_params(spec.method, given, ["relu"], 0)
    params = {name: stand_ins.get(value, value) if isinstance(value, str) else value for name, value in given.items()}
    if given.get("hi") == RUN_MAX and isinstance(params["lo"], Real) and params["lo"] >= 1.0:
        params["hi"] = params["lo"] + 1.0  # only the run can tell whether run_max > lo
    resolve_params(spec.method, **params)


def canonical_params(params: dict) -> str:
    """The ``params`` column's text for a parameter dict: JSON with sorted keys."""
    return json.dumps(params, sort_keys=True)


def setting_text(estimator: str, params: str) -> str:
    """The ``setting`` column's text for a row's ``estimator`` and ``params`` (JSON): the estimator
    and every parameter, sorted (``inputs`` and ``samples`` last), as ``--estimators`` takes them, e.g.
    ``"akde:bound=upper:variance_scale=0.1"``; `parse_estimators` reads it back to the same setting."""
    values = sorted(json.loads(params).items(), key=lambda item: (item[0] in ROW_PARAMS, item[0]))
    return ":".join([estimator, *(f"{name}={value if isinstance(value, str) else json.dumps(value)}"
                                  for name, value in values)])


def resolve_run_values(params: dict, activity: Sequence[np.ndarray]) -> dict:
    """``params`` (as a table's ``params`` column holds them) with ``run_max`` and ``run_min``
    replaced by the largest and smallest value of the run's ``activity`` (every layer's (E, N, d)
    array, as `read_run` gives them): what the estimate stage passes to `estimate_mi`."""
    extremes = {RUN_MAX: lambda: max(float(a.max()) for a in activity),
                RUN_MIN: lambda: min(float(a.min()) for a in activity)}
    return {name: extremes[value]() if isinstance(value, str) and value in extremes else value
            for name, value in params.items()}
