import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ib_keras.runfile import read_run
from ib_keras.train.spec import TrainSpec
from tests.helpers import ROOT, cli_here, cut_growing_datasets, files


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    result = cli_here("train", "--activation", "tanh", "--seeds", "3", "--epochs", "6", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_writes_one_complete_file_per_seed_and_says_where(trained):
    out, result = trained
    assert [p.name for p in files(out)] == ["seed-000.h5", "seed-001.h5", "seed-002.h5"]
    assert all(read_run(p, activity=False).complete for p in files(out))
    assert f"{out / 'tanh'}: 3 complete run files" in result.stdout
    assert "planned disk use" in result.stdout


def test_rerun_skips_complete_seeds(trained):
    out, _ = trained
    before = {p: p.stat().st_mtime_ns for p in files(out)}
    result = cli_here("train", "--activation", "tanh", "--seeds", "3", "--epochs", "6", "--out", str(out))
    assert result.returncode == 0 and "0 networks to train, 3 already complete" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in files(out)} == before


def test_a_complete_run_of_another_configuration_is_not_overwritten(trained):
    out, _ = trained
    before = {p: p.stat().st_mtime_ns for p in files(out)}
    result = cli_here("train", "--activation", "tanh", "--seeds", "1", "--epochs", "7", "--out", str(out))
    assert result.returncode == 2
    assert "another configuration" in result.stderr and "--overwrite" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in files(out)} == before


def test_inspect_prints_config_epochs_layers_and_accuracies(trained):
    out, _ = trained
    result = cli_here("inspect", str(out / "tanh" / "seed-001.h5"))
    assert result.returncode == 0, result.stderr
    for expected in ("complete", "activation: tanh", "seed: 1", "epochs: 7 recorded", " softmax = layer_5: softmax",
                     "activity (7, 4096, 10)", "test accuracy"):
        assert expected in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--activation", "gelu"], "invalid choice: 'gelu' (choose from 'tanh', 'relu', 'softsign'"),
        (["train", "--activation", "relu", "--seeds", "0"], "'0' is not a whole number from 1 to"),
        (["train", "--activation", "relu", "--seeds", "99999999999999999999"], "is not a whole number from 1 to"),
        (["train", "--activation", "relu", "--epochs", "99999999999999999999"], "is not a whole number of epochs"),
        (["train", "--activation", "relu", "--record-points", "1000000000"], "is not a whole number from 1 to"),
        (["train", "--activation", "relu", "--l2", "nan"], "'nan' is not an L2 strength from 0 to 1000"),
        (["train", "--activation", "relu", "--l2", "1e300"], "'1e300' is not an L2 strength from 0 to 1000"),
        (["train", "--activation", "relu", "--protocol", "mine"], "invalid choice"),
        (["train", "--activation", "relu", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_one_line_exit_2_and_write_nothing(tmp_path, args, message):
    result = cli_here(*args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_an_unwritable_output_directory_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = cli_here("train", "--activation", "relu", "--epochs", "1", "--out", str(blocker / "runs"))
    assert result.returncode == 2
    assert "choose another --out" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.write_bytes(b"garbage")])
def test_inspect_of_a_missing_or_corrupt_file_is_one_line_exit_2(tmp_path, make):
    path = tmp_path / "run.h5"
    make(path)
    result = cli_here("inspect", str(path))
    assert result.returncode == 2
    assert str(path) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_estimate_writes_the_table_beside_the_runs(trained):
    out, _ = trained
    result = cli_here("estimate", str(out), "--estimators", "ebab,fixed", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    table = pd.read_parquet(out / "mi.parquet")
    assert set(table["estimator"]) == {"ebab", "fixed"} and table["run"].nunique() == 3
    assert f"{out / 'mi.parquet'}: {len(table)} rows, 3 runs" in result.stdout


@pytest.mark.parametrize("estimators, message", [("ebab,gauss", "unknown estimator 'gauss'"),
                                                 ("ebab:n_bins=0", "n_bins must be"),
                                                 ("fixed:bin_size=1e-300", "bin_size must be a number from 1e-09"),
                                                 ("akde:variance_scale=1e300", "variance_scale must be a number"),
                                                 ("uniform:hi=foo", "hi must be a finite number")])
def test_estimate_with_a_bad_estimator_is_one_line_exit_2(trained, tmp_path, estimators, message):
    out, _ = trained
    result = cli_here("estimate", str(out), "--estimators", estimators, "--out", str(tmp_path / "mi.parquet"))
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "mi.parquet").exists()


def test_estimate_of_a_missing_directory_is_one_line_exit_2(tmp_path):
    result = cli_here("estimate", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "no such file or directory" in result.stderr


@pytest.mark.parametrize("command", ["plot", "report"])
def test_plot_and_report_of_a_missing_table_are_one_line_exit_2(tmp_path, command):
    result = cli_here(command, str(tmp_path / "mi.parquet"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "no such MI table" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_seeds_shared_between_workers_give_the_files_of_one_process(trained, tmp_path, capfd):
    one_process, _ = trained  # the module's three seeds, trained in this process as one model
    capfd.readouterr()
    result = cli_here("train", "--activation", "tanh", "--seeds", "3", "--epochs", "6", "--workers", "2",
                      "--out", str(tmp_path))  # shares of two seeds (one model) and one
    assert result.returncode == 0, result.stderr
    # the two worker processes import ib_keras before TensorFlow: oneDNN is off, silently (their stderr is this one's)
    assert "oneDNN" not in capfd.readouterr().err
    for seed in range(3):
        one, two = (read_run(root / "tanh" / f"seed-{seed:03d}.h5") for root in (one_process, tmp_path))
        assert one.config == two.config and two.complete
        for a, b in zip(one.activity, two.activity):  # equal up to float32 rounding (a few ulp)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
        for name in one.metrics:
            np.testing.assert_allclose(one.metrics[name], two.metrics[name], rtol=1e-6)
        np.testing.assert_allclose(one.grad_mean, two.grad_mean, rtol=1e-5)


def test_a_network_too_large_for_memory_is_one_line_and_leaves_no_directory(tmp_path, capsys):
    from ib_keras.cli import main

    code = main(["train", "--activation", "relu", "--hidden", ",".join(["10000"] * 100), "--record-points", "1",
                 "--out", str(tmp_path / "new" / "runs")])
    stderr = capsys.readouterr().err
    assert code == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert "GB of memory to train" in stderr and "choose smaller --hidden widths" in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_non_utf8_out_is_one_line_naming_it(tmp_path, capsys):
    from ib_keras.cli import main

    out = str(tmp_path / "runs\udcff")  # the byte 0xff in a path, as Python gives it from the command line
    for args in (["train", "--activation", "relu", "--epochs", "1"], ["estimate", str(tmp_path)],
                 ["summarize", str(tmp_path / "mi.parquet")], ["plot", str(tmp_path)], ["report", str(tmp_path)]):
        with pytest.raises(SystemExit) as exit:
            main([*args, "--out", out])
        stderr = capsys.readouterr().err
        assert exit.value.code == 2 and len(stderr.strip().splitlines()) == 1, stderr
        assert "runs\\xff' is not a UTF-8 path" in stderr
    assert list(tmp_path.iterdir()) == []


def test_inspect_of_a_table_or_a_data_file_says_what_it_is_not(tmp_path):
    for name, content in (("mi.parquet", b"PAR1...."), ("data.npz", b"PK\x03\x04....")):
        (tmp_path / name).write_bytes(content)
        result = cli_here("inspect", str(tmp_path / name))
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert f"{tmp_path / name}: not an HDF5 file (8 bytes), so not a run file" in result.stderr
        assert "train it again" not in result.stderr


def test_inspect_into_a_closed_pipe_prints_no_error(trained):
    out, _ = trained
    result = subprocess.run(f"{sys.executable} -m ib_keras inspect {out / 'tanh' / 'seed-000.h5'} | head -1",
                            shell=True, capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.count("\n") == 1 and result.stderr == "", result.stderr


def test_inspect_says_why_a_run_is_incomplete(trained, tmp_path):
    import shutil

    out, _ = trained
    path = tmp_path / "seed-000.h5"
    shutil.copy(out / "tanh" / "seed-000.h5", path)
    cut_growing_datasets(path, 2)
    result = cli_here("inspect", str(path))
    assert f"{path}: INCOMPLETE (marked complete but holds 2 of the 7 epochs its schedule records; rerun its train command)" in result.stdout


@pytest.mark.parametrize("args, code, words", [
    (["--help"], 0, "Reproduce a study end to end"),
    (["--help"], 0, "--noisy      noisy networks (Goldfeld"),  # the modes, from the registry
    (["--quick", "--full"], 2, "give one mode, not --quick and --full"),
    (["--full", "--baselines"], 2, "give one mode, not --full and --baselines"),
    (["--bogus-mode"], 2, "unknown option '--bogus-mode'; modes: --quick, --full, --baselines, --noisy"),
    (["--scheduler"], 2, "--scheduler needs an ADDRESS"),
    (["--bogus"], 2, "unknown option '--bogus'"),
])
def test_run_all_options_are_checked_before_anything_runs(args, code, words):
    result = subprocess.run([str(ROOT / "run_all.sh"), *args], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == code and words in result.stdout + result.stderr
    assert "plan (" not in result.stdout


def test_a_complete_file_short_of_its_schedule_is_trained_again(trained, tmp_path):
    import shutil

    from ib_keras.train.runs import plan_training
    from ib_keras.train.spec import TrainSpec

    out, _ = trained
    shutil.copytree(out / "tanh", tmp_path / "tanh")
    cut_growing_datasets(tmp_path / "tanh" / "seed-001.h5", 2)
    plan = plan_training(TrainSpec("tanh", epochs=6), [0, 1], tmp_path)  # what `train` would do
    assert (plan.todo, plan.done) == ([1], [0])


@pytest.mark.parametrize("args, message", [
    (["--noise-std", "1e-30"], "'1e-30' is not 0 (a deterministic network) or a noise standard deviation from 1e-15"),
    (["--tensorboard-estimator", "akde"], "--tensorboard-estimator sets the estimator of --tensorboard DIR"),
    (["--tensorboard", "{tmp}/a-file"], "--tensorboard {tmp}/a-file: not a directory"),
])
def test_train_options_that_cannot_work_are_refused_before_the_plan(tmp_path, args, message):
    (tmp_path / "a-file").write_text("not a directory")
    args, message = [arg.format(tmp=tmp_path) for arg in args], message.format(tmp=tmp_path)
    result = cli_here("train", "--activation", "relu", "--epochs", "2", *args, "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "networks to train" not in result.stdout and not (tmp_path / "out").exists()


def test_a_table_of_subsample_rows_alone_is_one_line_for_report_and_plot(tmp_path):
    from tests.helpers import write_run

    write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0, epochs=2)
    table = tmp_path / "sub.parquet"
    made = cli_here("estimate", str(tmp_path / "runs"), "--estimators", "ebab,akde", "--samples", "64", "--jobs", "1",
                    "--out", str(table))
    assert made.returncode == 0, made.stderr
    for command in (["report", str(table), "--out", str(tmp_path / "R.md")], ["plot", str(table), "--out", str(tmp_path / "f")]):
        result = cli_here(*command)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert "no rows at an estimator's default settings on all inputs" in result.stderr
        assert "estimate the runs without --samples" in result.stderr


def test_a_run_file_with_no_recorded_epochs_is_named_with_its_cause(tmp_path):
    from ib_keras.data.tishby import tishby_dataset
    from ib_keras.runfile import LayerSpec, RunWriter

    x, y = tishby_dataset()
    path = tmp_path / "runs" / "seed-000.h5"
    RunWriter(path, x, y, np.arange(10), np.arange(10, 20), [LayerSpec(2, "softmax")], {"activation": "relu"},
              []).finish()
    result = cli_here("estimate", str(tmp_path / "runs"), "--estimators", "ebab", "--out", str(tmp_path / "mi.parquet"))
    assert result.returncode == 2
    assert f"{path}: no recorded epochs" in result.stderr and "worker process" not in result.stderr


_ADAPTIVE_ONLY = ["fig7_activations", "fig_compression_by_activation", "fig_mi_epochs"]


@pytest.mark.parametrize("activation, hidden, drawn_expected", [
    ("linear", ["linear"], _ADAPTIVE_ONLY),
    # a user's CNN as the recorder labels it: a ReLU convolution, then a BatchNormalization and tanh
    ("relu", ["relu", "batch_normalization+tanh"],
     [*_ADAPTIVE_ONLY, "fig1_max_activity", "fig2_ebab_bins", "fig3_estimators", "fig5_relu_single_seeds",
      "fig6_relu_mean", "fig_snr"]),
])
def test_plot_draws_what_applies_to_one_users_network_and_names_the_rest(tmp_path, monkeypatch, activation, hidden,
                                                                         drawn_expected):
    """A user's model, one network, its layers not all the paper's: the figures that apply are
    drawn, with no empty panel, and the others are named with what they lack; figure 2's ReLU
    sample is its last ReLU layer (not the tanh one after it)."""
    from ib_keras.analysis.summary import summarize
    from ib_keras.data.tishby import tishby_dataset
    from ib_keras.estimate import estimate_runs, parse_estimators
    from ib_keras.runfile import METRICS, LayerSpec, RunWriter
    from ib_keras.plots import planes
    from ib_keras.studies.paper import extension_figures
    from ib_keras.studies.paper.figures import FIGURES, make_figures, not_drawn

    x, y = tishby_dataset()
    rng = np.random.default_rng(0)
    functions = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "batch_normalization+tanh": np.tanh}
    weights = [rng.normal(size=(12, 3)) for _ in hidden]
    specs = [*(LayerSpec(3, name) for name in hidden), LayerSpec(2, "softmax")]
    writer = RunWriter(tmp_path / "runs" / activation / "seed-000.h5", x, y, np.arange(3277), np.arange(3277, 4096),
                       specs, {"activation": activation, "seed": 0}, range(3))
    for epoch in range(3):
        logits = x @ rng.normal(size=(12, 2)) * (1 + epoch)
        output = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
        layers = [functions[name](x @ w * (1 + epoch)).astype(np.float32) for name, w in zip(hidden, weights)]
        writer.append(epoch, [*layers, output], dict.fromkeys(METRICS, 0.5), *[np.ones(len(specs))] * 3)
    writer.finish()
    table = estimate_runs([tmp_path / "runs"], parse_estimators("ebab,akde"), tmp_path / "mi.parquet", progress=False)
    summary = summarize(table)
    empty = []
    for module in (planes, extension_figures):
        monkeypatch.setattr(module, "empty_axes", lambda ax, text: empty.append(text))
    drawn = make_figures(summary, tmp_path / "figures", pdf=False)
    assert empty == []  # no "no data" panel, no blank one
    assert sorted(path.stem for path in drawn) == sorted(drawn_expected)
    assert (tmp_path / "figures" / "fig7_activations.png").stat().st_size > 10_000
    missing = not_drawn(summary)
    assert "1 network(s)" in missing["fig9_generalization"] and "fig8_l2" in missing
    assert set(missing) | {path.stem for path in drawn} == {figure.name for figure in FIGURES}
    if activation == "relu":
        assert summary.manifest["sample"]["layer"] == 0


def test_a_refused_or_complete_training_never_starts_tensorflow(trained):
    """The plan and its checks come before TensorFlow's start-up: a rerun with every network complete
    and a refused configuration take no time to say so."""
    out, _ = trained
    probe = ("import sys; from ib_keras.cli import main; code = main(sys.argv[1:]); "
             "print(code, 'tensorflow' in sys.modules)")
    for args, expected in ((["--seeds", "2", "--epochs", "6"], "0 False"), (["--seeds", "1", "--epochs", "7"], "2 False")):
        result = subprocess.run([sys.executable, "-c", probe, "train", "--activation", "tanh", *args, "--out", str(out)],
                                capture_output=True, text=True, cwd=ROOT)
        assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


def test_a_stratified_sample_recorded_in_float16_is_the_float32_recording_of_those_inputs_rounded(trained, tmp_path):
    out, result = trained
    assert "of training on this machine" in result.stdout
    sample = cli_here("train", "--activation", "tanh", "--seeds", "3", "--epochs", "6", "--record-inputs", "101",
                      "--record-dtype", "float16", "--out", str(tmp_path))
    assert sample.returncode == 0, sample.stderr
    spec = TrainSpec("tanh", epochs=6, record_inputs=101, record_dtype="float16")
    rows = spec.recorded_rows()
    assert len(rows) == 101 and np.all(np.diff(rows) > 0)
    assert not np.array_equal(rows, TrainSpec("tanh", epochs=6, split_seed=3, record_inputs=101).recorded_rows())
    y = spec.data().y
    share = 101 * np.mean(y == 1)
    assert np.sum(y[rows] == 1) in (np.floor(share), np.ceil(share))  # stratified: each class its share
    for seed in (0, 1, 2):
        whole = read_run(out / "tanh" / f"seed-{seed:03d}.h5")
        part = read_run(tmp_path / "tanh" / f"seed-{seed:03d}.h5")
        assert part.config["record_inputs"] == 101 and part.config["record_dtype"] == "float16"
        np.testing.assert_array_equal(part.x, whole.x[rows])
        for a_whole, a_part in zip(whole.activity, part.activity, strict=True):
            np.testing.assert_array_equal(a_part, a_whole[:, rows].astype(np.float16))
        np.testing.assert_array_equal(part.metrics["train_loss"], whole.metrics["train_loss"])


def _one_error_line(result, *parts):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and all(part in lines[0] for part in parts), result.stderr


def test_messages_name_the_file_and_the_fix(tmp_path):
    """Issue 40, item 16: each refusal is one line saying what is wrong and what to do."""
    from ib_keras import write_run_arrays
    from ib_keras.estimate import parse_estimators
    from ib_keras.runfile import LayerSpec, RunWriter
    from ib_keras.system.locks import exclusive
    from tests.helpers import write_run

    run = write_run(tmp_path / "runs" / "relu" / "seed-000.h5", 0)
    (tmp_path / "figure.png").mkdir()
    _one_error_line(cli_here("plane", str(run), "--out", str(tmp_path / "figure.png")),
                    "figure.png is a directory; give the figure's file name")
    own = write_run_arrays(tmp_path / "own" / "seed-000.h5", [0, 1], [np.random.default_rng(0).random((2, 8, 3)),
                                                                       np.full((2, 8, 2), 0.5)], np.arange(8) % 2)
    assert cli_here("estimate", str(own.parent), "--estimators", "ebab", "--jobs", "1").returncode == 0
    _one_error_line(cli_here("baselines", str(own.parent / "mi.parquet"), "--out", str(tmp_path / "b")),
                    "a summary whose runs name no protocol")
    # a run that a live train is writing: its directory locked as train locks it
    x = np.zeros((4, 12), np.float32)
    live = tmp_path / "live" / "relu" / "seed-000.h5"
    RunWriter(live, x, np.arange(4) % 2, np.arange(3), [3], [LayerSpec(2, "softmax")], {}, [0, 1]).close()
    with exclusive(live.parent, "busy"):
        assert "INCOMPLETE (a train command is writing it now: wait for it to finish)" in cli_here(
            "inspect", str(live)).stdout
        _one_error_line(cli_here("estimate", str(live), "--estimators", "ebab", "--out", str(tmp_path / "l.parquet")),
                        "a train command is writing it now")
    assert "training was interrupted; rerun its train command" in cli_here("inspect", str(live)).stdout
    with pytest.raises(ValueError, match="exact: unknown parameter\\(s\\) n_bins; exact takes no parameters"):
        parse_estimators("exact:n_bins=3")
    with pytest.raises(ValueError, match="figure.png is a directory; give the run file's name"):
        write_run_arrays(tmp_path / "figure.png", [0], [np.full((1, 4, 2), 0.5)], np.arange(4) % 2)
    exact = cli_here("estimate", str(run), "--estimators", "exact", "--out", str(tmp_path / "e.parquet"))
    _one_error_line(exact, "exact counts a quantized network's codes and this run is not quantized")
