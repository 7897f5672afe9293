"""The gateway's durable state, one SQLite file under the state folder (``<state>/gateway/platforms.db``).

Why SQLite rather than a compacted Kafka topic: every request needs synchronous lookups (credential,
roster entry by actor pseudonym, skill rule, "do I already hold this statement id?") and an atomic
claim of a statement id before its events are produced; SQLite answers those in microseconds, from a
file, with transactions, without replaying a topic into memory at start, and `vigie platforms …`
changes are seen by a running gateway at once (WAL mode: readers and one writer across processes).
The price: one gateway host per state folder. Several gateway hosts would need a shared database (or
a compacted topic with a local cache); that is noted in docs/platforms.md.

Nothing raw lives here: secrets are SHA-256 digests of random 256-bit secrets (a slow hash adds
nothing against secrets that cannot be guessed), roster entries and kept statements hold pseudonyms.

Tables: ``platforms``, ``credentials``, ``rules``, ``roster``, and ``statements`` — every statement
accepted, as kept (pseudonymised), with its status: ``pending`` while its events are produced,
``mapped``, ``unmapped`` (with the reason; replayable) or ``duplicate`` (same content under another id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vigie.core.errors import ConfigurationError
from vigie.producers.gateway.config import Platform, RosterEntry, SkillRule

CredentialKind = Literal["basic", "bearer"]
Status = Literal["pending", "mapped", "unmapped", "duplicate"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS platforms (slug TEXT PRIMARY KEY, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    key TEXT PRIMARY KEY, platform TEXT NOT NULL REFERENCES platforms(slug) ON DELETE CASCADE,
    kind TEXT NOT NULL, secret_sha256 TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS rules (
    platform TEXT NOT NULL REFERENCES platforms(slug) ON DELETE CASCADE, match TEXT NOT NULL, value TEXT NOT NULL,
    skill_code TEXT NOT NULL, level TEXT, PRIMARY KEY (platform, match, value));
CREATE TABLE IF NOT EXISTS roster (
    platform TEXT NOT NULL REFERENCES platforms(slug) ON DELETE CASCADE, academy TEXT NOT NULL,
    student_id TEXT NOT NULL, school_uai TEXT NOT NULL, class_id TEXT NOT NULL, level TEXT NOT NULL,
    PRIMARY KEY (platform, academy, student_id));
CREATE TABLE IF NOT EXISTS statements (
    platform TEXT NOT NULL, statement_id TEXT NOT NULL, content_sha256 TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', kept TEXT NOT NULL, actor_keys TEXT NOT NULL, session_id TEXT,
    kind TEXT, event_id TEXT, stored TEXT NOT NULL, PRIMARY KEY (platform, statement_id));
CREATE INDEX IF NOT EXISTS statements_content ON statements (platform, content_sha256);
CREATE INDEX IF NOT EXISTS statements_status ON statements (platform, status);
CREATE INDEX IF NOT EXISTS statements_session ON statements (platform, session_id, kind, status);
"""


@dataclass(frozen=True, slots=True)
class KeptStatement:
    platform: str
    statement_id: str
    content_sha256: str
    status: Status
    reason: str
    kept: dict[str, Any]
    actor_keys: dict[str, str]
    stored: str


@dataclass(frozen=True, slots=True)
class Settlement:
    """What became of one statement: ``mapped`` (with its session, kind and event id), ``unmapped`` or
    ``duplicate`` (with the reason)."""

    statement_id: str
    status: Status
    reason: str = ""
    session_id: str | None = None
    kind: str | None = None
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming a statement id found: ``new`` (go on), ``same`` (already held: accept, do nothing),
    ``conflict`` (other content: 409), ``busy`` (the same statement is being produced by another
    request: ask to retry), ``duplicate_of`` (the same content under another id)."""

    outcome: Literal["new", "same", "conflict", "busy"]
    duplicate_of: str | None = None


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class GatewayStore:
    """Thread-safe access to the SQLite file (one connection, one lock: SQLite serialises writes anyway)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # platforms -----------------------------------------------------------------------------------
    def save_platform(self, platform: Platform) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO platforms (slug, config) VALUES (?, ?) ON CONFLICT(slug) DO UPDATE SET "
                "config = excluded.config",
                (platform.slug, platform.model_dump_json()),
            )

    def platform(self, slug: str) -> Platform | None:
        rows = self._rows("SELECT config FROM platforms WHERE slug = ?", (slug,))
        return Platform.model_validate_json(rows[0][0]) if rows else None

    def require_platform(self, slug: str) -> Platform:
        found = self.platform(slug)
        if found is None:
            raise ConfigurationError(f"no platform {slug!r}: create it with `vigie platforms add {slug} --academy …`")
        return found

    def platforms(self) -> list[Platform]:
        return [Platform.model_validate_json(r[0]) for r in self._rows("SELECT config FROM platforms ORDER BY slug")]

    def remove_platform(self, slug: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM platforms WHERE slug = ?", (slug,)).rowcount > 0

    # credentials ---------------------------------------------------------------------------------
    def add_credential(self, slug: str, kind: CredentialKind) -> tuple[str, str]:
        """A new credential: (key, secret). Only the secret's digest is stored: show it once."""
        self.require_platform(slug)
        key, secret = f"vk_{secrets.token_hex(8)}", secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                "INSERT INTO credentials (key, platform, kind, secret_sha256) VALUES (?, ?, ?, ?)",
                (key, slug, kind, secret_digest(secret)),
            )
        return key, secret

    def credentials(self, slug: str) -> list[tuple[str, str, str]]:
        return [
            (r[0], r[1], r[2])
            for r in self._rows(
                "SELECT key, kind, created_at FROM credentials WHERE platform = ? ORDER BY created_at", (slug,)
            )
        ]

    def revoke(self, key: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM credentials WHERE key = ?", (key,)).rowcount > 0

    def authenticate(self, key: str, secret: str, kind: CredentialKind) -> str | None:
        """The platform of a valid credential of this kind, else None (constant-time comparison)."""
        rows = self._rows("SELECT platform, secret_sha256 FROM credentials WHERE key = ? AND kind = ?", (key, kind))
        if not rows:
            hmac.compare_digest(secret_digest(secret), "0" * 64)  # same work whether the key exists or not
            return None
        platform, digest = rows[0]
        return platform if hmac.compare_digest(secret_digest(secret), digest) else None

    # rules and roster ----------------------------------------------------------------------------
    def add_rule(self, slug: str, rule: SkillRule) -> None:
        self.require_platform(slug)
        with self._tx() as db:
            db.execute(
                "INSERT INTO rules (platform, match, value, skill_code, level) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(platform, match, value) DO UPDATE SET skill_code = excluded.skill_code, "
                "level = excluded.level",
                (slug, rule.match, rule.value, rule.skill_code, rule.level),
            )

    def remove_rule(self, slug: str, match: str, value: str) -> bool:
        with self._tx() as db:
            return (
                db.execute(
                    "DELETE FROM rules WHERE platform = ? AND match = ? AND value = ?", (slug, match, value)
                ).rowcount
                > 0
            )

    def rules(self, slug: str) -> list[SkillRule]:
        rows = self._rows(
            "SELECT match, value, skill_code, level FROM rules WHERE platform = ? ORDER BY match, value", (slug,)
        )
        return [SkillRule(match=m, value=v, skill_code=s, level=lv) for m, v, s, lv in rows]

    def import_roster(self, slug: str, entries: Iterable[RosterEntry]) -> int:
        """Insert or update the entries (all or none: a bad line leaves the roster as it was)."""
        self.require_platform(slug)
        rows = [(slug, e.academy, e.student_id, e.school_uai, e.class_id, e.level) for e in entries]
        with self._tx() as db:
            db.executemany(
                "INSERT INTO roster (platform, academy, student_id, school_uai, class_id, level) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(platform, academy, student_id) DO UPDATE SET "
                "school_uai = excluded.school_uai, class_id = excluded.class_id, level = excluded.level",
                rows,
            )
        return len(rows)

    def roster_entry(self, slug: str, actor_keys: dict[str, str]) -> RosterEntry | None:
        """The pupil whose pseudonym (under one of the platform's academy keys) is in the roster."""
        for academy, student in actor_keys.items():
            rows = self._rows(
                "SELECT school_uai, class_id, level FROM roster WHERE platform = ? AND academy = ? AND student_id = ?",
                (slug, academy, student),
            )
            if rows:
                uai, class_id, level = rows[0]
                return RosterEntry(academy, student, uai, class_id, level)
        return None

    def roster_size(self, slug: str) -> int:
        return int(self._rows("SELECT count() FROM roster WHERE platform = ?", (slug,))[0][0])

    # statements ----------------------------------------------------------------------------------
    def claim(self, slug: str, items: list[tuple[str, str, dict[str, Any], dict[str, str], str]]) -> list[Claim]:
        """Claim statement ids (id, content digest, kept, actor keys, stored) for one request, atomically.

        New ids are inserted as ``pending``; if any id conflicts or is busy, nothing is inserted (a batch is
        all or nothing) and the claims say why.
        """
        with self._tx() as db:
            claims: list[Claim] = []
            for statement_id, digest, _kept, _keys, _stored in items:
                row = db.execute(
                    "SELECT content_sha256, status FROM statements WHERE platform = ? AND statement_id = ?",
                    (slug, statement_id),
                ).fetchone()
                if row is None:
                    twin = db.execute(
                        "SELECT statement_id FROM statements WHERE platform = ? AND content_sha256 = ? "
                        "AND status != 'pending' LIMIT 1",
                        (slug, digest),
                    ).fetchone()
                    claims.append(Claim("new", twin[0] if twin else None))
                elif row[0] != digest:
                    claims.append(Claim("conflict"))
                else:
                    claims.append(Claim("busy" if row[1] == "pending" else "same"))
            if any(c.outcome in ("conflict", "busy") for c in claims):
                return claims
            db.executemany(
                "INSERT INTO statements (platform, statement_id, content_sha256, status, kept, actor_keys, stored) "
                "VALUES (?, ?, ?, 'pending', ?, ?, ?)",
                [
                    (slug, sid, digest, json.dumps(kept, ensure_ascii=False), json.dumps(keys), stored)
                    for (sid, digest, kept, keys, stored), claim in zip(items, claims, strict=True)
                    if claim.outcome == "new"
                ],
            )
            return claims

    def release(self, slug: str, statement_ids: Iterable[str]) -> None:
        """Forget pending claims whose events could not be produced (the platform will retry)."""
        with self._tx() as db:
            db.executemany(
                "DELETE FROM statements WHERE platform = ? AND statement_id = ? AND status = 'pending'",
                [(slug, sid) for sid in statement_ids],
            )

    def settle(self, slug: str, outcomes: list[Settlement]) -> None:
        """Record what became of claimed statements (their events were acknowledged by Kafka)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE statements SET status = ?, reason = ?, session_id = ?, kind = ?, event_id = ? "
                "WHERE platform = ? AND statement_id = ?",
                [(o.status, o.reason, o.session_id, o.kind, o.event_id, slug, o.statement_id) for o in outcomes],
            )

    def statement(self, slug: str, statement_id: str) -> KeptStatement | None:
        rows = self._rows(
            "SELECT content_sha256, status, reason, kept, actor_keys, stored FROM statements "
            "WHERE platform = ? AND statement_id = ? AND status != 'pending'",
            (slug, statement_id),
        )
        if not rows:
            return None
        digest, status, reason, kept, keys, stored = rows[0]
        return KeptStatement(slug, statement_id, digest, status, reason, json.loads(kept), json.loads(keys), stored)

    def unmapped(self, slug: str, limit: int = 10_000) -> list[KeptStatement]:
        rows = self._rows(
            "SELECT statement_id, content_sha256, reason, kept, actor_keys, stored FROM statements "
            "WHERE platform = ? AND status = 'unmapped' ORDER BY stored LIMIT ?",
            (slug, limit),
        )
        return [
            KeptStatement(slug, sid, d, "unmapped", r, json.loads(k), json.loads(a), s) for sid, d, r, k, a, s in rows
        ]

    def answers_in_session(self, slug: str, session_id: str) -> int:
        rows = self._rows(
            "SELECT count() FROM statements WHERE platform = ? AND session_id = ? AND kind = 'answer' "
            "AND status = 'mapped'",
            (slug, session_id),
        )
        return int(rows[0][0])

    def counts(self, slug: str) -> dict[str, int]:
        return {
            status: n
            for status, n in self._rows(
                "SELECT status, count() FROM statements WHERE platform = ? GROUP BY status", (slug,)
            )
        }

    def prune(self, *, settled_before: str, unmapped_before: str) -> int:
        """Delete statements stored before these times (ISO 8601 UTC): the settled ones (mapped,
        duplicate) after a short time, the unmapped ones after the retention. Returns the count."""
        with self._tx() as db:
            return db.execute(
                "DELETE FROM statements WHERE (status IN ('mapped', 'duplicate') AND stored < ?) "
                "OR (status = 'unmapped' AND stored < ?)",
                (settled_before, unmapped_before),
            ).rowcount

    def forget_student(self, student_id: str) -> tuple[int, int]:
        """Right to erasure: delete the pupil's roster entries and kept statements (by their pseudonym under
        any academy key); returns (roster entries, statements) deleted."""
        if not (len(student_id) == 32 and all(c in "0123456789abcdef" for c in student_id)):
            raise ValueError("a student pseudonym is 32 lowercase hex digits")
        with self._tx() as db:
            roster = db.execute("DELETE FROM roster WHERE student_id = ?", (student_id,)).rowcount
            kept = db.execute("DELETE FROM statements WHERE instr(actor_keys, ?) > 0", (f'"{student_id}"',)).rowcount
        return roster, kept

    def unmapped_reasons(self, slug: str) -> list[tuple[str, int]]:
        return [
            (r, n)
            for r, n in self._rows(
                "SELECT reason, count() FROM statements WHERE platform = ? AND "
                "status = 'unmapped' GROUP BY reason ORDER BY 2 DESC",
                (slug,),
            )
        ]
