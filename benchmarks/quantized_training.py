"""What quantization-aware training costs: seconds per network-epoch of the paper's 12-10-7-5-4-3-2
network on the synthetic task (3277 training rows, batch 256, Adam), K members in one model, float32
(one batched product per layer, under XLA) against 8-bit quantized (member by member, without XLA,
so that a member's codes do not depend on its neighbours), measured in the same run; no recorder.

    .venv/bin/python benchmarks/quantized_training.py [--members 1,4,10,20] [--epochs 100]
"""

from __future__ import annotations

import argparse

import ib_keras  # noqa: F401  (sets TensorFlow's environment before it loads)

from timing import seconds_per_epoch  # benchmarks/timing.py, beside this script

from ib_keras.data.tishby import split_indices, tishby_dataset
from ib_keras.networks.models import build_ensemble
from ib_keras.train.fit import fit_ensemble


def network_epoch_seconds(members: int, epochs: int, bits: int | None) -> float:
    x, y = tishby_dataset()
    train, _ = split_indices(len(x))
    seeds = list(range(members))

    def train_for(n: int) -> None:
        model = build_ensemble("tanh", seeds, protocol="lorenzen", quantize_bits=bits)
        fit_ensemble(model, x[train], y[train], seeds, n)

    return seconds_per_epoch(train_for, epochs) / members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="1,4,10,20", help="members per model, comma-separated")
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    print("members  float32 ms  8-bit ms  ratio (per network-epoch)")
    for members in map(int, args.members.split(",")):
        plain, quantized = (1e3 * network_epoch_seconds(members, args.epochs, bits) for bits in (None, 8))
        print(f"{members:7d}  {plain:10.2f}  {quantized:8.2f}  {quantized / plain:5.1f}x")


if __name__ == "__main__":
    main()
