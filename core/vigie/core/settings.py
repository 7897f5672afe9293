"""The one typed settings object of a Vigie process.

Built once at the entry point (the CLI, a test fixture) from ``VIGIE_*`` environment variables
and passed down; never built at import time. Every default works on a fresh machine: a local
broker on loopback and the embedded ClickHouse engine under the state folder.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    batch_rows: int = Field(20_000, ge=1)
    batch_seconds: float = Field(1.0, gt=0)
    group_id: str = "vigie-sink"


class StreamSettings(BaseModel):
    """The faust processors."""

    app_id: str = "vigie-stream"
    mastery_threshold: float = Field(0.95, gt=0, lt=1)
    batch_size: int = Field(1000, ge=1)
    batch_within_s: float = Field(0.05, gt=0)
    web_enabled: bool = False
    web_port: int = 6066


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

    state_dir: Path = Path("var")
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

    @property
    def chdb_path(self) -> Path:
        """Folder of the embedded ClickHouse engine (one process at a time may open it)."""
        return (self.state_dir / "warehouse").resolve()

    @property
    def kafka_home(self) -> Path:
        """Folder of the local broker: jars, config, data and logs."""
        return (self.state_dir / "kafka").resolve()
