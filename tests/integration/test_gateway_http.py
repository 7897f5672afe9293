"""The xAPI gateway driven over real HTTP (uvicorn on a loopback port), a real broker and the real
ClickHouse engine: Moodle- and H5P-shaped statements become events exactly once, retries included."""

from __future__ import annotations

import copy
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer

from vigie.core.settings import VigieSettings
from vigie.core.topics import LEARNING_EVENTS, RAW_STATEMENTS, ensure_topics
from vigie.producers.gateway.config import Platform, SkillRule, roster_entries
from vigie.producers.gateway.examples import (
    ACTOR_FORMS,
    ADL,
    h5p_answered,
    h5p_completed,
    h5p_top,
    moodle_attempt_completed,
    moodle_attempt_started,
    moodle_question_answered,
)
from vigie.producers.gateway.publish import GatewayPublisher
from vigie.producers.gateway.server import RunningGateway, gateway_in_thread
from vigie.producers.gateway.service import StatementsService
from vigie.producers.gateway.store import GatewayStore
from vigie.producers.pseudonym import AcademyPseudonymizers
from vigie.warehouse.sink import Sink

pytestmark = pytest.mark.integration

V103 = {"X-Experience-API-Version": "1.0.3"}
ROSTER = (
    "learner,uai,class,level\n48213,0691234A,6B,6e\n48214,0691234A,6B,6e\nlea.dubois@ecole-exemple.fr,0691234A,6C,6e\n"
)


def _service(settings: VigieSettings, path: Path, **kafka: Any) -> StatementsService:
    store = GatewayStore(path)
    publisher = GatewayPublisher(settings.kafka.model_copy(update=kafka), timeout_s=2.0)
    return StatementsService(store, publisher, AcademyPseudonymizers(settings.privacy), max_batch=200)


def _configure(store: GatewayStore, settings: VigieSettings) -> tuple[str, str]:
    platform = Platform(slug="elea-lyon", academies=("lyon",))
    store.save_platform(platform)
    store.add_rule("elea-lyon", SkillRule(match="moodle-cmid", value="57", skill_code="C3-MA-NOM-05"))
    store.import_roster("elea-lyon", roster_entries(ROSTER, platform, AcademyPseudonymizers(settings.privacy)))
    return store.add_credential("elea-lyon", "basic")


@pytest.fixture
def gateway(settings: VigieSettings, tmp_path: Path) -> Iterator[tuple[RunningGateway, httpx.Client]]:
    ensure_topics(settings.kafka)
    service = _service(settings, tmp_path / "gateway.db")
    key, secret = _configure(service.store, settings)
    with (
        gateway_in_thread(settings, service=service) as running,
        httpx.Client(base_url=running.url, auth=(key, secret), headers=V103, timeout=30) as client,
    ):
        yield running, client


def _messages(settings: VigieSettings, topic: str, at_least: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"check-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
    )
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                found += [json.loads(r.value) for r in records]
            if len(found) >= at_least:
                # drain a little longer: a duplicate would arrive now
                for records in consumer.poll(timeout_ms=1500).values():
                    found += [json.loads(r.value) for r in records]
                break
    finally:
        consumer.close()
    return found


def _quiz(user: str = "48213", attempt: int = 3301) -> list[dict[str, Any]]:
    return [
        moodle_attempt_started(user, attempt=attempt),
        moodle_question_answered(user, question=901, attempt=attempt, success=True),
        moodle_question_answered(user, question=902, attempt=attempt, success=False, response="4/3"),
        moodle_question_answered(user, question=903, attempt=attempt, success=True),
        moodle_attempt_completed(user, attempt=attempt, raw=7, maximum=10),
    ]


def test_a_moodle_quiz_reaches_kafka_and_the_warehouse_once_even_when_retried(gateway, settings, warehouse) -> None:
    _running, client = gateway
    first = client.post("/xAPI/statements", json=_quiz())
    assert first.status_code == 200, first.text
    ids = first.json()
    assert len(ids) == 5 and len(set(ids)) == 5 and first.headers["X-Experience-API-Version"] == "1.0.3"
    retried = client.post("/xAPI/statements", json=_quiz())  # the platform did not see the answer and retries
    assert retried.status_code == 200 and retried.json() == ids

    events = _messages(settings, LEARNING_EVENTS.name(settings.kafka.topic_prefix), at_least=5)
    assert sorted(e["kind"] for e in events) == ["answer", "answer", "answer", "session_ended", "session_started"]
    ended = next(e for e in events if e["kind"] == "session_ended")
    assert ended["answers_count"] == 3 and len({e["session_id"] for e in events}) == 1

    Sink(settings, warehouse).run(until=lambda s: s.inserted_total >= 5, idle_timeout_s=30)
    db = settings.warehouse.database
    answers = warehouse.query(
        f"SELECT skill_code, correct, response_time_ms FROM {db}.answers ORDER BY correct"
    ).result_rows
    assert answers == [("C3-MA-NOM-05", False, 30000), ("C3-MA-NOM-05", True, 30000), ("C3-MA-NOM-05", True, 30000)]
    kinds = warehouse.query(f"SELECT kind, answers_count FROM {db}.session_events ORDER BY kind").result_rows
    assert kinds == [("session_ended", 3), ("session_started", 0)]

    kept = client.get("/xAPI/statements", params={"statementId": ids[1]})
    assert kept.status_code == 200
    statement = kept.json()
    assert (
        statement["id"] == ids[1] and statement["stored"] and statement["authority"]["account"]["name"] == "elea-lyon"
    )
    assert statement["actor"]["account"]["homePage"] == "urn:vigie:pseudonym" and "48213" not in kept.text
    assert "Camille" not in kept.text and statement["result"]["success"] is True


def test_put_same_content_is_accepted_once_and_other_content_conflicts(gateway, settings) -> None:
    _running, client = gateway
    statement_id = str(uuid.uuid4())
    statement = moodle_question_answered("48214", attempt=4400)
    for _ in range(2):
        put = client.put("/xAPI/statements", params={"statementId": statement_id}, json=statement)
        assert put.status_code == 204, put.text
    other = copy.deepcopy(statement)
    other["result"]["success"] = False
    conflict = client.put("/xAPI/statements", params={"statementId": statement_id}, json=other)
    assert conflict.status_code == 409 and statement_id in conflict.json()["error"]["reason"]
    posted_again = client.post("/xAPI/statements", json={**statement, "id": statement_id})
    assert posted_again.status_code == 200 and posted_again.json() == [statement_id]
    events = _messages(settings, LEARNING_EVENTS.name(settings.kafka.topic_prefix), at_least=1)
    assert [e["source_event_id"] for e in events] == [statement_id]


def test_a_batch_with_one_invalid_statement_is_refused_whole(gateway, settings) -> None:
    _running, client = gateway
    good, bad = moodle_question_answered("48214", attempt=5500), moodle_question_answered("48214", attempt=5501)
    good["id"], bad["result"]["score"] = str(uuid.uuid4()), {"scaled": 1.7}
    refused = client.post("/xAPI/statements", json=[good, bad])
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["field"] == "result.score.scaled" and "[1]" in error["reason"]
    assert client.get("/xAPI/statements", params={"statementId": good["id"]}).status_code == 404


@pytest.mark.parametrize("verb", ["answered", "experienced", "progressed", "voided-like custom"])
def test_valid_statements_of_any_verb_and_actor_form_are_accepted(gateway, verb: str) -> None:
    _running, client = gateway
    iri = f"{ADL}{verb}" if " " not in verb else "https://w3id.org/xapi/vigie/verbs/custom"
    batch = [{**h5p_answered(), "actor": actor, "verb": {"id": iri}} for actor in ACTOR_FORMS.values()]
    response = client.post("/xAPI/statements", json=batch)
    assert response.status_code == 200, response.text
    assert len(response.json()) == len(ACTOR_FORMS)
    put = client.put(
        "/xAPI/statements",
        params={"statementId": str(uuid.uuid4())},
        json={**h5p_top("attempted"), "verb": {"id": iri}},
        headers={"X-Experience-API-Version": "2.0.0"},
    )
    assert put.status_code == 204, put.text
    assert put.headers["X-Experience-API-Version"] == "2.0.0"


def test_unmapped_statements_are_kept_and_replayed_once_the_mapping_exists(gateway, settings, warehouse) -> None:
    running, client = gateway
    answered = h5p_answered(content_id=77)
    response = client.post(
        "/xAPI/statements", json=[h5p_top("attempted", content_id=77), answered, h5p_completed(content_id=77)]
    )
    assert response.status_code == 200, response.text
    prefix = settings.kafka.topic_prefix
    kept = _messages(settings, RAW_STATEMENTS.name(prefix), at_least=1)
    assert [k["reason_code"] for k in kept] == ["unmapped_activity"]
    assert "lea.dubois" not in json.dumps(kept) and kept[0]["student_id"] and kept[0]["academy"] == "lyon"
    # the sessions around it mapped (the pupil is in the roster); the answer waits for its skill
    assert sorted(e["kind"] for e in _messages(settings, LEARNING_EVENTS.name(prefix), 2)) == [
        "session_ended",
        "session_started",
    ]

    running.service.store.add_rule("elea-lyon", SkillRule(match="h5p-content", value="77", skill_code="C3-MA-NOM-03"))
    report = running.service.replay("elea-lyon")
    assert report.replayed == 1 and not report.still_unmapped
    assert running.service.replay("elea-lyon").replayed == 0  # replaying twice does nothing

    Sink(settings, warehouse).run(
        until=lambda s: s.inserted.get("answers", 0) >= 1 and s.inserted.get("raw_statements", 0) >= 2,
        idle_timeout_s=30,
    )
    db = settings.warehouse.database
    assert warehouse.query(f"SELECT skill_code, correct FROM {db}.answers").result_rows == [("C3-MA-NOM-03", True)]
    rows = warehouse.query(f"SELECT status, reason_code FROM {db}.raw_statements ORDER BY recorded_at").result_rows
    assert rows == [("unmapped", "unmapped_activity"), ("mapped", "")]
    still = warehouse.query(  # docs/warehouse.md's question: what still makes no event?
        f"SELECT reason_code, count() FROM {db}.raw_statements WHERE status = 'unmapped' AND statement_id NOT IN "
        f"(SELECT statement_id FROM {db}.raw_statements WHERE status = 'mapped') GROUP BY reason_code"
    ).result_rows
    assert still == []


def test_http_errors_follow_the_spec(gateway, settings, tmp_path: Path) -> None:
    running, client = gateway
    statement = moodle_question_answered()
    no_version = client.post("/xAPI/statements", json=statement, headers={"X-Experience-API-Version": ""})
    assert no_version.status_code == 400 and no_version.json()["error"]["field"] == "X-Experience-API-Version"
    anonymous = httpx.post(f"{running.url}/xAPI/statements", json=statement, headers=V103)
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["WWW-Authenticate"]
    wrong = httpx.post(f"{running.url}/xAPI/statements", json=statement, headers=V103, auth=("vk_nope", "nope"))
    assert wrong.status_code == 401
    other_academy = copy.deepcopy(statement)
    other_academy["context"]["extensions"]["urn:vigie:xapi:academy"] = "creteil"
    assert client.post("/xAPI/statements", json=other_academy).status_code == 403
    huge = [statement] * 2000
    assert client.post("/xAPI/statements", json=huge).status_code == 413  # over the body limit (2 MiB)
    many = [
        {"actor": {"mbox": f"mailto:e{n}@x.fr"}, "verb": {"id": "http://x.fr/v"}, "object": {"id": "http://x.fr/o"}}
        for n in range(201)
    ]
    too_many = client.post("/xAPI/statements", json=many)  # small, but more statements than the batch limit (200)
    assert too_many.status_code == 413 and "at most 200" in too_many.json()["error"]["reason"]
    form = client.post(
        "/xAPI/statements", content=b"a=b", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 400 and form.json()["error"]["field"] == "Content-Type"
    assert (
        client.post("/xAPI/statements", content=b"{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert client.get("/xAPI/statements", params={"statementId": "nope"}).status_code == 400
    assert client.get("/xAPI/statements", params={"statementId": str(uuid.uuid4())}).status_code == 404
    about = httpx.get(f"{running.url}/xAPI/about")
    assert about.status_code == 200 and "2.0.0" in about.json()["version"]
    openapi = httpx.get(f"{running.url}/openapi.json").json()
    assert "/xAPI/statements" in openapi["paths"] and "put" in openapi["paths"]["/xAPI/statements"]
    token_key, token = running.service.store.add_credential("elea-lyon", "bearer")
    bearer = httpx.get(
        f"{running.url}/xAPI/statements",
        params={"statementId": str(uuid.uuid4())},
        headers={**V103, "Authorization": f"Bearer {token_key}.{token}"},
    )
    assert bearer.status_code == 404  # authenticated, and nothing there
    running.service.store.revoke(token_key)
    revoked = httpx.get(
        f"{running.url}/xAPI/statements",
        params={"statementId": str(uuid.uuid4())},
        headers={**V103, "Authorization": f"Bearer {token_key}.{token}"},
    )
    assert revoked.status_code == 401


def test_when_kafka_cannot_take_the_events_the_answer_is_503_and_nothing_is_kept(settings, tmp_path: Path) -> None:
    missing = settings.model_copy(
        update={"kafka": settings.kafka.model_copy(update={"topic_prefix": "absent" + uuid.uuid4().hex[:6]})}
    )
    service = _service(missing, tmp_path / "gateway.db")
    key, secret = _configure(service.store, missing)
    statement = {**moodle_question_answered(), "id": str(uuid.uuid4())}
    with (
        gateway_in_thread(missing, service=service) as running,
        httpx.Client(base_url=running.url, auth=(key, secret), headers=V103, timeout=30) as client,
    ):
        began = time.monotonic()
        refused = client.post("/xAPI/statements", json=statement)
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
        assert time.monotonic() - began < 10  # bounded wait
        assert client.get("/xAPI/statements", params={"statementId": statement["id"]}).status_code == 404
        ensure_topics(missing.kafka)  # Kafka is back: the platform's retry is accepted, once
        accepted = client.post("/xAPI/statements", json=statement)
        assert accepted.status_code == 200, accepted.text
    events = _messages(missing, LEARNING_EVENTS.name(missing.kafka.topic_prefix), at_least=1)
    assert [e["source_event_id"] for e in events] == [statement["id"]]


def test_no_secret_nor_raw_learner_id_reaches_the_logs(gateway, caplog: pytest.LogCaptureFixture) -> None:
    running, _client = gateway
    key, secret = running.service.store.add_credential("elea-lyon", "basic")
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=running.url, auth=(key, secret), headers=V103, timeout=30) as client:
        assert client.post("/xAPI/statements", json=_quiz("48214", attempt=7700)).status_code == 200
        broken = moodle_question_answered("48214", attempt=7701)
        broken["timestamp"] = "yesterday"
        assert client.post("/xAPI/statements", json=broken).status_code == 400
        assert client.post("/xAPI/statements", json=h5p_answered(content_id=5)).status_code == 200  # kept, unmapped
    guess = httpx.post(f"{running.url}/xAPI/statements", json=broken, headers=V103, auth=(key, "s3cr3t-guess"))
    assert guess.status_code == 401
    logged = caplog.text
    assert "elea-lyon" in logged and key in logged  # the gateway does log what it does, and which key was refused
    for secret_or_raw in ("48214", "Camille", "lea.dubois", "s3cr3t-guess", secret):
        assert secret_or_raw not in logged
