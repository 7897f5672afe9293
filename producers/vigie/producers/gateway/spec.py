"""xAPI statement validity, as an LRS must judge it (xAPI 1.0.3 and the 2.0.0 version header).

Structure is checked by ``ralph-malph``'s pydantic models of statements (agents and groups with
exactly one identifier, verbs, activities and interaction types, language maps, extension keys as
IRIs, score bounds). Around them, this module adds what an LRS must check and those models leave
lax or do too strictly:

- null anywhere outside ``extensions`` is refused; a number or a boolean where the spec wants a
  string (and a string where it wants a number) is refused, not coerced;
- ``timestamp``/``stored`` are ISO 8601 date-times (RFC 3339 profile), ``-00:00`` refused;
  ``duration`` an ISO 8601 duration; ``score.raw`` within ``min``/``max`` and ``min`` < ``max``;
- an empty ``result.response`` or empty ``extensions`` are valid (the models refuse them);
- ``version`` 1.0.x or 2.0.0 (the models know 1.0.x only), and 2.0.0's ``contextAgents`` /
  ``contextGroups``.

``check_statement`` returns nothing or raises ``StatementInvalidError`` with a readable reason and
the statement's field; it never changes the statement.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from vigie.core.errors import InvalidEventError

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERSION_HEADER = re.compile(r"^(1\.0(\.\d+)?|2\.0(\.0)?)$")
_STATEMENT_VERSION = re.compile(r"^(1\.0\.\d+|2\.0\.0)$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2}|[+-]\d{2})?$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?"
    r"(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?$"
)
#: Where a JSON number is allowed outside extensions (the score and an attachment's length).
_NUMBER_FIELDS = frozenset({"scaled", "raw", "min", "max", "length"})
_BOOLEAN_FIELDS = frozenset({"success", "completion"})
_AGENT_HINT = (
    "an Agent has exactly one identifier (mbox, mbox_sha1sum, openid or account{homePage, name}); "
    "a Group has objectType 'Group' and, when anonymous, a member list"
)
_HINTS = {
    "actor": _AGENT_HINT,
    "authority": _AGENT_HINT,
    "instructor": _AGENT_HINT,
    "object": "an object is an Activity (id IRI), an Agent, a Group, a StatementRef or a SubStatement",
    "definition": "an activity definition's interactionType is one of true-false, choice, fill-in, long-fill-in, "
    "matching, performance, sequencing, likert, numeric, other",
}


class StatementInvalidError(InvalidEventError):
    """A statement an LRS must refuse (400); ``field`` is the statement's path, e.g. ``result.score``."""


def check_version_header(value: str | None) -> str:
    """The request's xAPI version ('1.0.3' or '2.0.0'), or ``StatementInvalidError``."""
    if value is None:
        raise StatementInvalidError(
            "the X-Experience-API-Version header is required (1.0.3 or 2.0.0)", field="X-Experience-API-Version"
        )
    if not VERSION_HEADER.match(value.strip()):
        raise StatementInvalidError(
            f"version {value!r} is not supported (1.0.x or 2.0.0)", field="X-Experience-API-Version"
        )
    return "2.0.0" if value.strip().startswith("2") else "1.0.3"


def check_statement(statement: Any) -> None:
    """Raise ``StatementInvalidError`` if the statement breaks the spec's statement requirements."""
    if not isinstance(statement, dict):
        raise StatementInvalidError(f"a statement is a JSON object, not {_json_type(statement)}")
    for required in ("actor", "verb", "object"):
        if required not in statement:
            raise StatementInvalidError("a statement has an actor, a verb and an object", field=required)
        if not isinstance(statement[required], dict):
            raise StatementInvalidError(f"expected an object, not {_json_type(statement[required])}", field=required)
    _check_json_types(statement, ())
    version = statement.get("version")
    if version is not None and not (isinstance(version, str) and _STATEMENT_VERSION.match(version)):
        raise StatementInvalidError(f"version {version!r} is not 1.0.x or 2.0.0", field="version")
    _check_formats(statement, ())
    if statement["verb"].get("id") == VOIDED:
        target = statement["object"]
        if target.get("objectType") != "StatementRef":
            raise StatementInvalidError(
                "a voiding statement's object is a StatementRef to the voided statement", field="object.objectType"
            )
    _validate_models(_for_models(statement))


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _where(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "statement"


def _check_json_types(node: Any, path: tuple[str | int, ...]) -> None:
    """No null outside extensions; numbers and booleans only where the spec has them."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key == "extensions":  # anything goes inside, even null; the map itself is an object
                if not isinstance(value, dict):
                    raise StatementInvalidError(
                        f"extensions are an object, not {_json_type(value)}", field=_where(here)
                    )
                continue
            if value is None:
                raise StatementInvalidError("null is not allowed (outside extensions)", field=_where(here))
            if isinstance(value, bool):
                if key not in _BOOLEAN_FIELDS:
                    raise StatementInvalidError("expected a string or an object, not a boolean", field=_where(here))
            elif isinstance(value, int | float):
                if key not in _NUMBER_FIELDS:
                    raise StatementInvalidError("expected a string or an object, not a number", field=_where(here))
            elif key in _NUMBER_FIELDS and path and path[-1] == "score":
                raise StatementInvalidError(f"expected a number, not {_json_type(value)}", field=_where(here))
            elif key in _BOOLEAN_FIELDS and path and path[-1] == "result":
                raise StatementInvalidError(f"expected true or false, not {_json_type(value)}", field=_where(here))
            _check_json_types(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if value is None:
                raise StatementInvalidError("null is not allowed in a list", field=_where((*path, index)))
            if isinstance(value, bool | int | float):
                raise StatementInvalidError(
                    f"expected a string or an object, not {_json_type(value)}", field=_where((*path, index))
                )
            _check_json_types(value, (*path, index))


def _check_formats(statement: dict[str, Any], path: tuple[str | int, ...]) -> None:
    for key in ("timestamp", "stored"):
        if key in statement:
            _check_date_time(statement[key], _where((*path, key)))
    result = statement.get("result")
    if isinstance(result, dict):
        if "duration" in result:
            duration = result["duration"]
            if not isinstance(duration, str) or not _DURATION.match(duration):
                raise StatementInvalidError(
                    f"{duration!r} is not an ISO 8601 duration like PT12.5S",
                    field=_where((*path, "result", "duration")),
                )
        score = result.get("score")
        if isinstance(score, dict):
            _check_score(score, _where((*path, "result", "score")))
    target = statement.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        for forbidden in ("id", "stored", "version", "authority"):
            if forbidden in target:
                raise StatementInvalidError(
                    f"a SubStatement has no {forbidden}", field=_where((*path, "object", forbidden))
                )
        if isinstance(target.get("object"), dict) and target["object"].get("objectType") == "SubStatement":
            raise StatementInvalidError(
                "a SubStatement cannot contain a SubStatement", field=_where((*path, "object", "object"))
            )
        _check_formats(target, (*path, "object"))


def _check_date_time(value: Any, field: str) -> None:
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise StatementInvalidError(
            f"{value!r} is not an ISO 8601 date-time like 2026-11-30T09:12:44.120Z", field=field
        )
    if value.endswith("-00:00") or value.endswith("-0000") or value.endswith("-00"):
        raise StatementInvalidError("the offset -00:00 is not allowed (use Z or +00:00)", field=field)


def _check_score(score: dict[str, Any], field: str) -> None:
    low, high, raw, scaled = score.get("min"), score.get("max"), score.get("raw"), score.get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        raise StatementInvalidError(f"scaled {scaled} is outside [-1, 1]", field=f"{field}.scaled")
    if low is not None and high is not None and not low < high:
        raise StatementInvalidError(f"min {low} must be less than max {high}", field=field)
    if raw is not None and low is not None and raw < low:
        raise StatementInvalidError(f"raw {raw} is below min {low}", field=f"{field}.raw")
    if raw is not None and high is not None and raw > high:
        raise StatementInvalidError(f"raw {raw} is above max {high}", field=f"{field}.raw")


def _for_models(statement: dict[str, Any]) -> dict[str, Any]:
    """A copy the 1.0.x models accept for what they are too strict about; each removal was checked above
    or is checked here (2.0.0 context agents)."""
    copy = _drop_empty(statement)
    if "version" in copy:
        copy["version"] = "1.0.3"
    context = copy.get("context")
    if isinstance(context, dict):
        _, agent, group = _models()
        for key, kind, adapter in (("contextAgents", "contextAgent", agent), ("contextGroups", "contextGroup", group)):
            if key in context:
                _check_context_agents(context.pop(key), key, kind, adapter)
    return copy


def _drop_empty(node: Any) -> Any:
    """Without empty extensions, empty responses and empty correct-response patterns."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "extensions" and value == {}:
                continue
            if key == "response" and value == "":
                continue
            if key == "correctResponsesPattern" and isinstance(value, list):
                value = [v for v in value if v != ""] or ["-"]
            out[key] = value if key == "extensions" else _drop_empty(value)
        return out
    if isinstance(node, list):
        return [_drop_empty(value) for value in node]
    return node


def _check_context_agents(value: Any, key: str, kind: str, adapter: TypeAdapter[Any]) -> None:
    if not isinstance(value, list) or not value:
        raise StatementInvalidError("expected a non-empty list", field=f"context.{key}")
    for index, entry in enumerate(value):
        where = f"context.{key}[{index}]"
        if not isinstance(entry, dict) or entry.get("objectType") != kind:
            raise StatementInvalidError(f"each entry is an object with objectType {kind!r}", field=where)
        agent = entry.get(kind[len("context") :].lower())
        try:
            adapter.validate_python(agent)
        except ValidationError as error:
            raise _explain(error, prefix=f"{where}.{kind[len('context') :].lower()}") from None
        relevant = entry.get("relevantTypes")
        if relevant is not None and (not isinstance(relevant, list) or not relevant):
            raise StatementInvalidError("relevantTypes is a non-empty list of IRIs", field=f"{where}.relevantTypes")
        extra = set(entry) - {"objectType", kind[len("context") :].lower(), "relevantTypes"}
        if extra:
            raise StatementInvalidError(f"unknown properties {sorted(extra)}", field=where)


@functools.cache
def _models() -> tuple[Any, TypeAdapter[Any], TypeAdapter[Any]]:
    """ralph's models, imported on first use (the import builds ralph's own settings).

    ralph checks every IRI with rfc3987's regular expression and every language tag with langcodes
    (~40 µs each; a Moodle statement has ~25 of them). Real statements repeat the same few hundred
    IRIs and tags, and both checks are pure functions of their text, so they are memoised here
    (bounded LRU caches) — the same verdicts, several times cheaper.
    """
    from ralph.models.xapi.base import common

    if not hasattr(common.parse, "cache_info"):
        common.parse = functools.lru_cache(maxsize=65_536)(common.parse)
        common.tag_is_valid = functools.lru_cache(maxsize=4096)(common.tag_is_valid)
    from ralph.models.xapi.base.agents import BaseXapiAgent
    from ralph.models.xapi.base.groups import BaseXapiGroup
    from ralph.models.xapi.base.statements import BaseXapiStatement

    return BaseXapiStatement, TypeAdapter(BaseXapiAgent), TypeAdapter(BaseXapiGroup)


def _validate_models(statement: dict[str, Any]) -> None:
    try:
        _models()[0].model_validate(statement)
    except ValidationError as error:
        raise _explain(error) from None
    except (KeyError, TypeError, ValueError) as error:  # a model validator that assumed a shape
        raise StatementInvalidError(f"statement structure not understood ({type(error).__name__}: {error})") from None


def warm_up() -> None:
    """Import and build the statement models (a second or two) before serving."""
    _models()


_STRUCTURAL = frozenset({"missing", "extra_forbidden"})


def _explain(error: ValidationError, prefix: str = "") -> StatementInvalidError:
    """One readable reason. A union (agent forms, object types, definitions) fails once per variant:
    report the variant the statement is closest to (fewest missing or unexpected properties)."""
    variants: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in error.errors():
        signature = tuple(p for p in item["loc"] if isinstance(p, str) and p.startswith("BaseXapi"))
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and (p.startswith("BaseXapi") or p == "[key]")))
        variants.setdefault(signature, []).append({**item, "loc": loc})
    chosen = min(variants.values(), key=lambda errs: (sum(e["type"] in _STRUCTURAL for e in errs), len(errs)))
    first = chosen[0]
    field = _where(first["loc"])
    field = f"{prefix}.{field}" if prefix and field != "statement" else (prefix or field)
    reason = "; ".join([first["msg"], *(f"{_where(e['loc'])}: {e['msg']}" for e in chosen[1:3])])
    hint = next((h for key, h in _HINTS.items() if key in [str(p) for p in first["loc"]]), None)
    if len(variants) > 1 and hint:
        reason = f"{reason} ({hint})"
    return StatementInvalidError(reason, field=field)
