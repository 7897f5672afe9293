"""One root for every error Vigie raises, split by what the caller must do about it.

- ``InvalidEventError``: the input is wrong; send it to the dead-letter topic with the reason, carry on.
- ``RetriableError``: a service is unavailable; back off and commit no offset.
- ``ConfigurationError``: fail at start and say what to set.
- ``UsageError``: a command was given input it cannot take; say which option and what is allowed.
- ``PermanentError``: a service refused the request itself (bad SQL, a 4xx): retrying cannot help.
"""

from __future__ import annotations


class VigieError(Exception):
    """Root of all Vigie errors."""


class InvalidEventError(VigieError):
    """An event that breaks the contract. ``field`` names the offending field when one is known."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(f"{field}: {reason}" if field else reason)


class RetriableError(VigieError):
    """A temporary failure of Kafka or ClickHouse. ``code`` keeps the original error code, if any."""

    def __init__(self, message: str, *, code: int | str | None = None) -> None:
        self.code = code
        super().__init__(f"{message} (code {code})" if code is not None else message)


class ConfigurationError(VigieError):
    """Something is missing or wrong in the environment; the message says what to set."""


class UsageError(VigieError):
    """A command's input is wrong (an option's value, a pseudonym's form): exit 2 with what is allowed."""


class PermanentError(VigieError):
    """A service refused the request itself (a schema error, a 4xx answer): stop and say why, never retry.

    ``code`` keeps the service's own error code, if any."""

    def __init__(self, message: str, *, code: int | str | None = None) -> None:
        self.code = code
        super().__init__(f"{message} (code {code})" if code is not None else message)
