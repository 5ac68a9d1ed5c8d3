#!/usr/bin/env bash
# Refresh requirements.lock: resolve requirements.txt afresh (the newest versions its ranges admit)
# with `pip lock`, and write every package's exact version and wheel hash. Run it on the project's
# kind of machine (CPython 3.11, Linux x86_64), then run ./run_tests.sh (which installs the new lock)
# and commit the lock only when the suite is green:
#   scripts/lock.sh          everything at the newest versions requirements.txt admits
#   scripts/lock.sh --keep   the packages already locked kept at their versions: only what
#                            requirements.txt adds (a new dependency and what it needs) is resolved
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$(cat "$root/scripts/pip-version")"
constraints=()
if [ "${1:-}" = --keep ]; then
  grep -oE '^[A-Za-z0-9_.-]+==[^ ;\\]+' "$root/requirements.lock" > "$work/constraints.txt"
  constraints=(-c "$work/constraints.txt")
elif [ $# -gt 0 ]; then
  echo "scripts/lock.sh: unknown option '$1'; usage: scripts/lock.sh [--keep]" >&2; exit 2
fi
"$work/venv/bin/python" -m pip lock --quiet --disable-pip-version-check -r "$root/requirements.txt" "${constraints[@]}" \
  -o "$work/pylock.toml"
"$work/venv/bin/python" "$root/scripts/lock_to_requirements.py" "$work/pylock.toml" > "$work/requirements.lock"
mv "$work/requirements.lock" "$root/requirements.lock"
echo "wrote $root/requirements.lock ($(grep -c '==' "$root/requirements.lock") packages); now run ./run_tests.sh"
