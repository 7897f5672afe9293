"""The daily reconcile of the additive sums, in one call (``vigie warehouse mastery-sums --reconcile``).

The group mastery sums, the progress sums per academy and level and the platform effect's cells are kept
equal to the per-pupil figures by adding their difference once a day (retention, pupils who moved, and
the cells, which only this keeps: docs/warehouse.md). The demo runs it before its report, as an operator's
nightly job would, so that every panel has its figures.
"""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

from vigie.warehouse import effect_sums, gain_sums, mastery_sums


def reconcile_all(client: Client, database: str, retention_days: int | None = None) -> dict[str, int]:
    """Reconcile every additive sum with the per-pupil figures (those retained); corrections per table."""
    return {
        mastery_sums.SUMS: mastery_sums.reconcile(client, database, retention_days),
        gain_sums.SUMS: gain_sums.reconcile(client, database, retention_days),
        effect_sums.SUMS: effect_sums.reconcile(client, database, retention_days),
    }
