"""Per-skill parameters: the book the processor reads, and the feed that keeps it up to date.

The compacted SKILL_PARAMETERS topic has one partition and workers share a consumer group for the
learning events, so a group consumer would give the parameters to one worker only. The feed is a
consumer *without* a group: it assigns itself every partition of the topic, reads it from the
beginning, and then follows it, in a background thread of every worker. A new calibration
reaches every running worker within one poll (no restart).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from vigie.core.contract.codec import decode_parameters
from vigie.core.contract.events import LearnerParameters, SkillParameters
from vigie.core.errors import InvalidEventError
from vigie.core.settings import KafkaSettings
from vigie.core.topics import SKILL_PARAMETERS
from vigie.stream.mastery.learner import LearnerModel
from vigie.stream.mastery.learner_params import LearnerAssembly, default_learner_model, record_key
from vigie.stream.mastery.model import DEFAULT_PARAMS, BktParams

log = logging.getLogger(__name__)


def from_contract(event: SkillParameters) -> BktParams:
    return BktParams(
        event.p_init, event.p_learn, event.p_guess, event.p_slip, event.half_life_days, event.params_version
    )


class ParameterBook:
    """BKT parameters by skill (a skill never calibrated gets ``default``) and the learner model.

    Replacing an entry, or the learner model, is one reference assignment: atomic for the processor.
    """

    def __init__(
        self,
        default: BktParams = DEFAULT_PARAMS,
        by_skill: dict[str, BktParams] | None = None,
        learner: LearnerModel | None = None,
    ) -> None:
        self.default = default
        self._by_skill: dict[str, BktParams] = dict(by_skill or {})
        self.learner: LearnerModel = learner if learner is not None else default_learner_model()
        self._assembly = LearnerAssembly()

    def put_learner(self, model: LearnerModel) -> None:
        """Use a newer learner model (an older version replayed from the topic never replaces it)."""
        if model.version >= self.learner.version:
            self.learner = model

    def get(self, skill: str) -> BktParams:
        return self._by_skill.get(skill, self.default)

    def put(self, skill: str, params: BktParams) -> None:
        """Keep the newest version of a skill (a compacted topic may replay older records first)."""
        current = self._by_skill.get(skill)
        if current is None or params.version >= current.version:
            self._by_skill[skill] = params

    def apply_learner_part(self, part: LearnerParameters) -> None:
        """One record of a learner model; the model is swapped in once all of its version has arrived."""
        try:
            model = self._assembly.add(part)
        except ValueError as error:
            log.warning("ignoring learner parameters %s/%s v%d: %s", part.scope, part.key, part.params_version, error)
            return
        if model is not None:
            self.put_learner(model)
            log.info("learner model version %d in use (%d skills)", model.version, len(model.skill_weights))

    def remove(self, skill: str) -> None:
        self._by_skill.pop(skill, None)

    def __len__(self) -> int:
        return len(self._by_skill)


class ParameterFeed:
    """Follows the SKILL_PARAMETERS topic into a ``ParameterBook`` from a daemon thread."""

    def __init__(self, kafka: KafkaSettings, book: ParameterBook, *, poll_ms: int = 500) -> None:
        self.kafka = kafka
        self.book = book
        self.poll_ms = poll_ms
        self.topic = SKILL_PARAMETERS.name(kafka.topic_prefix)
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="vigie-skill-parameters", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the topic has been read to its end once (the parameters at start are known)."""
        return self.ready.wait(timeout_s)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if value is None:  # tombstone: back to the defaults
            if key is not None:
                self.book.remove(key.decode("utf-8", "replace"))
            return
        try:
            event = decode_parameters(value)
        except InvalidEventError as error:
            log.warning("ignoring invalid skill parameters on %s (key %r): %s", self.topic, key, error)
            return
        if isinstance(event, LearnerParameters):
            self.book.apply_learner_part(event)
            return
        self.book.put(event.skill_code, from_contract(event))

    def _run(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        consumer = None
        while not self._stop.is_set():
            try:
                if consumer is None:
                    consumer = KafkaConsumer(
                        bootstrap_servers=self.kafka.bootstrap_servers,
                        group_id=None,
                        enable_auto_commit=False,
                        client_id="vigie-skill-parameters",
                    )
                    partitions = consumer.partitions_for_topic(self.topic)
                    if not partitions:
                        log.info("topic %s not found yet; mastery uses default parameters", self.topic)
                        self.ready.set()
                        consumer.close()
                        consumer = None
                        self._stop.wait(2.0)
                        continue
                    tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
                    consumer.assign(tps)
                    consumer.seek_to_beginning(*tps)
                    end = consumer.end_offsets(tps)
                while True:
                    for records in consumer.poll(timeout_ms=self.poll_ms).values():
                        for record in records:
                            self.apply(record.key, record.value)
                    if not self.ready.is_set() and all(consumer.position(tp) >= end[tp] for tp in tps):
                        log.info("skill parameters loaded from %s: %d calibrated skills", self.topic, len(self.book))
                        self.ready.set()
                    if self._stop.is_set():
                        break
            except Exception as error:  # the feed must survive broker hiccups; the processor keeps going
                log.warning("skill parameter feed on %s failed (%s); retrying", self.topic, error)
                if consumer is not None:
                    consumer.close()
                    consumer = None
                self._stop.wait(1.0)
        if consumer is not None:
            consumer.close()


def _key(parameters: SkillParameters | LearnerParameters) -> bytes:
    if isinstance(parameters, LearnerParameters):
        return record_key(parameters)
    return parameters.skill_code.encode()


def to_contract(skill: str, params: BktParams, n_answers: int, fitted_at: datetime) -> SkillParameters:
    return SkillParameters(
        skill_code=skill,
        p_init=params.p_init,
        p_learn=params.p_learn,
        p_guess=params.p_guess,
        p_slip=params.p_slip,
        half_life_days=params.half_life_days,
        n_answers=n_answers,
        params_version=params.version,
        fitted_at=fitted_at,
    )


def publish(
    kafka: KafkaSettings, parameters: Sequence[SkillParameters | LearnerParameters], timeout_s: float = 30.0
) -> int:
    """Send parameters to the compacted topic and wait for the broker, in order (one partition).

    Keys: the skill code for BKT parameters, ``learner:<scope>:<key>`` for a learner model's parts
    (``to_contract`` puts the global part last, so a reader completes a version on its last record).
    """
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from vigie.core.contract.codec import encode
    from vigie.core.errors import RetriableError

    topic = SKILL_PARAMETERS.name(kafka.topic_prefix)
    try:
        producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all", client_id="vigie-calibrate")
        try:
            futures = [producer.send(topic, key=_key(p), value=encode(p)) for p in parameters]
            producer.flush(timeout=timeout_s)
            for future in futures:
                future.get(timeout=timeout_s)
        finally:
            producer.close()
    except KafkaError as error:
        raise RetriableError(f"publishing skill parameters to {topic} failed: {error}") from error
    return len(parameters)
