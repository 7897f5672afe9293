"""The per-pupil state tables of migration 0021 give the dashboards' views the figures the raw history gives:
the platform effect (read from agg_pupil_platform / agg_pupil_progress, it scanned answers and mastery updates)
and mastery per skill (read from mastery_skill_current FINAL), on a small history written by the sink's path."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from tests import factories, factories_warehouse
from tests.integration.warehouse_data import store

pytestmark = pytest.mark.integration

# The view of migration 0011 as it was (it read the raw history): the reference for the new one.
RAW_PLATFORM_EFFECT = """
SELECT academy, platform, usage_band, level, count() AS pupils, avg(gain) AS mean_gain, avg(p_now) AS mean_p,
       avg(active_days) AS mean_active_days
FROM (
    SELECT usage.academy AS academy, usage.level AS level, usage.platform AS platform,
           usage.active_days AS active_days,
           multiIf(usage.active_days >= 10, '10 jours ou plus', usage.active_days >= 4, '4 à 9 jours',
                   'moins de 4 jours') AS usage_band, progress.gain AS gain, progress.p_now AS p_now
    FROM (
        SELECT academy, student_id, any(level) AS level, argMax(platform, platform_answers) AS platform,
               length(arrayDistinct(arrayFlatten(groupArray(days)))) AS active_days
        FROM (
            SELECT academy, student_id, level, platform, count() AS platform_answers,
                   groupUniqArray(toDate(occurred_at, 'Europe/Paris')) AS days
            FROM {db}.answers GROUP BY academy, student_id, level, platform
        ) GROUP BY academy, student_id
    ) AS usage
    INNER JOIN (
        SELECT academy, student_id, avg(p_last - p_first) AS gain, avg(p_last) AS p_now
        FROM (
            SELECT academy, student_id, skill_code, argMin(p_before, (occurred_at, attempts)) AS p_first,
                   argMax(p_after, (occurred_at, attempts)) AS p_last
            FROM {db}.mastery_updates GROUP BY academy, student_id, skill_code
        ) GROUP BY academy, student_id
    ) AS progress ON usage.academy = progress.academy AND usage.student_id = progress.student_id
)
GROUP BY academy, platform, usage_band, level HAVING pupils >= 5
ORDER BY academy, platform, usage_band, level
"""


def _history() -> list:
    rng = random.Random(3)
    events: list = []
    for pupil in range(30):  # 5 pupils per platform × usage band
        student = factories.student(pupil)
        platform = ("fondamentaux", "mathia")[pupil % 2]
        for day in range((2, 6, 11)[pupil // 2 % 3]):  # every usage band
            for n in range(2):
                events.append(
                    factories.answer(
                        student_id=student,
                        platform=platform,
                        occurred_at=factories.BASE_TIME + timedelta(days=day, minutes=n),
                        correct=rng.random() < 0.6,
                    )
                )
        for skill in ("C3-MA-NOM-01", "C3-MA-NOM-02"):
            p = rng.random() * 0.5
            for attempt in range(1, 4):
                after = min(1.0, p + rng.random() * 0.2)
                events.append(
                    factories_warehouse.mastery_updated(
                        student_id=student,
                        skill_code=skill,
                        p_before=p,
                        p_after=after,
                        attempts=attempt,
                        mastered=after > 0.6,
                        occurred_at=factories.BASE_TIME + timedelta(days=attempt, hours=pupil),
                    )
                )
                p = after
    return factories_warehouse.chained(events)


def test_platform_effect_from_per_pupil_state_equals_the_raw_history(settings, warehouse) -> None:
    db = settings.warehouse.database
    events = _history()
    half = len(events) // 2  # two inserts: the state tables hold unmerged rows, as in production
    store(warehouse, db, events[:half])
    store(warehouse, db, events[half:])
    expected = warehouse.query(RAW_PLATFORM_EFFECT.format(db=db)).result_rows
    got = warehouse.query(
        f"SELECT academy, platform, usage_band, level, pupils, mean_gain, mean_p, mean_active_days"
        f" FROM {db}.v_academy_platform_effect ORDER BY academy, platform, usage_band, level"
    ).result_rows
    assert expected, "the reference must have groups of at least 5 pupils"
    assert [r[:5] for r in got] == [r[:5] for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[5:] == pytest.approx(theirs[5:], abs=1e-4)  # estimates packed to 1/65535


def test_mastery_per_skill_is_each_pupils_latest_estimate(settings, warehouse) -> None:
    db = settings.warehouse.database
    events = [e for e in _history() if not isinstance(e, type(factories.answer()))]
    store(warehouse, db, events[::-1])  # newest first: the version (attempts) must win, not the arrival
    expected = warehouse.query(
        f"SELECT skill_code, count(), avg(p), countIf(m) FROM (SELECT student_id, skill_code,"
        f" argMax(p_after, attempts) AS p, argMax(mastered, attempts) AS m FROM {db}.mastery_updates"
        " GROUP BY student_id, skill_code) GROUP BY skill_code ORDER BY skill_code"
    ).result_rows
    for view in ("v_academy_mastery_skill", "v_school_mastery_skill"):
        got = warehouse.query(
            f"SELECT skill_code, pupils, mean_p, mastered FROM {db}.{view} ORDER BY skill_code"
        ).result_rows
        assert [(s, n, m) for s, n, _, m in got] == [(s, n, m) for s, n, _, m in expected], view
        assert [r[2] for r in got] == pytest.approx([r[2] for r in expected]), view
