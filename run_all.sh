#!/usr/bin/env bash
# Reproduce the paper end to end: train -> estimate -> plot -> report. Creates or refreshes .venv.
#   ./run_all.sh           the quick run (default): tanh, ReLU, ELU, swish, 3 seeds, 1500 epochs,
#                          L2 for tanh and ReLU, every estimator, every figure and the report
#   ./run_all.sh --full    the paper's protocol: 11 activations x 50 seeds x 8000 epochs, plus L2
#                          (lambda 0.015) for tanh and ReLU
#                          Both also compute the truth every KDE bound brackets (noisy) on a subset:
#                          quick every 6th recorded epoch, full seeds 0-9 at every 4th
#   ./run_all.sh --baselines  the baselines under their own protocols: Shwartz-Ziv & Tishby tanh,
#                          Saxe et al. tanh and ReLU, 50 seeds each; their claims in figures/baselines
#   ./run_all.sh --noisy   noisy networks (Goldfeld et al. 2019): tanh and ReLU, noise s = 0.005 after every
#                          hidden layer, Adam 4e-4, batch 256, 10000 epochs, 84 recorded, 10 seeds each;
#                          sample propagation (sp) at every 2nd recorded epoch beside the other estimators
#                          at every one; claims in figures/noisy
#   --scheduler ADDRESS    train (one task per configuration) and estimate on a Dask cluster:
#                          tcp://host:port of a running scheduler, or local:N (see README, "Scale-out");
#                          without it, one local worker process per core trains a configuration at a time
# Rerunning resumes: complete runs and estimates already in the table are not redone.
set -euo pipefail
cd "$(dirname "$0")"
usage="usage: ./run_all.sh [--quick | --full | --baselines | --noisy] [--scheduler ADDRESS]"
mode=; scheduler=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick|--full|--baselines|--noisy) [ -z "$mode" ] || [ "$mode" = "$1" ] || { echo "run_all.sh: give one of --quick, --full, --baselines, --noisy; $usage" >&2; exit 2; }
                    mode=$1; shift ;;
    --scheduler) [ $# -ge 2 ] || { echo "run_all.sh: --scheduler needs an ADDRESS; $usage" >&2; exit 2; }
                 scheduler=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_all.sh: unknown option '$1'; $usage" >&2; exit 2 ;;
  esac
done
mode=${mode:---quick}
# A group: protocol|activations|activations also trained with L2|epochs. Each group of --baselines
# goes to its own directory (runs/baselines/<protocol>), its own table and summary.
estimators="ebab,akde,uniform,fixed,kde,akde:variance_scale=0.01,akde:variance_scale=1"
# The truth beside every KDE setting above, and the lower bounds, on a subset of seeds (run files
# seed-NNN.h5 matching truth_seeds) and of recorded epochs (every truth_stride-th and the last).
truth_estimators="noisy,noisy:variance_scale=0.1,noisy:variance_scale=0.01,noisy:variance_scale=1,kde:bound=lower"
truth_estimators="$truth_estimators,akde:bound=lower,akde:variance_scale=0.01:bound=lower,akde:variance_scale=1:bound=lower"
truth_seeds='seed-*.h5'; truth_stride=
l2=0.015; figures=figures; noise_std=; record_points=
case "$mode" in
  --quick)
    groups=("chelombiev|tanh relu elu swish|tanh relu|1500"); seeds=3; out=runs/quick
    truth_stride=6; truth_note="every seed, every 6th recorded epoch"
    minutes_per_network=0.22 ;;  # measured on a 2-core machine, fresh clone: 3.7 min for 18 (train 54 s, estimate 57, truth 86, plot 24)
  --full)
    groups=("chelombiev|tanh relu softsign softplus centered_softplus elu prelu swish abs leaky_relu sigmoid|tanh relu|8000")
    seeds=50; out=runs/paper
    truth_seeds='seed-00[0-9].h5'; truth_stride=4; truth_note="seeds 0-9 of 50, every 4th recorded epoch"
    minutes_per_network=0.15 ;;  # measured: 78 min for 650 networks (train 49, estimate 27, plot 1), the truth 21
  --baselines)
    groups=("shwartz-ziv|tanh||8000" "saxe|tanh relu||10000"); seeds=50; out=runs/baselines
    estimators="$estimators,kde:bound=lower"; figures=figures/baselines
    minutes_per_network=0.49 ;;  # measured: 73 min for 150 networks (train 26, estimate 47)
  --noisy)
    # Goldfeld et al.'s set-up (ICML 2019, Section 6; the issue): s = 0.005, Adam 4e-4, batch 256 (the
    # chelombiev protocol's), 10000 epochs; 98 log-spaced points give 84 distinct recorded epochs.
    groups=("chelombiev|tanh relu||10000"); seeds=10; out=runs/noisy; figures=figures/noisy
    noise_std=0.005; record_points=98
    estimators="noisy:noise_variance=2.5e-05,kde:noise_variance=2.5e-05,fixed:bin_size=0.005,ebab"
    sp="sp"; sp_stride=2  # sample propagation (0.75 s per layer-epoch) at every 2nd recorded epoch and the last
    sensitivity="sp:replicas=256:marginal_replicas=16"  # sp's replica bias: seed 0, every 12th recorded epoch
    minutes_per_network=3 ;;  # estimated: training 10 networks x 10000 epochs took 9 min per activation
esac
group_out() { if [ "$mode" = --baselines ]; then echo "$out/$1"; else echo "$out"; fi; }

source scripts/venv.sh
python=.venv/bin/python

plan=$("$python" - "$seeds" "$minutes_per_network" "$record_points" "${groups[@]}" <<'PY'
import sys
from ib_keras.protocols import HIDDEN_UNITS, N_CLASSES, record_schedule
from ib_keras.storage import run_file_bytes
seeds, minutes, points = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]) if sys.argv[3] else None
groups = [g.split("|") for g in sys.argv[4:]]
networks, disk, parts = 0, 0.0, []
for protocol, activations, l2_activations, epochs in groups:
    configs = len(activations.split()) + len(l2_activations.split())
    recorded = len(record_schedule(protocol, int(epochs), points))
    networks += configs * seeds
    disk += configs * seeds * run_file_bytes(2**12, [*HIDDEN_UNITS, N_CLASSES], recorded) / 1e9
    parts.append(f"{protocol}: {configs} configurations ({activations}{' and with L2: ' + l2_activations if l2_activations else ''})"
                 f" x {seeds} seeds, {epochs} epochs, {recorded} recorded")
print(f"{networks} networks; " + "; ".join(parts) + f"; about {networks * minutes:.0f} minutes; at most {disk:.1f} GB of run files")
PY
)
echo "plan ($mode${scheduler:+ on $scheduler}): $plan${truth_stride:+; the truth (noisy) on $truth_note}${noise_std:+; noise s = $noise_std}"
echo "      outputs: $out (runs, mi.parquet, summary/), $figures (figures, REPORT.md)"

timings="$out/timings.json"
mkdir -p "$out"
declare -A took
stage() {  # stage NAME COMMAND...: run it and remember its wall time
  local name=$1 start=$SECONDS; shift
  "$@"
  took[$name]=$(( ${took[$name]:-0} + SECONDS - start ))
}
summaries=()
for group in "${groups[@]}"; do
  IFS='|' read -r protocol activations l2_activations epochs <<< "$group"
  where=$(group_out "$protocol")
  # one task per configuration, TensorFlow started once per worker (not once per configuration)
  stage train "$python" -m ib_keras sweep --activations "${activations// /,}" \
    ${l2_activations:+--l2-activations "${l2_activations// /,}"} --l2 "$l2" --seeds "$seeds" --epochs "$epochs" \
    --protocol "$protocol" --out "$where" ${scheduler:+--scheduler "$scheduler"} \
    ${noise_std:+--noise-std "$noise_std"} ${record_points:+--record-points "$record_points"}
  stage estimate "$python" -m ib_keras estimate "$where" --estimators "$estimators" --out "$where/mi.parquet" \
    ${scheduler:+--scheduler "$scheduler"}
  if [ -n "$truth_stride" ]; then
    stage truth "$python" -m ib_keras estimate "$where"/*/$truth_seeds --estimators "$truth_estimators" \
      --epoch-stride "$truth_stride" --out "$where/mi.parquet" ${scheduler:+--scheduler "$scheduler"}
  fi
  if [ "$mode" = --noisy ]; then
    stage sp "$python" -m ib_keras estimate "$where" --estimators "$sp" --epoch-stride "$sp_stride" \
      --out "$where/mi.parquet" ${scheduler:+--scheduler "$scheduler"}
    stage sensitivity "$python" -m ib_keras estimate "$where"/*/seed-000.h5 --estimators "$sensitivity" --epoch-stride 12 \
      --out "$where/mi.parquet" ${scheduler:+--scheduler "$scheduler"}
    continue
  fi
  stage plot "$python" -m ib_keras summarize "$where/mi.parquet" --out "$where/summary"
  summaries+=("$where/summary")
done
if [ "$mode" = --noisy ]; then
  printf '{"train": %d, "estimate": %d, "sp": %d, "sensitivity": %d}\n' "${took[train]}" "${took[estimate]}" \
    "${took[sp]}" "${took[sensitivity]}" > "$timings"
  stage plot "$python" -m ib_keras noisy-report "$out/mi.parquet" --out "$figures" --timings "$timings"
elif [ "$mode" = --baselines ]; then
  printf '{"train": %d, "estimate": %d, "plot": %d}\n' "${took[train]}" "${took[estimate]}" "${took[plot]}" > "$timings"
  "$python" -m ib_keras baselines "${summaries[@]}" --out "$figures" --timings "$timings"
else
  stage plot "$python" -m ib_keras plot "${summaries[0]}" --out "$figures"
  printf '{"train": %d, "estimate": %d, "truth": %d, "plot": %d}\n' "${took[train]}" "${took[estimate]}" \
    "${took[truth]}" "${took[plot]}" > "$timings"
  "$python" -m ib_keras report "${summaries[0]}" --out "$figures/REPORT.md" --timings "$timings"
fi
echo "done in $SECONDS s: $figures/REPORT.md"
