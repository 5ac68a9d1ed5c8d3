"""Wickstrom et al.'s claims about their MNIST CNN's information plane, each tested by a stated rule
on the networks of ``--protocol wickstrom-cnn`` (the baselines' statistics: per layer, compression
C = max - final I(X;T) over networks, a one-sided t-test, Benjamini-Hochberg over the study)."""

from __future__ import annotations

from ib_keras.runfile import layer_name
from ib_keras.studies.baselines.claims import MIN_BITS, Baselines, Claim, _held_to_n, compression_table
from ib_keras.studies.cnn.configurations import ESTIMATORS, PROTOCOL
from ib_keras.studies.markdown import ALPHA, number

ACTIVATIONS = ("tanh", "relu")

CLAIMS = [
    ("Wickstrom et al.: compression is seen on the training data",
     "Read with the matrix-based Renyi functional, the layers of their MNIST CNN first fit and then compress: "
     "I(X;T) rises and then falls on the training data."),
    ("Wickstrom et al.: less compression on the test data",
     "The compression seen on the training data is weaker, or absent, when the same functional reads the test data."),
    ("Where in the network the layers compress",
     "Which of the layers (the three convolutions, the Dense layer, the softmax) compress; reported, not a verdict "
     "on a quoted statement."),
]

_RULE = (f"a layer compresses when its mean C >= {MIN_BITS} bit and the one-sided t-test over the networks "
         f"survives Benjamini-Hochberg at {ALPHA} (the baselines' rule)")


def _layers(b: Baselines, layers: list[int]) -> str:
    last = max(b.layers["layer"])
    return ", ".join(layer_name(layer, last) for layer in layers) or "none"


def _all_layers(b: Baselines, activation: str, setting: str) -> list[int] | None:
    """The layers, the softmax included, that compress under ``setting`` (`Baselines.compressing`
    reads the hidden ones)."""
    rows = [b.row(PROTOCOL, activation, setting, layer) for layer in sorted(b.layers["layer"].unique())]
    if any(row is None for row in rows):
        return None
    return [int(row["layer"]) for row in rows if row["compression_mean"] >= MIN_BITS and row["compression_q"] < ALPHA]


RENYI = ("renyi", "renyi_alignment")  # kNN widths (their network.py) and label-aligned ones (their cnnMI.ipynb)


def _combined(verdicts: list[str]) -> str:
    """One verdict from each width rule's: reproduced (partly, not) when every rule's is."""
    if all(verdict == verdicts[0] for verdict in verdicts):
        return verdicts[0]
    return "partly reproduced" if any(verdict != "not reproduced" for verdict in verdicts) else "not reproduced"


def _training(b: Baselines, estimator: str) -> tuple[str, str, int] | None:
    """(verdict, numbers, n) of the training-data claim under ``estimator``'s widths; None without rows."""
    found = {activation: _all_layers(b, activation, f"{estimator}_train") for activation in ACTIVATIONS}
    if any(layers is None for layers in found.values()):
        return None
    verdict = ("reproduced" if all(found.values()) else "partly reproduced" if any(found.values())
               else "not reproduced")
    n = min(int(b.row(PROTOCOL, activation, f"{estimator}_train", 0)["n"]) for activation in ACTIVATIONS)
    return verdict, "; ".join(f"{activation} {_layers(b, layers)}" for activation, layers in found.items()), n


def claim_training(b: Baselines) -> Claim:
    """Under each Renyi width rule, reproduced when on the training images a layer of each
    activation compresses (`_RULE`), partly when one activation's do; the claim's verdict is
    both rules' (`_combined`)."""
    results = {estimator: _training(b, estimator) for estimator in RENYI}
    if any(result is None for result in results.values()):
        return Claim("no renyi rows on the training images", "not testable", "No such rows were given.")
    numbers = " / ".join(f"{ESTIMATORS[e][0]}: {numbers} ({verdict})" for e, (verdict, numbers, _) in results.items())
    body = (f"Rule: {_RULE}; under each width rule, reproduced when a layer of each activation compresses on the "
            "training images, partly when one activation's do; the verdict is both rules' (reproduced or not "
            "when they agree, partly otherwise).\n\n"
            + "\n".join(f"- {ESTIMATORS[e][0]}: compressing layers {numbers}: **{verdict}**"
                        for e, (verdict, numbers, _) in results.items()) + "\n\n"
            + compression_table(b, [(PROTOCOL, activation) for activation in ACTIVATIONS],
                                tuple(f"{e}_train" for e in RENYI)))
    claim = Claim(numbers, _combined([verdict for verdict, _, _ in results.values()]), body)
    return _held_to_n(claim, min(n for _, _, n in results.values()))


def claim_test(b: Baselines) -> Claim:
    """Under each Renyi width rule, reproduced when every layer that compresses on the training
    images has a mean C on the test images smaller by MIN_BITS; the claim's verdict is both rules'."""
    pairs, lines = {estimator: [] for estimator in RENYI}, []
    for estimator in RENYI:
        for activation in ACTIVATIONS:
            layers = _all_layers(b, activation, f"{estimator}_train")
            if layers is None or b.row(PROTOCOL, activation, f"{estimator}_test", 0) is None:
                return Claim("no renyi rows on both image sets", "not testable", "No such rows were given.")
            for layer in layers:
                train, test = (float(b.row(PROTOCOL, activation, f"{estimator}_{inputs}", layer)["compression_mean"])
                               for inputs in ("train", "test"))
                pairs[estimator].append(test <= train - MIN_BITS)
                lines.append(f"{ESTIMATORS[estimator][0]}, {activation} {_layers(b, [layer])}: C {number(train)} on "
                             f"training, {number(test)} on test")
    verdicts = [("reproduced" if all(found) else "partly reproduced" if any(found) else "not reproduced")
                for found in pairs.values() if found]
    if not verdicts:
        return Claim("no layer compresses on the training images", "not testable",
                     "No layer compresses on the training images under either width rule: nothing to compare.")
    body = (f"Rule: for every layer that compresses on the training images ({_RULE}), the mean C on the test "
            f"images is smaller by at least {MIN_BITS} bit; reproduced when it is for all of them, partly when for "
            "some; width rules without a compressing layer are not counted.\n\n"
            + "\n".join(f"- {line}" for line in lines) + "\n\n"
            + compression_table(b, [(PROTOCOL, activation) for activation in ACTIVATIONS],
                                tuple(f"{e}_test" for e in RENYI)))
    return Claim("; ".join(lines), _combined(verdicts), body)


def claim_where(b: Baselines) -> Claim:
    """Which layers compress, under every setting of the study: a report, not a verdict."""
    lines = []
    for setting in b.settings:
        found = {activation: _all_layers(b, activation, setting) for activation in ACTIVATIONS}
        if all(layers is not None for layers in found.values()):
            lines.append(f"- {b.label(setting)}: " + "; ".join(f"{activation} {_layers(b, layers)}"
                                                                for activation, layers in found.items()))
    renyi = {activation: _all_layers(b, activation, f"{RENYI[1]}_train") for activation in ACTIVATIONS}
    numbers = (f"{ESTIMATORS[RENYI[1]][0]}, training images: "
               + "; ".join(f"{activation} {_layers(b, layers or [])}" for activation, layers in renyi.items()))
    return Claim(numbers, "reported", f"Rule: {_RULE}. Compressing layers per setting:\n\n" + "\n".join(lines))


def cnn_claims(b: Baselines) -> list[Claim]:
    """Each claim of `CLAIMS`, tested on the wickstrom-cnn networks of ``b``."""
    return [claim_training(b), claim_test(b), claim_where(b)]
