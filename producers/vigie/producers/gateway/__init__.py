"""The xAPI gateway: an HTTP statements endpoint for platforms that speak xAPI (Moodle's
``logstore_xapi``, Éléa, H5P hosts) instead of the SDK. See docs/platforms.md.

Pure parts: ``spec`` (validity), ``ids`` (identity), ``config`` and ``mapping`` (statements ->
events by a platform's configuration), ``privacy`` (the kept, pseudonymised statement). Plumbing:
``store`` (SQLite state), ``publish`` (Kafka, acknowledged before answering), ``service`` (the
statements resource), ``app`` (FastAPI), ``server`` (uvicorn), ``cli`` (``vigie gateway``,
``vigie platforms``), ``demo``.
"""
