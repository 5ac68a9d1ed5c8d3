"""The estimate and train stages on a real Dask LocalCluster (worker processes): the same results
as the local path, a killed worker loses nothing, an unreachable scheduler is one line."""

import signal
import socket
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import psutil
import pytest

from ib_keras.estimate import read_table
from ib_keras.runfile import read_run
from ib_keras.scaleout.cluster import dask_client, worker_threads
from tests.helpers import ROOT, cli, cli_here, files, spawned_workers, wait_for, write_run

SPECS = "ebab,kde,akde"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cluster") / "runs" / "relu"
    for seed in range(8):
        write_run(directory / f"seed-{seed:03d}.h5", seed, epochs=30)
    local = cli_here("estimate", str(directory), "--estimators", SPECS, "--jobs", "1",
                     "--out", str(directory.parent / "local.parquet"))
    assert local.returncode == 0, local.stderr
    return directory


def test_the_cluster_gives_the_local_table_row_for_row(runs, tmp_path):
    result = cli("estimate", str(runs), "--estimators", SPECS, "--scheduler", "local:2",
                 "--out", str(tmp_path / "mi.parquet"), timeout=600)
    assert result.returncode == 0, result.stderr
    pd.testing.assert_frame_equal(read_table(tmp_path / "mi.parquet"), read_table(runs.parent / "local.parquet"))


def test_a_worker_killed_mid_run_loses_no_result(runs, tmp_path):
    out = tmp_path / "mi.parquet"
    process = subprocess.Popen([sys.executable, "-m", "ib_keras", "estimate", str(runs), "--estimators", SPECS,
                                "--scheduler", "local:2", "--out", str(out)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    parts = tmp_path / ".mi.parquet.parts"
    wait_for(lambda: any(parts.glob("*.parquet")) or process.poll() is not None, 300)
    assert process.poll() is None, "finished before a worker could be killed"
    victim = spawned_workers(process)[0]
    victim.send_signal(signal.SIGKILL)  # its task is rescheduled on the other worker or its restart
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0 and "skipped" not in stderr, stderr
    pd.testing.assert_frame_equal(read_table(out), read_table(runs.parent / "local.parquet"))


def test_a_killed_client_leaves_the_existing_table_and_no_workers(runs, tmp_path):
    out = tmp_path / "mi.parquet"
    assert cli_here("estimate", str(runs), "--estimators", "ebab", "--jobs", "1", "--out", str(out)).returncode == 0
    before = out.read_bytes()
    process = subprocess.Popen([sys.executable, "-m", "ib_keras", "estimate", str(runs), "--estimators", SPECS,
                                "--scheduler", "local:2", "--out", str(out)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(spawned_workers(process)) == 2 or process.poll() is not None, 300)
    workers = spawned_workers(process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert out.read_bytes() == before
    wait_for(lambda: not any(worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE for worker in workers), 60)


def test_a_local_cluster_counts_the_workers_it_is_still_starting():
    with dask_client("local:3") as client:  # the block plans its tasks for 3 while they start
        assert worker_threads(client) == 3
        client.wait_for_workers(3)
        assert worker_threads(client) == sum(client.nthreads().values()) == 3


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(runs, tmp_path):
    out = tmp_path / "new" / "mi.parquet"
    result = cli("estimate", str(runs), "--scheduler", "tcp://127.0.0.1:9", "--out", str(out), timeout=120)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr and not out.parent.exists()


def test_a_sweep_on_the_cluster_trains_the_files_a_local_one_does_and_resumes(tmp_path):
    """The cluster's files against a local sweep's in one process (which writes train's files:
    test_sweep.py), and a rerun on the cluster's directory that keeps them."""
    args = ["--activations", "tanh", "--l2-activations", "relu", "--seeds", "2", "--epochs", "20", "--record-points", "5"]
    sweep = cli("sweep", *args, "--scheduler", "local:2", "--out", str(tmp_path / "cluster"), timeout=600)
    assert sweep.returncode == 0, sweep.stderr
    local = cli_here("sweep", *args, "--workers", "1", "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    names = [path.relative_to(tmp_path / "local") for path in files(tmp_path / "local")]
    assert [path.relative_to(tmp_path / "cluster") for path in files(tmp_path / "cluster")] == names
    for name in names:
        one, two = read_run(tmp_path / "cluster" / name), read_run(tmp_path / "local" / name)
        assert one.complete and one.config == two.config
        for a, b in zip(one.activity, two.activity):  # one thread against two: float32 rounding apart
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
    again = cli_here("sweep", *args, "--workers", "1", "--out", str(tmp_path / "cluster"))
    assert again.returncode == 0 and again.stdout.count("0 trained, 2 already complete") == 2, again.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lines(stream, into):
    """Collect a process's output lines as they come (in a thread: reading blocks)."""
    threading.Thread(target=lambda: into.extend(stream), daemon=True).start()
    return into


def test_an_external_cluster_gets_absolute_paths_and_a_scheduler_without_workers_is_said(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    client_dir, worker_dir = tmp_path / "client", tmp_path / "elsewhere"
    client_dir.mkdir()
    worker_dir.mkdir()
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        sweep = subprocess.Popen([sys.executable, "-m", "ib_keras", "sweep", "--activations", "relu", "--seeds", "1",
                                  "--epochs", "20", "--record-points", "5", "--out", "p33", "--scheduler", address],
                                 cwd=client_dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        said = _lines(sweep.stderr, [])
        wait_for(lambda: any("has no workers; waiting for one" in line for line in said) or sweep.poll() is not None,
                 300)
        assert sweep.poll() is None, said  # it keeps waiting
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--no-dashboard"], cwd=worker_dir, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        assert sweep.wait(timeout=600) == 0, said
        assert read_run(client_dir / "p33" / "relu" / "seed-000.h5").complete
        assert list(worker_dir.iterdir()) == []  # nothing where the worker stands
        estimate = cli("estimate", "p33", "--estimators", "ebab", "--scheduler", address, cwd=client_dir, timeout=600)
        assert estimate.returncode == 0 and "skipped" not in estimate.stderr, estimate.stderr
        assert read_table(client_dir / "p33" / "mi.parquet")["run"].nunique() == 1
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.kill()
                process.wait()


def test_a_worker_that_cannot_see_the_clients_files_fails_the_task_with_one_line(tmp_path):
    from ib_keras.estimate import parse_estimators
    from ib_keras.estimate.tasks import Task, estimate_cluster_task

    missing = tmp_path / "not-mounted-here" / "seed-000.h5"
    rows, error = estimate_cluster_task(Task(missing, "", tuple(parse_estimators("ebab")), None, None, 0.0))
    assert rows is None and error.startswith(f"{missing}: not there on the Dask worker on {socket.gethostname()}")
    assert "need the client's files at the same paths" in error and "\n" not in error
