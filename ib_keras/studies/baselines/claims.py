"""The baselines' claims, each tested by a stated rule on networks trained under its paper's protocol:
Shwartz-Ziv & Tishby's fitting and compression phases and their drift-to-diffusion transition, Saxe
et al.'s tanh-compresses-ReLU-does-not; `baselines` gathers the numbers from one summary per protocol."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ib_keras.analysis.statistics import COMPARABLE, STAR_MIN_N, benjamini_hochberg, positive_mean
from ib_keras.analysis.summary import Summary
from ib_keras.estimate import canonical_params, parse_estimators
from ib_keras.runfile import layer_name
from ib_keras.studies.markdown import ALPHA, escaped, number, p_value, table

SZ, SAXE = "shwartz-ziv", "saxe"


MIN_BITS = 0.1  # a mean effect smaller than this (bits) does not count, however significant


SNR_DROP = 10.0  # early SNR peak over late SNR median at least this: a drift-to-diffusion transition


EARLY, LATE = 0.1, 0.5  # "early": the first 10 % of the epochs; "late": the second half


# The estimator settings the report reads, by the name it shows.
SETTINGS = {
    "uniform": ("uniform 30 bins on [-1, 1]", "uniform"),
    "fixed": ("fixed bins 0.07", "fixed"),
    "kde_upper": ("KDE s2 = 1e-3, upper", "kde"),
    "kde_lower": ("KDE s2 = 1e-3, lower", "kde:bound=lower"),
    "ebab": ("EBAB", "ebab"),
    "akde": ("aKDE 0.1", "akde"),
}


SAXE_SETTINGS = ("fixed", "kde_upper", "kde_lower")


ADAPTIVE_SETTINGS = ("ebab", "akde")


_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


CONFIGURATIONS = ((SZ, "tanh"), (SAXE, "tanh"), (SAXE, "relu"))


FIGURES = [
    ("fig_sz_plane", "Shwartz-Ziv & Tishby's figure: the seed-averaged tanh plane under 30 uniform bins on "
                     "[-1, 1], and I(X;T) of each layer against epoch."),
    ("fig_saxe_planes", "Saxe et al.'s comparison: tanh (top) against ReLU (bottom) under fixed 0.07 bins and "
                        "KDE (s2 = 1e-3) upper and lower bounds, seed means."),
    ("fig_saxe_snr", "Saxe et al.'s SNR figure: per layer, the norms of the kernel gradients' mean and standard "
                     "deviation over one pass of minibatches and their ratio, tanh and ReLU, seed means."),
    ("fig_baselines_adaptive", "The same networks under EBAB and aKDE, seed means."),
]


CLAIMS = [
    ("Shwartz-Ziv & Tishby: fitting, then compression (tanh)",
     "Training has two phases: a short fitting phase in which I(X;T) and I(T;Y) of the layers grow, then a "
     "long compression phase in which I(X;T) falls (uniform bins, averaged over 50 networks)."),
    ("Saxe et al.: tanh compresses, ReLU does not",
     "The compression phase comes from tanh's saturation: the same network with ReLU shows no compression, "
     "under their binning and under KDE."),
    ("Saxe et al.: the SNR transition happens with and without compression",
     "The gradient SNR falls from a high 'drift' to a low 'diffusion' phase in tanh and in ReLU networks alike, "
     "so it does not cause compression."),
]


@dataclass(frozen=True)
class Baselines:
    """The summaries by protocol and the per-network statistics drawn from them, under the
    estimator ``settings`` (by name: the label shown and the setting as ``--estimators`` takes it)."""

    summaries: dict[str, Summary]
    layers: pd.DataFrame  # per protocol, activation, setting, layer: compression and rise, n, p, q
    settings: dict[str, tuple[str, str]] = field(default_factory=lambda: SETTINGS)

    def label(self, setting: str) -> str:
        return self.settings[setting][0]

    def hidden(self) -> list[int]:
        return sorted(self.layers["layer"].unique())[:-1]

    def row(self, protocol: str, activation: str, setting: str, layer: int) -> pd.Series | None:
        rows = self.layers[(self.layers["protocol"] == protocol) & (self.layers["activation"] == activation)
                           & (self.layers["setting"] == setting) & (self.layers["layer"] == layer)]
        return rows.iloc[0] if len(rows) else None

    def compressing(self, protocol: str, activation: str, setting: str) -> list[int] | None:
        """The hidden layers that compress (mean C >= MIN_BITS, q < ALPHA); None without rows."""
        rows = [self.row(protocol, activation, setting, layer) for layer in self.hidden()]
        if any(row is None for row in rows):
            return None
        return [layer for layer, row in zip(self.hidden(), rows) if _significant(row, "compression")]


def by_protocol(summaries: list[Summary]) -> dict[str, Summary]:
    """Each summary under its one protocol; ValueError for a summary of several or a repeated one."""
    chosen: dict[str, Summary] = {}
    for summary in summaries:
        protocols = sorted(summary.networks["protocol"].dropna().unique())
        if not protocols:
            raise ValueError("a summary whose runs name no protocol (a table of a user's own runs, not of `train`'s): "
                             "the baselines study reads summaries of `python -m ib_keras train --protocol saxe` and "
                             "`--protocol shwartz-ziv` runs")
        if len(protocols) != 1:
            raise ValueError(f"a summary holds runs of protocols {', '.join(protocols)}; give one summary per protocol")
        if protocols[0] in chosen:
            raise ValueError(f"two summaries of protocol {protocols[0]}; give one per protocol")
        missing = {"first_i_xt", "peak_epoch"} - set(summary.networks.columns)
        if missing:
            raise ValueError(f"the {protocols[0]} summary lacks {', '.join(sorted(missing))} (written before this "
                             "version): summarize its table again")
        # names from the runs' configs go into the Markdown as text, never as markup
        chosen[protocols[0]] = replace(summary, networks=escaped(summary.networks, ["activation"]))
    for column in COMPARABLE:
        values = {protocol: sorted(map(str, summary.networks[column].dropna().unique()))
                  for protocol, summary in chosen.items()}
        if len({tuple(v) for v in values.values()}) > 1:
            differing = " vs ".join(f"{protocol} {' and '.join(v) or 'none'}" for protocol, v in values.items())
            raise ValueError(f"the summaries differ in {column} ({differing}): their layers cannot be compared by "
                             "position; give summaries of networks of the same widths on the same data set")
    return chosen


def setting_rows(frame: pd.DataFrame, setting: str) -> pd.DataFrame:
    """The rows of ``frame`` (networks or planes of a summary) estimated with ``setting`` (as
    ``--estimators`` takes one)."""
    spec = parse_estimators(setting)[0]
    return frame[(frame["estimator"] == spec.method) & (frame["params"] == canonical_params(spec.params_for()))]


def layer_statistics(summaries: dict[str, Summary], settings: dict[str, tuple[str, str]] = SETTINGS) -> pd.DataFrame:
    """Per protocol, activation, setting (of ``settings``) and layer, over networks: compression
    C = max - final I(X;T) and rise R = max - first I(X;T) (bits) with mean, sd, n and t-test p, q
    (one Benjamini-Hochberg family), the median epoch of the peak, and mean first and final I(T;Y)."""
    rows = []
    for protocol, summary in summaries.items():
        networks = summary.networks
        for setting, (_, text) in settings.items():
            chosen = setting_rows(networks[networks["l2"] == 0], text)
            for (activation, layer), group in chosen.groupby(["activation", "layer"]):
                effects = {"compression": group["compression"], "rise": group["max_i_xt"] - group["first_i_xt"]}
                tests = {f"{what}_{key}": value for what, values in effects.items()
                         for key, value in positive_mean(values.to_numpy()).items() if key != "n"}
                rows.append({"protocol": protocol, "activation": activation, "setting": setting, "layer": layer,
                             "n": len(group), **tests,
                             "peak_epoch": float(group["peak_epoch"].median()),
                             "last_epoch": int(group["epoch"].max()),
                             "first_i_ty": group["first_i_ty"].mean(), "final_i_ty": group["final_i_ty"].mean()})
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise ValueError("the summaries hold no networks under any of the study's estimator settings "
                         f"({', '.join(text for _, text in settings.values())}); estimate them with these")
    # A p-value from fewer than STAR_MIN_N networks is shown but kept out of the family (never starred).
    counted = (frame["n"] >= STAR_MIN_N).to_numpy()
    q = benjamini_hochberg(np.concatenate([np.where(counted, frame[f"{what}_p"], np.nan)
                                           for what in ("compression", "rise")]))
    frame["compression_q"], frame["rise_q"] = q[: len(frame)], q[len(frame):]
    return frame


def _significant(row: pd.Series, what: str) -> bool:
    return bool(row[f"{what}_mean"] >= MIN_BITS and row[f"{what}_q"] < ALPHA)


def _held_to_n(claim: Claim, n: int) -> Claim:
    """``claim``, or "not testable" when its configurations have fewer than STAR_MIN_N networks
    (such p-values are shown but never starred, so every rule would read "not reproduced")."""
    if n >= STAR_MIN_N:
        return claim
    return Claim(f"{claim.numbers}; only {n} networks", "not testable",
                 f"Only {n} networks per configuration: a test needs at least {STAR_MIN_N} (the baselines run "
                 f"trains 50).\n\n{claim.body}")


def _cell(row: pd.Series | None, what: str) -> str:
    if row is None:
        return "n/a"
    return f"{number(row[f'{what}_mean'])} ± {number(row[f'{what}_sd'])} (p {p_value(row[f'{what}_p'], row[f'{what}_q'])})"


@dataclass(frozen=True)
class Claim:
    numbers: str  # one line for the claims table
    verdict: str
    body: str  # the section's Markdown


def claim_phases(b: Baselines) -> Claim:
    """Shwartz-Ziv & Tishby: per hidden layer of their tanh networks under their binning, a
    significant rise of I(X;T) to its peak (fitting) and a significant fall after it (compression)."""
    if SZ not in b.summaries or b.row(SZ, "tanh", "uniform", 0) is None:
        return Claim("no shwartz-ziv tanh runs under uniform bins", "not testable", "No such runs were given.")
    n = int(b.row(SZ, "tanh", "uniform", 0)["n"])
    last = max(b.layers["layer"])
    lines, both = [], []
    for layer in sorted(b.layers["layer"].unique()):
        row = b.row(SZ, "tanh", "uniform", layer)
        fits, compresses = _significant(row, "rise"), _significant(row, "compression")
        if layer != last and fits and compresses:
            both.append(layer)
        lines.append({"layer": layer_name(layer, last), "n": int(row["n"]), "rise to peak (bits)": _cell(row, "rise"),
                      "compression after it (bits)": _cell(row, "compression"),
                      "median peak epoch": f"{row['peak_epoch']:.0f} of {row['last_epoch']}",
                      "I(T;Y) first -> final": f"{number(row['first_i_ty'])} -> {number(row['final_i_ty'])}",
                      "both phases": "yes" if fits and compresses else "no"})
    hidden = len(b.hidden())
    verdict = ("reproduced" if len(both) > hidden / 2 else "partly reproduced" if both else "not reproduced")
    numbers = f"both phases in {len(both)} of {hidden} hidden layers (n = {n})"
    body = ("Per layer, over the networks: the rise R = max - first I(X;T) (fitting) and the compression "
            "C = max - final I(X;T) after the peak, bits, mean ± sd, one-sided t-test p (starred when it survives "
            "the correction). **Rule:** a phase counts in a layer when its mean is at least "
            f"{MIN_BITS} bits and starred; reproduced when both phases count in more than half of the hidden "
            "layers, partly when in at least one, not reproduced otherwise.\n\n" + table(pd.DataFrame(lines)))
    return _held_to_n(Claim(numbers, verdict, body), n)


def compression_table(b: Baselines, protocol_activations: list[tuple[str, str]], settings: tuple[str, ...]) -> str:
    last = max(b.layers["layer"])
    lines = []
    for setting in settings:
        for protocol, activation in protocol_activations:
            if b.row(protocol, activation, setting, 0) is None:
                continue
            cells = {layer_name(layer, last): _cell(b.row(protocol, activation, setting, layer), "compression")
                     for layer in sorted(b.layers["layer"].unique())}
            n = int(b.row(protocol, activation, setting, 0)["n"])
            lines.append({"estimator": b.label(setting), "networks": f"{protocol} {activation}", "n": n, **cells})
    return table(pd.DataFrame(lines)) if lines else "No rows."


def claim_tanh_relu(b: Baselines, protocol: str = SAXE, settings: tuple[str, ...] = SAXE_SETTINGS) -> Claim:
    """Saxe et al.: under each of their estimators (``settings``), tanh's hidden layers compress
    and ReLU's do not, in the networks of ``protocol``."""
    if protocol not in b.summaries:
        return Claim(f"no {protocol} runs", "not testable", "No such runs were given.")
    hidden = len(b.hidden())
    results, lines, sizes = [], [], []
    for setting in settings:
        tanh, relu = b.compressing(protocol, "tanh", setting), b.compressing(protocol, "relu", setting)
        if tanh is None or relu is None:
            continue
        sizes += [int(b.row(protocol, activation, setting, 0)["n"]) for activation in ("tanh", "relu")]
        holds = "holds" if len(tanh) > hidden / 2 and not relu else "partly" if len(tanh) > len(relu) else "fails"
        results.append(holds)
        lines.append(f"{b.label(setting)}: tanh compresses in {len(tanh)}, ReLU in {len(relu)} of {hidden} "
                     f"hidden layers: {holds}")
    if not results:
        return Claim(f"no {protocol} tanh and ReLU runs under their estimators", "not testable",
                     "No such runs were given.")
    verdict = ("reproduced" if all(r == "holds" for r in results) else
               "partly reproduced" if any(r != "fails" for r in results) else "not reproduced")
    body = ("Compression C = max - final I(X;T) per layer, bits, mean ± sd over the networks, one-sided t-test p. "
            f"**Rule:** a layer compresses when mean C >= {MIN_BITS} bits and starred. Under an estimator the claim "
            "holds when tanh compresses in more than half of the hidden layers and ReLU in none; partly when tanh "
            f"compresses in more hidden layers than ReLU; it fails otherwise. Reproduced when it holds under all "
            f"{_WORDS.get(len(settings), len(settings))} of their settings, partly when it holds at least partly "
            "under one.\n\n"
            + "\n".join(f"- {line}" for line in lines) + "\n\n"
            + compression_table(b, [(protocol, "tanh"), (protocol, "relu")], settings))
    return _held_to_n(Claim("; ".join(lines) + f" (n = {min(sizes)} each)", verdict, body), min(sizes))


def snr_transitions(summary: Summary) -> pd.DataFrame:
    """Per activation and layer: the seed-mean SNR's largest value in the first EARLY of the
    epochs, its median over the last LATE, their ratio, and whether it reaches SNR_DROP."""
    dynamics = summary.dynamics[summary.dynamics["l2"] == 0]
    last_epoch = dynamics["epoch"].max()
    rows = []
    for (activation, layer), group in dynamics.groupby(["activation", "layer"]):
        early = group.loc[group["epoch"] <= EARLY * last_epoch, "snr_mean"].max()
        late = group.loc[group["epoch"] >= LATE * last_epoch, "snr_mean"].median()
        rows.append({"activation": activation, "layer": layer, "n": int(group["n"].max()), "early_peak": early,
                     "late_median": late, "ratio": early / late, "transition": bool(early / late >= SNR_DROP)})
    return pd.DataFrame(rows)


def claim_snr(b: Baselines, protocol: str = SAXE, rule: str = "claim 2") -> Claim:
    """Saxe et al.: the drift-to-diffusion SNR transition in tanh and in ReLU, the latter without
    compression (under their KDE upper bound, the setting ``kde_upper``), in the networks of ``protocol``."""
    if protocol not in b.summaries:
        return Claim(f"no {protocol} runs", "not testable", "No such runs were given.")
    frame = snr_transitions(b.summaries[protocol])
    if not {"tanh", "relu"} <= set(frame["activation"]):
        return Claim("no saxe tanh and ReLU dynamics", "not testable", "No such runs were given.")
    last = int(frame["layer"].max())
    present = {a: int(g["transition"].sum()) for a, g in frame.groupby("activation")}
    layers = frame["layer"].nunique()
    in_both = all(present[a] > layers / 2 for a in ("tanh", "relu"))
    relu_compressing = b.compressing(protocol, "relu", "kde_upper") or []
    verdict = ("not reproduced" if not in_both else "reproduced" if not relu_compressing else "partly reproduced")
    numbers = (f"transition in {present['tanh']} (tanh) and {present['relu']} (ReLU) of {layers} layers; ReLU "
               f"compresses under KDE upper in {len(relu_compressing)} hidden layers (n = {frame['n'].min()})")
    shown = frame.assign(layer=[layer_name(layer, last) for layer in frame["layer"]],
                         early_peak=[f"{v:.3g}" for v in frame["early_peak"]],
                         late_median=[f"{v:.3g}" for v in frame["late_median"]],
                         ratio=[f"{v:.3g}" for v in frame["ratio"]],
                         transition=["yes" if t else "no" for t in frame["transition"]])
    body = ("SNR = ||mean of the kernel gradients over one pass of minibatches|| / ||their standard deviation||, "
            f"averaged over the networks at each recorded epoch. **Rule:** a layer shows the transition when the "
            f"SNR's peak in the first {EARLY:.0%} of the epochs is at least {SNR_DROP:g}x its median over the last "
            f"{LATE:.0%}. Reproduced when more than half of the layers show it in tanh and in ReLU, and ReLU's hidden "
            f"layers do not compress under KDE upper ({rule}'s rule); partly when the transition is there but ReLU "
            "compresses; not reproduced when either lacks it.\n\n" + table(shown))
    return _held_to_n(Claim(numbers, verdict, body), int(frame["n"].min()))


def baselines(summaries: list[Summary], settings: dict[str, tuple[str, str]] = SETTINGS) -> Baselines:
    """The summaries by protocol with their per-layer statistics under ``settings``."""
    chosen = by_protocol(summaries)
    return Baselines(chosen, layer_statistics(chosen, settings), settings)
