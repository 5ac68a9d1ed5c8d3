"""How far float rounding moves a result: the same trainings made twice, once with TensorFlow's
oneDNN kernels off (ib_keras' default) and once with them on, a stand-in for another CPU's kernels
(another vector width or FMA use changes the rounding of the same sums the same way).

Trains tanh and ReLU (3 seeds, 1500 epochs, the quick run's set-up) into two directories with
`sweep`, estimates both with EBAB, aKDE and KDE, and prints, per activation: the largest difference
of any recorded activity (first and last recorded epoch), the largest and median difference of
I(X;T) and I(T;Y) (bits) over every row, and of the compression C = max - final I(X;T) per network
and layer. A second run with oneDNN off checks that the same machine gives the same values (every array of
the run files, every estimate; the files' bytes differ, HDF5 stamping creation times).

    .venv/bin/python benchmarks/reproducibility.py [--epochs 1500] [--seeds 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ib_keras.analysis.statistics import compression
from ib_keras.estimate import read_table
from ib_keras.runfile import read_run

ESTIMATORS = "ebab,akde,kde"


def _made(root: Path, onednn: str, epochs: int, seeds: int) -> pd.DataFrame:
    """Train and estimate into ``root`` with TF_ENABLE_ONEDNN_OPTS=``onednn``; the table."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn}
    for command in (["sweep", "--activations", "tanh,relu", "--seeds", str(seeds), "--epochs", str(epochs),
                     "--out", str(root)],
                    ["estimate", str(root), "--estimators", ESTIMATORS, "--out", str(root / "mi.parquet")]):
        subprocess.run([sys.executable, "-m", "ib_keras", *command], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return read_table(root / "mi.parquet")


def _same_content(a: Path, b: Path) -> bool:
    """Whether two run files hold equal arrays and config (their bytes differ: HDF5 stamps times)."""
    x, y = read_run(a), read_run(b)
    arrays = [*zip(x.activity, y.activity), *((x.metrics[k], y.metrics[k]) for k in x.metrics),
              (x.weights_norm, y.weights_norm), (x.grad_mean, y.grad_mean), (x.grad_std, y.grad_std)]
    return x.config == y.config and all(np.array_equal(u, v) for u, v in arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="keep the runs here (default: a temporary directory)")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="reproducibility-"))
    off, again, on = (_made(root / name, flag, args.epochs, args.seeds)
                      for name, flag in (("off", "0"), ("off-again", "0"), ("on", "1")))
    same = all(_same_content(path, root / "off-again" / path.relative_to(root / "off"))
               for path in (root / "off").rglob("*.h5"))
    print(f"oneDNN off twice: run files' contents {'equal' if same else 'DIFFERENT'}; tables "
          f"{'equal' if off[['i_xt', 'i_ty']].equals(again[['i_xt', 'i_ty']]) else 'DIFFERENT'}")
    key = ["activation", "seed", "estimator", "params", "epoch", "layer"]
    rows = off.merge(on, on=key, suffixes=("_off", "_on"))
    c = compression(off).merge(compression(on), on=["activation", "seed", "estimator", "params", "layer"],
                               suffixes=("_off", "_on"))
    print("oneDNN off against on, per activation (n rows; bits unless said):")
    for activation in sorted(rows["activation"].unique()):
        largest = 0.0
        for path in sorted((root / "off" / activation).glob("seed-*.h5")):
            a, b = read_run(path), read_run(root / "on" / activation / path.name)
            largest = max(largest, *(float(np.abs(x[[0, -1]] - y[[0, -1]]).max()) for x, y in zip(a.activity, b.activity)))
        r = rows[rows["activation"] == activation]
        d = {q: (r[f"{q}_off"] - r[f"{q}_on"]).abs() for q in ("i_xt", "i_ty")}
        dc = (c.loc[c["activation"] == activation, "compression_off"]
              - c.loc[c["activation"] == activation, "compression_on"]).abs()
        print(f"  {activation}: activity max |diff| {largest:.2g} (activity units); I(X;T) max {d['i_xt'].max():.3g}, "
              f"median {d['i_xt'].median():.2g}; I(T;Y) max {d['i_ty'].max():.3g}; compression C max {dc.max():.3g}, "
              f"median {dc.median():.2g} (n {len(r)} rows, {len(dc)} network-layers)")
    print(f"runs in {root}")


if __name__ == "__main__":
    main()
