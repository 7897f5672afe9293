"""Pseudonymisation at the source: raw pupil, class and teacher ids never leave the platform.

A pseudonym is HMAC-SHA256(academy key, kind + raw id), truncated to 128 bits (32 hex digits):
stable for the same key, so a pupil's history joins up, and impossible to reverse or to recompute
without the academy's secret. ``kind`` keeps a class id from colliding with a pupil id.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from vigie.core.errors import ConfigurationError
from vigie.core.settings import DEV_PSEUDONYM_KEY, PrivacySettings

#: Shorter HMAC keys are refused: 16 bytes is the least that resists guessing.
MIN_KEY_BYTES = 16

IdentifierKind = Literal["student", "class", "teacher"]


class Pseudonymizer:
    """Turns raw identifiers into keyed pseudonyms for one academy's secret key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes long")
        self._key = key

    def pseudonym(self, kind: IdentifierKind, raw_id: str) -> str:
        # surrogatepass: a lone surrogate (possible in JSON input) still hashes; valid text is plain UTF-8.
        digest = hmac.new(self._key, f"{kind}\x1f{raw_id}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return digest[:32]

    def student(self, raw_id: str) -> str:
        return self.pseudonym("student", raw_id)

    def school_class(self, raw_id: str) -> str:
        return self.pseudonym("class", raw_id)

    def teacher(self, raw_id: str) -> str:
        return self.pseudonym("teacher", raw_id)


class AcademyPseudonymizers:
    """One ``Pseudonymizer`` per academy, keyed with that academy's secret from ``settings.privacy``.

    With ``privacy.production`` set (``VIGIE_PRIVACY__PRODUCTION=true``) an academy whose key is still
    the development default is refused with a ``ConfigurationError`` that says what to set: pseudonyms
    made with a published key could be recomputed by anyone holding a list of raw ids.
    """

    def __init__(self, privacy: PrivacySettings) -> None:
        self._privacy = privacy
        self._by_academy: dict[str, Pseudonymizer] = {}

    def for_academy(self, academy: str) -> Pseudonymizer:
        found = self._by_academy.get(academy)
        if found is None:
            found = self._by_academy[academy] = Pseudonymizer(self._checked_key(academy))
        return found

    def _checked_key(self, academy: str) -> bytes:
        key = self._privacy.key_for(academy)
        variable = f'VIGIE_PRIVACY__ACADEMY_KEYS=\'{{"{academy}": "<secret>"}}\' or VIGIE_PRIVACY__DEFAULT_KEY'
        if self._privacy.production and key == DEV_PSEUDONYM_KEY.encode():
            raise ConfigurationError(
                f"academy {academy!r} would be pseudonymised with the development key in production: set {variable}"
            )
        if len(key) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"the pseudonymisation key of academy {academy!r} is shorter than "
                f"{MIN_KEY_BYTES} bytes: set a longer {variable}"
            )
        return key
