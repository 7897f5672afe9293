"""The sink's duplicate check by event_id at history sizes up to 50M ids (``event_ids``, sorted by id).

``python -m bench.dedup [--steps 1000000,10000000,50000000] [--batch 10000] [--trials 5] [--compare]``

Fills the warehouse's ``event_ids`` (through the real migrations, in a scratch embedded engine) with random
ids, in steps, and at each size times the sink's own ``WarehouseWriter.stored_ids`` on batches of ``--batch``
ids, half of them stored (picked at random over the whole history) and half new. Prints one line per size:
median and worst lookup time, ids per second, the granules the engine selected for one lookup (the figure that
does not depend on the machine's load: about one per id and part, whatever the history), the parts, and
whether every stored id (and no new one) was recognised. Results go to ``bench/results/latest.json``
(``dedup_lookup_ms_p50`` at the largest size).
``--compare`` also times the design it replaced (an EmbeddedRocksDB table of '<table>/<id>' keys, migration
0016) filled with the same number of keys.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from vigie.core.settings import WarehouseSettings
from vigie.warehouse.migrations import migrate
from vigie.warehouse.rows import ANSWERS
from vigie.warehouse.sink import WarehouseWriter

_FILL = 5_000_000


def _timed(call, trials: int) -> list[float]:
    times = []
    for _ in range(trials):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    from bench.results import machine, record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1000000,10000000,50000000")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="also time the EmbeddedRocksDB key table of 0016")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    started_on = machine()
    print(f"load average at start: {started_on['load_avg_at_start']} ({started_on['cores']} cores)")
    import clickhouse_connect

    folder = Path(tempfile.mkdtemp(prefix="vigie-bench-dedup-"))
    figures: dict[str, float] = {}
    try:
        client = clickhouse_connect.get_client(dsn=f"chdb://{folder}")
        migrate(client, WarehouseSettings(database="bench"))
        writer = WarehouseWriter(client, "bench")
        if args.compare:
            client.command(
                "CREATE TABLE bench.rocksdb_keys (key String, stored_at DateTime DEFAULT now())"
                " ENGINE = EmbeddedRocksDB(63072000) PRIMARY KEY key"
            )
        size = 0
        for target in (int(s) for s in args.steps.split(",")):
            started = time.monotonic()
            while size < target:
                step = min(_FILL, target - size)
                if args.compare:  # the same ids in both designs
                    client.command("CREATE OR REPLACE TABLE bench.fresh (event_id UUID) ENGINE = Memory")
                    client.command(f"INSERT INTO bench.fresh SELECT generateUUIDv4(number) FROM numbers({step})")
                    client.command(
                        "INSERT INTO bench.event_ids (table_name, event_id) SELECT 'answers', event_id FROM bench.fresh"
                    )
                    client.command(
                        "INSERT INTO bench.rocksdb_keys (key)"
                        " SELECT concat('answers/', toString(event_id)) FROM bench.fresh"
                    )
                    client.command("DROP TABLE bench.fresh")
                else:
                    client.command(
                        "INSERT INTO bench.event_ids (table_name, event_id)"
                        f" SELECT 'answers', generateUUIDv4(number) FROM numbers({step})"
                    )
                size += step
            fill_s = time.monotonic() - started
            stored = [
                r[0]
                for r in client.query(
                    "SELECT event_id FROM bench.event_ids WHERE cityHash64(event_id) % 997 = 3"
                    f" LIMIT {args.batch // 2 * args.trials}"
                ).result_rows
            ]
            random.shuffle(stored)
            batches, exact = [], True
            for trial in range(args.trials):
                known = stored[trial * (args.batch // 2) : (trial + 1) * (args.batch // 2)]
                batch = known + [uuid.uuid4() for _ in range(args.batch - len(known))]
                random.shuffle(batch)
                batches.append((batch, set(known)))
            times = []
            for batch, known in batches:
                t0 = time.perf_counter()
                found = writer.stored_ids(ANSWERS, batch)
                times.append(time.perf_counter() - t0)
                exact &= found == known
            plan = client.query(
                "EXPLAIN indexes = 1 SELECT event_id FROM bench.event_ids"
                " WHERE table_name = 'answers' AND event_id IN {ids:Array(UUID)}",
                parameters={"ids": batches[0][0]},
            ).result_rows
            granules = next((r[0].strip() for r in reversed(plan) if "Granules:" in r[0]), "?")
            parts = client.query(
                "SELECT count() FROM system.parts WHERE database = 'bench' AND table = 'event_ids' AND active"
            ).result_rows[0][0]
            median = statistics.median(times)
            line = (
                f"{size:>11,} ids  lookup of {args.batch:,}: median {median * 1000:7.1f} ms, "
                f"worst {max(times) * 1000:7.1f} ms ({args.batch / median:,.0f} ids/s), {granules}, "
                f"{parts} parts, exact={exact}  (filled in {fill_s:.0f} s)"
            )
            figures = {"dedup_history_ids": size, "dedup_lookup_ids": args.batch, "dedup_lookup_ms_p50": median * 1000}
            if args.compare:
                keys = [f"answers/{i}" for i in batches[0][0]]
                old = _timed(
                    lambda keys=keys: client.query(
                        "SELECT key FROM bench.rocksdb_keys WHERE key IN {keys:Array(String)}",
                        parameters={"keys": keys},
                    ),
                    min(args.trials, 3),
                )
                line += f"  | EmbeddedRocksDB keys (0016): median {statistics.median(old) * 1000:,.0f} ms"
                figures["dedup_lookup_ms_p50_rocksdb"] = statistics.median(old) * 1000
            print(line, flush=True)
        disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"embedded warehouse on disk: {disk / 1e6:,.0f} MB for {size:,} ids")
        if not args.no_record:
            rounded = {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}
            print(f"recorded in {record('dedup', rounded, started_on)}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
