"""Identifiers: time-sortable, URL-safe, collision-resistant."""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH = 1_400_000_000  # KSUID epoch: 2014-05-13T16:53:20Z
_KSUID_LENGTH = 27


def ksuid(now: float | None = None) -> str:
    """A KSUID: 32-bit seconds since the KSUID epoch + 128 random bits, base62, 27 chars.

    Lexicographic order follows creation time (to the second), which keeps DynamoDB sort keys
    and log searches in time order.
    """
    seconds = int(time.time() if now is None else now) - _KSUID_EPOCH
    value = int.from_bytes(seconds.to_bytes(4, "big") + os.urandom(16), "big")
    chars = []
    while value:
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars)).rjust(_KSUID_LENGTH, "0")


def new_rec_id() -> str:
    """The id of one served recommendation list, e.g. ``rec_0ujsswThIGTUYm2K8FjOOfXtY1K``."""
    return f"rec_{ksuid()}"
