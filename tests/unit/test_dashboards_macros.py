"""Panel SQL is expanded as the ClickHouse plugin and Grafana expand it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigie.dashboards.macros import ALL, MacroError, QueryContext, VariableState, expand

pytestmark = pytest.mark.unit

FROM, TO = datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 22, 12, tzinfo=UTC)
F, T = int(FROM.timestamp()), int(TO.timestamp())


def ctx(**variables: VariableState) -> QueryContext:
    return QueryContext(FROM, TO, 3600, variables)


def test_time_macros_follow_the_plugin() -> None:
    sql = "$__timeFilter(ts) AND $__timeFilter_ms(ms) AND $__dateFilter(d) AND x BETWEEN $__fromTime AND $__toTime"
    assert expand(sql, ctx()) == (
        f"ts >= toDateTime({F}) AND ts <= toDateTime({T}) AND "
        f"ms >= fromUnixTimestamp64Milli({F * 1000}) AND ms <= fromUnixTimestamp64Milli({T * 1000}) AND "
        "d >= toDate('2025-11-01') AND d <= toDate('2025-11-22') AND "
        f"x BETWEEN toDateTime({F}) AND toDateTime({T})"
    )


def test_interval_macros() -> None:
    assert expand("$__timeInterval(occurred_at), $__interval_s", ctx()) == (
        "toStartOfInterval(toDateTime(occurred_at), INTERVAL 3600 second), 3600"
    )
    assert expand("$__interval_s", QueryContext(FROM, TO, 0)) == "1"  # never below one second


def test_multi_value_variables_are_quoted_and_formats_apply() -> None:
    school = VariableState(("0691234A", "0690001B"), ("0691234A", "0690001B", "0380002C"), multi=True)
    academy = VariableState(("lyon",))
    assert expand("a = '$academy' AND s IN ($school)", ctx(academy=academy, school=school)) == (
        "a = 'lyon' AND s IN ('0691234A','0690001B')"
    )
    assert expand("${school:csv} ${school:singlequote} ${academy}", ctx(academy=academy, school=school)) == (
        "0691234A,0690001B '0691234A','0690001B' lyon"
    )
    assert expand("${academy:singlequote}", ctx(academy=VariableState(("l'x",)))) == "'l\\'x'"


def test_conditional_all_is_one_equals_one_for_all_and_the_condition_otherwise() -> None:
    sql = (
        "WHERE $__conditionalAll(subject IN ($subject), $subject) AND $__conditionalAll(level IN (${level}), ${level})"
    )
    every = VariableState((ALL,), ("francais", "mathematiques"), multi=True, include_all=True)
    maths = VariableState(("mathematiques",), ("francais", "mathematiques"), multi=True, include_all=True)
    assert expand(sql, ctx(subject=every, level=maths)) == "WHERE 1=1 AND level IN ('mathematiques')"
    assert expand(sql, ctx(subject=maths, level=every)) == "WHERE subject IN ('mathematiques') AND 1=1"
    # All outside $__conditionalAll: Grafana sends every option.
    assert expand("s IN ($subject)", ctx(subject=every)) == "s IN ('francais','mathematiques')"


def test_mistakes_fail_like_the_plugin() -> None:
    with pytest.raises(MacroError, match="2 parameters"):
        expand("$__conditionalAll(x IN ($v))", ctx(v=VariableState(("a",))))
    with pytest.raises(MacroError, match="unknown variable"):
        expand("x = '$nope'", ctx())
    with pytest.raises(MacroError, match="not one the ClickHouse plugin expands"):
        expand("$__timeGroup(ts, '1h')", ctx())
