#!/usr/bin/env bash
# Run the test suite in .venv, creating or refreshing it first. Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
exec .venv/bin/python -m pytest "$@"
