"""The worker's record batches are compressed with the configured codec (outputs and state changelogs)."""

from __future__ import annotations

import pytest

from vigie.core.settings import StreamSettings, VigieSettings
from vigie.infra.processes import settings_env
from vigie.stream.app import faust_app

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("codec", "expected"), [("zstd", "zstd"), ("lz4", "lz4"), ("none", None)])
def test_the_producer_compresses_with_the_configured_codec(codec: str, expected: str | None, tmp_path) -> None:
    settings = VigieSettings(state_dir=tmp_path, stream=StreamSettings(compression=codec))
    assert faust_app(settings).conf.producer_compression_type == expected
    assert settings_env(settings)["VIGIE_STREAM__COMPRESSION"] == codec


def test_zstd_is_the_default_and_kafka_python_can_read_it() -> None:
    from kafka.codec import has_zstd

    assert VigieSettings().stream.compression == "zstd"
    assert has_zstd()  # the sink and every kafka-python reader of the worker's topics decode zstd batches
