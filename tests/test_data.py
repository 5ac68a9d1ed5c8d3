import numpy as np
import pytest
import scipy.io

from ib_keras.data.tishby import THRESHOLD, load_mat, split_indices, tishby_dataset


def test_generated_dataset_equals_the_original_file(var_u_path):
    original = scipy.io.loadmat(var_u_path)
    x, y = tishby_dataset()
    assert x.dtype == np.float32 and x.shape == (4096, 12)
    assert y.dtype == np.int64 and y.shape == (4096,)
    np.testing.assert_array_equal(x, original["F"])
    np.testing.assert_array_equal(y, original["y"].ravel())


def test_rows_are_binary_counting_order_most_significant_bit_first():
    x, _ = tishby_dataset()
    weights = 2 ** np.arange(11, -1, -1)
    np.testing.assert_array_equal(x @ weights, np.arange(4096))


def test_threshold_is_the_median_and_labels_are_balanced_as_published():
    _, y = tishby_dataset()
    assert THRESHOLD == pytest.approx(7.70130161670408)
    assert y.mean() == pytest.approx(0.51708984375)  # 2118 of 4096, as in var_u.mat


def test_load_mat_reads_a_var_u_style_file(tmp_path):
    x, y = tishby_dataset()
    path = tmp_path / "mine.mat"
    scipy.io.savemat(path, {"F": x.astype(np.uint8), "y": y[None, :].astype(np.uint8)})
    x2, y2 = load_mat(path)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize(
    "contents, message",
    [
        ({"F": np.zeros((4, 12))}, "missing field 'y'"),
        ({"F": np.zeros((4, 11)), "y": np.zeros((1, 4))}, "field 'F' has shape"),
        ({"F": np.zeros((4, 12)), "y": np.zeros((1, 5))}, "field 'y' has shape"),
    ],
)
def test_load_mat_names_the_field_that_is_wrong(tmp_path, contents, message):
    path = tmp_path / "bad.mat"
    scipy.io.savemat(path, contents)
    with pytest.raises(ValueError, match=message) as error:
        load_mat(path)
    assert str(path) in str(error.value)


def test_load_mat_rejects_a_file_that_is_not_matlab(tmp_path):
    path = tmp_path / "junk.mat"
    path.write_bytes(b"not a mat file at all")
    with pytest.raises(ValueError, match="cannot read"):
        load_mat(path)


def test_first_split_is_the_authors_unshuffled_split():
    train, test = split_indices(4096, "first")
    np.testing.assert_array_equal(train, np.arange(3277))
    np.testing.assert_array_equal(test, np.arange(3277, 4096))


def test_random_split_partitions_the_rows_reproducibly():
    train, test = split_indices(4096, "random", seed=7)
    assert len(train) == 3277 and len(test) == 819
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(4096))
    np.testing.assert_array_equal(train, split_indices(4096, "random", seed=7)[0])
    assert not np.array_equal(train, split_indices(4096, "random", seed=8)[0])


def test_unknown_split_lists_the_valid_ones():
    with pytest.raises(ValueError, match="random, first"):
        split_indices(4096, "shuffled")
