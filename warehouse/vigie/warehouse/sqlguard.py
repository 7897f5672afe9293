"""The guard of the analyst path: one reading statement, nothing that touches the host.

The engine's ``readonly`` setting refuses writes and DDL, but not everything: ClickHouse runs
``SELECT … INTO OUTFILE`` in read-only mode (measured: it wrote the file), and a multi-statement text
is run statement by statement. So the text is checked first, tokenised the way ClickHouse reads it:
quoted strings with backslash escapes and doubled quotes, quoted identifiers, ``--``, ``# `` and ``#!``
line comments, ``/* */`` block comments. A ``;`` or a keyword inside a string or a comment is not code,
and code is never taken for a string or a comment: where this tokeniser and ClickHouse could differ
it errs towards refusing (block comments do not nest here, though ClickHouse nests them, so a comment
ends here no later than there; heredoc ``$$…$$`` strings are read as code).

Refused: anything but one statement; a first keyword other than a reading one; ``INTO OUTFILE`` and
``INFILE``; any call of a function or table function that reaches the host, the network or another
database (``file``, ``url``, ``s3``, ``remote``, ``mysql``, ``executable``, ``input``…, matched in any
case, quoted or not); ``SETTINGS`` that would relax the guard (``readonly``, ``allow_*``…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigie.core.errors import UsageError


class UnsafeQueryError(UsageError):
    """A query the analyst path refuses; the message names what is wrong."""


#: Statements that only read.
READING = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"})
#: Table functions that only compute or read this warehouse; any other table function the engine lists
#: (``system.table_functions``, see ``refused_functions``) is refused too, so a new one is refused by default.
PURE_TABLE_FUNCTIONS = frozenset(
    [
        "numbers",
        "numbers_mt",
        "zeros",
        "zeros_mt",
        "values",
        "view",
        "viewifpermitted",
        "viewexplain",
        "generate_series",
        "generateseries",
        "generaterandom",
        "null",
        "primes",
        "merge",
        "loop",
        "sqlstandardvalues",
        "format",
        "fuzzjson",
        "fuzzquery",
    ]
)
_HOST_FUNCTION_NAMES = """
    arrowstream azureBlobStorage azureBlobStorageCluster bigquery cluster clusterAllReplicas cosn deltaLake
    deltaLakeAzure deltaLakeAzureCluster deltaLakeCluster deltaLakeLocal deltaLakeS3 deltaLakeS3Cluster
    dictionary eval executable file fileCluster filesystem gcs hdfs hdfsCluster hudi hudiCluster iceberg
    icebergAzure icebergAzureCluster icebergCluster icebergHDFS icebergHDFSCluster icebergLocal
    icebergLocalCluster icebergS3 icebergS3Cluster input jdbc mergeTreeAnalyzeIndexes mergeTreeAnalyzeIndexesUUID
    mergeTreeIndex mergeTreeProjection mongodb mysql odbc oss paimon paimonAzure paimonAzureCluster paimonCluster
    paimonHDFS paimonHDFSCluster paimonLocal paimonS3 paimonS3Cluster postgresql prometheusQuery
    prometheusQueryRange python redis remote remoteSecure s3 s3Cluster sqlite timeSeriesData
    timeSeriesMetricFamilies timeSeriesMetrics timeSeriesSamples timeSeriesSelector timeSeriesTags url
    urlCluster ytsaurus
    dictGet dictGetOrDefault dictGetOrNull dictHas
"""
#: Functions and table functions that reach the host, the network or other databases (ClickHouse 26's
#: table functions but the pure ones; dictionaries, which may be backed by files, programs or servers).
HOST_FUNCTIONS = frozenset(name.lower() for name in _HOST_FUNCTION_NAMES.split())
#: Settings an analyst's query may not change.
GUARDED_SETTINGS = re.compile(r"^(readonly|allow_.*|max_.*_to_read|.*_path|.*user_files.*|log_.*)$", re.I)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # word, quoted_id, string, number, symbol
    text: str
    at: int


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"[0-9][0-9A-Za-z_.]*")


def tokens(sql: str) -> list[Token]:
    """The tokens of ``sql`` without comments and whitespace; an unterminated string or comment is refused."""
    found: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c.isspace():
            i += 1
        elif sql.startswith("--", i) or c == "#":
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise UnsafeQueryError(f"unterminated comment at character {i}")
            i = end + 2
        elif c in "'\"`":
            j = i + 1
            while True:
                if j >= n:
                    raise UnsafeQueryError(f"unterminated quote {c} at character {i}")
                if sql[j] == "\\":
                    j += 2
                elif sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # a doubled quote stands for itself
                        j += 2
                    else:
                        break
                else:
                    j += 1
            found.append(Token("string" if c == "'" else "quoted_id", sql[i + 1 : j], i))
            i = j + 1
        elif match := _WORD.match(sql, i):
            found.append(Token("word", match[0], i))
            i = match.end()
        elif match := _NUMBER.match(sql, i):
            found.append(Token("number", match[0], i))
            i = match.end()
        else:
            found.append(Token("symbol", c, i))
            i += 1
    return found


def refused_functions(engine_table_functions: list[str]) -> frozenset[str]:
    """``HOST_FUNCTIONS`` and every table function the engine knows that is not a pure one (lower case)."""
    listed = {name.lower() for name in engine_table_functions}
    return HOST_FUNCTIONS | (listed - PURE_TABLE_FUNCTIONS)


def check_reading(sql: str, refused: frozenset[str] = HOST_FUNCTIONS) -> None:
    """Refuse anything but one reading statement that stays inside the warehouse (``UnsafeQueryError``)."""
    toks = tokens(sql)
    while toks and toks[-1].kind == "symbol" and toks[-1].text == ";":
        toks.pop()  # a trailing semicolon ends the one statement
    if not toks:
        raise UnsafeQueryError("empty query")
    first = toks[0]
    if first.kind != "word" or first.text.upper() not in READING:
        raise UnsafeQueryError(
            f"`vigie sql` runs reading statements only ({', '.join(sorted(READING))}); got {first.text!r}"
        )
    for at, tok in enumerate(toks):
        nxt = toks[at + 1] if at + 1 < len(toks) else None
        if tok.kind == "symbol" and tok.text == ";":
            raise UnsafeQueryError(f"one statement only: a second one starts at character {tok.at}")
        if tok.kind not in ("word", "quoted_id"):
            continue
        word = tok.text.lower()
        if nxt is not None and nxt.kind == "symbol" and nxt.text == "(" and word in refused:
            raise UnsafeQueryError(f"{tok.text}(…) reaches outside the warehouse (character {tok.at})")
        if tok.kind != "word":
            continue
        if word == "into" and nxt is not None and nxt.kind == "word" and nxt.text.lower() == "outfile":
            raise UnsafeQueryError(f"INTO OUTFILE writes on the host (character {tok.at}): use --format csv --out")
        if word in ("infile", "outfile"):
            raise UnsafeQueryError(f"{tok.text.upper()} touches the host (character {tok.at})")
        if word == "settings":
            for setting in _settings_after(toks, at + 1):
                if GUARDED_SETTINGS.match(setting):
                    raise UnsafeQueryError(f"the setting {setting!r} may not be changed by an analyst's query")


def _settings_after(toks: list[Token], start: int) -> list[str]:
    """Names in ``SETTINGS a = 1, b = 'x'``: every word followed by ``=``."""
    names = []
    for at in range(start, len(toks) - 1):
        if toks[at].kind in ("word", "quoted_id") and toks[at + 1].text == "=":
            names.append(toks[at].text)
    return names
