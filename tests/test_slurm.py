"""The SLURM path against a real one-node SLURM (scripts/slurm_node.sh: munged, slurmctld, slurmd
on this machine): a sweep as a job array whose jobs are cancelled and requeued, or ended at their
time limit and requeue themselves, resuming from their checkpoints to a local run's files; the
estimate stage as jobs, to the local stage's table. Where SLURM cannot start (not root, not
installed: `scripts/slurm_node.sh install`) these tests are skipped, the reason printed (-rs).
The SLURM-free parts (the shares of the estimate stage, a job's train options) are tested below
them, everywhere."""

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from ib_keras.estimate import estimate_runs, parse_estimators, read_table
from ib_keras.scaleout.slurm import runs
from ib_keras.train.checkpoint_file import read_checkpoint
from tests.helpers import ROOT, cli, cli_here, write_run
from tests.test_resume import _datasets, _runs

# A checkpoint every epoch (about 45 epochs/s here): a job's first run is paused (`_pause`) once its
# checkpoint has passed an epoch (polled every 0.1 s), long before its 200 epochs are done on any machine
SWEEP = ["--activations", "tanh,relu", "--seeds", "1", "--epochs", "200", "--record-points", "6"]
ESTIMATORS = "ebab,kde"
DEADLINE = 420  # seconds for the jobs to end
RELEASE_SECONDS = 2


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running one-node SLURM for the module, its SLURM_CONF in os.environ; skipped with the
    reason when it cannot start."""
    directory = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([ROOT / "scripts" / "slurm_node.sh", "start", directory], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.skip(f"no SLURM here: {started.stderr.strip()}")
    os.environ["SLURM_CONF"] = str(directory / "slurm.conf")
    yield directory
    del os.environ["SLURM_CONF"]
    subprocess.run([ROOT / "scripts" / "slurm_node.sh", "stop", directory], check=True)


def _scontrol(*args):
    return subprocess.run(["scontrol", *args], capture_output=True, text=True, check=True).stdout


def _state(job):
    """(JobState, Reason) of one job (an array task as J_T)."""
    shown = _scontrol("show", "job", job)
    return re.search(r"JobState=(\S+)", shown)[1], re.search(r"Reason=(\S+)", shown)[1]


def _until(condition, what, logs, seconds=DEADLINE, poll=0.5):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            shown = "\n".join(f"== {log.name}\n{log.read_text()[-2000:]}" for log in sorted(logs.glob("*.out")))
            pytest.fail(f"timed out waiting for {what}; the jobs' logs:\n{shown}")
        time.sleep(poll)


def _checkpointed(directory):
    """Whether a checkpoint in ``directory`` has passed an epoch."""
    return any((read_checkpoint(path) or {"epoch": 0})["epoch"] >= 1 for path in directory.glob("checkpoint-*.npz"))


def _pause(out, activation):
    """Stop (SIGSTOP) the job's training of ``activation`` into ``out``: it stays mid-training,
    however fast the machine, until SLURM ends the job (with SIGCONT and SIGTERM), and spends no
    CPU while the test waits for the time limit's warning (slurmctld checks limits every 30 s)."""
    def option(command, name):
        return command[command.index(name) + 1] if name in command else None

    training = [process for process in psutil.process_iter(["cmdline"])
                if (process.info["cmdline"] or [])[1:4] == ["-m", "ib_keras", "train"]
                and option(process.info["cmdline"], "--activation") == activation
                and option(process.info["cmdline"], "--out") == str(out)]
    assert len(training) == 1, training
    training[0].send_signal(signal.SIGSTOP)


def _release_when_requeued(job, logs, *settings):
    """Wait until ``job`` is pending again, then let it start (with scontrol's ``settings``) in
    RELEASE_SECONDS: SLURM holds a requeued job for two minutes (its BeginTime) before it may start
    again; started within the second its last run was ended, its launch fails ("Job credential
    revoked": the node compares the times in whole seconds)."""
    _until(lambda: _state(job) == ("PENDING", "BeginTime"), f"{job} requeued", logs)
    _scontrol("update", f"JobId={job}", f"StartTime=now+{RELEASE_SECONDS}", *settings)


def _log(logs, job, task):
    return (logs / f"ib-keras-train-{job}_{task}.out").read_text()


def test_a_sweep_on_slurm_cancelled_and_timed_out_resumes_to_the_local_runs(slurm, tmp_path):
    out, local = tmp_path / "slurm", tmp_path / "local"
    logs = out / "slurm"
    submitted = cli("sweep", *SWEEP, "--checkpoint-seconds", "0", "--out", str(out), "--slurm", "--time-limit", "10")
    assert submitted.returncode == 0, submitted.stderr
    planned = r"SLURM job (\d+): 2 job\(s\) .* time limit 10 min, .* 0 requeue\(s\) expected"
    job = re.search(planned, submitted.stdout)[1]
    reference = subprocess.Popen([sys.executable, "-m", "ib_keras", "sweep", *SWEEP, "--out", str(local),
                                  "--workers", "1"],
                                 cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    cancelled, timed = f"{job}_0", f"{job}_1"  # tanh, relu: the sweep's order

    _until(lambda: _checkpointed(out / "relu"), "relu's first checkpoint", logs, poll=0.1)
    _pause(out, "relu")
    _scontrol("update", f"JobId={timed}", "TimeLimit=1")  # its time limit near: the warning within 30 s, the requeue
    _until(lambda: _checkpointed(out / "tanh"), "tanh's first checkpoint", logs, poll=0.1)
    _pause(out, "tanh")
    # both tasks running (each with a job id of its own now), a second submission is refused, naming the array
    twice = cli_here("sweep", *SWEEP, "--out", str(out), "--slurm")  # two jobs would write the same files
    assert twice.returncode == 2 and f"SLURM job(s) {job} of {logs} are pending or running" in twice.stderr
    subprocess.run(["scancel", cancelled], check=True)  # as a user does: the job ends, CANCELLED
    _until(lambda: _state(cancelled)[0] == "CANCELLED", f"{cancelled} cancelled", logs)
    _scontrol("requeue", cancelled)  # ... and is put back in the queue
    _release_when_requeued(cancelled, logs)
    _release_when_requeued(timed, logs, "TimeLimit=10")  # its next run is not ended by the limit again

    _until(lambda: not subprocess.run(["squeue", "-h", "-j", job], capture_output=True, text=True).stdout.strip(),
           "the jobs to end", logs)
    assert reference.wait() == 0, reference.stderr.read()
    spans = runs(logs, "ib-keras-train")
    for task in (0, 1):
        log = _log(logs, job, task)
        assert [status for _, _, status in spans[(job, task)]] == [143, 0], log  # ended by SIGTERM, then done
        resumed = re.search(r"checkpoint-seed-000.npz resumes at epoch (\d+)", log)
        assert resumed and int(resumed[1]) >= 1, f"the requeued job did not resume from its checkpoint:\n{log}"
        assert "1 complete run files" in log
    assert "time limit near, requeued" in _log(logs, job, 1)
    for resumed, uninterrupted in zip(_runs(out), _runs(local), strict=True):
        (got, attrs), (want, want_attrs) = _datasets(resumed), _datasets(uninterrupted)
        assert attrs["complete"] and attrs["config"] == want_attrs["config"] and got.keys() == want.keys()
        np.testing.assert_array_equal(got["epochs"], want["schedule"])  # no gap, no epoch twice
        for name, value in want.items():
            np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=1e-6, err_msg=f"{resumed}: {name}")

    # requeued once more with its configuration complete, a job exits at once, training nothing
    _scontrol("requeue", cancelled)
    _release_when_requeued(cancelled, logs)
    _until(lambda: _log(logs, job, 0).count("start 2 at") == 1 and _state(cancelled)[0] == "COMPLETED",
           "the third run", logs)
    assert "0 networks to train, 1 already complete" in _log(logs, job, 0).split("start 2 at")[1]
    again = cli_here("sweep", *SWEEP, "--out", str(out), "--slurm")
    assert again.returncode == 0 and "nothing to submit" in again.stdout, again.stderr
    again = cli_here("train", "--activation", "relu", *SWEEP[2:], "--out", str(out), "--slurm")
    assert again.returncode == 0 and "every one of the 1 configurations is complete" in again.stdout, again.stderr

    # the estimate stage as SLURM jobs: the local stage's table, row for row
    table = out / "mi.parquet"
    estimated = cli("estimate", str(out), "--estimators", ESTIMATORS, "--out", str(table), "--slurm", "--time-limit",
                    "5", "--wait")
    assert estimated.returncode == 0, estimated.stderr
    assert re.search(r"SLURM jobs \d+ and \d+: 2 jobs estimating 2 run files", estimated.stdout)
    here = estimate_runs([out], parse_estimators(ESTIMATORS), tmp_path / "local.parquet", jobs=1, progress=False)
    pd.testing.assert_frame_equal(_sorted(read_table(table)), _sorted(here))
    assert not (out / ".mi.parquet.parts").exists()


def _sorted(table):
    return table.sort_values(["run", "estimator", "params", "epoch", "layer"]).reset_index(drop=True)


def test_the_shares_of_the_estimate_stage_then_the_stage_give_its_table(tmp_path):
    for seed in range(3):
        write_run(tmp_path / "runs" / f"seed-{seed:03d}.h5", seed)
    specs = parse_estimators("ebab,uniform")
    shared = tmp_path / "shared.parquet"
    kept = [estimate_runs([tmp_path / "runs"], specs, shared, progress=False, share=(i, 2)) for i in range(2)]
    assert not shared.exists(), "a share keeps its rows beside the table and does not write it"
    assert [frame["run"].nunique() for frame in kept] == [2, 1]
    assert len(list((tmp_path / ".shared.parquet.parts").glob("*.parquet"))) == 3
    written = estimate_runs([tmp_path / "runs"], specs, shared, progress=False)
    alone = estimate_runs([tmp_path / "runs"], specs, tmp_path / "alone.parquet", progress=False)
    pd.testing.assert_frame_equal(_sorted(written), _sorted(alone))
    refused = cli_here("estimate", str(tmp_path / "runs"), "--share", "2/2")
    assert refused.returncode == 2 and "'2/2' is not I/K" in refused.stderr


def test_a_jobs_train_options_make_the_configuration_planned(tmp_path):
    from ib_keras.cli import _parser, _train_spec
    from ib_keras.train.spec import TrainSpec

    for spec in (TrainSpec("relu", 0.015, epochs=30, record_points=4, split_seed=3),
                 TrainSpec("tanh", dataset="digits", hidden=(64, 16), quantize_bits=8, protocol="lorenzen")):
        args = _parser().parse_args(["train", *spec.train_options()])
        assert _train_spec(args, args.activation, args.l2) == spec


def test_slurm_options_are_refused_where_they_cannot_apply(tmp_path):
    refused = cli_here("sweep", "--activations", "tanh", "--out", str(tmp_path), "--wait")
    assert refused.returncode == 2 and "give --slurm too" in refused.stderr
    refused = cli_here("train", "--out", str(tmp_path), "--time-limit", "5")
    assert refused.returncode == 2 and "give --slurm too" in refused.stderr
    if subprocess.run(["which", "sbatch"], capture_output=True).returncode != 0:
        refused = cli_here("sweep", "--activations", "tanh", "--out", str(tmp_path), "--slurm")
        assert refused.returncode == 2 and "sbatch not found" in refused.stderr
    else:
        refused = cli_here("sweep", "--activations", "tanh", "--out", str(tmp_path), "--slurm", "--overwrite")
        assert refused.returncode == 2 and "leave out --overwrite (a requeued job would train afresh" in refused.stderr
        refused = cli_here("estimate", str(tmp_path), "--slurm", "--scheduler", "local:2", "--share", "1/2")
        assert refused.returncode == 2 and "leave out --scheduler, --share" in refused.stderr
        refused = cli_here("train", "--out", str(tmp_path), "--slurm", "--tensorboard", str(tmp_path / "tb"))
        assert refused.returncode == 2 and "leave out --tensorboard" in refused.stderr
    assert not any(tmp_path.iterdir())


def test_the_recipe_in_the_scale_out_page_is_the_commands_this_test_runs():
    words = " ".join((ROOT / "docs" / "scale-out.md").read_text().replace("\\\n", " ").split())
    assert " ".join(["sweep", *SWEEP, "--checkpoint-seconds 0 --out runs/x --slurm --time-limit 10"]) in words
    assert f"estimate runs/x --estimators {ESTIMATORS} --out runs/x/mi.parquet --slurm --time-limit 5 --wait" in words


def test_a_tasks_log_says_each_runs_start_and_its_commands_status_however_it_ended(tmp_path):
    """What the batch script execs (ib_keras.scaleout.slurm_task), outside SLURM: a command ended by
    the SIGTERM that ends a job, then one that exits 3, logged as two runs of one task."""
    log = tmp_path / "ib-keras-train-7_1.out"
    task = [sys.executable, "-m", "ib_keras.scaleout.slurm_task", sys.executable, "-c"]
    for restart, code in (("0", "import time\nprint('ready', flush=True)\ntime.sleep(120)"), ("1", "raise SystemExit(3)")):
        environment = {**os.environ, "SLURM_ARRAY_JOB_ID": "7", "SLURM_ARRAY_TASK_ID": "1", "SLURM_RESTART_COUNT": restart}
        with open(log, "a") as out:
            process = subprocess.Popen([*task, code], stdout=out, env=environment, cwd=ROOT)
            if restart == "0":
                _until(lambda: "ready" in log.read_text(), "the command", tmp_path, seconds=60, poll=0.05)
                process.send_signal(signal.SIGTERM)  # to the task, which passes it on
            process.wait(timeout=60)
        assert process.returncode == (143 if restart == "0" else 3)
    spans = runs(tmp_path, "ib-keras-train")
    assert list(spans) == [("7", 1)] and [status for _, _, status in spans[("7", 1)]] == [143, 3], log.read_text()
