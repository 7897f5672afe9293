"""v_academy_answers_daily (0030): the national activity figures with a capped pupil count for the k rule
equal the raw computation over `answers`, hide the same day-groups as an exact count would, and stay exact
where the cap (100 pupils) does not reach."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests import factories
from tests.integration.warehouse_data import store

pytestmark = pytest.mark.integration

_RAW = """SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, level, subject,
       count(), countIf(correct), sum(toUInt64(response_time_ms))
FROM {db}.answers GROUP BY day, academy, level, subject
HAVING uniqExact(student_id) >= {k} ORDER BY day, academy, level, subject"""

_VIEW = """SELECT day, academy, level, subject, answers_count, correct_count,
       toUInt64(round(mean_response_time_ms * answers_count))
FROM {db}.v_academy_answers_daily ORDER BY day, academy, level, subject"""


def _random_answers(rng: random.Random) -> list:
    """Day-groups of every size around k, one of more than 100 pupils (the cap), answers in random order."""
    events = []
    for pupil in range(130):
        big = pupil < 110  # the first 110 pupils all answer in one day-group
        n_answers = rng.randint(1, 4)
        for _ in range(n_answers):
            day = 0 if big else rng.randint(0, 3)
            events.append(
                factories.answer(
                    student_id=factories.student(pupil),
                    academy="lyon" if big else rng.choice(["lyon", "grenoble"]),
                    level="CM1" if big else rng.choice(["CM1", "CM2"]),
                    subject="mathematiques" if big else rng.choice(["mathematiques", "francais"]),
                    correct=rng.random() < 0.6,
                    response_time_ms=rng.randint(1_000, 60_000),
                    occurred_at=factories.BASE_TIME + timedelta(days=day, minutes=rng.randint(0, 600)),
                )
            )
    rng.shuffle(events)
    return events


@pytest.mark.parametrize("seed", [1, 2])
def test_the_view_equals_the_raw_computation_with_the_k_rule(settings, warehouse, seed) -> None:
    db, k = settings.warehouse.database, settings.warehouse.min_group_size
    events = _random_answers(random.Random(seed))
    half = len(events) // 2
    store(warehouse, db, events[:half])  # two inserts: unmerged states are merged at read
    store(warehouse, db, events[half:])
    raw = warehouse.query(_RAW.format(db=db, k=k)).result_rows
    shown = warehouse.query(_VIEW.format(db=db)).result_rows
    assert shown == raw
    everything = warehouse.query(_RAW.format(db=db, k=1)).result_rows
    assert len(raw) < len(everything)  # some day-groups are under k, and hidden


def test_the_capped_count_is_exact_up_to_100(settings, warehouse) -> None:
    db = settings.warehouse.database
    events = _random_answers(random.Random(3))
    store(warehouse, db, events)
    exact = warehouse.query(
        f"SELECT toDate(occurred_at, 'Europe/Paris') AS day, academy, level, subject, least(uniqExact(student_id), 101)"
        f" FROM {db}.answers GROUP BY day, academy, level, subject ORDER BY day, academy, level, subject"
    ).result_rows
    capped = warehouse.query(
        f"SELECT day, academy, level, subject, uniqUpToMerge(100)(pupils_upto_state)"
        f" FROM {db}.agg_answers_daily_academy GROUP BY day, academy, level, subject"
        " ORDER BY day, academy, level, subject"
    ).result_rows
    assert capped == exact
    assert max(r[4] for r in capped) == 101  # the group of 110 pupils reads "more than 100"
