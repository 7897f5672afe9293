"""Pseudonymisation at the source: raw pupil, class and teacher ids never leave the platform.

A pseudonym is HMAC-SHA256(academy key, kind + raw id), truncated to 128 bits (32 hex digits):
stable for the same key, so a pupil's history joins up, and impossible to reverse or to recompute
without the academy's secret. ``kind`` keeps a class id from colliding with a pupil id.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

IdentifierKind = Literal["student", "class", "teacher"]


class Pseudonymizer:
    """Turns raw identifiers into keyed pseudonyms for one academy's secret key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonymisation key must be at least 16 bytes long")
        self._key = key

    def pseudonym(self, kind: IdentifierKind, raw_id: str) -> str:
        digest = hmac.new(self._key, f"{kind}\x1f{raw_id}".encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def student(self, raw_id: str) -> str:
        return self.pseudonym("student", raw_id)

    def school_class(self, raw_id: str) -> str:
        return self.pseudonym("class", raw_id)

    def teacher(self, raw_id: str) -> str:
        return self.pseudonym("teacher", raw_id)
