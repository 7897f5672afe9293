"""docs/platforms.md tells non-Python platforms how to compute pseudonyms and event ids: keep it true."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.core.contract.events import EVENT_ID_NAMESPACE, make_event_id
from vigie.core.settings import DEV_PSEUDONYM_KEY
from vigie.producers.pseudonym import Pseudonymizer

pytestmark = pytest.mark.unit


DOC = (Path(__file__).resolve().parents[2] / "docs" / "platforms.md").read_text(encoding="utf-8")


def test_the_documented_test_vectors_are_what_the_sdk_computes() -> None:
    keys = Pseudonymizer(DEV_PSEUDONYM_KEY.encode())
    assert f"key `{DEV_PSEUDONYM_KEY}`" in DOC
    assert f"student `ent-48213` → `{keys.student('ent-48213')}`" in DOC
    assert f"class `cm1-b-2025` → `{keys.school_class('cm1-b-2025')}`" in DOC
    assert f"teacher `prof-2291` →\n`{keys.teacher('prof-2291')}`" in DOC
    assert f"event id\n`{make_event_id('mathix', 'attempt-991')}`" in DOC
    assert f"namespace `{EVENT_ID_NAMESPACE}`" in DOC


def test_vigie_skills_lists_the_taxonomy() -> None:
    from vigie.cli import app

    result = CliRunner().invoke(app, ["skills", "--level", "CM1", "--subject", "mathematiques"])
    assert result.exit_code == 0, result.output
    assert "C3-MA-NOM-01" in result.stdout and "C2-MA-NOM-01" not in result.stdout
    assert result.stderr.rstrip().endswith("32 skills"), "the count is a message: stderr"
    assert CliRunner().invoke(app, ["skills", "--level", "CM9"]).exit_code != 0
