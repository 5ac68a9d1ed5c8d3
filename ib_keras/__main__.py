"""``python -m ib_keras``: the command line."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notices are not errors

from ib_keras.cli import main  # noqa: E402  (after the environment is set)

if __name__ == "__main__":  # not when a spawned worker process imports this module
    raise SystemExit(main())
