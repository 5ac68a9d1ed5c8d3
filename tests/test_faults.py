"""Faults a careful user runs into: concurrent commands, kills, truncated and malformed files."""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from ib_keras.estimate import estimate_runs, file_hash, parse_estimators, read_table, run_files
from ib_keras.runfile import RunFileError, read_run
from ib_keras.system.locks import exclusive
from tests.helpers import ROOT, cli, cli_here, files, spawned_workers, wait_for, write_run

SPECS = "ebab,kde"


def _one_line_exit_2(result, *words):
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if "python -m ib_keras" in line]
    assert len(lines) == 1 and all(word in lines[0] for word in words), result.stderr


def test_a_second_train_into_a_configuration_being_written_stops_at_once(tmp_path):
    out = tmp_path / "runs"
    first = subprocess.Popen([sys.executable, "-m", "ib_keras", "train", "--activation", "relu", "--seeds", "1",
                              "--epochs", "100000", "--workers", "1", "--out", str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = out / "relu" / "seed-000.h5"

    def readable():  # created and in SWMR mode: a kill from here on leaves it readable
        try:
            return read_run(path, activity=False) is not None
        except RunFileError:
            return False

    try:
        wait_for(readable, 120)
        second = cli_here("train", "--activation", "relu", "--seeds", "2", "--epochs", "150", "--record-points", "8",
                          "--out", str(out))
        _one_line_exit_2(second, str(out / "relu"), "another train command is writing here")
        assert files(out) == [path]
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert read_run(path, activity=False).config["epochs"] == 100000  # the first command's file alone


def test_a_second_estimate_on_a_table_being_written_stops_at_once(tmp_path):
    run = write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0)
    out = tmp_path / "mi.parquet"
    with exclusive(tmp_path / ".mi.parquet.lock", "held by this test"):
        result = cli("estimate", str(run), "--estimators", "ebab", "--out", str(out), timeout=600)
    _one_line_exit_2(result, str(out), "another estimate is writing this table")
    assert not out.exists()


def _to_estimate(stderr: str) -> int:
    line = next(line for line in stderr.splitlines() if "run files to estimate" in line)
    return int(line.split()[0])


def test_a_killed_estimate_reruns_only_the_files_not_yet_kept(tmp_path):
    runs = [write_run(tmp_path / "runs" / "relu" / f"seed-{s:03d}.h5", s, epochs=25) for s in range(8)]
    args = ["estimate", str(runs[0].parent), "--estimators", SPECS, "--jobs", "1"]
    whole = cli_here(*args, "--out", str(tmp_path / "whole.parquet"))
    assert whole.returncode == 0 and _to_estimate(whole.stderr) == 8, whole.stderr

    out = tmp_path / "mi.parquet"
    parts = tmp_path / ".mi.parquet.parts"
    process = subprocess.Popen([sys.executable, "-m", "ib_keras", *args, "--out", str(out)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(list(parts.glob("*.parquet"))) >= 2 or process.poll() is not None, 120)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = len(list(parts.glob("*.parquet")))
    assert 2 <= kept < 8 and not out.exists()

    rerun = cli_here(*args, "--out", str(out))
    assert rerun.returncode == 0, rerun.stderr
    assert _to_estimate(rerun.stderr) == 8 - kept
    assert not parts.exists()
    pd.testing.assert_frame_equal(read_table(out), read_table(tmp_path / "whole.parquet"))


@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.1, 0.4, 0.9])
def test_a_truncated_run_is_named_and_skipped_not_waited_for(tmp_path, fraction):
    good = write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0)
    bad = tmp_path / "runs" / "relu" / "seed-001.h5"
    shutil.copy(good, bad)
    with open(bad, "r+b") as f:
        f.truncate(int(bad.stat().st_size * fraction))
    result = cli("estimate", str(good.parent), "--estimators", "ebab", "--jobs", "1", timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"skipped: {bad}: truncated" in result.stderr
    assert set(read_table(good.parent / "mi.parquet")["seed"]) == {0}
    _one_line_exit_2(cli("inspect", str(bad), timeout=600), str(bad), "truncated")


def _rename_layer(f):
    f.move("activations/layer_1", "activations/layer_x")


def _empty_activations(f):
    for name in list(f["activations"]):
        del f["activations"][name]


def _config_list(f):
    f.attrs["config"] = "[1, 2]"


def _config_activation_number(f):
    f.attrs["config"] = json.dumps({**json.loads(f.attrs["config"]), "activation": 5})


@pytest.mark.parametrize("damage", [_rename_layer, _empty_activations, _config_list, _config_activation_number])
def test_a_malformed_run_is_named_and_skipped(tmp_path, damage):
    good = write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0)
    bad = tmp_path / "runs" / "relu" / "seed-001.h5"
    shutil.copy(good, bad)
    with h5py.File(bad, "r+") as f:
        damage(f)
    messages = []
    table = estimate_runs([good.parent], parse_estimators("ebab"), tmp_path / "mi.parquet", progress=False,
                          report=messages.append)
    assert set(table["seed"]) == {0}
    assert any(m.startswith(f"skipped: {bad}") for m in messages), messages
    with pytest.raises(RunFileError, match=str(bad)):
        read_run(bad)
    _one_line_exit_2(cli("inspect", str(bad), timeout=600), str(bad))


def test_estimate_keeps_the_rows_of_a_file_that_became_unreadable(tmp_path):
    runs = [write_run(tmp_path / "runs" / "relu" / f"seed-{s:03d}.h5", s) for s in range(2)]
    out = tmp_path / "mi.parquet"
    before = estimate_runs(runs, parse_estimators("ebab"), out, progress=False)
    with open(runs[1], "r+b") as f:
        f.truncate(1000)
    messages = []
    after = estimate_runs(runs, parse_estimators("ebab"), out, progress=False, report=messages.append)
    pd.testing.assert_frame_equal(after, before)
    assert any(str(runs[1]) in m for m in messages)


def test_one_file_given_by_two_spellings_is_one_file(tmp_path):
    run = write_run(tmp_path / "d" / "seed-000.h5", 0)
    (tmp_path / "d" / "sub").mkdir()
    assert run_files([run, tmp_path / "d" / "sub" / ".." / "seed-000.h5"]) == [run]


def test_train_never_replaces_a_file_it_did_not_write(tmp_path):
    out = tmp_path / "runs"
    path = out / "relu" / "seed-000.h5"
    path.parent.mkdir(parents=True)
    for schema in (None, 2):  # another program's HDF5, and a run of another schema
        with h5py.File(path, "w") as f:
            f["data"] = np.arange(3)
            if schema is not None:
                f.attrs["schema_version"] = schema
        before = path.read_bytes()
        result = cli_here("train", "--activation", "relu", "--seeds", "1", "--epochs", "5", "--out", str(out))
        _one_line_exit_2(result, str(path), "--overwrite")
        assert path.read_bytes() == before


FIVE_EPOCHS = ["train", "--activation", "relu", "--seeds", "1", "--epochs", "5"]


@pytest.fixture(scope="module")
def five_epochs(tmp_path_factory):
    """One relu network trained for 5 epochs, the directory `train` wrote: copy it to change it."""
    out = tmp_path_factory.mktemp("five") / "runs"
    assert cli_here(*FIVE_EPOCHS, "--out", str(out)).returncode == 0
    return out


def test_a_truncated_complete_run_is_trained_again_not_kept(five_epochs, tmp_path):
    out = shutil.copytree(five_epochs, tmp_path / "runs")
    args = [*FIVE_EPOCHS, "--out", str(out)]
    path = out / "relu" / "seed-000.h5"
    assert read_run(path).complete
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    _one_line_exit_2(cli("inspect", str(path), timeout=600), str(path), "truncated")
    again = cli_here(*args)
    assert again.returncode == 0 and "1 networks to train, 0 already complete" in again.stdout, again.stderr
    assert read_run(path).complete


def test_a_directory_holds_one_configuration(five_epochs, tmp_path):
    out = shutil.copytree(five_epochs, tmp_path / "runs")
    before = files(out)
    result = cli_here("train", "--activation", "relu", "--first-seed", "2", "--protocol", "saxe", "--epochs", "4",
                      "--out", str(out))
    _one_line_exit_2(result, "another configuration", "epochs 5 vs 4", "protocol chelombiev vs saxe")
    assert files(out) == before


def _file_size_limit(size):
    """A pre-exec hook limiting files to ``size`` bytes: writes past it fail as on a full disk
    (EFBIG; Python ignores SIGXFSZ)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_a_disk_full_mid_training_is_one_line_and_a_rerun_finishes(tmp_path):
    out = tmp_path / "runs"
    args = ["train", "--activation", "tanh", "--seeds", "2", "--epochs", "100", "--record-points", "12",
            "--workers", "1", "--out", str(out)]
    full = cli(*args, timeout=600, preexec_fn=_file_size_limit(3_000_000))  # 13 recorded epochs: over 5 MB
    _one_line_exit_2(full, "seed-00", "cannot write (File too large)", "free disk space")
    assert "Traceback" not in full.stderr and "Segmentation" not in full.stderr
    again = cli_here(*args)
    assert again.returncode == 0, again.stderr
    assert [read_run(path).complete for path in files(out)] == [True, True]


def test_a_killed_estimate_worker_is_one_line_keeps_what_finished_and_a_rerun_completes(tmp_path):
    runs = [write_run(tmp_path / "runs" / "relu" / f"seed-{s:03d}.h5", s, epochs=30) for s in range(8)]
    args = ["estimate", str(runs[0].parent), "--estimators", SPECS]
    whole = estimate_runs(runs, parse_estimators(SPECS), tmp_path / "whole.parquet", progress=False)

    out = tmp_path / "mi.parquet"
    process = subprocess.Popen([sys.executable, "-m", "ib_keras", *args, "--jobs", "2", "--out", str(out)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parts = tmp_path / ".mi.parquet.parts"
    wait_for(lambda: any(parts.glob("*.parquet")) or process.poll() is not None, 120)
    assert process.poll() is None, "finished before a worker could be killed"
    spawned_workers(process)[0].kill()
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if "python -m ib_keras" in line]
    assert len(lines) == 1 and "a worker process died (killed, or out of memory)" in lines[0], stderr
    assert "Traceback" not in stderr and "rerun the same command" in lines[0]
    kept = read_table(out)["run"].nunique()
    assert 1 <= kept < 8 and not parts.exists()

    rerun = cli_here(*args, "--jobs", "1", "--out", str(out))  # here (a pool's table: test_mi_table.py)
    assert rerun.returncode == 0, rerun.stderr
    assert _to_estimate(rerun.stderr) == 8 - kept
    pd.testing.assert_frame_equal(read_table(out), whole)


def test_a_killed_training_worker_is_one_line_and_a_rerun_completes(tmp_path):
    out = tmp_path / "runs"
    args = ["train", "--activation", "relu", "--seeds", "2", "--epochs", "150", "--record-points", "25",
            "--workers", "2", "--out", str(out)]
    process = subprocess.Popen([sys.executable, "-m", "ib_keras", *args], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def recorded(seed):
        try:
            return len(read_run(out / "relu" / f"seed-{seed:03d}.h5", activity=False).epochs)
        except RunFileError:
            return 0

    wait_for(lambda: min(recorded(0), recorded(1)) >= 5 or process.poll() is not None, seconds=600)
    assert process.poll() is None, "finished before a worker could be killed"
    spawned_workers(process)[0].kill()
    _, stderr = process.communicate(timeout=600)
    lines = [line for line in stderr.splitlines() if "python -m ib_keras" in line]
    assert process.returncode == 2 and len(lines) == 1 and "Traceback" not in stderr, stderr
    assert "a training worker process died (killed, or out of memory)" in lines[0]
    assert "of the 2 networks to train are complete and kept: rerun the same command" in lines[0]

    rerun = cli_here(*args[:-4], "--workers", "1", *args[-2:])  # the same networks, in this process
    assert rerun.returncode == 0, rerun.stderr
    assert all(read_run(path).complete for path in files(out))


def test_a_fifo_or_a_device_named_h5_is_named_and_skipped_not_waited_for(tmp_path):
    good = write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0)
    fifo, device = good.parent / "seed-001.h5", good.parent / "seed-002.h5"
    os.mkfifo(fifo)
    device.symlink_to("/dev/zero")
    result = cli("estimate", str(good.parent), "--estimators", "ebab", "--jobs", "1", timeout=120)
    assert result.returncode == 0, result.stderr
    for path in (fifo, device):
        assert f"skipped: {path}: not a regular file" in result.stderr
    assert set(read_table(good.parent / "mi.parquet")["seed"]) == {0}


def test_one_directory_spelled_three_ways_before_and_after_a_retrain_is_one_network_each(tmp_path, monkeypatch):
    write_run(tmp_path / "r" / "relu" / "seed-000.h5", 0)
    write_run(tmp_path / "r" / "relu" / "seed-001.h5", 1)
    (tmp_path / "sub").mkdir()
    table = tmp_path / "r" / "mi.parquet"
    spellings = [("r", tmp_path), (str(tmp_path / "r"), ROOT), ("../r", tmp_path / "sub")]
    for retrained in (False, True):
        if retrained:  # the same configuration with new content, as `train --overwrite` gives
            with h5py.File(tmp_path / "r" / "relu" / "seed-000.h5", "r+") as f:
                f["activations/layer_0"][0] += 1.0
        for spelling, cwd in spellings:
            monkeypatch.chdir(cwd)
            result = cli_here("estimate", spelling, "--estimators", "ebab", "--jobs", "1", "--out", str(table))
            assert result.returncode == 0, result.stderr
    assert cli_here("summarize", str(table), "--out", str(tmp_path / "s")).returncode == 0
    networks = pd.read_parquet(tmp_path / "s" / "networks.parquet")
    assert networks["run"].nunique() == 2 and sorted(networks["seed"].unique()) == [0, 1]
    assert json.loads((tmp_path / "s" / "manifest.json").read_text())["runs"] == 2
    hashes = read_table(table).groupby("seed")["run_hash"].unique()
    assert list(hashes[0]) == [file_hash(tmp_path / "r" / "relu" / "seed-000.h5")]  # the retrained content alone
    assert len(hashes[1]) == 1


def _digests(directory):
    """Each file's content hash in ``directory`` (names starting with a dot left out)."""
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def test_a_killed_report_leaves_the_old_set_or_the_new_never_a_mixture(tmp_path):
    """noisy-report writes a table, figures and REPORT.md: killed at any moment, the directory
    holds the earlier report's files or (once the next command completes the set) the new ones."""
    from ib_keras.system.atomic import finish_pending

    table = pd.read_parquet(ROOT / "results" / "noisy" / "noisy.parquet")
    table = table[table["seed"] < 2]  # the shipped study's first 2 seeds: a smaller report, the same steps
    shipped, tanh = tmp_path / "both.parquet", tmp_path / "tanh.parquet"
    table.to_parquet(shipped)
    table[table["activation"] == "tanh"].to_parquet(tanh)
    new = tmp_path / "new"
    started = time.monotonic()
    assert cli("noisy-report", str(shipped), "--out", str(new)).returncode == 0
    duration = time.monotonic() - started
    out = tmp_path / "out"
    assert cli_here("noisy-report", str(tanh), "--out", str(out)).returncode == 0
    old, expected = _digests(out), _digests(new)
    assert old.keys() == expected.keys() and all(old[name] != expected[name] for name in old)
    for fraction in (0.5, 0.9):  # mid-way, and about when it renames the set into place
        process = subprocess.Popen([sys.executable, "-m", "ib_keras", "noisy-report", str(shipped), "--out", str(out)],
                                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(fraction * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        finish_pending(out)  # what the next command on the directory does first
        assert _digests(out) in (old, expected), fraction
    assert cli_here("noisy-report", str(shipped), "--out", str(out)).returncode == 0
    assert _digests(out) == expected and not list(out.glob(".*"))


def test_a_set_whose_renames_were_interrupted_is_completed_not_mixed(tmp_path):
    from ib_keras.system.atomic import finish_pending, output_set

    out = tmp_path / "out"
    with output_set(out) as staging:
        for name in ("a", "b", "c"):
            (staging / name).write_text("old")
    staging = out / ".staging.999999999"  # a set killed after its journal (no such process now), one file moved
    staging.mkdir()
    for name in ("b", "c"):
        (staging / name).write_text("new")
    (out / "a").write_text("new")
    (out / ".commit.json").write_text(json.dumps({"staging": staging.name, "files": ["a", "b", "c"]}))
    finish_pending(out)
    assert {p.name: p.read_text() for p in out.iterdir()} == {"a": "new", "b": "new", "c": "new"}


def test_a_second_writer_of_a_set_into_the_same_directory_stops_at_once(tmp_path):
    from ib_keras.system.atomic import output_set

    with output_set(tmp_path / "out") as staging:
        (staging / "REPORT.md").write_text("first")
        with pytest.raises(ValueError, match="another command is writing its outputs here"):
            with output_set(tmp_path / "out"):
                pass
    assert (tmp_path / "out" / "REPORT.md").read_text() == "first" and not list((tmp_path / "out").glob(".*"))
