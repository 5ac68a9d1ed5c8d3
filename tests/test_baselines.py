"""The baseline claims' rules on summaries whose answers are known, and the command end to end."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ib_keras.analysis.summary import DYNAMICS, Summary, read_summary, write_summary
from ib_keras.analysis.truth import no_truth
from ib_keras.cli import main
from ib_keras.estimate import canonical_params, parse_estimators
from ib_keras.studies.baselines.claims import MIN_BITS, SAXE, SZ, baselines, claim_phases, claim_snr, claim_tanh_relu
from ib_keras.studies.baselines.report import adaptive_section, write_baselines_report
from ib_keras.studies.mnist.configurations import MNIST_SETTINGS
from ib_keras.studies.mnist.figures import make_mnist_figures
from ib_keras.studies.mnist.report import write_mnist_report
from ib_keras.studies.mnist.claims import SAXE_MNIST_SETTINGS

LAYERS = 6  # five hidden layers and the softmax
SETTING_TEXTS = ["uniform", "fixed", "kde", "kde:bound=lower", "ebab", "akde"]


def _networks(protocol, activation, compressing, fitting=(), n=10, seed=0, settings=SETTING_TEXTS):
    """n networks whose layers in ``compressing`` lose ~1 bit after their peak (others ~0), and
    whose layers in ``fitting`` gain ~1 bit before it, under every setting."""
    rng = np.random.default_rng(seed)
    rows = []
    for text in settings:
        spec = parse_estimators(text)[0]
        for network in range(n):
            for layer in range(LAYERS):
                c = 1.0 + 0.2 * rng.standard_normal() if layer in compressing else 0.01 * rng.random()
                r = 1.0 + 0.2 * rng.standard_normal() if layer in fitting else 0.0
                rows.append({"run": f"{protocol}-{activation}-{network}", "estimator": spec.method,
                             "params": canonical_params(spec.params_for()), "activation": activation,
                             "l2": 0.0, "protocol": protocol, "dataset": "tishby_var_u", "hidden": "10,7,5,4,3",
                             "trained_epochs": 100, "split": "first", "split_seed": 0,
                             "layer": layer, "seed": network, "units": 3, "epoch": 100, "train_accuracy": 1.0,
                             "test_accuracy": 0.9, "max_i_xt": 8.0, "final_i_xt": 8.0 - c, "compression": c,
                             "gap": 0.1, "first_i_xt": 8.0 - r, "first_i_ty": 0.1, "final_i_ty": 0.9,
                             "peak_epoch": 10})
    return pd.DataFrame(rows)


def _dynamics(activation, drop):
    """Seed-mean SNR 1 over the first tenth of 100 epochs, then 1 / drop (the other dynamics 1)."""
    frame = pd.DataFrame([{"activation": activation, "l2": 0.0, "epoch": e, "layer": layer, "n": 10,
                           "snr_mean": 1.0 if e <= 10 else 1.0 / drop} for e in range(101) for layer in range(LAYERS)])
    spread = {f"{c}_{s}": 1.0 for c in DYNAMICS for s in ("mean", "p10", "p90") if f"{c}_{s}" != "snr_mean"}
    return frame.assign(**spread)


def _summary(networks, dynamics=None):
    planes = networks.assign(i_xt=networks["final_i_xt"], i_ty=networks["final_i_ty"], n=10)[
        ["activation", "l2", "estimator", "params", "epoch", "layer", "i_xt", "i_ty", "train_accuracy",
         "test_accuracy", "n"]].drop_duplicates(["activation", "estimator", "params", "layer"])
    if dynamics is None:
        dynamics = _dynamics("tanh", 1.0).iloc[:0]
    protocol = networks["protocol"].iloc[0]
    manifest = {"runs": networks["run"].nunique(), "epochs": [100], "protocols": [protocol], "versions": {},
                "seeds": [{"activation": a, "l2": 0.0, "seeds": list(range(10))} for a in networks["activation"].unique()],
                "estimators": [], "sample": {}}
    seeds = pd.DataFrame({column: np.zeros(0) for column in ["seed", "epoch", "layer", "i_xt", "i_ty"]})
    return Summary(networks, planes, seeds, dynamics, pd.DataFrame({"activity": np.zeros(0, np.float32)}),
                   no_truth(), manifest)


@pytest.mark.parametrize("layers, verdict", [({0, 1, 2}, "reproduced"), ({3}, "partly reproduced"),
                                             (set(), "not reproduced")])
def test_shwartz_ziv_phases_count_hidden_layers_that_both_rise_and_fall(layers, verdict):
    # the softmax (layer 5) rising and falling never counts: the claim is about hidden layers
    b = baselines([_summary(_networks(SZ, "tanh", compressing=layers | {5}, fitting=layers | {5}))])
    assert claim_phases(b).verdict == verdict
    assert claim_phases(b).numbers.startswith(f"both phases in {len(layers)} of 5 hidden layers (n = 10)")


def test_a_phase_needs_both_rise_and_fall():
    b = baselines([_summary(_networks(SZ, "tanh", compressing={0, 1, 2}, fitting=()))])
    assert claim_phases(b).verdict == "not reproduced"


def test_saxe_tanh_compresses_relu_does_not():
    both = pd.concat([_networks(SAXE, "tanh", {0, 1, 2}), _networks(SAXE, "relu", set(), seed=1)])
    assert claim_tanh_relu(baselines([_summary(both)])).verdict == "reproduced"
    relu_too = pd.concat([_networks(SAXE, "tanh", {0, 1, 2}), _networks(SAXE, "relu", {4}, seed=1)])
    assert claim_tanh_relu(baselines([_summary(relu_too)])).verdict == "partly reproduced"
    neither = pd.concat([_networks(SAXE, "tanh", set()), _networks(SAXE, "relu", set(), seed=1)])
    assert claim_tanh_relu(baselines([_summary(neither)])).verdict == "not reproduced"


def test_an_effect_below_the_bit_floor_does_not_count_however_significant():
    tiny = _networks(SAXE, "tanh", {0, 1, 2})
    tiny["compression"] = np.where(tiny["layer"] < 3, MIN_BITS / 2 + 0.001 * np.arange(len(tiny)) % 0.01, 0.0)
    both = pd.concat([tiny, _networks(SAXE, "relu", set(), seed=1)])
    assert claim_tanh_relu(baselines([_summary(both)])).verdict == "not reproduced"


@pytest.mark.parametrize("drop, relu_compresses, verdict", [
    (20.0, set(), "reproduced"), (20.0, {1}, "partly reproduced"), (5.0, set(), "not reproduced")])
def test_snr_transition_rule(drop, relu_compresses, verdict):
    networks = pd.concat([_networks(SAXE, "tanh", {0, 1, 2}), _networks(SAXE, "relu", relu_compresses, seed=1)])
    dynamics = pd.concat([_dynamics("tanh", drop), _dynamics("relu", drop)])
    assert claim_snr(baselines([_summary(networks, dynamics)])).verdict == verdict


def test_fewer_than_four_networks_are_not_testable_but_shown():
    b = baselines([_summary(_networks(SZ, "tanh", {0, 1, 2}, {0, 1, 2}, n=3))])
    claim = claim_phases(b)
    assert claim.verdict == "not testable" and "| layer 1 | 3 |" in claim.body
    assert "*" not in claim.body.split("| layer |")[1]  # 3 networks: p-values shown, never starred


def test_two_summaries_of_one_protocol_are_refused():
    summary = _summary(_networks(SZ, "tanh", {0}))
    with pytest.raises(ValueError, match="two summaries of protocol shwartz-ziv"):
        baselines([summary, summary])


def test_the_command_writes_the_report_and_figures_from_bundles(tmp_path):
    sz = _summary(_networks(SZ, "tanh", {0, 1, 2}, {0, 1, 2}))
    saxe = _summary(pd.concat([_networks(SAXE, "tanh", {0, 1, 2}), _networks(SAXE, "relu", set(), seed=1)]),
                    pd.concat([_dynamics("tanh", 20.0), _dynamics("relu", 20.0)]))
    write_summary(sz, tmp_path / "sz")
    write_summary(saxe, tmp_path / "saxe")
    (tmp_path / "timings.json").write_text(json.dumps({"train": 10, "estimate": 5, "plot": 1}))
    assert main(["baselines", str(tmp_path / "sz"), str(tmp_path / "saxe"), "--out", str(tmp_path / "out"),
                 "--timings", str(tmp_path / "timings.json")]) == 0
    report = (tmp_path / "out" / "REPORT.md").read_text()
    for name in ("fig_sz_plane", "fig_saxe_planes", "fig_saxe_snr", "fig_baselines_adaptive"):
        assert (tmp_path / "out" / f"{name}.png").stat().st_size > 10_000 and f"({name}.png)" in report
    assert report.count("**Verdict: reproduced.**") == 3
    assert "## Manifest: shwartz-ziv" in report and "train 10 s" in report


def test_a_table_with_only_some_of_the_estimators_tests_what_it_has():
    networks = pd.concat([_networks(SAXE, "tanh", {0, 1, 2}), _networks(SAXE, "relu", set(), seed=1)])
    kde_only = networks[networks["estimator"].isin(["kde", "akde"])]
    b = baselines([_summary(kde_only)])
    claim = claim_tanh_relu(b)
    assert claim.verdict == "reproduced" and "fixed bins" not in claim.numbers and "(n = 10 each)" in claim.numbers
    assert "aKDE 0.1: hidden layers that compress" in adaptive_section(b)


def test_the_shipped_report_is_what_this_code_writes_from_the_shipped_summaries(tmp_path):
    shipped = Path(__file__).resolve().parents[1] / "results" / "baselines"
    result = baselines([read_summary(shipped / "shwartz-ziv"), read_summary(shipped / "saxe")])
    timings = json.loads((shipped / "timings.json").read_text())
    written = write_baselines_report(result, tmp_path / "REPORT.md", timings)
    assert written.read_text() == (shipped / "REPORT.md").read_text()


def test_summaries_of_networks_of_other_widths_are_refused_naming_them():
    sz = _summary(_networks(SZ, "tanh", {0}).assign(hidden="4,3"))
    saxe = _summary(_networks(SAXE, "tanh", {0}))
    with pytest.raises(ValueError, match=r"differ in hidden \(shwartz-ziv 4,3 vs saxe 10,7,5,4,3\)"):
        baselines([sz, saxe])


def test_names_from_the_runs_reach_the_report_as_text_never_as_markup(tmp_path):
    hostile = "tanh|x\n# Injected <b>bold</b>"
    saxe = _summary(pd.concat([_networks(SAXE, "tanh", {0, 1, 2}), _networks(SAXE, hostile, set(), seed=1)]),
                    pd.concat([_dynamics("tanh", 20.0), _dynamics(hostile, 20.0)]))
    report = write_baselines_report(baselines([saxe]), tmp_path / "REPORT.md").read_text()
    assert "\n# Injected" not in report and "<b>" not in report
    assert r"tanh\|x # Injected \<b\>bold\</b\>" in report
    tables = [block.splitlines() for block in report.split("\n\n") if block.startswith("| ")]
    for rows in tables:  # every row of a table has its header's columns: no cell breaks out
        assert {row.replace("\\|", "").count("|") for row in rows} == {rows[0].count("|")}


MNIST = "saxe-mnist"


def _mnist_summary(tanh_compresses, relu_compresses, drop=20.0, n=4):
    settings = [text for _, text in MNIST_SETTINGS.values()]
    networks = pd.concat([_networks(MNIST, "tanh", tanh_compresses, n=n, settings=settings),
                          _networks(MNIST, "relu", relu_compresses, n=n, seed=1, settings=settings)])
    return _summary(networks, pd.concat([_dynamics("tanh", drop), _dynamics("relu", drop)]))


@pytest.mark.parametrize("tanh, relu, verdict", [({0, 1, 2}, set(), "reproduced"), ({0, 1, 2}, {3}, "partly reproduced"),
                                                 (set(), set(), "not reproduced")])
def test_saxe_mnist_claim_is_read_under_their_mnist_settings(tanh, relu, verdict):
    b = baselines([_mnist_summary(tanh, relu)], MNIST_SETTINGS)
    claim = claim_tanh_relu(b, MNIST, SAXE_MNIST_SETTINGS)
    assert claim.verdict == verdict and "(n = 4 each)" in claim.numbers
    assert "KDE s2 = 0.1, upper: tanh compresses in" in claim.numbers and "fixed bins 0.5" in claim.numbers
    assert claim_tanh_relu(baselines([_mnist_summary(tanh, relu, n=3)], MNIST_SETTINGS), MNIST,
                           SAXE_MNIST_SETTINGS).verdict == "not testable"


def test_the_mnist_command_writes_its_report_and_figure_1_c_d(tmp_path):
    write_summary(_mnist_summary({0, 1, 2}, set()), tmp_path / "summary")
    assert main(["mnist", str(tmp_path / "summary"), "--out", str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "REPORT.md").read_text()
    for name in ("fig_mnist_planes", "fig_mnist_settings", "fig_mnist_snr"):
        assert (tmp_path / "out" / f"{name}.png").stat().st_size > 10_000 and f"({name}.png)" in report
    assert report.count("**Verdict: reproduced.**") == 2
    assert "trained 100 of the protocol's 10,000 epochs (1.0%)" in report
    assert "EBAB: hidden layers that compress (same rule as claim 1)" in report
    with pytest.raises(ValueError, match="holds no saxe-mnist networks"):
        make_mnist_figures(baselines([_summary(_networks(SAXE, "tanh", {0}))], MNIST_SETTINGS), tmp_path / "x")


def test_the_shipped_mnist_report_is_what_this_code_writes_from_the_shipped_summary(tmp_path):
    shipped = Path(__file__).resolve().parents[1] / "results" / "mnist"
    result = baselines([read_summary(shipped / "summary")], MNIST_SETTINGS)
    timings = json.loads((shipped / "timings.json").read_text())
    assert write_mnist_report(result, tmp_path / "REPORT.md", timings).read_text() == (shipped / "REPORT.md").read_text()
