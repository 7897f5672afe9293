"""``python -m tests.sql_readonly_probe``: in a process of its own (the embedded engine's settings last as
long as the process), migrate a warehouse, run one analyst query through ``run_query``, then try writes
that bypass the text check. Prints one JSON object: what the engine refused, and with which code."""

from __future__ import annotations

import json

from vigie.core.settings import VigieSettings
from vigie.warehouse.client import connect
from vigie.warehouse.migrations import migrate
from vigie.warehouse.query import run_query

if __name__ == "__main__":
    settings = VigieSettings()
    db = settings.warehouse.database
    client = connect(settings)
    migrate(client, settings.warehouse)
    found = run_query(client, f"SELECT count() AS n FROM {db}.dead_letters").to_pylist()
    refused: dict[str, str] = {}
    for name, sql in {
        "drop": f"DROP TABLE {db}.dead_letters",
        "insert": f"INSERT INTO {db}.skill_parameters (skill_code) VALUES ('x')",
        "file": "SELECT * FROM file('/etc/hostname', 'LineAsString')",
        "relax": "SELECT 1 SETTINGS readonly = 0",
        "create": f"CREATE TABLE {db}.pwned (x UInt8) ENGINE = Memory",
    }.items():
        try:
            client.query(sql)
            refused[name] = "RAN"
        except Exception as error:  # the engine's refusal is what is being shown
            refused[name] = str(error).split("\n")[0][:200]
    tables = [r[0] for r in client.query(f"SELECT name FROM system.tables WHERE database = '{db}'").result_rows]
    print(json.dumps({"found": found, "refused": refused, "dead_letters_kept": "dead_letters" in tables}))
