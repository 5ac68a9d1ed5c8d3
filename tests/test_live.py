"""The information plane in TensorBoard while networks train: the events against the offline
estimate of the same recorded activity, a plain Keras model under model.fit, and a real
TensorBoard server."""

import io
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ib_keras import InformationPlaneLogger
from ib_keras.data.tishby import tishby_dataset
from ib_keras.estimate import read_table
from ib_keras.estimate.estimators import estimate_mi
from ib_keras.live.information_plane import PLANE_TAG, scalar_tag
from ib_keras.runfile import read_run

from .helpers import cli_here, files

SEEDS = 3
QUANTITIES = ("I(X;T)", "I(T;Y)")


def _events(run_dir: Path) -> EventAccumulator:
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def _series(events: EventAccumulator, tag: str) -> dict[int, float]:
    return {event.step: event.value for event in events.Scalars(tag)}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A 3-seed tanh training with --tensorboard, and the offline EBAB table of its run files."""
    root = tmp_path_factory.mktemp("live")
    trained = cli_here("train", "--activation", "tanh", "--seeds", str(SEEDS), "--epochs", "30", "--record-points", "8",
                       "--workers", "1", "--out", str(root / "runs"), "--tensorboard", str(root / "tb"))
    assert trained.returncode == 0, trained.stderr
    estimated = cli_here("estimate", str(root / "runs"), "--estimators", "ebab", "--jobs", "1")
    assert estimated.returncode == 0, estimated.stderr
    return root, read_table(root / "runs" / "mi.parquet")


def test_every_network_logs_each_layer_at_the_recorded_epochs_as_the_offline_estimate(live):
    root, table = live
    for seed in range(SEEDS):
        run = read_run(root / "runs" / "tanh" / f"seed-{seed:03d}.h5", activity=False)
        events = _events(root / "tb" / "tanh" / f"seed-{seed:03d}")
        layers = len(run.layers)
        expected_tags = {scalar_tag(q, layer, layers - 1) for q in QUANTITIES for layer in range(layers)}
        assert set(events.Tags()["scalars"]) == expected_tags and events.Tags()["images"] == [PLANE_TAG]
        rows = table[table["seed"] == seed]
        for layer in range(layers):
            offline = rows[rows["layer"] == layer].set_index("epoch")
            for quantity, column in zip(QUANTITIES, ("i_xt", "i_ty")):
                logged = _series(events, scalar_tag(quantity, layer, layers - 1))
                assert sorted(logged) == [int(e) for e in run.epochs]
                assert np.allclose([logged[int(e)] for e in run.epochs], offline.loc[run.epochs, column],
                                   rtol=1e-6, atol=1e-6)  # TensorBoard keeps float32


def test_every_network_has_its_information_plane_as_an_image(live):
    root, _ = live
    for seed in range(SEEDS):
        events = _events(root / "tb" / "tanh" / f"seed-{seed:03d}")
        [image] = events.Images(PLANE_TAG)  # the end of training (8 recorded epochs < 16)
        png = image.encoded_image_string
        assert png.startswith(b"\x89PNG") and image.width > 200 and image.height > 200
        assert (image.width, image.height) == Image.open(io.BytesIO(png)).size
        assert image.step == max(read_run(root / "runs" / "tanh" / f"seed-{seed:03d}.h5", activity=False).epochs)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_a_real_tensorboard_serves_each_networks_scalars(live):
    root, _ = live
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("tensorboard")), "--logdir", str(root / "tb"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        runs = []
        while len(runs) < SEEDS and time.monotonic() < deadline:
            try:
                runs = _get(f"{base}/data/runs")
            except OSError:
                time.sleep(0.5)
        assert sorted(runs) == [f"tanh/seed-{seed:03d}" for seed in range(SEEDS)]
        tag = scalar_tag("I(X;T)", 4, 5)
        query = urllib.parse.urlencode({"run": "tanh/seed-001", "tag": tag})
        served = _get(f"{base}/data/plugin/scalars/scalars?{query}")  # [[wall time, step, value], ...]
        logged = _series(_events(root / "tb" / "tanh" / "seed-001"), tag)
        assert {step: value for _, step, value in served} == pytest.approx(logged)
        images = _get(f"{base}/data/plugin/images/tags")
        assert all(PLANE_TAG in images[f"tanh/seed-{seed:03d}"] for seed in range(SEEDS))
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0, server.stderr.read()


def test_a_plain_keras_model_under_model_fit_logs_without_a_recorder(tmp_path):
    x, y = tishby_dataset()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    logger = InformationPlaneLogger(tmp_path / "tb", x, y, epochs=[0, 1, 3], estimator="akde", image_every=2)
    model.fit(x, np.eye(2)[y], epochs=3, batch_size=256, verbose=0, callbacks=[logger])
    events = _events(tmp_path / "tb" / "network")
    hidden = keras.Model(model.inputs, model.layers[0].output).predict(x, verbose=0)
    logged = _series(events, scalar_tag("I(X;T)", 0, 1))
    assert sorted(logged) == [0, 1, 3]
    assert logged[3] == pytest.approx(estimate_mi(hidden, y, "akde")[0], rel=1e-6)
    assert [image.step for image in events.Images(PLANE_TAG)] == [1, 3]  # every second epoch, and the end


def test_a_live_view_says_when_its_estimator_shows_nothing_and_defaults_to_akde(tmp_path, capsys):
    """Issue 41: EBAB on 200 inputs and a 16-unit layer keeps them apart at every epoch: said once
    on the console (and drawn in the image); the default estimator is aKDE."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(200, 20)).astype(np.float32), np.arange(200) % 2
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="tanh", name="wide"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    logger = InformationPlaneLogger(tmp_path / "tb", x, y, epochs=[0, 1, 2], estimator="ebab")
    model.fit(x, np.eye(2)[y], epochs=2, batch_size=50, verbose=0, callbacks=[logger])
    assert capsys.readouterr().out.splitlines() == [
        "InformationPlaneLogger, network, ebab: saturated: wide at log2 N = 7.64 bits throughout (every input kept "
        "apart); this estimator shows nothing there: see docs/estimators.md, \"Which estimator\""]
    assert InformationPlaneLogger(tmp_path / "default", x, y, epochs=[0]).spec.method == "akde"  # the default


@pytest.mark.parametrize("setting, reason", [("uniform", "span the whole run's activity"),
                                             ("sp", "estimate sp afterwards")])
def test_an_estimator_that_needs_the_whole_run_is_refused_before_anything_is_written(tmp_path, setting, reason):
    result = cli_here("train", "--activation", "relu", "--epochs", "2", "--out", str(tmp_path / "runs"),
                      "--tensorboard", str(tmp_path / "tb"), "--tensorboard-estimator", setting, "--noise-std", "0.1")
    assert result.returncode == 2 and reason in result.stderr
    assert files(tmp_path) == []
