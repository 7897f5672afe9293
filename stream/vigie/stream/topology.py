"""The stream's topology: the app, its per-pupil processors and the pipeline agent, wired in one place.

Processors register on a ``StreamApp`` (``vigie.stream.app``) and the pipeline feeds them; this module is
the only one that knows all of them, so none of them imports another or the assembly (no cycle).
"""

from __future__ import annotations

from vigie.core.settings import VigieSettings
from vigie.stream.app import StreamApp, faust_app, stream_topics
from vigie.stream.lifecycle import register_lifecycle
from vigie.stream.mastery.agents import register_mastery
from vigie.stream.pipeline import register_pipeline
from vigie.stream.signals.agents import register_signals


def create_app(settings: VigieSettings, *, app_id: str | None = None) -> StreamApp:
    """The app with every Vigie topic declared, the processors and the pipeline agent registered."""
    app = faust_app(settings, app_id=app_id)
    stream_app = StreamApp(settings, app, stream_topics(app, settings))
    register_signals(stream_app)
    register_mastery(stream_app)
    register_pipeline(stream_app)
    register_lifecycle(stream_app)
    return stream_app
