"""The one typed settings object of a Vigie process.

Built once at the entry point (the CLI, a test fixture) from ``VIGIE_*`` environment variables
and passed down; never built at import time. Every default works on a fresh machine: a local
broker on loopback and the embedded ClickHouse engine under the state folder.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigie.core.errors import ConfigurationError

log = logging.getLogger(__name__)

ENV_PREFIX = "VIGIE_"
#: Variables read outside the settings object (the CLI's logging, the tests' broker jars), still known names.
OTHER_VARIABLES = frozenset({"VIGIE_LOG_LEVEL", "VIGIE_LOG_FORMAT", "VIGIE_TEST_KAFKA_LIBS"})


def default_state_dir() -> Path:
    """Where state lives when ``VIGIE_STATE_DIR`` is unset, whatever the working directory.

    In a source checkout (``make install``'s editable install): the checkout's ``var/``. Installed as a
    package: ``$XDG_STATE_HOME/vigie`` (``~/.local/state/vigie``). Every command then finds the same
    broker and warehouse from any folder.
    """
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file() and (checkout / "core" / "vigie" / "core").is_dir():
        return checkout / "var"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vigie"


class KafkaSettings(BaseModel):
    """How clients reach Kafka and how Vigie's topics are named."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = Field("vigie", pattern=r"^[a-zA-Z0-9._-]+$")
    partitions: int = Field(6, ge=1, description="Partitions of the pupil-keyed topics: the unit of scale.")
    replication_factor: int = Field(1, ge=1)


class BrokerSettings(BaseModel):
    """The local single-node KRaft broker that ``vigie kafka start`` runs."""

    port: int = 9092
    controller_port: int = 9093
    heap: str = "1g"
    start_timeout_s: float = 90.0


class WarehouseSettings(BaseModel):
    """Where history is stored; the embedded engine unless a server URL is given."""

    database: str = Field("vigie", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    retention_days: int = Field(730, ge=1, description="TTL of every table, in days.")
    min_group_size: int = Field(5, ge=1, description="k: groups smaller than this are hidden above class level.")


class SinkSettings(BaseModel):
    """Batching of the Kafka -> ClickHouse sink: flush on size or on age, whichever comes first."""

    batch_rows: int = Field(100_000, ge=1, description="Rows per flush at most (each insert feeds every view once).")
    batch_seconds: float = Field(1.0, gt=0)
    group_id: str = "vigie-sink"
    metrics_port: int = Field(9463, ge=0, le=65535, description="Prometheus /metrics on loopback; 0: off.")


class StreamSettings(BaseModel):
    """The faust processors."""

    app_id: str = "vigie-stream"
    mastery_model: Literal["learner", "bkt"] = Field(
        "learner", description="learner: P(next item right), sharing strength across skills; bkt: per-skill BKT."
    )
    mastery_threshold: float = Field(0.95, gt=0, lt=1, description="BKT: P(known) at which a skill is mastered.")
    batch_size: int = Field(1000, ge=1, description="Most records of one fetch, processed as one batch.")
    web_enabled: bool = False
    web_port: int = 6066
    metrics_port: int = Field(9464, ge=0, le=65535, description="Prometheus /metrics on loopback; 0: off.")
    stall_s: float = Field(
        60.0,
        ge=10,
        description="Seconds of rebalance without any fetch after which a worker starts itself again "
        "(vigie.stream.watchdog); past a dead member's session timeout plus the rebalance timeout.",
    )
    compression: Literal["zstd", "lz4", "gzip", "none"] = Field(
        "zstd",
        description="Codec of the worker's record batches (outputs and state changelogs). zstd: about a "
        "quarter of the bytes for ~8 % of the worker's CPU (docs/performance.md); lz4 is compressed at level 9 "
        "by aiokafka, slower than zstd here.",
    )


class GatewaySettings(BaseModel):
    """The xAPI gateway (``vigie gateway``): where it listens and how much it takes per request."""

    host: str = "127.0.0.1"
    port: int = Field(8300, ge=1, le=65535)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="Larger request bodies get 413.")
    max_batch: int = Field(1000, ge=1, description="Statements per request; more get 413.")
    kafka_timeout_s: float = Field(5.0, gt=0, description="Wait for Kafka's acknowledgement before answering 503.")
    retry_after_s: int = Field(5, ge=1, description="Retry-After of a 503.")
    keep_days: int = Field(
        30,
        ge=1,
        description="Days a statement made into an event stays in the gateway (retries, GET); unmapped "
        "ones stay for the warehouse's retention, to be replayed.",
    )


#: The development key: fine on a laptop, refused when ``privacy.production`` is set.
DEV_PSEUDONYM_KEY = "vigie-dev-key-change-me"


class PrivacySettings(BaseModel):
    """Keys of the pseudonymisation HMAC. One secret per academy; ``default_key`` serves the rest."""

    default_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    academy_keys: dict[str, SecretStr] = Field(default_factory=dict)
    production: bool = Field(
        False, description="Set VIGIE_PRIVACY__PRODUCTION=true: the SDK then refuses the development key."
    )

    def key_for(self, academy: str) -> bytes:
        secret = self.academy_keys.get(academy, self.default_key)
        return secret.get_secret_value().encode()


class VigieSettings(BaseSettings):
    """All of a process's configuration: ``VIGIE_<GROUP>__<FIELD>`` (e.g. ``VIGIE_KAFKA__PARTITIONS``)."""

    model_config = SettingsConfigDict(env_prefix="VIGIE_", env_nested_delimiter="__", extra="ignore")

    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="Broker jars and data, the embedded warehouse, logs, reports (see default_state_dir).",
    )
    clickhouse_url: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("CLICKHOUSE_URL", "VIGIE_CLICKHOUSE_URL"),
        description="http(s)://user:password@host:8123 of a ClickHouse server; unset = embedded engine.",
    )
    grafana_url: str | None = Field(None, validation_alias=AliasChoices("GRAFANA_URL", "VIGIE_GRAFANA_URL"))
    grafana_token: SecretStr | None = Field(None, validation_alias=AliasChoices("GRAFANA_TOKEN", "VIGIE_GRAFANA_TOKEN"))
    kafka: KafkaSettings = KafkaSettings()
    broker: BrokerSettings = BrokerSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    sink: SinkSettings = SinkSettings()
    stream: StreamSettings = StreamSettings()
    privacy: PrivacySettings = PrivacySettings()
    gateway: GatewaySettings = GatewaySettings()

    @property
    def gateway_db(self) -> Path:
        """The gateway's platforms, credentials, rules, roster and kept statements (SQLite)."""
        return (self.state_dir / "gateway" / "platforms.db").resolve()

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        """A relative folder is taken from the working directory once, when the settings are built."""
        return path.expanduser().absolute()

    @field_validator("clickhouse_url")
    @classmethod
    def _server_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is None:
            return None
        parts = urlsplit(url.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be http(s)://[user:password@]host[:port] of a ClickHouse server")
        return url

    @property
    def chdb_path(self) -> Path:
        """Folder of the embedded ClickHouse engine (one process at a time may open it)."""
        return (self.state_dir / "warehouse").resolve()

    @property
    def kafka_home(self) -> Path:
        """Folder of the local broker: jars, config, data and logs."""
        return (self.state_dir / "kafka").resolve()


#: Fields whose value is never echoed in an error message.
_SECRET_FIELDS = frozenset({"clickhouse_url", "grafana_token", "default_key", "academy_keys"})


def _variables(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield f"{prefix}{name.upper()}"  # the whole group as JSON
            yield from _variables(annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                yield from (a for a in alias.choices if isinstance(a, str))


def known_variables() -> frozenset[str]:
    """Every environment variable Vigie reads."""
    return frozenset(_variables(VigieSettings, ENV_PREFIX)) | OTHER_VARIABLES


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """``VIGIE_*`` variables that no setting reads, each with the nearest valid name (a misspelling?)."""
    known = known_variables()
    mapping_prefixes = ("VIGIE_PRIVACY__ACADEMY_KEYS__",)  # one entry per academy
    unknown = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known or name.startswith(mapping_prefixes):
            continue
        nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        unknown.append((name, nearest[0] if nearest else None))
    return unknown


#: Settings read from a variable without the VIGIE_ prefix (see their ``validation_alias``).
_UNPREFIXED = {"clickhouse_url": "CLICKHOUSE_URL", "grafana_url": "GRAFANA_URL", "grafana_token": "GRAFANA_TOKEN"}


def _variable_of(loc: tuple[str, ...]) -> str:
    name = loc[0].removeprefix("vigie_")
    if len(loc) == 1 and name in _UNPREFIXED:
        return _UNPREFIXED[name]
    return ENV_PREFIX + "__".join(part.upper() for part in loc)


def explain(error: ValidationError) -> str:
    """One line per wrong setting: the variable, its value, and what is allowed."""
    lines = []
    for item in error.errors():
        loc = tuple(str(part).lower() for part in item["loc"])
        variable = _variable_of(loc)
        secret = any(part.removeprefix("vigie_") in _SECRET_FIELDS for part in loc)
        value = "(value hidden)" if secret else repr(item.get("input"))
        allowed = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{variable}={value}: {allowed}")
    return "; ".join(lines)


def load_settings(**overrides: Any) -> VigieSettings:
    """The settings of this process, built once at the entry point; a wrong value is a one-line error.

    Unknown ``VIGIE_*`` variables are warned about with the nearest valid name: a misspelled variable is
    otherwise silently ignored.
    """
    for name, nearest in unknown_variables(os.environ):
        hint = f" (did you mean {nearest}?)" if nearest else ""
        log.warning("unknown environment variable %s is ignored%s", name, hint)
    try:
        return VigieSettings(**overrides)
    except ValidationError as error:
        raise ConfigurationError(explain(error)) from None
