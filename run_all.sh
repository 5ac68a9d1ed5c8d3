#!/usr/bin/env bash
# Reproduce the paper end to end: train -> estimate -> plot -> report. Creates or refreshes .venv.
#   ./run_all.sh           the quick run (default): tanh, ReLU, ELU, swish, 3 seeds, 1500 epochs,
#                          L2 for tanh and ReLU, every estimator, every figure and the report
#   ./run_all.sh --full    the paper's protocol: 11 activations x 50 seeds x 8000 epochs, plus L2
#                          (lambda 0.015) for tanh and ReLU
#   --scheduler ADDRESS    train (one task per configuration) and estimate on a Dask cluster:
#                          tcp://host:port of a running scheduler, or local:N (see README, "Scale-out")
# Rerunning resumes: complete runs and estimates already in the table are not redone.
set -euo pipefail
cd "$(dirname "$0")"
usage="usage: ./run_all.sh [--quick | --full] [--scheduler ADDRESS]"
mode=; scheduler=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick|--full) [ -z "$mode" ] || [ "$mode" = "$1" ] || { echo "run_all.sh: give --quick or --full, not both; $usage" >&2; exit 2; }
                    mode=$1; shift ;;
    --scheduler) [ $# -ge 2 ] || { echo "run_all.sh: --scheduler needs an ADDRESS; $usage" >&2; exit 2; }
                 scheduler=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_all.sh: unknown option '$1'; $usage" >&2; exit 2 ;;
  esac
done
mode=${mode:---quick}
case "$mode" in
  --quick)
    activations="tanh relu elu swish"; seeds=3; epochs=1500; out=runs/quick
    minutes_per_network=0.31 ;;  # measured on a 2-core machine, all stages: 5.6 min for 18
  --full)
    activations="tanh relu softsign softplus centered_softplus elu prelu swish abs leaky_relu sigmoid"
    seeds=50; epochs=8000; out=runs/paper
    minutes_per_network=0.12 ;;  # measured: 78 min for 650 networks (train 49, estimate 27, plot 1)
esac
l2_activations="tanh relu"; l2=0.015
estimators="ebab,akde,uniform,fixed,kde,akde:variance_scale=0.01,akde:variance_scale=1"
figures=figures

source scripts/venv.sh
python=.venv/bin/python

n_configs=$(( $(wc -w <<< "$activations") + $(wc -w <<< "$l2_activations") ))
networks=$(( n_configs * seeds ))
plan=$("$python" - "$networks" "$epochs" "$minutes_per_network" <<'PY'
import sys
from ib_keras.models import HIDDEN_UNITS, N_CLASSES
from ib_keras.schedules import log_spaced_epochs
from ib_keras.storage import run_file_bytes
networks, epochs, minutes = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
recorded = len(log_spaced_epochs(epochs))
disk = networks * run_file_bytes(2**12, [*HIDDEN_UNITS, N_CLASSES], recorded) / 1e9
print(f"{recorded} recorded epochs each; about {networks * minutes:.0f} minutes; at most {disk:.1f} GB of run files")
PY
)
echo "plan ($mode${scheduler:+ on $scheduler}): $networks networks ($n_configs configurations x $seeds seeds), $epochs epochs, $plan"
echo "      outputs: $out (runs, mi.parquet, summary/), $figures (figures, REPORT.md)"

timings="$out/timings.json"
mkdir -p "$out"
declare -A took
stage() {  # stage NAME COMMAND...: run it and remember its wall time
  local name=$1 start=$SECONDS; shift
  "$@"
  took[$name]=$(( ${took[$name]:-0} + SECONDS - start ))
}
if [ -n "$scheduler" ]; then
  stage train "$python" -m ib_keras sweep --activations "${activations// /,}" --l2-activations "${l2_activations// /,}" \
    --l2 "$l2" --seeds "$seeds" --epochs "$epochs" --out "$out" --scheduler "$scheduler"
else
  for activation in $activations; do
    stage train "$python" -m ib_keras train --activation "$activation" --seeds "$seeds" --epochs "$epochs" --out "$out"
  done
  for activation in $l2_activations; do
    stage train "$python" -m ib_keras train --activation "$activation" --seeds "$seeds" --epochs "$epochs" --l2 "$l2" --out "$out"
  done
fi
stage estimate "$python" -m ib_keras estimate "$out" --estimators "$estimators" --out "$out/mi.parquet" \
  ${scheduler:+--scheduler "$scheduler"}
stage plot "$python" -m ib_keras summarize "$out/mi.parquet" --out "$out/summary"
stage plot "$python" -m ib_keras plot "$out/summary" --out "$figures"
printf '{"train": %d, "estimate": %d, "plot": %d}\n' "${took[train]}" "${took[estimate]}" "${took[plot]}" > "$timings"
"$python" -m ib_keras report "$out/summary" --out "$figures/REPORT.md" --timings "$timings"
echo "done in $SECONDS s: $figures/REPORT.md"
