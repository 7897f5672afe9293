"""Expansion of panel SQL exactly as Grafana and the ClickHouse plugin do it, for offline checks.

Order (the plugin's): ``$__conditionalAll(cond, $var)`` first, in the browser, from the raw
"All"-or-values state of the variable; then Grafana's variable interpolation; then the plugin's
backend macros (time filters, intervals). Vigie's tests and the HTML report run every panel's SQL
through this, so what they check is what Grafana would send to ClickHouse.

- ``$__timeFilter(c)``    → ``c >= toDateTime(from_s) AND c <= toDateTime(to_s)``
- ``$__timeFilter_ms(c)`` → same with ``fromUnixTimestamp64Milli(ms)``
- ``$__dateFilter(c)``    → ``c >= toDate('YYYY-MM-DD') AND c <= toDate('YYYY-MM-DD')``
- ``$__fromTime`` / ``$__toTime`` → ``toDateTime(s)``
- ``$__interval_s``       → max(1, interval seconds)
- ``$__timeInterval(c)``  → ``toStartOfInterval(toDateTime(c), INTERVAL n second)``
- a multi-value or include-All ``$var`` → ``'a','b'``; ``${var:singlequote}`` → ``'a','b'``;
  ``${var:csv}`` → ``a,b``; a single-value variable → its raw value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

ALL = "$__all"


@dataclass(frozen=True)
class VariableState:
    """The current selection of a dashboard variable and the options its query returned."""

    values: tuple[str, ...]
    options: tuple[str, ...] = ()
    multi: bool = False
    include_all: bool = False

    @property
    def is_all(self) -> bool:
        return self.values == (ALL,) or not self.values

    def selected(self) -> tuple[str, ...]:
        return self.options if self.is_all else self.values


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it runs a panel: the time range, the interval, the variables."""

    time_from: datetime
    time_to: datetime
    interval_s: int = 86_400
    variables: dict[str, VariableState] = field(default_factory=dict)


class MacroError(ValueError):
    """A panel's SQL uses a macro wrongly (the plugin would fail on it too)."""


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _args(sql: str, open_paren: int) -> tuple[list[str], int]:
    """Split the comma-separated arguments of the call whose ``(`` is at ``open_paren``."""
    depth, start, args = 0, open_paren + 1, []
    quoted = False
    for i in range(open_paren, len(sql)):
        ch = sql[i]
        if ch == "'" and sql[i - 1] != "\\":
            quoted = not quoted
        if quoted:
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[start:i])
                return [a.strip() for a in args], i + 1
        elif ch == "," and depth == 1:
            args.append(sql[start:i])
            start = i + 1
    raise MacroError(f"unbalanced parentheses after position {open_paren}")


def _conditional_all(sql: str, ctx: QueryContext) -> str:
    macro = "$__conditionalAll("
    index = sql.rfind(macro)
    while index != -1:
        args, end = _args(sql, index + len(macro) - 1)
        if len(args) != 2:
            raise MacroError("Macro $__conditionalAll should contain 2 parameters")
        match = re.search(r"(?<=\$\{)\w+(?=[}:])|(?<=\$)\w+", args[1])
        if match is None:
            raise MacroError(f"$__conditionalAll needs a variable as its second argument, got {args[1]!r}")
        state = ctx.variables.get(match[0])
        phrase = "1=1" if state is None or state.is_all else args[0]
        sql = sql[:index] + phrase + sql[end:]
        index = sql.rfind(macro)
    return sql


_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def _variables(sql: str, ctx: QueryContext) -> str:
    def render(match: re.Match[str]) -> str:
        name = match[1] or match[3]
        fmt = match[2]
        if name.startswith("__"):
            return match[0]  # a macro, for the backend
        state = ctx.variables.get(name)
        if state is None:
            raise MacroError(f"unknown variable ${name}")
        values = state.selected()
        if fmt == "csv":
            return ",".join(values)
        if fmt == "singlequote" or state.multi or state.include_all:
            return ",".join(_quote(v) for v in values)
        if fmt is not None:
            raise MacroError(f"variable format {fmt!r} is not used by Vigie's dashboards")
        return values[0] if values else ""

    return _VARIABLE.sub(render, sql)


def _backend_macros(sql: str, ctx: QueryContext) -> str:
    from_s, to_s = int(ctx.time_from.timestamp()), int(ctx.time_to.timestamp())
    interval = max(1, int(ctx.interval_s))
    simple = {
        "$__fromTime": f"toDateTime({from_s})",
        "$__toTime": f"toDateTime({to_s})",
        "$__interval_s": str(interval),
    }
    calls = {
        "$__timeFilter_ms": lambda c: (
            f"{c} >= fromUnixTimestamp64Milli({from_s * 1000}) AND {c} <= fromUnixTimestamp64Milli({to_s * 1000})"
        ),
        "$__timeFilter": lambda c: f"{c} >= toDateTime({from_s}) AND {c} <= toDateTime({to_s})",
        "$__dateFilter": lambda c: (
            f"{c} >= toDate('{ctx.time_from.astimezone(UTC):%Y-%m-%d}') "
            f"AND {c} <= toDate('{ctx.time_to.astimezone(UTC):%Y-%m-%d}')"
        ),
        "$__timeInterval": lambda c: f"toStartOfInterval(toDateTime({c}), INTERVAL {interval} second)",
    }
    for name in sorted(calls, key=len, reverse=True):  # `_ms` before its prefix
        index = sql.find(name + "(")
        while index != -1:
            args, end = _args(sql, index + len(name))
            if len(args) != 1 or not args[0]:
                raise MacroError(f"{name} takes one column, got {args}")
            sql = sql[:index] + calls[name](args[0]) + sql[end:]
            index = sql.find(name + "(")
    for name, value in simple.items():
        sql = re.sub(re.escape(name) + r"\b", value, sql)
    leftover = re.search(r"\$__\w+", sql)
    if leftover:
        raise MacroError(f"macro {leftover[0]} is not one the ClickHouse plugin expands")
    return sql


def expand(sql: str, ctx: QueryContext) -> str:
    """The SQL that ClickHouse receives for this panel SQL in this context."""
    return _backend_macros(_variables(_conditional_all(sql, ctx), ctx), ctx)


def default_context(now: datetime | None = None, days: int = 30, **variables: VariableState) -> QueryContext:
    from datetime import timedelta

    end = now or datetime.now(UTC)
    return QueryContext(end - timedelta(days=days), end, 86_400, dict(variables))
