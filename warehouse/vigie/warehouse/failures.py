"""Is a failure of ClickHouse worth retrying? The sink backs off on the first kind and stops on the second.

A server that is down, overloaded or restarting comes back: retry, commit nothing meanwhile. A refusal of
the statement itself (a missing table, a type mismatch, no rights) fails the same way every time:
retrying forever would hide it, so the sink stops and says what to do.
"""

from __future__ import annotations

import re

from clickhouse_connect.driver.exceptions import OperationalError

from vigie.core.errors import PermanentError, RetriableError, VigieError

#: ClickHouse error codes of a temporary condition (server side: load, time-outs, replicas, network).
RETRIABLE_CODES = frozenset(
    {
        3,  # UNEXPECTED_END_OF_FILE (connection cut)
        159,  # TIMEOUT_EXCEEDED
        242,  # TABLE_IS_READ_ONLY: a replica lost its Keeper session
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        203,  # NO_FREE_CONNECTION
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        241,  # MEMORY_LIMIT_EXCEEDED
        252,  # TOO_MANY_PARTS
        279,  # ALL_CONNECTION_TRIES_FAILED
        319,  # UNKNOWN_STATUS_OF_INSERT
        425,  # SYSTEM_ERROR
        999,  # KEEPER_EXCEPTION
    }
)

#: What to tell the operator for the permanent failures they can fix themselves.
ADVICE = {
    60: "a table is missing: run `vigie warehouse migrate` (it re-creates missing tables)",
    81: "the database is missing: run `vigie warehouse migrate`",
    16: "a column is missing: the warehouse schema is older than this Vigie; run `vigie warehouse migrate`",
    47: "a column is missing: the warehouse schema is older than this Vigie; run `vigie warehouse migrate`",
    164: "the server is read-only for this user: give the sink's user INSERT rights",
    497: "the sink's user lacks rights on the warehouse: grant them (see `vigie warehouse access-sql`)",
    516: "ClickHouse refused the credentials in CLICKHOUSE_URL",
}

_CODE = re.compile(r"Code:\s*(\d+)")


def error_code(error: BaseException) -> int | None:
    """The ClickHouse error code of ``error`` (a server's answer or the embedded engine's message)."""
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return code
    match = _CODE.search(str(error))
    return int(match[1]) if match else None


def classify(error: BaseException, what: str) -> VigieError:
    """``error`` as a ``RetriableError`` or a ``PermanentError``, with ``what`` failed and what to do."""
    if isinstance(error, RetriableError | PermanentError):
        return error
    code = error_code(error)
    if isinstance(error, OperationalError | ConnectionError | TimeoutError) or code in RETRIABLE_CODES:
        return RetriableError(f"{what}: {error}", code=code)
    advice = ADVICE.get(code or -1, "fix the cause, then restart")
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return PermanentError(f"{what}: {first_line} — {advice}", code=code)
