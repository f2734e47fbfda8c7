"""Why a value could not be normalized: said to the integrator in the rejects report, never guessed."""

from __future__ import annotations


class InvalidValue(ValueError):
    """A field's value that cannot be normalized; `reason` is a sentence for the data-quality report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnverifiedValue(InvalidValue):
    """A value of the right shape that the reference rules do not confirm (a phone number in a range
    libphonenumber does not know, an e-mail whose domain looks wrong). It is still the customer's
    value: `canonical` is its normalized form, kept for matching and look-up, flagged unverified."""

    def __init__(self, reason: str, canonical: str) -> None:
        super().__init__(reason)
        self.canonical = canonical
