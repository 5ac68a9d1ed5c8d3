# Sourced by run_all.sh and run_tests.sh: create .venv if it is missing and install the environment
# the test suite ran with whenever requirements.lock, requirements.txt or pyproject.toml has changed:
# requirements.lock (exact versions, wheel hashes checked) on the interpreter and platform it was
# made for (its "# for:" line), else requirements.txt's ranges with a warning; then this package
# (editable). Needs only python3 (>= 3.10). scripts/lock.sh refreshes the lock.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "ib-keras needs Python >= 3.10; '$python' is $("$python" --version 2>&1). Set PYTHON to a newer one." >&2
  exit 1
fi
if [ ! -x "$root/.venv/bin/python" ]; then
  echo "creating $root/.venv" >&2
  "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/requirements.sha256"
wanted="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(b"".join(open(p, "rb").read() for p in sys.argv[1:])).hexdigest())' \
  "$root/requirements.lock" "$root/requirements.txt" "$root/pyproject.toml" "$root/scripts/pip-version")"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  pip=("$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile)
  "${pip[@]}" "pip==$(cat "$root/scripts/pip-version")"
  here="$("$root/.venv/bin/python" -c 'import platform, sys; print(f"{platform.python_implementation()} {sys.version_info.major}.{sys.version_info.minor} {platform.system()} {platform.machine()}")')"
  if grep -qx "# for: $here" "$root/requirements.lock"; then
    echo "installing requirements.lock into .venv (first time: a few minutes)" >&2
    "${pip[@]}" --require-hashes --no-deps -r "$root/requirements.lock"
  else
    echo "warning: requirements.lock is for $(sed -n 's/^# for: //p' "$root/requirements.lock"), this is $here:" \
         "installing requirements.txt's ranges instead (other versions than the test suite ran with)" >&2
    "${pip[@]}" -r "$root/requirements.txt"
  fi
  "${pip[@]}" --no-deps -e "$root"
  # the bytecode, on every core (pip compiles one file at a time: the set-up took 52 s here, now 40 s), the
  # packages' own test directories left out (never imported here); a file that does not compile is left to
  # import time, as pip leaves it
  "$root/.venv/bin/python" -m compileall -q -j 0 -x '/tests?/' \
    "$("$root/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
  echo "$wanted" > "$stamp"
fi
