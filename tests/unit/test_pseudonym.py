from __future__ import annotations

import pytest

from tests import factories
from vigie.core.errors import ConfigurationError
from vigie.core.settings import PrivacySettings, VigieSettings
from vigie.producers.pseudonym import AcademyPseudonymizers, Pseudonymizer

pytestmark = pytest.mark.unit

KEY_A = b"academy-a-secret-0123456789"
KEY_B = b"academy-b-secret-0123456789"


def test_a_pseudonym_is_stable_and_32_hex_digits() -> None:
    first, again = Pseudonymizer(KEY_A).student("ent-48213"), Pseudonymizer(KEY_A).student("ent-48213")
    assert first == again
    assert len(first) == 32 and int(first, 16) >= 0
    assert "48213" not in first


def test_a_pseudonym_depends_on_the_key_and_on_the_kind_of_identifier() -> None:
    a, b = Pseudonymizer(KEY_A), Pseudonymizer(KEY_B)
    assert a.student("ent-48213") != b.student("ent-48213")
    assert a.student("x-1") != a.school_class("x-1") != a.teacher("x-1")
    assert a.student("ent-48213") != a.student("ent-48214")


def test_each_academy_uses_its_own_key_and_the_default_serves_the_rest() -> None:
    privacy = PrivacySettings(default_key="default-secret-0123456789", academy_keys={"lyon": KEY_A.decode()})
    keys = AcademyPseudonymizers(privacy)
    assert keys.for_academy("lyon").student("e") == Pseudonymizer(KEY_A).student("e")
    assert keys.for_academy("nantes").student("e") == Pseudonymizer(b"default-secret-0123456789").student("e")
    assert keys.for_academy("lyon") is keys.for_academy("lyon")


def test_the_builder_pseudonymises_with_the_academy_key() -> None:
    one = factories.builder(key="first-key-0123456789").answer(
        factories.pupil(),
        source_event_id="a-1",
        session_id="s-1",
        skill_code="C3-MA-NOM-01",
        item_id="q-1",
        correct=True,
        response_time_ms=1000,
    )
    other = factories.builder(key="second-key-0123456789").answer(
        factories.pupil(),
        source_event_id="a-1",
        session_id="s-1",
        skill_code="C3-MA-NOM-01",
        item_id="q-1",
        correct=True,
        response_time_ms=1000,
    )
    assert one.student_id == Pseudonymizer(b"first-key-0123456789").student("ent-48213")
    assert one.class_id == Pseudonymizer(b"first-key-0123456789").school_class("cm1-b-2025")
    assert one.teacher_id == Pseudonymizer(b"first-key-0123456789").teacher("prof-2291")
    assert one.student_id != other.student_id
    assert one.event_id == other.event_id, "the event id depends on the platform's event, not on the key"


def test_production_refuses_the_development_key_and_says_what_to_set(monkeypatch) -> None:
    monkeypatch.setenv("VIGIE_PRIVACY__PRODUCTION", "true")
    settings = VigieSettings()
    with pytest.raises(ConfigurationError, match="VIGIE_PRIVACY__ACADEMY_KEYS") as caught:
        AcademyPseudonymizers(settings.privacy).for_academy("lyon")
    assert "development key" in str(caught.value)

    monkeypatch.setenv("VIGIE_PRIVACY__ACADEMY_KEYS__LYON", "lyon-real-secret-0123456789")
    keys = AcademyPseudonymizers(VigieSettings().privacy)
    assert keys.for_academy("lyon").student("e") == Pseudonymizer(b"lyon-real-secret-0123456789").student("e")
    with pytest.raises(ConfigurationError):
        keys.for_academy("nantes")


def test_outside_production_the_development_key_works_and_short_keys_are_refused() -> None:
    assert AcademyPseudonymizers(PrivacySettings()).for_academy("lyon").student("e")
    with pytest.raises(ConfigurationError, match="shorter than 16 bytes"):
        AcademyPseudonymizers(PrivacySettings(default_key="short")).for_academy("lyon")
