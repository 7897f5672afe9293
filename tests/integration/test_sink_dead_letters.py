"""A dead letter is re-made when its message is redelivered to the stream: same id, new received_at."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories_warehouse
from vigie.warehouse.rows import DEAD_LETTERS_TABLE, dead_letter_row
from vigie.warehouse.sink import WarehouseWriter

pytestmark = pytest.mark.integration


def test_a_dead_letter_re_made_later_is_not_stored_twice(settings, warehouse) -> None:
    writer = WarehouseWriter(warehouse, settings.warehouse.database)
    first = factories_warehouse.dead_letter()
    again = first.model_copy(update={"received_at": first.received_at + timedelta(hours=3)})

    assert writer.write(DEAD_LETTERS_TABLE, {first.event_id: dead_letter_row(first)}) == (1, 0)
    assert writer.write(DEAD_LETTERS_TABLE, {again.event_id: dead_letter_row(again)}) == (0, 1)
    db = settings.warehouse.database
    assert warehouse.query(f"SELECT count() FROM {db}.dead_letters").result_rows[0][0] == 1
