# Sourced by run_all.sh and run_tests.sh: create .venv if it is missing and install
# requirements.txt and this package (editable) into it whenever either has changed. Needs only python3 (>= 3.10).
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
wanted="$("$python" -c 'import hashlib, sys; print(hashlib.sha256(b"".join(open(p, "rb").read() for p in sys.argv[1:])).hexdigest())' "$root/requirements.txt" "$root/pyproject.toml")"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "installing requirements.txt into .venv (first time: a few minutes)" >&2
  "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/requirements.txt"
  "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$root"
  echo "$wanted" > "$stamp"
fi
