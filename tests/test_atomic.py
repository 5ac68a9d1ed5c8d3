import pytest

from ib_keras.system.atomic import atomic_path


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_finished_write_replaces_the_file_in_a_new_directory(tmp_path):
    path = tmp_path / "new" / "table.csv"
    with atomic_path(path) as partial:
        partial.write_text("new")
    assert path.read_text() == "new" and [p.name for p in path.parent.iterdir()] == ["table.csv"]
