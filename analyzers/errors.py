"""Why a value could not be normalized: said to the integrator in the rejects report, never guessed."""

from __future__ import annotations


class InvalidValue(ValueError):
    """A field's value that cannot be normalized; `reason` is a sentence for the data-quality report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
