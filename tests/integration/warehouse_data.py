"""Helpers shared by the warehouse tests: write contract events through the sink's own path."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from vigie.core.contract.codec import encode
from vigie.core.contract.events import (
    AnswerSubmitted,
    DeadLetter,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SkillParameters,
    StatementKept,
)
from vigie.core.topics import (
    DEAD_LETTERS,
    LEARNING_EVENTS,
    MASTERY_UPDATES,
    RAW_STATEMENTS,
    SIGNALS,
    SKILL_PARAMETERS,
    TopicSpec,
)
from vigie.warehouse.rows import ROUTES
from vigie.warehouse.sink import WarehouseWriter


def topic_of(event: BaseModel) -> TopicSpec:
    if isinstance(event, AnswerSubmitted | SessionStarted | SessionEnded):
        return LEARNING_EVENTS
    return {
        MasteryUpdated: MASTERY_UPDATES,
        SignalChanged: SIGNALS,
        SkillParameters: SKILL_PARAMETERS,
        DeadLetter: DEAD_LETTERS,
        StatementKept: RAW_STATEMENTS,
    }[type(event)]


def store(client, database: str, events: Iterable[BaseModel]) -> dict[str, tuple[int, int]]:
    """Route and write events as the sink does, one insert per table; (inserted, skipped) per table."""
    buffers: dict = {}
    for event in events:
        table, event_id, row = ROUTES[topic_of(event)](encode(event))
        buffers.setdefault(table, {})[event_id] = row
    writer = WarehouseWriter(client, database)
    return {table.name: writer.write(table, rows) for table, rows in buffers.items()}


def tables_with_column(client, database: str, column: str) -> list[str]:
    return [
        r[0]
        for r in client.query(
            "SELECT c.table FROM system.columns AS c INNER JOIN system.tables AS t"
            " ON c.database = t.database AND c.table = t.name"
            " WHERE c.database = {db:String} AND c.name = {col:String} AND t.engine NOT IN ('MaterializedView')",
            parameters={"db": database, "col": column},
        ).result_rows
    ]
