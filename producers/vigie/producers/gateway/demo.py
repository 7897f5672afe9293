"""The gateway's part of the demo: one platform configured, Moodle- and H5P-shaped statements posted
over real HTTP, and what should reach the warehouse.

``post_demo_statements(settings)`` needs Kafka with the topics created. It configures the platform
``demo-elea`` (one academy, two skill rules, a roster of three pupils) in the gateway's state file,
starts the gateway on a free loopback port in a thread, posts two Moodle quiz attempts and an H5P
question set (plus one H5P ``progressed`` and one answer to an unmapped H5P content: kept, not events),
posts the first attempt again (a retry: no second event), and stops. The returned
``GatewayDemoOutcome.expected_ids`` says which event ids each warehouse table should then hold once the
sink ran. Timestamps are fixed per day, so reruns on one day post the same statements (same ids).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from vigie.core.contract.events import make_event_id, statement_kept_id
from vigie.core.settings import VigieSettings
from vigie.producers.gateway.config import Platform, SkillRule, roster_entries
from vigie.producers.gateway.examples import (
    h5p_actor,
    h5p_answered,
    h5p_completed,
    h5p_top,
    moodle_attempt_completed,
    moodle_attempt_started,
    moodle_question_answered,
)
from vigie.producers.pseudonym import AcademyPseudonymizers

PLATFORM = "demo-elea"
ROSTER = "learner,uai,class,level\n48213,{uai},6B,6e\n48214,{uai},6B,6e\nlea.dubois@ecole-exemple.fr,{uai},6C,6e\n"
_SUB = "0e5b2f3c-6f0a-4c1e-9a57-3d2b8c4e1f{n:02d}"


@dataclass
class GatewayDemoOutcome:
    url: str
    posted: int
    accepted: int
    retried_same_ids: bool
    #: warehouse table -> the event ids it should hold after the sink (answers, session_events, raw_statements)
    expected_ids: dict[str, list[uuid.UUID]] = field(default_factory=dict)

    @property
    def expected(self) -> dict[str, int]:
        return {table: len(ids) for table, ids in self.expected_ids.items()}


def _at(day: datetime, minute: int) -> str:
    return (day + timedelta(minutes=minute)).isoformat(timespec="seconds")


def demo_statements(day: datetime) -> list[list[dict[str, Any]]]:
    """The requests the demo posts: each a batch of statements, in order."""
    moodle: list[list[dict[str, Any]]] = []
    for user, attempt, successes in (("48213", 9101, (True, True, False)), ("48214", 9102, (False, True, False))):
        batch = [moodle_attempt_started(user, attempt=attempt, timestamp=_at(day, 0))]
        batch += [
            moodle_question_answered(user, question=950 + q, attempt=attempt, success=ok, timestamp=_at(day, 2 + q))
            for q, ok in enumerate(successes)
        ]
        batch.append(
            moodle_attempt_completed(user, attempt=attempt, raw=sum(successes), maximum=3, timestamp=_at(day, 6))
        )
        moodle.append(batch)
    pupil = h5p_actor()
    h5p = [
        h5p_top("attempted", pupil, content_id=42),
        h5p_answered(pupil, content_id=42, sub_content=_SUB.format(n=1), raw=1, duration="PT4.2S"),
        h5p_answered(pupil, content_id=42, sub_content=_SUB.format(n=2), raw=0, duration="PT9.8S"),
        h5p_completed(pupil, content_id=42, raw=1, maximum=2),
        h5p_top("progressed", pupil, content_id=42),
        h5p_answered(pupil, content_id=99, sub_content=_SUB.format(n=3), raw=1, duration="PT2.5S"),
    ]
    return [*moodle, h5p]


def configure_demo_platform(settings: VigieSettings, academy: str, uai: str) -> None:
    from vigie.producers.gateway.store import GatewayStore

    store = GatewayStore(settings.gateway_db)
    try:
        platform = Platform(slug=PLATFORM, academies=(academy,))
        store.save_platform(platform)
        store.add_rule(PLATFORM, SkillRule(match="moodle-cmid", value="57", skill_code="C3-MA-NOM-05", level="6e"))
        store.add_rule(PLATFORM, SkillRule(match="h5p-content", value="42", skill_code="C3-MA-NOM-03", level="6e"))
        entries = roster_entries(ROSTER.format(uai=uai), platform, AcademyPseudonymizers(settings.privacy))
        store.import_roster(PLATFORM, entries)
    finally:
        store.close()


def post_demo_statements(
    settings: VigieSettings, *, academy: str = "lyon", uai: str = "0691234A", day: datetime | None = None
) -> GatewayDemoOutcome:
    """Configure ``demo-elea``, serve the gateway, post the demo statements over HTTP, stop."""
    import httpx

    from vigie.producers.gateway.server import build_service, gateway_in_thread

    configure_demo_platform(settings, academy, uai)
    day = day or (datetime.now(UTC) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    requests = demo_statements(day)
    service = build_service(settings)
    key, secret = service.store.add_credential(PLATFORM, "basic")
    headers = {"X-Experience-API-Version": "1.0.3"}
    with gateway_in_thread(settings, service=service) as running:
        try:
            with httpx.Client(base_url=running.url, auth=(key, secret), headers=headers, timeout=30) as client:
                ids: list[list[str]] = []
                for batch in requests:
                    response = client.post("/xAPI/statements", json=batch)
                    response.raise_for_status()
                    ids.append(response.json())
                again = client.post("/xAPI/statements", json=requests[0])  # a platform's retry
                again.raise_for_status()
        finally:
            service.store.revoke(key)  # the demo's credential does not outlive it
    outcome = GatewayDemoOutcome(
        url=running.url,
        posted=sum(len(b) for b in requests),
        accepted=sum(len(i) for i in ids),
        retried_same_ids=again.json() == ids[0],
    )
    flat = [
        (statement, sid)
        for batch, batch_ids in zip(requests, ids, strict=True)
        for statement, sid in zip(batch, batch_ids, strict=True)
    ]
    answers = [
        make_event_id(PLATFORM, sid)
        for s, sid in flat
        if s["verb"]["id"].endswith("/answered") and "id=99" not in s["object"]["id"]
    ]
    sessions = [
        make_event_id(PLATFORM, sid)
        for s, sid in flat
        if s["verb"]["id"].rsplit("/", 1)[1] in ("attempted", "completed")
    ]
    kept = [
        statement_kept_id(PLATFORM, sid, "unmapped")
        for s, sid in flat
        if s["verb"]["id"].endswith("/progressed") or "id=99" in s["object"]["id"]
    ]
    outcome.expected_ids = {"answers": answers, "session_events": sessions, "raw_statements": kept}
    return outcome
