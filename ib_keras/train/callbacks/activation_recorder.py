"""ActivationRecorder: Saxe et al.'s LoggingReporter for Keras 3, writing one HDF5 file per network."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ib_keras.networks.activations import OUTPUT_ACTIVATION
from ib_keras.networks.models import BATCH_SIZE
from ib_keras.networks.quantization import grid_codes
from ib_keras.networks.seeding import GRADIENT_STREAM, stream
from ib_keras.runfile import LayerSpec, RunWriter
from ib_keras.runfile.checks import contents_problem, whole_numbers
from ib_keras.train.callbacks.representations import dense_chain, is_ensemble, kernels_of, probe, reader
from ib_keras.train.fit import model_members

_PROBABILITY_FLOOR = 1e-7  # Keras' clipping of probabilities in cross-entropy
_CHUNK = 10_000  # rows per forward pass when the losses need rows that are not recorded (record_rows)


def recording_size(specs: Sequence[LayerSpec], inputs: int, epochs: int, networks: int = 1,
                   value_bytes: int = 4) -> str:
    """What a recording holds, in words: its layers (their shapes), values per input, and the disk
    (``value_bytes`` per value, before compression) and memory (one recorded epoch's activity) it takes."""
    values = sum(spec.units for spec in specs)
    per_epoch = value_bytes * inputs * values * networks
    layers = ", ".join(f"{spec.name or 'layer'} {'x'.join(map(str, spec.shape or (spec.units,)))}" for spec in specs)
    return (f"{len(specs)} layers ({layers}), {values:,} values per input x {inputs:,} inputs x {epochs} recorded epochs"
            f"{f' x {networks} networks' if networks > 1 else ''}: {per_epoch * epochs / 1e6:,.1f} MB on disk before "
            f"compression, {per_epoch / 1e6:,.1f} MB of memory at each recorded epoch")


class ActivationRecorder(keras.callbacks.Callback):
    """Records every layer's representation on all inputs, at chosen epochs, into HDF5.

    At each recorded epoch it stores, per network: the activity of every layer that has weights
    of its own (Dense, a convolution, an LSTM, an embedding; or the ``layers`` named), at every
    application of it (a layer applied twice: ``name#1``, ``name#2``), on all N inputs, taken after its
    activation (an argument or a separate layer), after BatchNormalization where present, with
    Dropout inactive (`ib_keras.train.callbacks.representations`); the last layer as class
    probabilities, through a softmax when the model ends in logits under a loss with
    ``from_logits=True``. A convolution's (H, W, C) output is stored flattened, its shape kept in
    the layer's ``shape`` attribute; each layer's kernel's Frobenius norm (a layer without a
    ``kernel``: of its weights of two or more dimensions together, `kernels_of`); the norms of the mean and of the standard
    deviation, over one shuffled pass of minibatches at the current weights, of that kernel's
    gradient of the training loss (Saxe et al.'s SNR quantities); and train/test cross-entropy
    (nats, without any L2 term) and accuracy; and, with ``parameters``, each layer's kernel and
    bias when the model is nothing but a chain of Dense layers (and `EnsembleNoise` between
    them), so that the file's parameters reproduce its activity (a noisy network's noise is then
    propagated offline by ``sp``). Epoch 0 is the initialisation (recorded when
    the first epoch begins), epoch e the state after e epochs. Activity is recorded with
    ``training=False``: a noisy network's noise-free S, not S + Z. Recording leaves the model's
    state as it found it: the gradient pass runs in training mode, and every non-trainable
    variable it moves (BatchNormalization's moving statistics, a Dropout's random state) is put
    back, so that a model trains exactly as it would without the recorder.

    The model is read in ``on_train_begin``; the file is opened when the first epoch begins (when
    Keras says which epoch that is), appended to and flushed at every recorded epoch, and marked
    complete and closed in ``on_train_end``: a crash leaves every recorded epoch. After
    a callback before it restored a checkpoint at epoch e (`ib_keras.train.callbacks.TrainingCheckpoint`,
    Keras' ``BackupAndRestore``), or ``fit(initial_epoch=e)``, a file already at the path is
    continued: the epochs before e kept, e recorded from the restored state, the recording going
    on as if never stopped. One recorder passed to several ``fit`` calls of its model continues
    its files at the model's own epochs (`_open` says how). The
    file keeps the epochs it is to record (those of ``epochs`` that the training reaches), and is
    complete once they all are; a training that a callback stops early (EarlyStopping) is complete
    with the epochs recorded until then.

    Works on a plain Keras model (inputs (batch, features) or images (batch, H, W, C), one file)
    and on an ensemble from `ib_keras.networks.models.build_ensemble` (input (batch, K, features),
    one file per member). The model must be compiled with a categorical cross-entropy, on one-hot
    or (``sparse_categorical_crossentropy``) integer labels. What cannot be recorded faithfully
    (a nested model not named, a subclassed or multi-input model, labels beyond the model's
    classes, epochs to record that the training never reaches) is refused, naming the layer or
    the value, before a file is written. Disk: 4 bytes per
    value, N x (every recorded layer's units) per recorded epoch before compression.

    Args:
        paths: one output path per network (a single path for a plain model).
        x: (N, ...) inputs to record the activity on (all 4096 patterns; images (N, H, W, C)).
        y: (N,) integer labels.
        train_idx: rows of x used for training.
        test_idx: rows of x used for testing.
        epochs: the epochs to record (0 = before training).
        configs: one JSON-serialisable dict per network, stored with it (or one dict for all).
        batch_size: minibatch size of the gradient statistics.
        gradient_seed: seed of the minibatch order of the gradient statistics.
        parameters: also keep the kernels and biases (when the model allows it, see above); False
            saves their disk space, and ``sp`` then cannot estimate the file.
        layers: names of the layers to record (default: every layer with a kernel), each taken
            after the layers that follow it alone as above (a pooling or Flatten layer may be named).
        record_rows: the rows of x whose activity is recorded (default: every row), such as
            MNIST's 10,000 test images (as Saxe et al.'s ``LoggingReporter`` did): the file's x and y
            are those rows, its train_idx and test_idx their positions among them, and its losses
            and accuracies still those of every training and test row.
        verbose: 1 says in one line (stdout), when training begins, what the recording holds: its
            layers, values per input, and its disk and memory (`recording_size`); 0 is silent.
        activity_dtype: "float32", or "float16": half the disk, about 3 significant digits
            (read back as float32); a value beyond float16's +-65504 stops the training, naming the layer.

    Example:

    ```python
    recorder = ActivationRecorder("runs/mine.h5", x, y, train_idx, test_idx, epochs=[0, 1, 10, 100])
    model.fit(x[train_idx], y_onehot[train_idx], epochs=100, callbacks=[recorder])
    ```
    """

    def __init__(
        self,
        paths,
        x: np.ndarray,
        y: np.ndarray,
        train_idx: np.ndarray,
        test_idx: np.ndarray,
        epochs: Sequence[int],
        configs: dict | Sequence[dict] | None = None,
        batch_size: int = BATCH_SIZE,
        gradient_seed: int = 0,
        parameters: bool = True,
        layers: Sequence[str] | None = None,
        record_rows: Sequence[int] | None = None,
        verbose: int = 1,
        activity_dtype: str = "float32",
    ):
        super().__init__()
        self.paths = [paths] if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence) else list(paths)
        try:
            self.x = np.asarray(x, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise ValueError(f"x must be numbers, (N, features) or (N, H, W, C): {error}") from None
        self.y = whole_numbers(y, "y (the class labels)")
        self.train_idx = whole_numbers(train_idx, "train_idx")
        self.test_idx = whole_numbers(test_idx, "test_idx")
        self.epochs = frozenset(whole_numbers(epochs, "epochs (to record)").ravel().tolist())
        if not self.epochs:
            raise ValueError("epochs (to record) is empty; give the epochs to record, 0 = before training")
        configs = configs if configs is not None else {}
        self.configs = [configs] * len(self.paths) if isinstance(configs, dict) else list(configs)
        self.batch_size = batch_size
        self.gradient_seed = gradient_seed
        self.parameters = parameters
        self.layer_names = None if layers is None else list(layers)
        self.verbose = verbose
        self.activity_dtype = activity_dtype
        self.record_rows = None if record_rows is None else np.asarray(record_rows, dtype=np.int64)
        if self.x.ndim < 2 or self.y.shape != (len(self.x),):
            raise ValueError(f"x must be (N, features) or (N, H, W, C) and y (N,), got {self.x.shape} and "
                             f"{self.y.shape}")
        if len(self.configs) != len(self.paths):
            raise ValueError(f"{len(self.paths)} paths but {len(self.configs)} configs")
        problem = contents_problem(len(self.x), self.y, int(self.y.max(initial=0)) + 1, self.train_idx, self.test_idx)
        if problem:
            raise ValueError(problem.replace("field ", ""))
        rows = self.record_rows
        if rows is not None and (rows.ndim != 1 or not len(rows) or rows.min() < 0 or rows.max() >= len(self.x)
                                 or np.any(np.diff(rows) <= 0)):
            raise ValueError(f"record_rows must be increasing rows of x (0..{len(self.x) - 1}), got {rows}")
        self._writers: list[RunWriter] = []
        self._recorded_model = None  # the model this recorder's files are of, once a fit has opened them
        self._first = 0  # the first epoch its files schedule
        self._trained = 0  # the epochs that model has trained, as far as this recorder saw
        self._offset = 0  # this fit's epoch e (Keras' count) is the model's epoch offset + e

    def on_train_begin(self, logs=None):
        self.close()  # the files of an earlier fit of this recorder that an error stopped: continued below
        if self._recorded_model is not None and self.model is not self._recorded_model:
            raise ValueError(f"this ActivationRecorder recorded model {self._recorded_model.name} into {self.paths[0]}; a "
                             f"recorder records one model: give model {self.model.name} a recorder of its own (other "
                             "paths)")
        if isinstance(self.model, keras.Sequential) and not self.model.built:  # no Input: built as fit would build it
            self.model.build((None, *self.x.shape[1:]))
        members = model_members(self.model)
        if members != len(self.paths):
            raise ValueError(f"model has {members} networks but {len(self.paths)} paths were given")
        self._ensemble = is_ensemble(self.model)
        found, read, self._sparse = probe(self.model, self.layer_names)
        n_classes = int(self.model.outputs[0].shape[-1])
        if self.y.max(initial=0) >= n_classes:
            raise ValueError(f"model {self.model.name} gives {n_classes} class probabilities but y holds label "
                             f"{int(self.y.max())}; labels are classes 0..{n_classes - 1}")
        self._layers = [representation.layer for representation in found]
        self._kernels = [kernels_of(layer) for layer in self._layers]
        self._bits = [getattr(layer, "quantize_bits", None) for layer in self._layers]
        grids = [("activity" if r.output is r.layer.output else "logits") if bits else ""
                 for r, bits in zip(found, self._bits)]
        if any(self._bits):
            if not (all(self._bits) and self._ensemble and self.record_rows is None):
                raise ValueError(f"model {self.model.name}: a quantized network is recorded as codes when every "
                                 "recorded layer is quantized, it is an ensemble of build_ensemble(quantize_bits=...), "
                                 "and every input is recorded in one pass (no record_rows)")
            # each layer's own quantized output (the output layer's: its logits), then the probabilities
            read = reader(self.model, [layer.output for layer in self._layers] + [self.model.outputs[0]])
        # Called once per recorded epoch: graph mode without XLA, whose compile time would outweigh it.
        self._activity_of = tf.function(read)
        self._gradient_statistics = self._compile_gradient_statistics(n_classes)
        self._specs = [LayerSpec(r.units, OUTPUT_ACTIVATION if r is found[-1] else r.activation,
                                 None if len(r.shape) == 1 else r.shape, r.name, grid, bits or 0)
                       for r, grid, bits in zip(found, grids, self._bits)]
        # the chain's every layer recorded, or its parameters cannot give the activity
        self._keeps_parameters = self.parameters and self.layer_names is None and dense_chain(self.model)
        self._opened = False  # the files are opened when the first epoch begins: Keras then says which it is

    def on_epoch_begin(self, epoch, logs=None):
        if not self._opened:
            self._open(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._trained = self._offset + epoch + 1
        if self._trained in self.epochs:
            self._record(self._trained)

    def on_train_end(self, logs=None):
        if not self._opened:  # a fit of no epoch (epochs=0, or initial_epoch >= epochs): its state is recorded
            self._open(self._trained if self._recorded_model is not None else self.params.get("epochs", 0))
        for writer in self._writers:
            writer.finish(stopped_early=bool(getattr(self.model, "stop_training", False)))
        self._writers = []

    def _open(self, epoch: int) -> None:
        """Open the files for a fit whose first epoch Keras numbers ``epoch``, and record the state
        it starts from if that epoch is one to record.

        A recorder's first fit starts at ``epoch`` as Keras counts it: at 0 its files are made
        anew (a file already there is replaced); later (a checkpoint restored, ``initial_epoch``)
        a file already at the path is continued, its epochs before ``epoch`` kept, and a missing
        one is made with the epochs from ``epoch`` on. A later fit of the same recorder continues
        its own files from the epoch the model has reached: Keras' epochs are taken as that
        model's when they start there (``initial_epoch``), and as counted on from it when they
        start from 0 (a second ``fit(epochs=n)``); any other start is refused, before anything is
        written, as it cannot say which epoch the model is at."""
        reused = self._recorded_model is not None
        if reused and epoch not in (0, self._trained):
            raise ValueError(f"fit(initial_epoch={epoch}) but this ActivationRecorder saw the model train "
                             f"{self._trained} epochs; continue with initial_epoch={self._trained} (or 0), or record "
                             "this training with a new recorder (other paths)")
        self._offset = self._trained if reused and epoch == 0 else 0
        start = self._offset + epoch
        end = self._offset + self.params.get("epochs", epoch)
        if not reused:
            self._first = start if start and not any(Path(path).exists() for path in self.paths) else 0
        schedule = sorted(e for e in self.epochs if self._first <= e <= end)
        if not schedule:
            raise ValueError(f"none of the epochs to record ({', '.join(map(str, sorted(self.epochs)[:5]))}"
                             f"{', ...' if len(self.epochs) > 5 else ''}) lies in this training's epochs "
                             f"{self._first}..{end}: the file could never hold one; record epochs this fit reaches")
        rows = np.arange(len(self.x)) if self.record_rows is None else self.record_rows
        train, test = (np.flatnonzero(np.isin(rows, indices)) for indices in (self.train_idx, self.test_idx))
        fan_ins = [int(layer.kernel.shape[-2]) for layer in self._layers] if self._keeps_parameters else None
        keep = sum(e < start for e in schedule)
        continuing = start > self._first
        writers = []
        try:
            for path, config in zip(self.paths, self.configs):
                arguments = (self.x[rows], self.y[rows], train, test, self._specs, config, schedule, fan_ins,
                             self.activity_dtype)
                writers.append(RunWriter.continuing(path, keep, *arguments, extending=reused) if continuing
                               else RunWriter(path, *arguments))
        except BaseException:
            for writer in writers:
                writer.close()
            raise
        self._writers, self._recorded_model, self._trained, self._opened = writers, self.model, start, True
        if self.verbose:
            size = recording_size(self._specs, len(rows), len(schedule), len(self.paths),
                                  1 if any(self._bits) else np.dtype(self.activity_dtype).itemsize)
            print(f"ActivationRecorder: {size}{f', continued from epoch {start}' if continuing else ''}")
        if start in self.epochs:
            self._record(start)

    def close(self) -> None:
        """Close the files of a training that stopped early (an error, a failed write), leaving
        them incomplete; nothing to do after ``on_train_end``."""
        for writer in self._writers:
            writer.close()
        self._writers = []

    def _network_inputs(self, x: np.ndarray) -> np.ndarray:
        """(n, ...) rows as the model takes them: repeated for every member of an ensemble."""
        return np.repeat(x[:, None, :], len(self.paths), axis=1) if self._ensemble else x

    def _compile_gradient_statistics(self, n_classes: int):
        # a recorded layer without weights (one named, such as a pooling layer) has no statistics
        kernels = [variable for layer_kernels in self._kernels for variable in layer_kernels]
        labels = self.y[self.train_idx]
        targets = tf.constant(labels if self._sparse else np.eye(n_classes, dtype=np.float32)[labels])
        rows = tf.constant(self.x[self.train_idx])
        members, n_train, batch_size, model, ensemble = len(self.paths), len(self.train_idx), self.batch_size, \
            self.model, self._ensemble

        def batch_gradients(order, start):
            batch = order[start : start + batch_size]
            x_batch, y_batch = tf.gather(rows, batch), tf.gather(targets, batch)
            if ensemble:  # every member sees the batch
                x_batch, y_batch = (tf.repeat(t[:, None], members, axis=1) for t in (x_batch, y_batch))
            with tf.GradientTape() as tape:
                loss = model.compute_loss(x=x_batch, y=y_batch, y_pred=model(x_batch, training=True))
            # an embedding's gradient comes as IndexedSlices: made dense, to be summed and squared
            return [tf.convert_to_tensor(g) for g in tape.gradient(loss, kernels)]

        @tf.function
        def statistics(order):
            """Per layer, ||mean_b g_b|| and ||std_b g_b|| of kernel gradients g_b, per member, over
            the minibatches of ``order``: sums of g - g_0 and its square (g_0 the first batch's,
            against cancellation), so that memory does not grow with the number of batches."""
            first = batch_gradients(order, 0)
            sums = [tf.zeros_like(g) for g in first]
            squares = [tf.zeros_like(g) for g in first]
            for start in tf.range(batch_size, max(n_train, batch_size), batch_size):  # a graph loop, not unrolled
                shifted = [g - g0 for g, g0 in zip(batch_gradients(order, start), first)]
                sums = [total + d for total, d in zip(sums, shifted)]
                squares = [square + tf.square(d) for square, d in zip(squares, shifted)]
            batches = float(-(-n_train // batch_size))
            means, stds = [], []
            for g0, total, square in zip(first, sums, squares):
                shift = total / batches
                variance = tf.maximum(square / batches - tf.square(shift), 0.0)
                # the norm over each member's kernel (an ensemble's is (K, ...); a plain model's one)
                means.append(tf.norm(tf.reshape(g0 + shift, [members, -1]), axis=-1))
                stds.append(tf.norm(tf.reshape(tf.sqrt(variance), [members, -1]), axis=-1))
            return tf.stack(means, axis=-1), tf.stack(stds, axis=-1)  # (K, L) each

        return statistics

    def _record(self, epoch: int) -> None:
        members = len(self.paths)
        activity, probabilities = self._activity_and_output()
        # a quantized layer's grid of this pass (K, 2) and its codes, before the gradient pass moves them
        grids = [np.asarray(layer.grid) for layer in self._layers] if any(self._bits) else []
        stored = [grid_codes(a, grid[:, 0], grid[:, 1], bits) for a, grid, bits in zip(activity, grids, self._bits)] \
            if grids else activity
        order = stream(self.gradient_seed, GRADIENT_STREAM, epoch).permutation(len(self.train_idx))
        state = [np.asarray(variable) for variable in self.model.non_trainable_variables]
        grad_mean, grad_std = (self._per_layer(np.asarray(s).reshape(members, -1)) for s in self._gradient_statistics(order))
        for variable, value in zip(self.model.non_trainable_variables, state):
            variable.assign(value)  # the training-mode pass moved BatchNormalization's statistics, a Dropout's seed
        weights_norm = self._per_layer(np.stack(
            [np.linalg.norm(np.asarray(kernel).reshape(members, -1), axis=1) for layer_kernels in self._kernels
             for kernel in layer_kernels], axis=-1).reshape(members, -1))
        kernels, biases = self._parameters() if self._keeps_parameters else ([], [])
        for k, writer in enumerate(self._writers):
            p = probabilities[:, k, :]
            metrics = {}
            for split, rows in (("train", self.train_idx), ("test", self.test_idx)):
                p_true = np.clip(p[rows, self.y[rows]], _PROBABILITY_FLOOR, 1.0)
                metrics[f"{split}_loss"] = float(-np.mean(np.log(p_true)))
                metrics[f"{split}_accuracy"] = float(np.mean(p[rows].argmax(axis=1) == self.y[rows]))
            writer.append(epoch, [a[:, k, :] for a in stored], metrics, weights_norm[k], grad_mean[k], grad_std[k],
                          [kernel[k] for kernel in kernels], [bias[k] for bias in biases], [grid[k] for grid in grids])

    def _activity(self, x: np.ndarray) -> list[np.ndarray]:
        """Every recorded layer's activity on the rows ``x``, (n, K, units) each: every layer
        flattened per input and per member, a member axis of one for a plain model."""
        return [np.asarray(a).reshape(len(x), len(self.paths), -1) for a in self._activity_of(self._network_inputs(x))]

    def _activity_and_output(self) -> tuple[list[np.ndarray], np.ndarray]:
        """The recorded rows' activity (every layer's (n, K, units)) and every row's output
        probabilities (N, K, classes), for the losses; with ``record_rows``, one pass over x a
        chunk of rows at a time, keeping the recorded rows' layers and every row's output."""
        if self.record_rows is None:
            activity = self._activity(self.x)
            if any(self._bits):  # the quantized layers' own outputs, then the probabilities
                return activity[:-1], activity[-1]
            return activity, activity[-1]
        kept, outputs = [], []
        for start in range(0, len(self.x), _CHUNK):
            chunk = self._activity(self.x[start : start + _CHUNK])
            rows = self.record_rows[(self.record_rows >= start) & (self.record_rows < start + _CHUNK)] - start
            kept.append([layer[rows] for layer in chunk])
            outputs.append(chunk[-1])
        return [np.concatenate(layer) for layer in zip(*kept)], np.concatenate(outputs)

    def _per_layer(self, values: np.ndarray) -> np.ndarray:
        """(K, every layer's kernels, in order) norms -> (K, L): each layer's kernels' norms as the
        norm of their concatenation, sqrt(sum of squares); NaN for a recorded layer without one."""
        out = np.full((len(values), len(self._layers)), np.nan)
        start = 0
        for i, layer_kernels in enumerate(self._kernels):
            if layer_kernels:
                out[:, i] = np.sqrt(np.sum(values[:, start : start + len(layer_kernels)] ** 2, axis=1))
            start += len(layer_kernels)
        return out

    def _parameters(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Every layer's kernels (K, fan_in, units) and biases (K, units), zeros without a bias."""
        members = len(self.paths)
        kernels = [np.asarray(layer.kernel).reshape(members, *layer.kernel.shape[-2:]) for layer in self._layers]
        biases = [np.asarray(layer.bias).reshape(members, -1) if getattr(layer, "bias", None) is not None
                  else np.zeros((members, kernel.shape[-1]), np.float32) for layer, kernel in zip(self._layers, kernels)]
        return kernels, biases
