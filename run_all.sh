#!/usr/bin/env bash
# Reproduce a study end to end: train -> estimate -> summarize -> figures and REPORT.md. Creates or
# refreshes .venv. Each study declares its modes (ib_keras/studies/<name>/configurations.py, registered
# in ib_keras/studies/registry.py; `./run_all.sh --help` lists them):
#   ./run_all.sh           the quick run (default, --quick): the paper's claims in a few minutes
#   ./run_all.sh --MODE    --full (the paper's protocol), --baselines, --noisy, ...
#   --scheduler ADDRESS    train (one task per configuration) and estimate on a Dask cluster:
#                          tcp://host:port of a running scheduler, or local:N (see docs/scale-out.md);
#                          without it, one local worker process per core trains a configuration at a time
# Rerunning resumes: complete runs and estimates already in the table are not redone.
set -euo pipefail
cd "$(dirname "$0")"
usage="usage: ./run_all.sh [--MODE] [--scheduler ADDRESS]; --help lists the modes"
mode=; scheduler=
while [ $# -gt 0 ]; do
  case "$1" in
    --scheduler) [ $# -ge 2 ] || { echo "run_all.sh: --scheduler needs an ADDRESS; $usage" >&2; exit 2; }
                 scheduler=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; echo "modes:"; python3 ib_keras/studies/registry.py --help
               exit 0 ;;
    --*) [ -z "$mode" ] || [ "$mode" = "$1" ] || { echo "run_all.sh: give one mode, not $mode and $1; $usage" >&2; exit 2; }
         mode=$1; shift ;;
    *) echo "run_all.sh: unknown option '$1'; $usage" >&2; exit 2 ;;
  esac
done
mode=${mode:---quick}
# The mode's settings, from the registry (system python3: the options are checked before any set-up):
# seeds out figures l2 minutes_per_network summarize group_dirs noise_std record_points note, and the
# arrays groups (protocol|activations|L2 activations|epochs|quantize bits|seeds), estimates
# (stage|files|estimators|stride|quantized groups only)
# and finish (commands of python -m ib_keras).
settings=$(python3 ib_keras/studies/registry.py --shell "$mode") || { echo "run_all.sh: $usage" >&2; exit 2; }
eval "$settings"
group_out() { if [ -n "$group_dirs" ]; then echo "$out/$1${2:+-${2}bit}"; else echo "$out"; fi; }

source scripts/venv.sh
python=.venv/bin/python

plan=$("$python" - "$seeds" "$minutes_per_network" "$record_points" "${groups[@]}" <<'PY'
import sys
from ib_keras.runfile import run_file_bytes
from ib_keras.train.spec import TrainSpec
seeds, minutes, points = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]) if sys.argv[3] else None
groups = [g.split("|") for g in sys.argv[4:]]
networks, disk, parts = 0, 0.0, []
for protocol, activations, l2_activations, epochs, bits, group_seeds in groups:
    configs, count = len(activations.split()) + len(l2_activations.split()), int(group_seeds or seeds)
    spec = TrainSpec(activations.split()[0], protocol=protocol, epochs=int(epochs), record_points=points,
                     quantize_bits=int(bits) if bits else None)
    data, recorded = spec.data(), len(spec.record_epochs())
    networks += configs * count
    disk += configs * count * run_file_bytes(spec.n_recorded, [*spec.hidden, data.n_classes], recorded,
                                             data.x.shape[1], spec.value_bytes()) / 1e9
    parts.append(f"{protocol}{f' {bits}-bit' if bits else ''}: {configs} configurations ({activations}"
                 f"{' and with L2: ' + l2_activations if l2_activations else ''}) x {count} seeds, {epochs} epochs, "
                 f"{recorded} recorded")
print(f"{networks} networks; " + "; ".join(parts) + f"; about {networks * minutes:.0f} minutes; at most {disk:.1f} GB of run files")
PY
)
echo "plan ($mode${scheduler:+ on $scheduler}): $plan${note:+; $note}${noise_std:+; noise s = $noise_std}"
echo "      outputs: $out (runs, mi.parquet${summarize:+, summary/}), $figures (figures, REPORT.md)"

timings="$out/timings.json"
mkdir -p "$out"
declare -A took
stages=()
stage() {  # stage NAME COMMAND...: run it and remember its wall time
  local name=$1 start=$SECONDS; shift
  [ -n "${took[$name]+set}" ] || stages+=("$name")
  "$@"
  took[$name]=$(( ${took[$name]:-0} + SECONDS - start ))
}
summaries=(); tables=()
for group in "${groups[@]}"; do
  IFS='|' read -r protocol activations l2_activations epochs bits group_seeds <<< "$group"
  where=$(group_out "$protocol" "$bits")
  # one task per configuration, TensorFlow started once per worker (not once per configuration)
  stage train "$python" -m ib_keras sweep --activations "${activations// /,}" \
    ${l2_activations:+--l2-activations "${l2_activations// /,}"} --l2 "$l2" --seeds "${group_seeds:-$seeds}" \
    --epochs "$epochs" \
    --protocol "$protocol" --out "$where" ${scheduler:+--scheduler "$scheduler"} \
    ${noise_std:+--noise-std "$noise_std"} ${record_points:+--record-points "$record_points"} \
    ${bits:+--quantize-bits "$bits"}
  for estimate in "${estimates[@]}"; do
    IFS='|' read -r name files estimators stride quantized <<< "$estimate"
    [ -z "$quantized" ] || [ -n "$bits" ] || continue
    if [ -n "$files" ]; then runs=("$where"/*/$files); else runs=("$where"); fi
    stage "$name" "$python" -m ib_keras estimate "${runs[@]}" --estimators "$estimators" --out "$where/mi.parquet" \
      $([ "$stride" -gt 1 ] && echo --epoch-stride "$stride") ${scheduler:+--scheduler "$scheduler"}
  done
  tables+=("$where/mi.parquet")
  if [ -n "$summarize" ]; then
    stage plot "$python" -m ib_keras summarize "$where/mi.parquet" --out "$where/summary"
    summaries+=("$where/summary")
  fi
done
fill() {  # fill COMMAND: the finish command with its placeholders filled, one word per line
  local word
  for word in $1; do
    case "$word" in
      {summary}) echo "${summaries[0]}" ;;
      {summaries}) printf '%s\n' "${summaries[@]}" ;;
      {tables}) printf '%s\n' "${tables[@]}" ;;
      *) word=${word//\{table\}/$out/mi.parquet}; word=${word//\{figures\}/$figures}; echo "${word//\{timings\}/$timings}" ;;
    esac
  done
}
last=
for command in "${finish[@]}"; do
  if [[ "$command" == *"{timings}"* ]]; then last=$command; continue; fi
  mapfile -t words < <(fill "$command")
  stage plot "$python" -m ib_keras "${words[@]}"
done
json=; for name in "${stages[@]}"; do json+="${json:+, }\"$name\": ${took[$name]}"; done
echo "{$json}" > "$timings"
if [ -n "$last" ]; then
  mapfile -t words < <(fill "$last")
  "$python" -m ib_keras "${words[@]}"
fi
echo "done in $SECONDS s: $figures/REPORT.md"
