"""The statements resource, without HTTP: validate, identify, keep, map, produce, answer.

One request (a statement or a batch) is all or nothing: every statement is checked first (400 names
the statement and its field), ids are claimed atomically (409 for an id already held with other
content), the events and kept-raw records are produced and acknowledged by Kafka, and only then are
the statements recorded as settled. If Kafka does not acknowledge in time the claims are released
and the caller gets ``RetriableError`` (503): nothing was accepted, the platform retries, and the same
ids give the same events. A statement already held with the same content is accepted again without
a second event.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigie.core.contract.events import StatementKept, statement_kept_id
from vigie.core.errors import VigieError
from vigie.producers.gateway.config import Platform, RosterEntry
from vigie.producers.gateway.ids import assigned_id, canonical_content, content_digest
from vigie.producers.gateway.mapping import Mapped, StatementMapper, Unmapped
from vigie.producers.gateway.privacy import actor_raw_id, kept_statement
from vigie.producers.gateway.publish import GatewayPublisher
from vigie.producers.gateway.spec import StatementInvalidError, check_statement
from vigie.producers.gateway.store import GatewayStore, Settlement
from vigie.producers.pseudonym import AcademyPseudonymizers
from vigie.producers.sdk import PublishableEvent

log = logging.getLogger(__name__)
VIGIE_ACADEMY_EXTENSION = "urn:vigie:xapi:academy"


class StatementConflictError(VigieError):
    """An id already held with other content (409)."""


class StatementBusyError(VigieError):
    """The same statement is being produced by a concurrent request (503, retry soon)."""


class PlatformForbiddenError(VigieError):
    """The platform may not write this (403): a statement for an academy that is not its own."""


class StatementNotFoundError(VigieError):
    """No such statement for this platform (404)."""


class BatchTooLargeError(VigieError):
    """More statements in one request than allowed (413)."""


@dataclass
class ReplayReport:
    replayed: int = 0
    still_unmapped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class _Incoming:
    statement_id: str
    statement: dict[str, Any]
    digest: str
    kept: dict[str, Any]
    actor_keys: dict[str, str]


class StatementsService:
    """Shared by the request threads of one gateway process."""

    def __init__(
        self,
        store: GatewayStore,
        publisher: GatewayPublisher,
        keys: AcademyPseudonymizers,
        *,
        max_batch: int = 1000,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.keys = keys
        self.max_batch = max_batch
        self._clock = clock
        self._pupils = threading.local()

    # the resource ---------------------------------------------------------------------------------
    def post(self, slug: str, body: Any, version: str) -> list[str]:
        """POST /statements: one statement or a list; returns the ids, in order."""
        statements = body if isinstance(body, list) else [body]
        if len(statements) > self.max_batch:
            raise BatchTooLargeError(f"{len(statements)} statements in one request; at most {self.max_batch}")
        return self._accept(slug, statements, version, batch=isinstance(body, list))

    def put(self, slug: str, statement_id: str, body: Any, version: str) -> None:
        """PUT /statements?statementId=…: one statement under that id."""
        wanted = _uuid(statement_id, "statementId")
        if not isinstance(body, dict):
            raise StatementInvalidError("PUT takes one statement (a JSON object)")
        if "id" in body and _uuid(body["id"], "id") != wanted:
            raise StatementInvalidError(f"the statement's id {body['id']} differs from statementId", field="id")
        self._accept(slug, [{**body, "id": wanted}], version, batch=False)

    def get(self, slug: str, statement_id: str) -> dict[str, Any]:
        found = self.store.statement(slug, _uuid(statement_id, "statementId"))
        if found is None:
            raise StatementNotFoundError(f"no statement {statement_id} from platform {slug}")
        return found.kept

    # accepting ------------------------------------------------------------------------------------
    def _accept(self, slug: str, statements: list[Any], version: str, *, batch: bool) -> list[str]:
        self._pupils.memo = {}  # per request (per thread): a roster import is seen by the next request
        platform = self.store.require_platform(slug)
        stored = self._clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        incoming: dict[str, _Incoming] = {}
        order: list[str] = []
        for index, statement in enumerate(statements):
            where = f"statement [{index}]: " if batch else ""
            try:
                check_statement(statement)
            except StatementInvalidError as error:
                raise StatementInvalidError(f"{where}{error.reason}", field=error.field) from None
            self._check_academy(platform, statement, where)
            canonical = canonical_content(statement)
            sid = _uuid(statement["id"], "id") if "id" in statement else str(assigned_id(slug, statement, canonical))
            digest = content_digest(statement, canonical)
            if sid in incoming:
                if incoming[sid].digest != digest:
                    raise StatementInvalidError(
                        f"{where}id {sid} is used twice in the batch with other content", field="id"
                    )
            else:
                incoming[sid] = self._incoming(platform, sid, statement, digest, stored, version)
            order.append(sid)
        items = list(incoming.values())
        claims = self.store.claim(slug, [(i.statement_id, i.digest, i.kept, i.actor_keys, stored) for i in items])
        conflicts = [i.statement_id for i, c in zip(items, claims, strict=True) if c.outcome == "conflict"]
        if conflicts:
            raise StatementConflictError(f"statement ids already held with other content: {', '.join(conflicts[:5])}")
        if any(c.outcome == "busy" for c in claims):
            raise StatementBusyError("the same statement is being recorded by another request; retry")
        fresh = [(i, c.duplicate_of) for i, c in zip(items, claims, strict=True) if c.outcome == "new"]
        self._produce_and_settle(platform, fresh, stored)
        return order

    def _incoming(
        self, platform: Platform, sid: str, statement: dict[str, Any], digest: str, stored: str, version: str
    ) -> _Incoming:
        raw = actor_raw_id(statement.get("actor"))
        actor_keys = {} if raw is None else {a: self.keys.for_academy(a).student(raw) for a in platform.academies}
        pupil = self._pupil(platform.slug, actor_keys) if actor_keys else None
        academy = pupil.academy if pupil is not None else platform.academies[0]
        kept = kept_statement(
            statement,
            statement_id=sid,
            stored=stored,
            platform=platform.slug,
            version=version,
            keys=self.keys.for_academy(academy),
        )
        return _Incoming(sid, statement, digest, kept, actor_keys)

    def _check_academy(self, platform: Platform, statement: dict[str, Any], where: str) -> None:
        extensions = (statement.get("context") or {}).get("extensions") or {}
        academy = extensions.get(VIGIE_ACADEMY_EXTENSION)
        if academy is not None and academy not in platform.academies:
            raise PlatformForbiddenError(
                f"{where}platform {platform.slug} may not write for academy {academy!r} "
                f"(its academies: {', '.join(platform.academies)})"
            )

    def _pupil(self, slug: str, actor_keys: dict[str, str]) -> RosterEntry | None:
        """The roster entry of an actor; remembered for the request (a batch names the same pupils often)."""
        key = (slug, *actor_keys.values())
        if key not in self._pupils.memo:
            self._pupils.memo[key] = self.store.roster_entry(slug, actor_keys)
        return self._pupils.memo[key]

    def _mapper(self, platform: Platform, extra_answers: Counter[str]) -> StatementMapper:
        slug = platform.slug
        return StatementMapper(
            platform,
            self.store.rules(slug),
            lambda keys: self._pupil(slug, keys),
            lambda session: self.store.answers_in_session(slug, session) + extra_answers[session],
        )

    def _produce_and_settle(self, platform: Platform, fresh: list[tuple[_Incoming, str | None]], stored: str) -> None:
        if not fresh:
            return
        in_batch: Counter[str] = Counter()
        mapper = self._mapper(platform, in_batch)
        events: list[PublishableEvent] = []
        kept_records: list[StatementKept] = []
        outcomes: list[Settlement] = []
        for item, twin in fresh:
            if twin is not None and "timestamp" in item.statement:
                outcomes.append(Settlement(item.statement_id, "duplicate", f"same content as statement {twin}"))
                continue
            result = mapper.map(item.kept, item.actor_keys)
            if isinstance(result, Mapped):
                events.append(result.event)
                if result.kind == "answer":
                    in_batch[result.session_id] += 1
                outcomes.append(_mapped(item.statement_id, result))
            else:
                kept_records.append(self._kept_record(platform, item.kept, item.actor_keys, result, stored))
                outcomes.append(Settlement(item.statement_id, "unmapped", f"{result.code}: {result.reason}"))
        try:
            self.publisher.send(events, kept_records)
        except Exception:
            self.store.release(platform.slug, [item.statement_id for item, _ in fresh])
            raise
        self.store.settle(platform.slug, outcomes)
        log.info(
            "platform %s: %d statements kept, %d events, %d unmapped",
            platform.slug,
            len(fresh),
            len(events),
            len(kept_records),
        )

    def _kept_record(
        self,
        platform: Platform,
        kept: dict[str, Any],
        actor_keys: dict[str, str],
        outcome: Unmapped | Mapped,
        stored: str,
    ) -> StatementKept:
        if isinstance(outcome, Mapped):
            academy, student, status, code, reason = outcome.event.academy, outcome.event.student_id, "mapped", "", ""
        else:
            academy = platform.academies[0] if len(platform.academies) == 1 else ""
            student, status, code, reason = actor_keys.get(academy, ""), "unmapped", outcome.code, outcome.reason
        return StatementKept(
            event_id=statement_kept_id(platform.slug, kept["id"], status),
            statement_id=uuid.UUID(kept["id"]),
            platform=platform.slug,
            academy=academy,
            student_id=student,
            status=status,
            reason_code=code,
            reason=reason,
            verb=kept["verb"]["id"],
            object_id=str(kept["object"].get("id", kept["object"].get("objectType", ""))),
            statement=json.dumps(kept, ensure_ascii=False, separators=(",", ":")),
            stored=datetime.fromisoformat(kept["stored"].replace("Z", "+00:00")),
            recorded_at=self._clock(),
        )

    # replay ---------------------------------------------------------------------------------------
    def replay(self, slug: str, *, chunk: int = 500) -> ReplayReport:
        """Map again the statements kept unmapped (after a rule or roster was added); produce what maps."""
        platform = self.store.require_platform(slug)
        self._pupils.memo = {}
        report = ReplayReport()
        pending = self.store.unmapped(slug)
        for start in range(0, len(pending), chunk):
            in_batch: Counter[str] = Counter()
            mapper = self._mapper(platform, in_batch)
            events: list[PublishableEvent] = []
            records: list[StatementKept] = []
            outcomes: list[Settlement] = []
            for kept in pending[start : start + chunk]:
                result = mapper.map(kept.kept, kept.actor_keys)
                if isinstance(result, Unmapped):
                    report.still_unmapped[result.code] += 1
                    continue
                events.append(result.event)
                records.append(self._kept_record(platform, kept.kept, kept.actor_keys, result, kept.stored))
                if result.kind == "answer":
                    in_batch[result.session_id] += 1
                outcomes.append(_mapped(kept.statement_id, result))
            self.publisher.send(events, records)
            self.store.settle(slug, outcomes)
            report.replayed += len(events)
        log.info(
            "platform %s: %d statements replayed into events, %d still unmapped",
            slug,
            report.replayed,
            report.still_unmapped.total(),
        )
        return report


def _mapped(statement_id: str, result: Mapped) -> Settlement:
    return Settlement(statement_id, "mapped", "", result.session_id, result.kind, str(result.event.event_id))


def _uuid(value: Any, field: str) -> str:
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) and len(value) == 36 else _bad_uuid(value, field)
    except ValueError:
        return _bad_uuid(value, field)


def _bad_uuid(value: Any, field: str) -> str:
    raise StatementInvalidError(f"{value!r} is not a UUID", field=field)
