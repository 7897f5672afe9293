"""The analyst path's text check: every attack string is refused with a reason, readers pass."""

from __future__ import annotations

import pytest

from vigie.warehouse.sqlguard import UnsafeQueryError, check_reading, refused_functions, tokens

pytestmark = pytest.mark.unit

ATTACKS = {
    # a second statement, hidden or not
    "SELECT 1; DROP TABLE vigie.dead_letters": "one statement",
    "SELECT 1;DROP TABLE vigie.answers;": "one statement",
    "SELECT 1 -- comment\n; DROP TABLE vigie.answers": "one statement",
    "SELECT 1 /* ; */ ; DROP TABLE vigie.answers": "one statement",
    "SELECT 'a\\';' ; DROP TABLE vigie.answers": "one statement",  # an escaped quote does not end the string
    "SELECT 'it''s' ; TRUNCATE TABLE vigie.answers": "one statement",
    "SELECT 1 /* a /* nested */ ; DROP TABLE vigie.answers */": "one statement",  # nests there: refused here
    "SELECT 1 #x\n; DROP TABLE vigie.answers": "one statement",  # '#x' is no comment for ClickHouse
    "SELECT $$;$$": "one statement",  # heredoc strings are read as code: refused rather than guessed
    "SELECT 1; SET readonly = 0": "one statement",
    # writing statements
    "DROP TABLE vigie.dead_letters": "reading statements only",
    "  /* hi */ INSERT INTO vigie.answers SELECT * FROM vigie.answers": "reading statements only",
    "ALTER TABLE vigie.answers DELETE WHERE 1": "reading statements only",
    "SET readonly = 0": "reading statements only",
    "SYSTEM SHUTDOWN": "reading statements only",
    "KILL QUERY WHERE 1": "reading statements only",
    "OPTIMIZE TABLE vigie.answers FINAL": "reading statements only",
    "GRANT ALL ON *.* TO default": "reading statements only",
    "(SELECT 1)": "reading statements only",
    "": "empty query",
    "-- only a comment": "empty query",
    # the host, the network, other databases
    "SELECT * FROM file('/etc/hostname', 'LineAsString')": "file(",
    "SELECT file('/etc/passwd')": "file(",
    "SELECT * FROM FILE ('/etc/hostname')": "FILE(",
    "SELECT * FROM \"file\"('/etc/hostname')": "file(",
    "SELECT * FROM `url`('http://127.0.0.1:1/', 'CSV', 'a String')": "url(",
    "SELECT * FROM s3('http://127.0.0.1/b/k', 'CSV')": "s3(",
    "SELECT * FROM hdfs('hdfs://127.0.0.1/x', 'CSV')": "hdfs(",
    "SELECT * FROM remote('127.0.0.1', system.one)": "remote(",
    "SELECT * FROM remoteSecure('127.0.0.1', system.one)": "remoteSecure(",
    "SELECT * FROM mysql('127.0.0.1:3306', 'db', 't', 'u', 'p')": "mysql(",
    "SELECT * FROM postgresql('127.0.0.1:5432', 'db', 't', 'u', 'p')": "postgresql(",
    "SELECT * FROM jdbc('jdbc:x', 't')": "jdbc(",
    "SELECT * FROM odbc('DSN=x', 't')": "odbc(",
    "SELECT * FROM executable('id', 'TSV', 'x String')": "executable(",
    "SELECT * FROM input('x String')": "input(",
    "SELECT * FROM sqlite('/tmp/x.db', 't')": "sqlite(",
    "SELECT * FROM cluster('default', system.one)": "cluster(",
    "SELECT * FROM dictionary('d')": "dictionary(",
    "SELECT dictGet('d', 'a', 1)": "dictGet(",
    "DESCRIBE file('/etc/passwd')": "file(",
    "WITH x AS (SELECT * FROM file('/etc/hostname')) SELECT * FROM x": "file(",
    "EXPLAIN SELECT * FROM url('http://127.0.0.1:1/')": "url(",
    # writing files
    "SELECT 1 INTO OUTFILE '/tmp/pwned'": "INTO OUTFILE",
    "select 1 into\noutfile '/tmp/pwned' TRUNCATE": "INTO OUTFILE",
    "SELECT 1 INTO /* x */ OUTFILE '/tmp/pwned'": "INTO OUTFILE",
    # settings that relax the guard
    "SELECT 1 SETTINGS readonly = 0": "readonly",
    "SELECT 1 SETTINGS max_threads = 1, readonly=0": "readonly",
    "SELECT 1 SETTINGS allow_ddl = 1": "allow_ddl",
    "SELECT 1 SETTINGS `readonly` = 0": "readonly",
    # unterminated text (could hide the rest)
    "SELECT 'unterminated": "unterminated",
    "SELECT 1 /* unterminated": "unterminated",
}

READERS = [
    "SELECT 1",
    "SELECT 1;",
    "select count() from vigie.answers where student_id = 'a;b' -- a comment; with a semicolon",
    "SELECT ';' AS semicolon, 'DROP TABLE x' AS text, 'file(' AS f /* ; DROP */",
    "WITH t AS (SELECT number FROM numbers(10)) SELECT sum(number) FROM t",
    "SELECT url, domain(url) FROM (SELECT 'http://a' AS url)",  # a column named url is fine
    "SHOW TABLES FROM vigie",
    "DESCRIBE TABLE vigie.answers",
    "EXPLAIN SELECT 1",
    "EXISTS TABLE vigie.answers",
    "SELECT 1 SETTINGS max_threads = 2",
    "SELECT 1 # a comment; still one statement\n",
    "SELECT * FROM generateRandom('a UInt8') LIMIT 1",
]


@pytest.mark.parametrize(("sql", "reason"), ATTACKS.items())
def test_every_attack_string_is_refused_with_its_reason(sql: str, reason: str) -> None:
    with pytest.raises(UnsafeQueryError, match=reason.replace("(", r"\(")):
        check_reading(sql)


@pytest.mark.parametrize("sql", READERS)
def test_reading_queries_pass(sql: str) -> None:
    check_reading(sql)


def test_a_table_function_the_engine_lists_and_the_guard_does_not_know_is_refused() -> None:
    refused = refused_functions(["numbers", "ftpShiny", "file"])
    with pytest.raises(UnsafeQueryError, match="ftpShiny"):
        check_reading("SELECT * FROM ftpShiny('x')", refused)
    check_reading("SELECT * FROM numbers(3)", refused)


def test_strings_and_comments_are_single_tokens() -> None:
    kinds = [(t.kind, t.text) for t in tokens("SELECT 'a;b' /* c;d */ -- e;f\n, `g;h`")]
    assert kinds == [("word", "SELECT"), ("string", "a;b"), ("symbol", ","), ("quoted_id", "g;h")]
