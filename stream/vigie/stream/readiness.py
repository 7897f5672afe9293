"""Wait, before the first batch, until the producer knows every topic the worker writes to.

Tables send their changelog with ``use_partitioner=True`` (co-partitioning by pupil key), and
faust then hashes the key synchronously with the producer's cached metadata: a changelog topic
the producer has not seen yet makes that crash ("not found in cluster metadata") on a fresh
cluster. Fetching the metadata once at start removes the race.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from vigie.stream.app import StreamApp

log = logging.getLogger(__name__)


async def wait_for_output_metadata(app: StreamApp) -> None:
    names = [table.changelog_topic.get_topic_name() for table in app.app.tables.values()]
    names += [topic.get_topic_name() for topic in app.topics.values()]
    producer = cast(Any, app.app.producer)._ensure_producer()  # the aiokafka producer behind faust's
    for name in names:
        partitions = await producer.partitions_for(name)
        log.debug("producer metadata ready for %s (%d partitions)", name, len(partitions))
