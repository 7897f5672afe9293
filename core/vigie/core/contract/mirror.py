"""A fast validating decoder of *batches* of contract events, mirroring the pydantic models.

The pydantic models stay the contract. From each model this module derives, at import, a msgspec Struct
with the same fields, types, defaults and bounds (``forbid_unknown_fields`` for ``extra="forbid"``), and
column checks for what msgspec cannot say: string patterns, RFC 3339 datetimes, and the model's field
validators (each mirrored by name: a model with a validator not mirrored here gets no mirror at all).

Why batches: pydantic's Rust core decodes one event about as fast as msgspec plus the Python needed to
build the same model object (measured: docs/performance.md), so a per-event mirror gains nothing. What is
cheap is checking a *column*: one ``str.strip`` over 20 000 joined pseudonyms, one set inclusion for the
academies, one regex over the joined datetimes. A batch becomes columns, checked column by column in C.

The mirror is *stricter* than pydantic, never looser: it accepts the canonical forms producers send (JSON
strings for strings, integers for ints, RFC 3339 datetimes with at most 6 fractional digits, lower-case
hyphenated UUIDs...) and declines every other message, which the caller hands to pydantic for the decision
and its error message. tests/unit/test_codec_mirror.py checks with hypothesis that they agree. Values are
pydantic's, with two representations made for the warehouse: UUIDs stay their canonical text, and
datetimes carry ``datetime.timezone`` (UTC once validated) where pydantic puts its own equal ``TzInfo``.
"""

from __future__ import annotations

import re
import time
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, get_args, get_origin

import annotated_types
import msgspec
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from vigie.core.contract.events import _MAX_CLOCK_SKEW_S
from vigie.core.contract.referential import ACADEMIES
from vigie.core.contract.taxonomy import skills

__all__ = ["BatchMirror", "Columns", "UnionBatchMirror", "Unsupported"]


class Unsupported(TypeError):
    """A model (or field) the mirror cannot express: it keeps pydantic only."""


#: A column check: the column (values of one field, ``None`` for an optional field's null) -> the column
#: as the model holds it (a datetime parsed...), or ``None`` when some value fails (then each is re-checked).
ColumnCheck = Callable[[list[Any]], list[Any] | None]

_HEX = "0123456789abcdef"
_DIGITS = "0123456789"
_OPAQUE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/#-"
_SLUG = "abcdefghijklmnopqrstuvwxyz0123456789._-"
_SLUG_FIRST = "abcdefghijklmnopqrstuvwxyz0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _present(column: list[Any]) -> list[Any]:
    return [v for v in column if v is not None] if None in column else column


# Pattern checks of a column: one character-class regex over the joined values (each character is a
# bitmap test in the regex engine), lengths apart.
_HEX_RUN = re.compile("[0-9a-f]*").fullmatch
_OPAQUE_RUN = re.compile("[A-Za-z0-9._:/#-]*").fullmatch


def _pseudonym_column(column: list[Any]) -> list[Any] | None:
    values = _present(column)
    ok = not values or (set(map(len, values)) == {32} and _HEX_RUN("".join(values)))
    return column if ok else None


def _opaque_column(column: list[Any]) -> list[Any] | None:
    values = _present(column)
    ok = all(values) and _OPAQUE_RUN("".join(values))  # all(): none empty
    return column if ok else None


def _slug(value: str) -> bool:
    return 0 < len(value) <= 64 and value[0] in _SLUG_FIRST and not value.strip(_SLUG)


def _uai(value: str) -> bool:
    return len(value) == 8 and not value[:7].strip(_DIGITS) and value[7] in _UPPER


def _distinct(test: Callable[[str], bool]) -> ColumnCheck:
    """A check of a column of few distinct values (platforms, schools): each distinct value once."""

    def check(column: list[Any]) -> list[Any] | None:
        return column if all(map(test, set(_present(column)))) else None

    return check


_UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUIDS = re.compile(f"{_UUID_TEXT}(?:\x1f{_UUID_TEXT})*").fullmatch


def _uuid_values(column: list[Any]) -> list[Any] | None:
    """Canonical text of UUIDs (what pydantic's ``str(UUID)`` gives back): every value checked in one regex."""
    values = _present(column)
    return column if not values or _UUIDS("\x1f".join(values)) else None


_RFC3339 = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
_DATETIMES = re.compile(f"{_RFC3339}(?:\x1f{_RFC3339})*").fullmatch


def _datetime_column(column: list[Any]) -> list[Any] | None:
    """RFC 3339 strings -> aware datetimes equal to pydantic's (at most microseconds: pydantic truncates more,
    ``fromisoformat`` rounds, so longer fractions are declined)."""
    values = _present(column)
    if values and not _DATETIMES("\x1f".join(values)):
        return None
    return [None if v is None else datetime.fromisoformat(v) for v in column]  # ValueError for 2026-02-30


def _utc_and_not_in_future_column(column: list[Any]) -> list[Any] | None:
    """Mirror of the contract's validator of the same name."""
    if any(d.tzinfo is not UTC for d in column):
        column = [d.astimezone(UTC) for d in column]
    return column if not column or max(column).timestamp() <= time.time() + _MAX_CLOCK_SKEW_S else None


def _known_academy_column(column: list[Any]) -> list[Any] | None:
    return column if set(column) <= ACADEMIES.keys() else None


def _known_skill_column(column: list[Any]) -> list[Any] | None:
    return column if set(column) <= skills().keys() else None


def _run(check: ColumnCheck, column: list[Any]) -> list[Any] | None:
    try:
        return check(column)
    except (ValueError, OverflowError, TypeError):  # a date out of range, 2026-02-30...: some value is bad
        return None


#: The contract's patterns, as column checks.
_PATTERNS: dict[str, ColumnCheck] = {
    r"^[0-9a-f]{32}$": _pseudonym_column,
    r"^[A-Za-z0-9._:/#-]+$": _opaque_column,
    r"^[a-z0-9][a-z0-9._-]{0,63}$": _distinct(_slug),
    r"^[0-9]{7}[A-Z]$": _distinct(_uai),
}
#: The contract's field validators, mirrored by name (all ``mode="after"``).
VALIDATORS: dict[str, ColumnCheck] = {
    "_utc_and_not_in_future": _utc_and_not_in_future_column,
    "_known_academy": _known_academy_column,
    "_known_skill": _known_skill_column,
}


def _meta(metadata: list[Any]) -> tuple[dict[str, Any], list[ColumnCheck]]:
    """msgspec bounds, and column checks, from a field's pydantic metadata."""
    bounds: dict[str, Any] = {}
    checks: list[ColumnCheck] = []
    names = {annotated_types.Ge: "ge", annotated_types.Le: "le", annotated_types.Gt: "gt", annotated_types.Lt: "lt"}
    for item in metadata:
        if type(item) in names:
            bounds[names[type(item)]] = getattr(item, names[type(item)])
        elif isinstance(item, annotated_types.MinLen):
            bounds["min_length"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            bounds["max_length"] = item.max_length
        elif isinstance(item, FieldInfo):  # Annotated[str, Field(...)] inside a union
            inner_bounds, inner_checks = _meta(item.metadata)
            bounds.update(inner_bounds)
            checks += inner_checks
        elif type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) == {"pattern"}:
            if item.pattern not in _PATTERNS:
                raise Unsupported(f"pattern {item.pattern!r}")
            checks.append(_PATTERNS[item.pattern])
        else:
            raise Unsupported(f"constraint {item!r}")
    return bounds, checks


def _translate(annotation: Any, metadata: list[Any]) -> tuple[Any, list[ColumnCheck]]:
    """(msgspec type, column checks) of one pydantic annotation."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = get_args(annotation)
        return _translate(base, [*extra, *metadata])
    if origin in (typing.Union, types.UnionType):
        args = get_args(annotation)
        others = [a for a in args if a is not type(None)]
        if len(others) != 1 or len(args) != 2:
            raise Unsupported(f"union {annotation!r}")
        inner, checks = _translate(others[0], metadata)
        return inner | None, checks
    if annotation is AwareDatetime and not metadata:
        return str, [_datetime_column]
    if annotation is uuid.UUID and not metadata:
        return str, [_uuid_values]
    if origin is Literal:
        if metadata or not all(type(a) in (str, int) for a in get_args(annotation)):
            raise Unsupported(f"literal {annotation!r}")
        return annotation, []
    if origin is tuple:
        args = get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis or metadata:
            raise Unsupported(f"tuple {annotation!r}")
        item = args[0]
        if isinstance(item, type) and issubclass(item, BaseModel):
            nested = BatchMirror(item)
            if nested.checks:
                raise Unsupported(f"nested {item.__name__} with checks")
            return tuple[nested.struct, ...], []  # type: ignore[name-defined]
        if item in (str, int, float, bool):
            return tuple[item, ...], []  # type: ignore[valid-type]
        raise Unsupported(f"tuple {annotation!r}")
    if annotation in (str, int, float):
        bounds, checks = _meta(metadata)
        return (typing.Annotated[annotation, msgspec.Meta(**bounds)] if bounds else annotation), checks
    if annotation is bool and not metadata:
        return bool, []
    raise Unsupported(f"type {annotation!r}")


@dataclass
class Columns:
    """Decoded events of one model: ``columns[name]`` holds each event's value of field ``name``, in the
    order of ``positions`` (the events' indices in the batch given to the decoder). A nested model's values
    (a signal's reasons) are its mirror Structs: same field names, same values."""

    model: type[BaseModel]
    positions: list[int]
    columns: dict[str, list[Any]]
    #: Room for a consumer's columns computed from these (the sink's derived columns).
    derived: dict[str, Any] = field(default_factory=dict)


class BatchMirror:
    """One model's Struct, and how a list of decoded Structs becomes checked columns."""

    def __init__(self, model: type[BaseModel], *, tag: str | None = None) -> None:
        """``tag``: the value of ``kind`` when the model is a member of a union tagged by ``kind``."""
        self.model = model
        decorators = model.__pydantic_decorators__
        if model.model_config.get("extra") != "forbid" or decorators.model_validators or decorators.root_validators:
            raise Unsupported(f"{model.__name__}: only extra='forbid' models without model validators")
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {}
        checks: dict[str, list[ColumnCheck]] = {}
        self.defaults: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if info.alias not in (None, name) or info.validation_alias not in (None, name):
                raise Unsupported(f"{model.__name__}.{name}: alias")
            if tag is not None and name == "kind":  # the union's tag: always present, checked by msgspec
                namespace["kind"] = tag
                annotations["kind"] = ClassVar[str]
                continue
            kind, checks[name] = _translate(info.annotation, list(info.metadata))
            if info.is_required():
                annotations[name] = kind
            else:
                if info.default_factory is not None or info.default is PydanticUndefined:
                    raise Unsupported(f"{model.__name__}.{name}: default")
                annotations[name] = kind | msgspec.UnsetType
                namespace[name] = msgspec.UNSET
                self.defaults[name] = info.default
        for name, decorator in decorators.field_validators.items():
            validator = VALIDATORS.get(name)
            if validator is None or decorator.info.mode != "after":
                raise Unsupported(f"{model.__name__}: validator {name} is not mirrored")
            for field_name in decorator.info.fields:
                checks[field_name].append(validator)
        self.checks = {name: c for name, c in checks.items() if c}
        namespace["__annotations__"] = annotations
        options: dict[str, Any] = {"forbid_unknown_fields": True, "kw_only": True}
        if tag is not None:
            options.update(tag_field="kind", tag=tag)
        self.struct: type[msgspec.Struct] = types.new_class(
            f"{model.__name__}Mirror", (msgspec.Struct,), options, lambda ns: ns.update(namespace)
        )
        self.tag = tag
        self.fields = tuple(n for n in model.model_fields if n in self.struct.__struct_fields__)
        self.decoder = msgspec.json.Decoder(self.struct)

    def columns(self, structs: Sequence[Any], positions: list[int]) -> tuple[Columns, list[int]]:
        """Checked columns of ``structs``, and the positions of those declined (for pydantic to judge)."""
        rows = list(map(msgspec.structs.astuple, structs))
        declined: list[int] = []
        if not rows:
            return Columns(self.model, [], {name: [] for name in self.model.model_fields}), declined
        columns: dict[str, Any] = dict(zip(self.fields, zip(*rows, strict=True), strict=True))
        for name, default in self.defaults.items():  # a default is not validated (as pydantic)
            column = columns[name]
            if msgspec.UNSET in column:
                columns[name] = [default if v is msgspec.UNSET else v for v in column]
        for name, field_checks in self.checks.items():
            for check in field_checks:
                checked = _run(check, columns[name])
                if checked is None:  # find the bad values, drop their rows, check the rest again
                    bad = [i for i, v in enumerate(columns[name]) if _run(check, [v]) is None]
                    declined += [positions[i] for i in bad]
                    drop = set(bad)
                    keep = [i for i in range(len(positions)) if i not in drop]
                    positions = [positions[i] for i in keep]
                    columns = {n: [c[i] for i in keep] for n, c in columns.items()}
                    checked = _run(check, columns[name])
                    if checked is None:  # only if a check depended on the whole batch: decline them all
                        empty: dict[str, list[Any]] = {n: [] for n in self.model.model_fields}
                        return Columns(self.model, [], empty), declined + positions
                columns[name] = checked
        if self.tag is not None:
            columns["kind"] = [self.tag] * len(positions)
        ordered = {name: columns[name] for name in self.model.model_fields}
        return Columns(self.model, positions, ordered), declined

    def decode(self, values: Sequence[bytes]) -> tuple[Columns, list[int]]:
        """Columns of the messages the mirror accepts, and the indices of the others."""
        structs, positions, declined = _decode_each(self.decoder, values)
        columns, more = self.columns(structs, positions)
        return columns, sorted(declined + more)


class UnionBatchMirror:
    """A union of models tagged by ``kind`` (the contract's ``LearningEvent``): columns per model."""

    def __init__(self, models: tuple[type[BaseModel], ...]) -> None:
        self.mirrors: dict[type, BatchMirror] = {}
        for model in models:
            built = BatchMirror(model, tag=model.model_fields["kind"].default)
            self.mirrors[built.struct] = built
        self.decoder = msgspec.json.Decoder(typing.Union[tuple(self.mirrors)])  # noqa: UP007

    def decode(self, values: Sequence[bytes]) -> tuple[list[Columns], list[int]]:
        structs, positions, declined = _decode_each(self.decoder, values)
        kinds = list(map(type, structs))
        groups: dict[type, tuple[list[Any], list[int]]] = {}
        if len(set(kinds)) == 1:
            groups[kinds[0]] = (structs, positions)
        else:
            for kind in set(kinds):
                where = [i for i, k in enumerate(kinds) if k is kind]
                groups[kind] = ([structs[i] for i in where], [positions[i] for i in where])
        out = []
        for struct_type, (members, where) in groups.items():
            columns, more = self.mirrors[struct_type].columns(members, where)
            out.append(columns)
            declined += more
        return out, sorted(declined)


def _decode_each(decoder: msgspec.json.Decoder[Any], values: Sequence[bytes]) -> tuple[list[Any], list[int], list[int]]:
    """(structs, their indices, indices of the values msgspec refused)."""
    try:
        structs = list(map(decoder.decode, values))
        return structs, list(range(len(values))), []
    except (msgspec.DecodeError, TypeError):
        pass
    structs, positions, declined = [], [], []
    for index, value in enumerate(values):
        try:
            structs.append(decoder.decode(value))
            positions.append(index)
        except (msgspec.DecodeError, TypeError):
            declined.append(index)
    return structs, positions, declined
