"""Statement identity: canonical content, its digest, and the id of a statement sent without one.

A statement's *content* is the statement without the properties an LRS sets or may change
(``id``, ``stored``, ``authority``, ``version``), serialised canonically (sorted keys, no spaces,
timestamps in UTC). Two statements are "the same" (spec: same id, same content: accept, do nothing)
when their contents' digests are equal. A statement without ``id`` gets a UUIDv5 of the platform and
its content, so a platform that retries a statement without id gets the same id, and no second event.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

#: Namespace of the ids the gateway assigns (UUIDv5). Never change it: ids would change.
STATEMENT_ID_NAMESPACE = uuid.UUID("3c1f7a0e-5b2d-5e8a-9d41-6a0c2f9e7b13")
_FRACTION = re.compile(r"\.\d{7,}")
_SET_BY_LRS = ("id", "stored", "authority", "version")


def canonical_content(statement: dict[str, Any]) -> str:
    """The statement's content as canonical JSON (what identity and conflicts are judged on)."""
    content = {key: value for key, value in statement.items() if key not in _SET_BY_LRS}
    if isinstance(content.get("timestamp"), str):
        content["timestamp"] = utc_text(content["timestamp"])
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_digest(statement: dict[str, Any], canonical: str | None = None) -> str:
    text = canonical if canonical is not None else canonical_content(statement)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def assigned_id(platform: str, statement: dict[str, Any], canonical: str | None = None) -> uuid.UUID:
    """The id of a statement that came without one: the same platform and content, the same id."""
    text = canonical if canonical is not None else canonical_content(statement)
    return uuid.uuid5(STATEMENT_ID_NAMESPACE, f"{platform}\x1f{text}")


def parse_time(text: str) -> datetime:
    """An xAPI timestamp (already checked by ``spec``) as an aware datetime; no offset means UTC."""
    text = _FRACTION.sub(lambda m: m.group(0)[:7], text.replace("z", "Z").replace("t", "T"))
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def utc_text(text: str) -> str:
    """A timestamp in UTC with millisecond precision, e.g. ``2026-11-30T08:12:44.120Z``."""
    try:
        value = parse_time(text).astimezone(UTC)
    except ValueError:
        return text
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
