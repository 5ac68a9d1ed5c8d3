"""Four models of a user's own, recorded as a researcher would record them, for the planes of
docs/own-models.md ("Four models, drawn with the defaults"): on scikit-learn's 1,797 digits, a
Keras MLP (tanh then ReLU), a CNN with BatchNormalization, a separate ReLU and logits, a residual
functional model, and scikit-learn's own MLPClassifier written with `write_run_arrays`.

    .venv/bin/python examples/own_models.py [--out runs/own-models] [--epochs 64]

Each model's run file goes to OUT/<model>/seed-000.h5, recorded at epochs 0, 1, 2, 4, ... up to
--epochs; then `python -m ib_keras plane OUT/<model> --out FIGURE.png` draws it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ib_keras  # noqa: F401  (first: before TensorFlow starts)
from ib_keras import ActivationRecorder, write_run_arrays
from ib_keras.data import load_dataset, split_indices

import keras
import numpy as np


def recorded_epochs(epochs: int) -> list[int]:
    """0 and the powers of two up to ``epochs``, and ``epochs``."""
    return sorted({0, epochs, *(2**k for k in range(int(np.log2(max(epochs, 1))) + 1))})


def _fit(model, name: str, x, y, train_idx, test_idx, out: Path, epochs: int, loss) -> Path:
    path = out / name / "seed-000.h5"
    model.compile(keras.optimizers.Adam(1e-3), loss)
    recorder = ActivationRecorder(path, x, y, train_idx, test_idx, recorded_epochs(epochs), verbose=0)
    model.fit(x[train_idx], y[train_idx], batch_size=64, epochs=epochs, verbose=0, callbacks=[recorder])
    return path


def digits_mlp(x, y, train_idx, test_idx, out: Path, epochs: int) -> Path:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="tanh", name="tanh_32"),
                              keras.layers.Dense(16, activation="relu", name="relu_16"),
                              keras.layers.Dense(10, activation="softmax", name="softmax_10")])
    return _fit(model, "digits-mlp", x, y, train_idx, test_idx, out, epochs, "sparse_categorical_crossentropy")


def digits_cnn(x, y, train_idx, test_idx, out: Path, epochs: int) -> Path:
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(8, 3, name="conv"),
                              keras.layers.BatchNormalization(), keras.layers.ReLU(), keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(), keras.layers.Dense(32, name="dense"), keras.layers.ReLU(),
                              keras.layers.Dense(10, name="logits")])
    images = x.reshape(-1, 8, 8, 1)
    return _fit(model, "digits-cnn", images, y, train_idx, test_idx, out, epochs,
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def residual(x, y, train_idx, test_idx, out: Path, epochs: int) -> Path:
    keras.utils.set_random_seed(2)
    inputs = keras.Input((64,))
    stem = keras.layers.Dense(32, activation="relu", name="stem")(inputs)
    block = keras.layers.Dense(32, activation="relu", name="block")(stem)
    merged = keras.layers.Add(name="sum")([stem, block])
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="head")(merged))
    return _fit(model, "residual", x, y, train_idx, test_idx, out, epochs, "sparse_categorical_crossentropy")


def sklearn_mlp(x, y, train_idx, test_idx, out: Path, epochs: int) -> Path:
    """scikit-learn's MLPClassifier, one partial_fit pass per epoch, its layers computed from its
    weights at each recorded epoch and written with `write_run_arrays`."""
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(32, 16), activation="relu", batch_size=64, random_state=3)
    schedule = recorded_epochs(epochs)
    activity = [[], [], []]
    for epoch in range(epochs + 1):
        if epoch:
            model.partial_fit(x[train_idx], y[train_idx])
        else:  # partial_fit builds the layers with one step; they are initialised again, as fit would
            model.partial_fit(x[train_idx[:64]], y[train_idx[:64]], classes=np.arange(10))
            for coef, intercept in zip(model.coefs_, model.intercepts_):
                coef[...], intercept[...] = model._init_coef(*coef.shape, coef.dtype)
            del model._optimizer  # its moments saw that step: the next partial_fit makes a new one
        if epoch in schedule:
            hidden = x
            for k, (w, b) in enumerate(zip(model.coefs_[:-1], model.intercepts_[:-1])):
                hidden = np.maximum(hidden @ w + b, 0)
                activity[k].append(hidden)
            activity[2].append(model.predict_proba(x))
    return write_run_arrays(out / "sklearn-mlp" / "seed-000.h5", schedule, [np.stack(a) for a in activity], y,
                            activations=["relu", "relu", "softmax"], x=x, train_idx=train_idx, test_idx=test_idx,
                            config={"model": "sklearn MLPClassifier(32, 16)"})


MODELS = {"digits-mlp": digits_mlp, "digits-cnn": digits_cnn, "residual": residual, "sklearn-mlp": sklearn_mlp}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/own-models"))
    parser.add_argument("--epochs", type=int, default=64)
    parser.add_argument("--models", default=",".join(MODELS), help="which, comma-separated")
    args = parser.parse_args()
    data = load_dataset("digits")
    train_idx, test_idx = split_indices(len(data.x))
    for name in args.models.split(","):
        print(MODELS[name](data.x, data.y, train_idx, test_idx, args.out, args.epochs))


if __name__ == "__main__":
    main()
