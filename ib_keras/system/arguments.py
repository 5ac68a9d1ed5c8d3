"""Command-line values: argparse types that check a number's range or a path's text before any work,
each refusal one line naming what was expected."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ib_keras.system.atomic import check_utf8


def number(kind: type, minimum: float, maximum: float, description: str) -> Callable[[str], object]:
    """An argparse type: ``kind(text)`` if it lies in [minimum, maximum] (NaN never does), else
    "'text' is not ``description``"."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {description}") from None
        if not minimum <= value <= maximum:  # NaN fails too
            raise argparse.ArgumentTypeError(f"'{text}' is not {description}")
        return value

    return parse


# Upper bounds far beyond any study, checked before anything is allocated.
positive_int = number(int, 1, 10**6, "a whole number from 1 to 1000000")


def path_text(text: str) -> str:
    """A path as given, if it is UTF-8 text: run files and tables name each other by path, as text."""
    try:
        check_utf8(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text
