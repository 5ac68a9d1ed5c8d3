"""Write the measured part of docs/estimators.md's "Which estimator" (between its two markers) from
the shipped benchmark, results/estimators: the leaderboard of each truth family and the error of
I(X;T) by N, generated, never typed.

    .venv/bin/python scripts/estimator_page.py          # rewrite the section
    .venv/bin/python scripts/estimator_page.py --check  # exit 1 if it is not what the bundle gives
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "estimators.md"
BUNDLE = ROOT / "results" / "estimators"
START, END = "<!-- measured: scripts/estimator_page.py -->", "<!-- end of measured -->"
FAMILIES = {"exact": ("the exact information of quantized networks", "xt"),
            "noisy": ("the information of T + N(0, s2 I) (`noisy`)", "xt"),
            "mixture": ("I(T;Y) of benchmark-mi's discrete-continuous tasks", "ty")}


def _bits(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.2f}"


def section() -> str:
    """The section's Markdown from the bundle's leaderboard.csv and errors.csv."""
    board = pd.read_csv(BUNDLE / "leaderboard.csv")
    by_size = pd.read_csv(BUNDLE / "errors.csv")
    from ib_keras.studies.estimators.claims import SETTINGS

    lines = ["Measured by the benchmark of every setting against known truths (`results/estimators/REPORT.md`: its "
             "rule and every number). Median and 90th percentile of "
             "|estimate - truth| in bits, the median signed error (its bias), and the share of compression verdicts "
             "agreeing with the truth's; settings in order of the median error of the family's quantity.", ""]
    for family, (about, quantity) in FAMILIES.items():
        rows = board[board["family"] == family]
        if rows.empty:
            continue
        name = "I(X;T)" if quantity == "xt" else "I(T;Y)"
        lines += [f"**Against {about}** ({name}; {int(rows['n'].max())} layer-epochs or samples per setting at most):",
                  "", "| setting | median | p90 | bias | verdicts agree |", "|---|---|---|---|---|"]
        for row in rows.itertuples(index=False):
            label = SETTINGS[row.setting][0] + ("" if row.same_quantity else " (another quantity)")
            lines.append(f"| {label} | {_bits(getattr(row, f'{quantity}_median'))} | "
                         f"{_bits(getattr(row, f'{quantity}_p90'))} | {_bits(getattr(row, f'{quantity}_bias'))} | "
                         f"{_bits(row.agree)} |")
        lines.append("")
    exact = by_size[by_size["family"] == "exact"]
    if len(exact):
        medians = exact.groupby(["setting", "n"])["xt_median"].median().unstack("n")
        sizes = list(medians.columns)
        lines += ["**By the number of inputs N** (exact family: median over layers of the median |error| of I(X;T), "
                  "bits):", "", "| setting | " + " | ".join(f"N = {n}" for n in sizes) + " |",
                  "|---|" + "---|" * len(sizes)]
        for setting in (s for s in SETTINGS if s in medians.index):
            lines.append(f"| {SETTINGS[setting][0]} | " + " | ".join(_bits(v) for v in medians.loc[setting]) + " |")
        lines.append("")
    return "\n".join(lines)


def written_page() -> str:
    """docs/estimators.md with the section between its markers made anew."""
    page = PAGE.read_text()
    if START not in page or END not in page:
        raise SystemExit(f"{PAGE}: the markers {START} and {END} are missing")
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{section()}\n{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not what the bundle gives")
    args = parser.parse_args()
    page = written_page()
    if args.check:
        if page != PAGE.read_text():
            print(f"{PAGE}: the measured section is not what scripts/estimator_page.py writes from {BUNDLE}: run it",
                  file=sys.stderr)
            raise SystemExit(1)
        return
    PAGE.write_text(page)


if __name__ == "__main__":
    main()
