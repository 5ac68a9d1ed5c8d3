import json

import h5py
import numpy as np
import pandas as pd
import pytest

from ib_keras.estimate import stage, tasks
from ib_keras.estimate import table as table_io
from ib_keras.analysis.statistics import check_one_setting
from ib_keras.data.tishby import tishby_dataset
from ib_keras.estimate import COLUMNS, LATER, EstimatorSpec, canonical_params, estimate_runs, parse_estimators, read_table
from ib_keras.estimate.estimators import estimate_mi
from ib_keras.runfile import METRICS, LayerSpec, RunWriter

EPOCHS = [0, 2, 9]
SPECS = parse_estimators("ebab,uniform,fixed,akde")


SETTINGS = {"protocol": "chelombiev", "dataset": "tishby_var_u", "epochs": 9, "split": "random", "split_seed": 0}


def _write_run(path, activation="relu", seed=0, scale=1.0, complete=True, **settings):
    """A small synthetic run: two layers whose activity changes with the epoch; ``settings``
    override SETTINGS in its config."""
    x, y = tishby_dataset()
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(12, 3)), rng.normal(size=(12, 2))]
    writer = RunWriter(path, x, y, np.arange(3000), np.arange(3000, 4096),
                       [LayerSpec(3, activation), LayerSpec(2, "softmax")],
                       {"activation": activation, "seed": seed, "l2": 0.0, **SETTINGS, **settings}, EPOCHS)
    for epoch in EPOCHS:
        hidden = np.maximum(x @ weights[0] * scale * (1 + epoch), 0).astype(np.float32)
        logits = x @ weights[1] * (1 + epoch)
        output = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
        metrics = {name: 0.1 * epoch + i for i, name in enumerate(METRICS)}
        writer.append(epoch, [hidden, output], metrics, np.ones(2), np.ones(2), np.ones(2))
    writer.finish() if complete else writer.close()
    return path


@pytest.fixture
def runs(tmp_path):
    directory = tmp_path / "runs" / "relu"
    return [_write_run(directory / f"seed-00{s}.h5", seed=s) for s in (0, 1)]


def test_the_table_has_one_row_per_run_epoch_layer_and_estimator(runs, tmp_path):
    table = estimate_runs([runs[0].parent], SPECS, tmp_path / "mi.parquet", progress=False)
    assert list(table.columns) == COLUMNS
    assert len(table) == 2 * len(EPOCHS) * 2 * len(SPECS)
    assert set(table["seed"]) == {0, 1} and set(table["activation"]) == {"relu"}
    row = table[(table.seed == 1) & (table.epoch == 9) & (table.layer == 1)].set_index("estimator")
    assert row.loc["ebab", "test_accuracy"] == pytest.approx(0.9 + 3)
    assert row.loc["ebab", "units"] == 2
    assert row.loc["ebab", "grad_mean"] == 1.0  # as _write_run records them
    x, _ = tishby_dataset()
    hidden = np.maximum(x @ np.random.default_rng(1).normal(size=(12, 3)) * 10, 0).astype(np.float32)
    layer_0 = table[(table.seed == 1) & (table.epoch == 9) & (table.layer == 0)]
    assert set(layer_0["max_activity"]) == {float(hidden.max())}


def test_table_values_are_estimate_mi_on_the_recorded_activity(runs, tmp_path):
    table = estimate_runs(runs, SPECS, tmp_path / "mi.parquet", progress=False)
    x, y = tishby_dataset()
    weights = np.random.default_rng(1).normal(size=(12, 3))
    hidden = np.maximum(x @ weights * 3, 0).astype(np.float32)  # seed 1, epoch 2, layer 0
    row = table[(table.seed == 1) & (table.epoch == 2) & (table.layer == 0)].set_index("estimator")
    assert (row.loc["ebab", "i_xt"], row.loc["ebab", "i_ty"]) == pytest.approx(estimate_mi(hidden, y, "ebab", low=0.0))
    assert (row.loc["akde", "i_xt"], row.loc["akde", "i_ty"]) == pytest.approx(estimate_mi(hidden, y, "akde"))
    # uniform on ReLU spans the run: lo = its smallest activity, hi = its largest, over all layers and epochs
    run_max = max(float(np.maximum(x @ weights * 10, 0).max()), 1.0)
    run_min = 0.0
    expected = estimate_mi(hidden, y, "uniform", lo=run_min, hi=run_max)
    assert (row.loc["uniform", "i_xt"], row.loc["uniform", "i_ty"]) == pytest.approx(expected)
    assert json.loads(row.loc["uniform", "params"]) == {"hi": "activation", "lo": "activation", "n_bins": 30}
    assert json.loads(row.loc["uniform", "resolved"]) == {"hi": "run_max", "lo": "run_min", "n_bins": 30}


def test_work_already_in_the_table_is_not_recomputed(runs, tmp_path, monkeypatch):
    out = tmp_path / "mi.parquet"
    first = estimate_runs(runs, SPECS, out, progress=False)
    calls = []
    real = tasks.estimate_run
    monkeypatch.setattr(tasks, "estimate_run",
                        lambda path, h, specs, *layers: calls.append((path, specs)) or real(path, h, specs, *layers))
    again = estimate_runs(runs, SPECS, out, progress=False)
    assert calls == []
    pd.testing.assert_frame_equal(again, first)
    more = estimate_runs(runs, parse_estimators("ebab,akde:variance_scale=0.5"), out, progress=False)
    # a task per file, or per layer of a file when files are few: only the missing spec, for both files
    assert {path: [str(s) for s in specs] for path, specs in calls} == {path: ["akde:variance_scale=0.5"] for path in runs}
    assert len(more) == len(first) + 2 * len(EPOCHS) * 2


def test_rows_of_a_retrained_run_are_replaced(runs, tmp_path):
    out = tmp_path / "mi.parquet"
    before = estimate_runs(runs, SPECS, out, progress=False)
    _write_run(runs[0], seed=0, scale=5.0)  # same path, new content
    after = estimate_runs(runs, SPECS, out, progress=False)
    assert len(after) == len(before)
    assert after["run_hash"].nunique() == 2 and not set(after["run_hash"]) == set(before["run_hash"])
    unchanged = before[before.seed == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(after[after.seed == 1].reset_index(drop=True), unchanged)


def test_corrupt_and_incomplete_runs_are_named_and_skipped(runs, tmp_path):
    (runs[0].parent / "seed-009.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"x" * 500)
    _write_run(runs[0].parent / "seed-008.h5", seed=8, complete=False)
    messages = []
    table = estimate_runs([runs[0].parent], SPECS, tmp_path / "mi.parquet", progress=False, report=messages.append)
    assert set(table["seed"]) == {0, 1}
    assert any("seed-009.h5" in m for m in messages) and any("seed-008.h5" in m and "incomplete" in m for m in messages)


def test_strict_fails_and_writes_nothing(runs, tmp_path):
    (runs[0].parent / "seed-009.h5").write_bytes(b"garbage")
    out = tmp_path / "mi.parquet"
    with pytest.raises(ValueError, match="seed-009.h5"):
        estimate_runs([runs[0].parent], SPECS, out, strict=True, progress=False)
    assert not out.exists() and list(tmp_path.glob(".mi.parquet*")) == []


def test_a_table_can_go_into_a_new_directory(runs, tmp_path):
    out = tmp_path / "new" / "dir" / "mi.parquet"
    estimate_runs(runs, SPECS[:1], out, progress=False)
    assert sorted(p.name for p in out.parent.iterdir()) == ["mi.parquet"]


def test_csv_tables_read_back(runs, tmp_path):
    table = estimate_runs(runs, SPECS[:1], tmp_path / "mi.csv", progress=False)
    pd.testing.assert_frame_equal(read_table(tmp_path / "mi.csv"), table, check_dtype=False)


def test_a_process_pool_gives_the_same_table(runs, tmp_path):
    serial = estimate_runs(runs, SPECS, tmp_path / "a.parquet", progress=False)
    parallel = estimate_runs(runs, SPECS, tmp_path / "b.parquet", jobs=2, progress=False)
    pd.testing.assert_frame_equal(parallel, serial)


def test_parse_estimators_reads_parameters():
    specs = parse_estimators("ebab, akde:variance_scale=0.01:bound=lower,uniform:hi=layer_max")
    assert specs == [EstimatorSpec("ebab"), EstimatorSpec("akde", (("variance_scale", 0.01), ("bound", "lower"))),
                     EstimatorSpec("uniform", (("hi", "layer_max"),))]
    assert specs[2].params_for() == {"n_bins": 30, "lo": "activation", "hi": "layer_max"}


@pytest.mark.parametrize("text, message", [("ksg", "unknown estimator 'ksg'"), ("ebab:bins=3", "unknown parameter"),
                                           ("kde:noise_variance=-1", "noise_variance must be"), ("akde:0.1", "not name=value"),
                                           ("ebab:n_bins=100000000", "n_bins must be a whole number from 1 to 1000000"),
                                           ("uniform:n_bins=true", "n_bins must be a number, not True"),
                                           ("akde:variance_scale=false", "variance_scale must be a number, not False"),
                                           ("ebab:n_bins=3:n_bins=4", "sets n_bins twice"),
                                           ("ebab:samples=1", "samples must be a whole number of inputs, at least 2"),
                                           ("kde:samples=5.5", "samples must be a whole number"),
                                           ("uniform:hi=foo", "hi must be a finite number, 'run_min' or 'run_max'")])
def test_parse_estimators_rejects_bad_specs(text, message):
    with pytest.raises(ValueError, match=message):
        parse_estimators(text)


def test_a_table_file_of_another_kind_is_refused(runs, tmp_path):
    out = tmp_path / "mi.csv"
    out.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not an MI table"):
        estimate_runs(runs, SPECS, out, progress=False)
    assert out.read_text() == "a,b\n1,2\n"


def test_a_dead_layer_carries_zero_information_and_keeps_its_run(tmp_path):
    path = tmp_path / "relu" / "seed-000.h5"
    _write_run(path, seed=0, scale=0.0)  # the hidden layer is all zero: a dead ReLU layer
    table = estimate_runs([path], SPECS, tmp_path / "mi.parquet", progress=False)
    hidden = table[table.layer == 0]
    assert len(hidden) == len(EPOCHS) * len(SPECS)
    assert (hidden["i_xt"] == 0).all() and (hidden["i_ty"] == 0).all()
    assert (table.loc[table.layer == 1, "i_xt"] > 0).all()


def test_correlations_pool_every_network_of_an_estimator_across_activations(tmp_path):
    from ib_keras.analysis.statistics import compression, default_estimates, generalization_correlations

    paths = [_write_run(tmp_path / a / f"seed-00{s}.h5", activation=a, seed=s) for a in ("relu", "tanh") for s in (0, 1)]
    table = estimate_runs(paths, parse_estimators("ebab,fixed"), tmp_path / "mi.parquet", progress=False)
    ebab = table[table.estimator == "ebab"]  # one request, its lowest edge resolved by each activation
    assert ebab["params"].nunique() == 1 and ebab["resolved"].nunique() == 2
    correlations = generalization_correlations(compression(default_estimates(table)))
    assert set(correlations["n"]) == {4} and len(correlations) == 2 * 2  # 2 estimators x 2 layers


def test_tasks_split_by_layer_give_the_same_table_as_whole_files(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(stage, "TASKS_PER_WORKER", 0)  # never split
    whole = estimate_runs(runs, SPECS, tmp_path / "a.parquet", progress=False)
    monkeypatch.setattr(stage, "TASKS_PER_WORKER", 100)  # always split
    split = estimate_runs(runs, SPECS, tmp_path / "b.parquet", jobs=2, progress=False)
    pd.testing.assert_frame_equal(split, whole)


def test_a_file_failing_in_one_layer_keeps_none_of_its_rows(runs, tmp_path, monkeypatch):
    monkeypatch.setattr(stage, "TASKS_PER_WORKER", 100)  # a task per layer
    path = _write_run(runs[0].parent / "seed-007.h5", seed=7)
    with h5py.File(path, "r+") as f:
        f["activations/layer_1"][1] = np.nan  # the output layer diverged at one epoch; layer_0 is fine
    messages = []
    table = estimate_runs([runs[0].parent], SPECS, tmp_path / "mi.parquet", progress=False, report=messages.append)
    assert set(table["seed"]) == {0, 1}
    assert len(messages) == 1 and "seed-007.h5" in messages[0] and "layer_1" in messages[0]


@pytest.mark.parametrize("samples", [None, 500])
def test_the_setting_column_tells_settings_apart_and_parses_back_to_the_same_setting(runs, tmp_path, samples):
    specs = parse_estimators("ebab,uniform,uniform:hi=layer_max,akde,akde:variance_scale=0.01,kde:bound=lower")
    table = estimate_runs(runs, specs, tmp_path / "mi.parquet", progress=False, samples=samples)
    settings = table[["estimator", "params", "setting"]].drop_duplicates()
    assert len(settings) == len(specs) and settings["setting"].is_unique
    assert "akde:bound=upper:variance_scale=0.01" + (":samples=500" if samples else "") in set(settings["setting"])
    for estimator, params, setting in settings.itertuples(index=False):
        spec, = parse_estimators(setting)  # the text is an --estimators setting
        assert (spec.method, canonical_params(spec.params_for())) == (estimator, params)
    chosen = table[table.setting == settings["setting"].iloc[0]]
    assert len(chosen) == 2 * len(EPOCHS) * 2  # one setting: each run, epoch and layer once


def test_the_table_says_which_configuration_each_row_is_of(tmp_path):
    run = _write_run(tmp_path / "seed-000.h5", protocol="saxe", split="authors", split_seed=4)
    table = estimate_runs([run], SPECS[:1], tmp_path / "mi.parquet", progress=False)
    row = table.iloc[0]
    assert (row.protocol, row.dataset, row.hidden, row.trained_epochs, row.split, row.split_seed) == (
        "saxe", "tishby_var_u", "3", 9, "authors", 4)


def test_a_table_from_before_the_later_columns_is_read_and_then_filled(runs, tmp_path, monkeypatch):
    out = tmp_path / "mi.parquet"
    table = estimate_runs(runs, SPECS, out, progress=False)
    table.drop(columns=[c for c in LATER if c != "resolved"]).to_parquet(out)  # resolved: test_layer_defaults
    older = read_table(out)
    from_run_files = [c for c in LATER if c not in ("setting", "resolved")]  # setting: from estimator and params
    assert list(older.columns) == COLUMNS and older[from_run_files].isna().all().all()
    assert (older["setting"] == table["setting"]).all()
    monkeypatch.setattr(tasks, "estimate_run", None)  # nothing is recomputed to fill them
    pd.testing.assert_frame_equal(estimate_runs(runs, SPECS, out, progress=False), table, check_dtype=False)


def test_figures_and_report_refuse_a_table_mixing_settings_of_one_configuration(tmp_path):
    runs = [_write_run(tmp_path / "a" / "seed-000.h5"), _write_run(tmp_path / "b" / "seed-001.h5", seed=1, protocol="saxe")]
    table = estimate_runs(runs, SPECS[:1], tmp_path / "mi.parquet", progress=False)
    with pytest.raises(ValueError, match=r"relu \(l2 0.0\) that differ in protocol \(chelombiev vs saxe\)"):
        check_one_setting(table)
    check_one_setting(table[table.protocol == "saxe"])


def test_an_all_inf_layer_epoch_is_skipped_and_named_not_estimated_as_constant(tmp_path):
    path = _write_run(tmp_path / "relu" / "seed-000.h5")
    with h5py.File(path, "r+") as f:
        f["activations/layer_0"][1] = np.inf  # every value of epoch 2's hidden layer
    messages = []
    with pytest.raises(ValueError) as refused:
        estimate_runs([path], SPECS, tmp_path / "mi.parquet", progress=False, report=messages.append)
    assert str(refused.value) == (f"no rows to write to {tmp_path / 'mi.parquet'}: {path}: epoch 2, layer_0: activity "
                                  "has 12288 NaN or inf values of 12288; the network diverged")
    assert messages == []  # said once, in the error


def _spelled(tmp_path, spelling):
    return {"relative": "runs", "absolute": str(tmp_path / "runs"), "dotted": "runs/relu/../relu/.."}[spelling]


@pytest.mark.parametrize("second", ["relative", "absolute", "dotted"])
def test_a_run_has_one_name_however_its_path_was_spelled_before_and_after_a_retrain(tmp_path, monkeypatch, second):
    from ib_keras.analysis.summary import summarize

    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "runs" / "relu"
    paths = [_write_run(directory / f"seed-00{s}.h5", seed=s) for s in (0, 1)]
    out = tmp_path / "runs" / "mi.parquet"
    estimate_runs(["runs"], SPECS, out, progress=False)
    _write_run(paths[0], seed=0, scale=2.0)  # retrained: new content
    table = estimate_runs([_spelled(tmp_path, second)], SPECS, out, progress=False)
    assert sorted(table["run"].unique()) == [str(p) for p in paths]
    assert table.groupby("run")["run_hash"].nunique().tolist() == [1, 1]
    assert summarize(table).manifest["runs"] == 2 and table["seed"].value_counts().tolist() == [len(table) // 2] * 2


def test_a_bundle_names_its_runs_from_their_common_directory_and_reads_back_equal(tmp_path, monkeypatch):
    from ib_keras.analysis.summary import FILES, read_summary, summarize, write_summary

    monkeypatch.chdir(tmp_path / "..")
    trees = [_write_run(tmp_path / tree / "runs" / "relu" / "seed-000.h5", seed=seed) for seed, tree in enumerate("ab")]
    table = estimate_runs([trees[0], str(trees[1].relative_to(tmp_path.parent))], parse_estimators("ebab"),
                          tmp_path / "mi.parquet", progress=False)
    summary = summarize(table)
    assert set(summary.networks["run"]) == {"a/runs/relu/seed-000.h5", "b/runs/relu/seed-000.h5"}
    assert summary.manifest["sample"]["run"] == "a/runs/relu/seed-000.h5"
    write_summary(summary, tmp_path / "bundle")
    again = read_summary(tmp_path / "bundle")
    for name in FILES:
        pd.testing.assert_frame_equal(getattr(again, name), getattr(summary, name))
    assert again.manifest == summary.manifest
    assert not [f.name for f in (tmp_path / "bundle").iterdir() if str(tmp_path).encode() in f.read_bytes()]


def test_every_shipped_table_is_compact_and_the_writer_is_lossless(tmp_path):
    import pyarrow.parquet as pq

    from ib_keras.analysis.compact import write_compact
    from tests.helpers import ROOT

    shipped = sorted((ROOT / "results").rglob("*.parquet"))
    assert {p.parent.name for p in shipped} >= {"paper", "noisy", "estimators"}
    for path in shipped:  # written by write_compact: zstd, floats byte-stream-split
        metadata = pq.ParquetFile(path).metadata
        columns = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)] if metadata.num_rows else []
        assert all(c.compression == "ZSTD" for c in columns), path
        floats = [c for c in columns if c.physical_type in ("FLOAT", "DOUBLE")]
        assert all("BYTE_STREAM_SPLIT" in c.encodings for c in floats), path
    frame = pd.DataFrame({"run": ["a", "b", "a"], "i_xt": [0.1, np.nan, -0.0], "units": np.array([2, 3, 4]),
                          "n": np.float32([1.5, 2, 3]), "kept": [True, False, True]})
    write_compact(frame, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)


def test_a_table_of_relative_names_from_before_is_renamed_not_doubled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = [_write_run(tmp_path / "runs" / "relu" / f"seed-00{s}.h5", seed=s) for s in (0, 1)]
    out = tmp_path / "mi.parquet"
    table = estimate_runs(paths, SPECS, out, progress=False)
    table_io.write_table(table.assign(run=table["run"].str.replace(f"{tmp_path}/", "")), out)  # as older ones held
    again = estimate_runs(["runs"], SPECS, out, progress=False)
    pd.testing.assert_frame_equal(again, table)


def test_rows_of_a_deleted_run_are_dropped_and_said_rows_elsewhere_kept(tmp_path):
    relu = [_write_run(tmp_path / "runs" / "relu" / f"seed-00{s}.h5", seed=s) for s in (0, 1)]
    tanh = _write_run(tmp_path / "runs" / "tanh" / "seed-000.h5", activation="tanh")
    out = tmp_path / "mi.parquet"
    specs = parse_estimators("ebab,fixed")  # not uniform: this synthetic "tanh" activity leaves its [-1, 1]
    estimate_runs([*relu, tanh], specs, out, progress=False)
    relu[1].unlink()
    messages = []
    table = estimate_runs([relu[0].parent], specs, out, progress=False, report=messages.append)
    assert sorted(table["run"].unique()) == [str(relu[0]), str(tanh)]  # tanh was not under runs/relu: kept
    assert messages == [f"1 run file(s) under {relu[0].parent} no longer exist; their rows are dropped from {out} "
                        f"(first: {relu[1]})"]


def test_a_bad_kept_part_is_discarded_and_never_blocks_the_stage(runs, tmp_path):
    out = tmp_path / "mi.parquet"
    whole = estimate_runs(runs, SPECS, tmp_path / "whole.parquet", progress=False)
    parts = tmp_path / ".mi.parquet.parts"
    parts.mkdir()
    whole.assign(activation=5).to_parquet(parts / "1-000000.parquet")  # a part an older stage left
    messages = []
    table = estimate_runs(runs, SPECS, out, progress=False, report=messages.append)
    pd.testing.assert_frame_equal(table, whole)
    assert len(messages) == 1 and "discarded an unreadable kept part" in messages[0] and "activation" in messages[0]
    assert not parts.exists()


@pytest.mark.parametrize("name, message", [("t.txt", "a table is written as .parquet or .csv, not '.txt'"),
                                           ("t.json", "not '.json'"), ("d", "is a directory; give the table's file")])
def test_a_table_named_as_something_else_is_refused_before_any_work(runs, tmp_path, name, message):
    (tmp_path / "d").mkdir()
    with pytest.raises(ValueError, match=message):
        estimate_runs(runs, SPECS, tmp_path / name, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "runs"]


def test_an_upper_case_csv_is_written_as_csv(runs, tmp_path):
    table = estimate_runs(runs, SPECS, tmp_path / "t.CSV", progress=False)
    assert (tmp_path / "t.CSV").read_text().startswith("run,run_hash,")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.CSV"), table, check_dtype=False)


def test_an_estimate_in_which_every_file_failed_leaves_no_directory(tmp_path):
    path = _write_run(tmp_path / "runs" / "relu" / "seed-000.h5", complete=False)
    with pytest.raises(ValueError, match=r"no rows to write to .*: .*incomplete run \(training was interrupted"):
        estimate_runs([path], SPECS, tmp_path / "new" / "deeper" / "mi.parquet", progress=False, report=lambda m: None)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("value", [np.nan, np.inf, -0.5])
def test_a_table_holding_no_amount_of_information_is_refused_by_every_reader(runs, tmp_path, value):
    from tests.helpers import cli_here

    table = estimate_runs(runs, SPECS[:1], tmp_path / "mi.parquet", progress=False)
    table.loc[3, "i_ty"] = value
    table.to_parquet(tmp_path / "bad.parquet")
    message = "bad.parquet: 1 rows hold a i_ty that is no amount of information (NaN, infinite or below 0 bits)"
    for command in (["summarize", "--out", str(tmp_path / "summary")], ["report", "--out", str(tmp_path / "R.md")],
                    ["plane", "--out", str(tmp_path / "plane.png")]):
        result = cli_here(command[0], str(tmp_path / "bad.parquet"), *command[1:])
        assert result.returncode == 2 and message in result.stderr, (command, result.stderr)
    assert not any((tmp_path / name).exists() for name in ("summary", "R.md", "plane.png"))
    table.loc[3, "i_ty"] = -1e-9  # rounding below 0 is read
    table.to_parquet(tmp_path / "rounding.parquet")
    assert len(read_table(tmp_path / "rounding.parquet")) == len(table)
