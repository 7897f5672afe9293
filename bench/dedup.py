"""The sink's duplicate check by event_id at history sizes up to 50M ids (seen_event_ids, by key).

``python -m bench.dedup [--rows 50000000] [--steps 1000000,10000000,50000000] [--batch 10000]``

Fills the warehouse's ``seen_event_ids`` (through the real migrations, in a scratch embedded engine)
with random ids, in steps, and at each size times the sink's own ``WarehouseWriter.stored_ids`` on
batches of ``--batch`` ids, half of them stored and half new. Prints one line per size: median and
worst lookup time, ids per second, the rows the engine read for one lookup (the figure that does not
depend on the machine's load: it stays the batch size whatever the history), and whether every stored
id (and no new one) was recognised.
For comparison it also times the old way (an IN list over a MergeTree sorted by the id) at each size.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1000000,10000000,50000000")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--compare", action="store_true", help="also time an IN list over a MergeTree of the ids")
    args = parser.parse_args()
    import clickhouse_connect

    folder = Path(tempfile.mkdtemp(prefix="vigie-bench-dedup-"))
    try:
        client = clickhouse_connect.get_client(dsn=f"chdb://{folder}")
        warehouse = WarehouseSettings(database="bench")
        migrate(client, warehouse)
        writer = WarehouseWriter(client, "bench")
        if args.compare:
            client.command("CREATE TABLE bench.ids_mergetree (event_id UUID) ENGINE = MergeTree ORDER BY event_id")
        size = 0
        for target in (int(s) for s in args.steps.split(",")):
            started = time.monotonic()
            while size < target:
                step = min(5_000_000, target - size)
                client.command(
                    "INSERT INTO bench.seen_event_ids (key) SELECT concat('answers/', toString(generateUUIDv4()))"
                    f" FROM numbers({step})"
                )
                if args.compare:
                    client.command(f"INSERT INTO bench.ids_mergetree SELECT generateUUIDv4() FROM numbers({step})")
                size += step
            fill_s = time.monotonic() - started
            stored = [
                uuid.UUID(r[0].split("/", 1)[1])
                for r in client.query(
                    f"SELECT key FROM bench.seen_event_ids LIMIT {args.batch // 2 * args.trials}"
                ).result_rows
            ]
            times, exact = [], True
            for trial in range(args.trials):
                known = stored[trial * (args.batch // 2) : (trial + 1) * (args.batch // 2)]
                batch = known + [uuid.uuid4() for _ in range(args.batch - len(known))]
                random.shuffle(batch)
                t0 = time.perf_counter()
                found = writer.stored_ids(ANSWERS, batch)
                times.append(time.perf_counter() - t0)
                exact &= found == set(known)
            keys = [f"answers/{i}" for i in batch]
            probe = client.query(
                "SELECT count() FROM bench.seen_event_ids WHERE key IN {keys:Array(String)}", parameters={"keys": keys}
            )
            line = (
                f"{size:>11,} ids  lookup of {args.batch:,}: median {statistics.median(times) * 1000:7.1f} ms, "
                f"worst {max(times) * 1000:7.1f} ms ({args.batch / statistics.median(times):,.0f} ids/s), "
                f"rows read {probe.summary.get('read_rows')}, exact={exact}  (filled in {fill_s:.0f} s)"
            )
            if args.compare:
                batch = [uuid.uuid4() for _ in range(args.batch)]
                t0 = time.perf_counter()
                compared = client.query(
                    "SELECT count() FROM bench.ids_mergetree WHERE event_id IN {ids:Array(UUID)}",
                    parameters={"ids": batch},
                )
                line += (
                    f"  | MergeTree sorted by id, IN list: {(time.perf_counter() - t0) * 1000:.0f} ms, "
                    f"rows read {compared.summary.get('read_rows')}"
                )
            print(line, flush=True)
        disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        print(f"embedded warehouse on disk: {disk / 1e6:,.0f} MB for {size:,} ids")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
