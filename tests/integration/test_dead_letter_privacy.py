"""Dead letters in the warehouse: no raw identifier, the pupil's pseudonym whenever it can be known, and
`vigie erase` removes them with the rest of the pupil (letters made by the stream and by xAPI ingest)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests import factories
from tests.integration.warehouse_data import store
from vigie.core.contract.codec import encode
from vigie.core.errors import InvalidEventError
from vigie.core.settings import PrivacySettings
from vigie.producers.pseudonym import Pseudonymizer
from vigie.producers.xapi import XapiMapper, ingest_lines
from vigie.stream.deadletters import DeadLetterWriter
from vigie.warehouse.erase import erase_from_warehouse

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parents[1] / "data" / "xapi" / "statements.jsonl"
KEY = "test-key-0123456789abcdef"


def test_a_pupils_dead_letters_carry_their_pseudonym_hold_no_raw_id_and_are_erased(settings, warehouse) -> None:
    db = settings.warehouse.database
    pseudonyms = Pseudonymizer(KEY.encode())
    pupil = pseudonyms.student("ent-48213")
    writer = DeadLetterWriter(PrivacySettings(default_key=KEY))
    raw = json.loads(encode(factories.answer()))
    raw.update(student_id="ent-48213", class_id="ENT-CM1-B-2025")  # a platform that forgot to pseudonymise
    from_stream = [
        writer.letter(topic="t.learning-events.v1", partition=0, offset=n, key=key, value=value,
                      error=InvalidEventError("bad"))
        for n, (key, value) in enumerate([
            (b"ent-48213", json.dumps(raw).encode()),  # raw key, raw ids in the payload
            (b"ent-48213", None),  # a tombstone keyed by the raw id
            (pupil.encode(), b"\x00 not json at all ent-48213"),  # a pseudonym key, garbage payload
        ])
    ]  # fmt: skip
    from_xapi: list = []
    ingest_lines(FIXTURE.read_bytes().splitlines(), XapiMapper(factories.builder(key=KEY)), source="s.jsonl",
                 on_event=lambda e: None, on_rejected=from_xapi.append)  # fmt: skip
    assert from_xapi, "the fixture has unmappable statements"
    store(warehouse, db, from_stream + from_xapi)

    rows = warehouse.query(
        f"SELECT student_id, academy, toString(key), payload_b64, reason, redacted FROM {db}.dead_letters"
    ).result_rows
    assert len(rows) == len(from_stream) + len(from_xapi)
    for row in rows:
        text = " ".join(map(str, row)) + base64.b64decode(row[3]).decode("utf-8", "replace")
        assert "ent-48213" not in text and "ENT-CM1-B-2025" not in text and "Camille" not in text
    mine = [r for r in rows if r[0] == pupil]
    assert len([r for r in mine if "s.jsonl" not in r[4]]) >= 3, "every stream-made letter names the pupil"
    xapi_mine = warehouse.query(
        f"SELECT count() FROM {db}.dead_letters WHERE student_id = {{p:String}} AND source_topic = 'xapi:s.jsonl'",
        parameters={"p": pupil},
    ).result_rows[0][0]
    assert xapi_mine >= 1, "xAPI letters of the pupil name them too"

    erase_from_warehouse(warehouse, db, pupil)
    left = warehouse.query(
        f"SELECT count() FROM {db}.dead_letters WHERE student_id = {{p:String}}", parameters={"p": pupil}
    ).result_rows[0][0]
    assert left == 0
