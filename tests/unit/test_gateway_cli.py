"""``vigie platforms …``: configuration stored durably, nothing raw in the state file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.cli import app
from vigie.core.settings import VigieSettings
from vigie.producers.gateway.store import GatewayStore

pytestmark = pytest.mark.unit


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIE_STATE_DIR", str(tmp_path))
    return tmp_path


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_platform_is_configured_from_the_command_line_and_kept_without_raw_ids(state: Path) -> None:
    _run("platforms", "add", "elea-lyon", "--academy", "lyon")
    basic = _run("platforms", "credential", "elea-lyon")
    key = basic.split("key: ")[1].split()[0]
    secret = basic.split("secret (shown once): ")[1].split()[0]
    token = _run("platforms", "credential", "elea-lyon", "--bearer").split("): ")[1].strip()
    _run("platforms", "rule", "elea-lyon", "--match", "moodle-cmid", "--value", "57", "--skill", "C3-MA-NOM-05")
    _run("platforms", "verb", "elea-lyon", "http://adlnet.gov/expapi/verbs/experienced", "session_start")
    roster = state / "roster.csv"
    roster.write_text("learner,uai,class,level\nent-48213,0691234A,6B,6EME\nent-48214,0691234A,6B,6e\n")
    assert "2 pupils imported" in _run("platforms", "roster", "elea-lyon", str(roster))
    assert "elea-lyon" in _run("platforms", "list")
    assert "C3-MA-NOM-05" in _run("platforms", "show", "elea-lyon")

    db = VigieSettings().gateway_db
    store = GatewayStore(db)
    try:
        assert store.authenticate(key, secret, "basic") == "elea-lyon"
        assert store.authenticate(key, secret + "x", "basic") is None
        assert store.authenticate(key, secret, "bearer") is None  # a Basic credential is not a bearer token
        token_key, token_secret = token.split(".", 1)
        assert store.authenticate(token_key, token_secret, "bearer") == "elea-lyon"
        platform = store.require_platform("elea-lyon")
        assert platform.role_of("http://adlnet.gov/expapi/verbs/experienced") == "session_start"
        assert store.roster_size("elea-lyon") == 2
    finally:
        store.close()
    stored = b"".join(p.read_bytes() for p in db.parent.iterdir())
    for raw in (b"ent-48213", b"ent-48214", b"6B", secret.encode(), token_secret.encode()):
        assert raw not in stored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("platforms", "add", "elea", "--academy", "atlantis"), "unknown academies"),
        (("platforms", "rule", "elea", "--match", "anything", "--value", "1", "--skill", "C3-MA-NOM-05"), "--match"),
        (("platforms", "rule", "elea", "--match", "moodle-cmid", "--value", "x", "--skill", "C3-MA-NOM-05"), "number"),
        (("platforms", "rule", "elea", "--match", "activity", "--value", "http://a.fr", "--skill", "ZZ"), "skill"),
        (("platforms", "verb", "elea", "http://x.fr/v", "everything"), "role"),
    ],
)
def test_bad_configuration_is_refused_with_a_reason(state: Path, args: tuple[str, ...], message: str) -> None:
    _run("platforms", "add", "elea", "--academy", "lyon")
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code != 0
    assert message in str(result.exception) + result.output


def test_a_roster_line_that_is_wrong_is_named_and_nothing_is_imported(state: Path) -> None:
    _run("platforms", "add", "elea", "--academy", "lyon")
    roster = state / "roster.csv"
    roster.write_text("learner,uai,class,level\nent-1,0691234A,6B,6e\nent-2,069123,6B,6e\n")
    result = CliRunner().invoke(app, ["platforms", "roster", "elea", str(roster)])
    assert result.exit_code != 0 and "line 3" in str(result.exception)
    store = GatewayStore(VigieSettings().gateway_db)
    try:
        assert store.roster_size("elea") == 0
    finally:
        store.close()


def test_forgetting_a_pupil_removes_their_roster_entry_and_kept_statements(state: Path) -> None:
    from vigie.core.settings import PrivacySettings
    from vigie.producers.pseudonym import AcademyPseudonymizers

    _run("platforms", "add", "elea", "--academy", "lyon", "--academy", "grenoble")
    roster = state / "roster.csv"
    roster.write_text("learner,uai,class,level,academy\nent-1,0691234A,6B,6e,lyon\nent-2,0381234X,6B,6e,grenoble\n")
    _run("platforms", "roster", "elea", str(roster))
    keys = AcademyPseudonymizers(PrivacySettings())
    gone = keys.for_academy("grenoble").student("ent-2")
    store = GatewayStore(VigieSettings().gateway_db)
    try:
        actor_keys = {a: keys.for_academy(a).student("ent-2") for a in ("lyon", "grenoble")}
        store.claim("elea", [("0b9d6c1e-3f5a-4e8b-9c2d-1a7e5f3b6d40", "d" * 64, {"id": "x"}, actor_keys, "t")])
        assert store.forget_student(gone) == (1, 1)
        assert store.roster_size("elea") == 1 and store.forget_student(gone) == (0, 0)
    finally:
        store.close()


def test_settled_statements_are_forgotten_sooner_than_unmapped_ones(state: Path) -> None:
    _run("platforms", "add", "elea", "--academy", "lyon")
    store = GatewayStore(VigieSettings().gateway_db)
    try:
        ids = [f"0b9d6c1e-3f5a-4e8b-9c2d-1a7e5f3b6d4{n}" for n in range(3)]
        store.claim(
            "elea",
            [(sid, f"{n}" * 64, {"id": sid}, {}, f"2026-0{n + 1}-01T00:00:00.000Z") for n, sid in enumerate(ids)],
        )
        from vigie.producers.gateway.store import Settlement

        store.settle(
            "elea", [Settlement(ids[0], "mapped"), Settlement(ids[1], "unmapped", "x"), Settlement(ids[2], "mapped")]
        )
        assert store.prune(settled_before="2026-02-15T00:00:00.000Z", unmapped_before="2026-01-15T00:00:00.000Z") == 1
        assert store.statement("elea", ids[0]) is None and store.statement("elea", ids[1]) is not None
        assert store.prune(settled_before="2026-02-15T00:00:00.000Z", unmapped_before="2026-03-01T00:00:00.000Z") == 1
        assert store.statement("elea", ids[1]) is None and store.statement("elea", ids[2]) is not None
    finally:
        store.close()


def test_claims_say_new_busy_same_conflict_and_twin(state: Path) -> None:
    from vigie.producers.gateway.store import Settlement

    _run("platforms", "add", "elea", "--academy", "lyon")
    store = GatewayStore(VigieSettings().gateway_db)
    one, two = "0b9d6c1e-3f5a-4e8b-9c2d-1a7e5f3b6d41", "0b9d6c1e-3f5a-4e8b-9c2d-1a7e5f3b6d42"
    item = (one, "a" * 64, {"id": one}, {}, "2026-11-30T08:00:00.000Z")
    try:
        assert [c.outcome for c in store.claim("elea", [item])] == ["new"]
        assert [c.outcome for c in store.claim("elea", [item])] == ["busy"]  # still being produced: retry
        store.release("elea", [one])  # Kafka refused: the claim is gone, the retry is new again
        assert [c.outcome for c in store.claim("elea", [item])] == ["new"]
        store.settle("elea", [Settlement(one, "mapped")])
        assert [c.outcome for c in store.claim("elea", [item])] == ["same"]
        assert [c.outcome for c in store.claim("elea", [(one, "b" * 64, {}, {}, "t")])] == ["conflict"]
        twin = store.claim("elea", [(two, "a" * 64, {"id": two}, {}, "t"), (one, "b" * 64, {}, {}, "t")])
        assert [c.outcome for c in twin] == ["new", "conflict"] and store.statement("elea", two) is None  # all or none
        again = store.claim("elea", [(two, "a" * 64, {"id": two}, {}, "t")])[0]
        assert (again.outcome, again.duplicate_of) == ("new", one)  # not busy: the refused batch left nothing
    finally:
        store.close()
