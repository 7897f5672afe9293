"""Dead letters that keep no raw identifier, and name the pupil whenever it can be known.

A rejected message may carry what the contract would have refused to carry: a raw student id as the
key, a raw class id in the payload, a name in a field the contract does not know. Before its dead
letter is written:

- the key is kept if it is a pseudonym, else replaced by the pupil pseudonym the SDK would have made
  of it (keyed HMAC with the academy's key when the payload names a known academy, the default key
  otherwise): a raw key is almost always a raw pupil id, and the letter then joins the pupil's history;
- a JSON-object payload keeps only the contract's own fields (any other field is withheld), and
  ``student_id``, ``class_id`` and ``teacher_id`` that are not pseudonyms are pseudonymised the same way;
  nested values are withheld;
- any other payload (not JSON, not an object, too large to parse) is withheld whole;
- the letter records the original size and a *keyed* digest of the original bytes (a plain hash of a
  short payload such as a bare raw id could be reversed by trying candidates), and what it redacted.

The pupil of the letter (``student_id``) is the payload's pupil (pseudonym, or pseudonymised), else the
key when it is a pseudonym: ``vigie erase`` removes the letters of a pupil with the rest of their rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from vigie.core.contract.codec import DEAD_LETTER_PAYLOAD_BYTES, dead_letter
from vigie.core.contract.events import DeadLetter
from vigie.core.contract.referential import ACADEMIES
from vigie.core.errors import ConfigurationError, InvalidEventError
from vigie.core.settings import PrivacySettings
from vigie.producers.pseudonym import AcademyPseudonymizers, IdentifierKind, Pseudonymizer

log = logging.getLogger(__name__)

_PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
#: Payloads larger than this are not parsed for redaction: withheld whole.
MAX_REDACTED_PARSE_BYTES = 1024 * 1024
#: Contract fields that hold a person's identifier, and the pseudonym kind of each.
IDENTIFIER_FIELDS: dict[str, IdentifierKind] = {"student_id": "student", "class_id": "class", "teacher_id": "teacher"}


def _contract_fields() -> frozenset[str]:
    from vigie.core.contract.events import AnswerSubmitted, ErasureRequested, SessionEnded, SessionStarted

    names: set[str] = set()
    for model in (AnswerSubmitted, SessionStarted, SessionEnded, ErasureRequested):
        names.update(model.model_fields)
    return frozenset(names)


#: Fields a learning event may have: any other payload field is withheld from a dead letter.
CONTRACT_FIELDS = _contract_fields()


class DeadLetterWriter:
    """Builds redacted dead letters with one process's privacy keys (``settings.privacy``)."""

    def __init__(self, privacy: PrivacySettings) -> None:
        self._pseudonymizers = AcademyPseudonymizers(privacy)
        self._digest_key = privacy.default_key.get_secret_value().encode()

    def _keys(self, academy: str | None) -> Pseudonymizer | None:
        try:
            return self._pseudonymizers.for_academy(academy or "")
        except ConfigurationError:  # production without a key for it: identifiers are withheld instead
            return None

    def digest(self, value: bytes) -> str:
        return "hmac-sha256:" + hmac.new(self._digest_key, value, hashlib.sha256).hexdigest()

    def letter(
        self, *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None, error: Exception
    ) -> DeadLetter:
        """The dead letter of the message at (topic, partition, offset), with nothing raw in it."""
        redacted: list[str] = []
        payload = _json_object(value)
        academy = payload.get("academy") if payload is not None else None
        academy = academy if isinstance(academy, str) and academy in ACADEMIES else None
        keys = self._keys(academy)
        pseudonym: Callable[[IdentifierKind, str], str | None] = (
            (lambda kind, raw: keys.pseudonym(kind, raw)) if keys is not None else (lambda kind, raw: None)
        )
        kept_value: bytes | None = value
        student: str | None = None
        if payload is not None:
            clean: dict[str, Any] = {}
            for name, field_value in payload.items():
                if name not in CONTRACT_FIELDS:  # its name too may be personal: counted, not named
                    if "other_fields" not in redacted:
                        redacted.append("other_fields")
                    continue
                if isinstance(field_value, dict | list):
                    redacted.append(name)
                    continue
                kind = IDENTIFIER_FIELDS.get(name)
                if kind is not None and field_value is not None:
                    text = field_value if isinstance(field_value, str) else json.dumps(field_value)
                    if not _PSEUDONYM.match(text):
                        redacted.append(name)
                        made = pseudonym(kind, text)
                        if made is None:
                            continue
                        field_value = made
                    if name == "student_id":
                        student = field_value
                clean[name] = field_value
            kept_value = json.dumps(clean).encode()
        elif value:
            kept_value = b""
            redacted.append("payload")
        key_text = None if key is None else key.decode("utf-8", "replace")
        if key_text is not None and not _PSEUDONYM.match(key_text):
            redacted.append("key")
            key_text = pseudonym("student", key_text) or "redacted"
            if student is None and key_text != "redacted":
                student = key_text  # the key is the pupil's: a raw one is most likely their raw id
        elif key_text is not None and student is None:
            student = key_text
        if isinstance(error, InvalidEventError) and error.field is not None:
            last = error.field.rsplit(".", 1)[-1]
            if last not in CONTRACT_FIELDS and last != "key":  # an extra field's name may be a raw identifier
                error = InvalidEventError(error.reason, field="(a field outside the contract)")
        return dead_letter(
            topic=topic,
            partition=partition,
            offset=offset,
            key=None if key_text is None else key_text.encode(),
            value=kept_value,
            error=error,
            academy=academy,
            student_id=student,
            payload_bytes=None if value is None else len(value),
            payload_digest=None if value is None else self.digest(value),
            redacted=tuple(redacted),
        )


def _json_object(value: bytes | None) -> dict[str, Any] | None:
    """The payload as a JSON object, or None when it is not one (or too large to be worth parsing)."""
    if not value or len(value) > MAX_REDACTED_PARSE_BYTES:
        return None
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


__all__ = ["CONTRACT_FIELDS", "DEAD_LETTER_PAYLOAD_BYTES", "DeadLetterWriter"]
