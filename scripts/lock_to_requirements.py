"""Print a pylock.toml (written by `pip lock`) as a hash-checked requirements file: one
`name==version --hash=sha256:...` line per package, under a header naming the interpreter and
platform the lock was resolved on (scripts/venv.sh installs it only on a match)."""

import platform
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    lock = tomllib.load(f)
print("# Exact versions and wheel hashes the test suite ran with: scripts/venv.sh installs them with")
print("# --require-hashes. Made by scripts/lock.sh from requirements.txt; do not edit by hand.")
print(f"# for: {platform.python_implementation()} {sys.version_info.major}.{sys.version_info.minor} "
      f"{platform.system()} {platform.machine()}")
for package in sorted(lock["packages"], key=lambda p: p["name"].lower()):
    hashes = sorted({wheel["hashes"]["sha256"] for wheel in package.get("wheels", [])}
                    | ({package["sdist"]["hashes"]["sha256"]} if "sdist" in package else set()))
    if not hashes:
        sys.exit(f"{package['name']}: no wheel or sdist hash in the lock")
    print(f"{package['name']}=={package['version']} " + " ".join(f"--hash=sha256:{h}" for h in hashes))
