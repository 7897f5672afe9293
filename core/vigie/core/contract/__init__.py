"""The event contract every part of Vigie imports: models, topics and codec."""

from vigie.core.contract.events import (
    CONTRACT_VERSION,
    AnswerSubmitted,
    DeadLetter,
    ErasureRequested,
    LearningEvent,
    MasteryUpdated,
    SessionEnded,
    SessionStarted,
    SignalChanged,
    SignalReason,
    SkillParameters,
    make_event_id,
)

__all__ = [
    "CONTRACT_VERSION",
    "AnswerSubmitted",
    "DeadLetter",
    "ErasureRequested",
    "LearningEvent",
    "MasteryUpdated",
    "SessionEnded",
    "SessionStarted",
    "SignalChanged",
    "SignalReason",
    "SkillParameters",
    "make_event_id",
]
