"""One CLI vocabulary (issue 16): the same option names for the same things in every command, ``--format``
with the same values wherever a command prints data, data on stdout and messages on stderr.

The checks walk the whole ``vigie`` command tree, so a command added later is held to the same words
(docs/cli.md is the vocabulary written for people).
"""

from __future__ import annotations

import csv
import enum
import io
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from vigie.cli import app
from vigie.core.cli_options import OutputFormat, ReportFormat

pytestmark = pytest.mark.unit

#: Every visible option name and the one thing it means. A new option is added here with its meaning:
#: if that meaning is already listed under another name, the command should use that name instead.
VOCABULARY: dict[str, str] = {
    # the whole command line
    "--help": "show the help and exit",
    "--log-level": "log level (vigie's; faust's for stream worker)",
    "--debug": "show the traceback of an error",
    "--version": "vigie's version",
    "--install-completion": "shell completion",
    "--show-completion": "shell completion",
    # output
    "--format": "the output format of data (table, json, csv, parquet)",
    "--out": "where to write the output instead of stdout",
    "--dry-run": "do everything but publish or write",
    "--show": "print the current value, change nothing",
    # who and where
    "--academy": "one academy code",
    "--academies": "comma-separated academy codes",
    "--student": "one pupil's pseudonym",
    "--platform": "a platform slug",
    "--level": "a school level (CP ... 2nde)",
    "--subject": "a subject",
    "--skill": "a skill code",
    # simulated cohort
    "--students": "pupils per class",
    "--classes": "classes per school",
    "--schools": "schools per academy",
    "--days": "a number of days (simulated window, report period, retention)",
    "--start": "first simulated day",
    "--seed": "seed of a random draw",
    "--dropout-share": "share of pupils who drop out",
    "--rate": "events per second",
    # answer logs and models
    "--answers": "an answer log CSV",
    "--student-column": "CSV column of the pupil",
    "--skill-column": "CSV column of the skill",
    "--correct-column": "CSV column of correctness",
    "--order-column": "CSV column of the order",
    "--split-column": "CSV column of train/test",
    "--item-column": "CSV column of the item",
    "--model": "the mastery model (learner, bkt)",
    "--kind": "an event kind of the contract",
    "--params-version": "version of published model parameters",
    "--half-life-days": "half-life in days",
    "--min-answers": "fewest answers to fit a skill",
    "--min-pupils": "fewest pupils to fit a skill",
    "--test-fraction": "share of test pupils",
    "--per-skill": "also per skill",
    # dropout evaluation
    "--activity": "a real activity log CSV",
    "--truth": "ground truth file",
    "--train-activity": "a real activity log CSV to fit on",
    "--train-truth": "ground truth CSV to fit on",
    "--horizon-days": "days within which a withdrawal counts",
    "--baseline-days": "days without activity of the baseline",
    "--partitions": "partitions events are spread over",
    "--batch-size": "events per batch",
    "--window": "school days before a drop-out a flag counts",
    "--refit": "fit the model again",
    "--reconcile": "make running sums equal to what they sum, by adding the difference",
    "--train-seeds": "seeds of the histories fitted on",
    "--save-model": "where to write a fitted model",
    # processes
    "--workers": "number of worker processes",
    "--gateway": "also run the gateway",
    "--no-gateway": "also run the gateway",
    "--keep-kafka": "leave the broker running",
    "--host": "listen address",
    "--port": "listen port",
    "--idle-timeout": "stop after this many idle seconds",
    "--provisioning": "Grafana provisioning folder",
    # platforms, access
    "--default-response-time-ms": "response time of answers sent without one",
    "--bearer": "a bearer token",
    "--match": "how a rule matches",
    "--value": "what a rule matches",
    "--remove": "remove instead of add",
    "--access": "access level of a warehouse user",
    "--password-env": "environment variable holding a password",
    "--admin-user": "the warehouse user the sink writes with",
}

#: Pairs of names for one thing that must never both be visible (the second is the former spelling).
SYNONYMS = [
    ("--students", "--students-per-class"),
    ("--log-level", "--loglevel"),
    ("--answers", "--csv"),
    ("--format", "--json"),
    ("--params-version", "--version"),
]

#: Commands whose output is data, and the ``--format`` values they take (rows: all; a nested report: two).
DATA_COMMANDS = {
    "sql": OutputFormat,
    "skills": OutputFormat,
    "platforms list": OutputFormat,
    "warehouse retention": OutputFormat,
    "calibrate": OutputFormat,
    "status": ReportFormat,
    "evaluate mastery": ReportFormat,
    "evaluate signals": ReportFormat,
    "platforms show": ReportFormat,
}

#: Options renamed for one vocabulary: still accepted under the former name, hidden, with a warning.
RENAMED = {
    ("evaluate signals", "--students-per-class"): "--students",
    ("stream worker", "--loglevel"): "--log-level",
    ("calibrate", "--csv"): "--answers",
    ("calibrate", "--version"): "--params-version",
    ("warehouse access-sql", "--level"): "--access",
    ("schema", "--model"): "--kind",
}


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        yield " ".join(path), command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


def _options(command: Any, *, hidden: bool = False) -> dict[str, Any]:
    found = {}
    for param in command.params:
        if getattr(param, "param_type_name", "") != "option" or (param.hidden and not hidden):
            continue
        for name in (*param.opts, *param.secondary_opts):
            found[name] = param
    return found


def _type(param: Any) -> Any:
    """The option's value type, without ``| None`` and with a repeated option's element type."""
    annotation = param.type_descriptor.annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (types.UnionType, typing.Union) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _choices(param: Any) -> list[str]:
    kind = _type(param)
    return [member.value for member in kind] if isinstance(kind, type) and issubclass(kind, enum.Enum) else []


def test_every_visible_option_name_is_in_the_vocabulary() -> None:
    unknown = {
        f"{path or 'vigie'} {name}"
        for path, command in _commands()
        for name in _options(command)
        if name not in VOCABULARY
    }
    assert not unknown, f"add these to the vocabulary (or use its name for the same thing): {sorted(unknown)}"


def test_no_two_names_for_one_thing() -> None:
    seen: dict[str, set[str]] = {}
    for path, command in _commands():
        for name in _options(command):
            seen.setdefault(name, set()).add(path or "vigie")
    for new, old in SYNONYMS:
        if new == "--params-version":  # `vigie --version` is Vigie's own version: only the root may say it
            assert seen.get("--version") == {"vigie"}, f"--version also in {seen.get('--version')}"
            continue
        assert not (new in seen and old in seen), f"{new} in {sorted(seen[new])} but {old} in {sorted(seen[old])}"


def test_one_option_name_has_one_type_everywhere() -> None:
    kinds: dict[str, dict[str, str]] = {}
    for path, command in _commands():
        for name, param in _options(command).items():
            if name in {"--format", "--model", "--help"}:  # choices differ by command (checked apart)
                continue
            kinds.setdefault(name, {})[path or "vigie"] = _type(param).__name__
    mixed = {name: by_command for name, by_command in kinds.items() if len(set(by_command.values())) > 1}
    assert not mixed, f"one name, different types: {mixed}"


@pytest.mark.parametrize(("path", "formats"), sorted(DATA_COMMANDS.items(), key=lambda item: item[0]))
def test_every_data_command_takes_format_with_the_same_values(path: str, formats: type) -> None:
    command = dict(_commands())[path]
    option = _options(command).get("--format")
    assert option is not None, f"vigie {path} prints data but has no --format"
    assert _choices(option) == [f.value for f in formats]
    assert str(option.default) == "table"
    assert not set(_choices(option)) - {f.value for f in OutputFormat}


def test_a_format_option_anywhere_takes_values_of_the_vocabulary() -> None:
    for path, command in _commands():
        option = _options(command).get("--format")
        if option is not None:
            assert path in DATA_COMMANDS, f"vigie {path} has --format: list it in DATA_COMMANDS (and docs/cli.md)"


def test_model_is_the_mastery_model_everywhere() -> None:
    models = {path: _choices(option) for path, command in _commands() if (option := _options(command).get("--model"))}
    assert models == {"calibrate": ["learner", "bkt"], "evaluate mastery": ["learner", "bkt", "both"]}


def test_every_command_and_parameter_says_what_it_is_in_plain_text() -> None:
    for path, command in _commands():
        assert (command.help or "").strip(), f"vigie {path} has no help"
        assert "``" not in (command.help or ""), f"vigie {path}: reST markup shows as is in --help"
        for param in command.params:
            if param.hidden or param.name in {"help", "install_completion", "show_completion"}:
                continue
            assert (param.help or "").strip(), f"vigie {path} {param.opts[0]} has no help"
            assert "``" not in param.help, f"vigie {path} {param.opts[0]}: reST markup in --help"


def test_a_flag_has_a_no_form_only_when_it_is_on_by_default() -> None:
    for path, command in _commands():
        for param in command.params:
            if getattr(param, "is_bool_flag", False) and not param.hidden and param.name != "help":
                has_off_switch = bool(param.secondary_opts)
                assert has_off_switch == bool(param.default), (
                    f"vigie {path} {param.opts[0]}: default {param.default}, off switch {param.secondary_opts}"
                )


@pytest.mark.parametrize(("where", "new"), sorted(RENAMED.items()))
def test_a_renamed_option_is_hidden_and_its_new_name_is_visible(where: tuple[str, str], new: str) -> None:
    path, old = where
    command = dict(_commands())[path]
    assert old not in _options(command), f"vigie {path} still shows {old}"
    assert old in _options(command, hidden=True), f"vigie {path} no longer takes {old} (keep it one release)"
    assert new in _options(command)


# --- data on stdout, messages on stderr --------------------------------------------------------------


def test_skills_prints_json_and_csv_on_stdout_and_the_count_on_stderr() -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["skills", "--level", "CM1", "--subject", "mathematiques", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert len(rows) == 32 and {"code", "cycle", "subject", "domain", "label"} == set(rows[0])
    assert shown.stderr.strip() == "32 skills"
    as_csv = runner.invoke(app, ["skills", "--level", "CM1", "--subject", "mathematiques", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    assert [r["code"] for r in csv.DictReader(io.StringIO(as_csv.stdout))] == [r["code"] for r in rows]


def test_skills_writes_parquet_to_a_file_only(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    runner = CliRunner()
    refused = runner.invoke(app, ["skills", "--format", "parquet"])
    assert refused.exit_code == 2 and "--out" in refused.output
    out = tmp_path / "skills.parquet"
    written = runner.invoke(app, ["skills", "--subject", "francais", "--format", "parquet", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert written.stdout == "" and "written to" in written.stderr
    assert pq.read_table(out).num_rows > 10


def test_platforms_list_prints_json_on_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_STATE_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["platforms", "add", "elea-lyon", "--academy", "lyon"]).exit_code == 0
    listed = runner.invoke(app, ["platforms", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {"platform": "elea-lyon", "academies": ["lyon"], "rules": 0, "roster": 0, "statements": {}}
    ]


def test_platforms_show_prints_one_json_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_STATE_DIR", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["platforms", "add", "elea-lyon", "--academy", "lyon"]).exit_code == 0
    rule = ["platforms", "rule", "elea-lyon", "--match", "prefix", "--value", "https://elea.example/", "--skill"]
    assert runner.invoke(app, [*rule, "C3-MA-NOM-01"]).exit_code == 0
    shown = runner.invoke(app, ["platforms", "show", "elea-lyon", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.stdout)
    assert found["platform"]["academies"] == ["lyon"] and found["roster"] == 0
    assert [r["skill_code"] for r in found["rules"]] == ["C3-MA-NOM-01"]
    assert found["credentials"] == [] and found["unmapped_reasons"] == {}


def test_schema_prints_the_schema_alone_on_stdout(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["schema", "--kind", "answer"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["title"] and printed.stderr == ""
    out = tmp_path / "answer.json"
    written = runner.invoke(app, ["schema", "--kind", "answer", "--out", str(out)])
    assert written.exit_code == 0 and written.stdout == "" and f"written to {out}" in written.stderr
    assert json.loads(out.read_text()) == json.loads(printed.stdout)


def test_simulate_into_a_file_keeps_stdout_empty(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    arguments = ["--academies", "lyon", "--schools", "1", "--classes", "1", "--students", "2", "--days", "5"]
    result = CliRunner().invoke(app, ["simulate", *arguments, "--start", "2025-11-17", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "", "progress and counts are messages (stderr)"
    assert "simulating 2 pupils" in result.stderr and "events written to" in result.stderr
    assert out.read_text().count("\n") > 0


def test_evaluate_mastery_format_json_is_one_object_on_stdout(tmp_path: Path) -> None:
    answers = tmp_path / "log.csv"
    lines = ["student,skill,correct,order"]
    for pupil in range(30):
        for t in range(12):
            lines.append(f"u{pupil},{'ab'[t % 2]},{int((pupil + t) % 3 != 0)},{t}")
    answers.write_text("\n".join(lines) + "\n")
    arguments = ["evaluate", "mastery", "--answers", str(answers), "--min-answers", "10", "--min-pupils", "5"]
    runner = CliRunner()
    by_format = runner.invoke(app, [*arguments, "--format", "json"])
    assert by_format.exit_code == 0, by_format.output
    report = json.loads(by_format.stdout)
    assert set(report["models"]) == {"learner", "bkt"}
    by_alias = runner.invoke(app, [*arguments, "--json"])  # issue 12's spelling stays, silently
    assert by_alias.exit_code == 0 and json.loads(by_alias.stdout) == report
    assert "deprecated" not in by_alias.stderr


# --- the former spellings still work, with a warning on stderr ---------------------------------------


def test_evaluate_signals_takes_students_and_its_former_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from vigie.stream.signals import cli as signals_cli

    seen: list[tuple[int, bool]] = []
    monkeypatch.setattr(signals_cli, "_simulator", lambda *args: seen.append((args[1], args[-1])))
    runner = CliRunner()
    now = runner.invoke(app, ["evaluate", "signals", "--students", "7", "--format", "json"])
    before = runner.invoke(app, ["evaluate", "signals", "--students-per-class", "9", "--json"])
    assert now.exit_code == 0 and before.exit_code == 0, (now.output, before.output)
    assert seen == [(7, True), (9, True)]
    assert now.stderr == "" and "--students-per-class is deprecated" in before.stderr and "--students" in before.stderr


def test_stream_worker_takes_log_level_and_its_former_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from vigie.stream import worker

    levels: list[str] = []
    monkeypatch.setattr(worker, "run_worker", lambda _settings, *, loglevel: levels.append(loglevel))
    runner = CliRunner()
    now = runner.invoke(app, ["stream", "worker", "--log-level", "info"])
    before = runner.invoke(app, ["stream", "worker", "--loglevel", "error"])
    assert now.exit_code == 0 and before.exit_code == 0, (now.output, before.output)
    assert levels == ["info", "error"]
    assert now.stderr == "" and "--loglevel is deprecated" in before.stderr


def test_schema_takes_its_former_model_option_with_a_warning() -> None:
    result = CliRunner().invoke(app, ["schema", "--model", "answer"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"]
    assert "--model is deprecated" in result.stderr and "use --kind" in result.stderr
